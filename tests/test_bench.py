"""The benchmark suite runs (`make bench` is not a test: this only checks that it works).

`python -m bench --tiny` runs every part on tiny sizes, in a process of its own, and writes its
table as JSON; every part must have reported a figure. Speed is not checked here: it is
measured by `make bench`, beside a baseline, never by a timed test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_runs_on_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--tiny", "--json", str(out), "--cache", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "targets met:" in done.stdout
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["mode"] == "tiny"
    assert set(results["stolen_percent"]) == {"parts 1-2", "part 3", "part 4", "part 5", "part 6"}
    assert "stolen by the hypervisor" in done.stdout
    rows = results["rows"]
    assert {row["part"] for row in rows} == {"1", "2", "3", "4", "5", "6"}
    measured = [row for row in rows if not row["detail"].startswith("not available")]
    assert all(row["value"] is not None for row in measured)
    plans = [row["data"].get("plans") for row in rows if row["part"] == "3" and row["data"]]
    assert plans and all(plans), "part 3 shows the query plans"
    flood = [row for row in rows if row["part"] == "6" and row["met"] is not None]
    assert len(flood) == 1 and flood[0]["target"] == "≤ 2×", "part 6 checks its target"
    # The flood limit answered the flooder's first 30 and told them once, in every round.
    assert all(r["flood_replies"] == 31 for r in flood[0]["data"]["rounds"])
