"""What every benchmark shares: settings, statistics, memory readings and the result table."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.config import Settings

TOKEN = "123456789:BENCH-token-not-a-secret"
ADMIN_ID = 1001
RESULTS = Path(__file__).resolve().parent / "results"


def bench_settings(database: Path, **overrides: object) -> Settings:
    """The bot's settings for a benchmark: a temporary database, abuse limits off.

    The flood limit and the daily request limit exist to stop people; a benchmark is a crowd
    typing as fast as the bot answers, so both are off (as in tests/conftest.py).
    """
    values: dict[str, object] = {
        "telegram_bot_token": SecretStr(TOKEN),
        "admin_ids": frozenset({ADMIN_ID}),
        "database_path": database,
        "rate_limit_per_minute": 0,
        "max_requests_per_day": 0,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def median(values: Iterable[float]) -> float:
    """The median (NaN for nothing)."""
    data = list(values)
    return statistics.median(data) if data else math.nan


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` quantile (0..1) by the nearest-rank method (NaN for nothing)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def rss_bytes() -> int:
    """Resident memory of this process now (Linux /proc; 0 where unavailable)."""
    try:
        text = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Stopwatch:
    """`with Stopwatch() as watch: ...` then `watch.seconds` (time.perf_counter)."""

    def __init__(self) -> None:
        self.started = 0.0
        self.seconds = 0.0

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.started


@dataclass
class Row:
    """One line of the result table."""

    part: str
    name: str
    value: float | None
    unit: str
    target: str = ""
    met: bool | None = None  # None: no target on this line
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # JSON only (query plans, raw numbers)


@dataclass
class Report:
    """The rows of a run, printed as a table and written as JSON."""

    mode: str
    rows: list[Row] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    durations: dict[str, float] = field(default_factory=dict)
    stolen: dict[str, float] = field(default_factory=dict)  # per part, % (see cpu_times)
    sections: dict[str, list[str]] = field(default_factory=dict)  # printed after the table

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(_format_row(row), flush=True)
        return row

    def unavailable(self, part: str, name: str, why: str) -> Row:
        """A part that could not run (a module not there yet): said, not failed."""
        return self.add(Row(part, name, None, "", "", None, f"not available: {why}"))

    def table(self) -> str:
        header = f"{'part':<4} {'measure':<60} {'value':>14}  {'target':<28} {'ok':<4} detail"
        lines = [header, "-" * len(header)]
        lines += [_format_row(row) for row in self.rows]
        for title, body in self.sections.items():
            lines += ["", f"{title}:", *body]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
            "seconds": round(time.time() - self.started, 1),
            "durations": {k: round(v, 2) for k, v in self.durations.items()},
            "stolen_percent": {k: round(v, 1) for k, v in self.stolen.items()},
            "machine": machine(),
            "sections": self.sections,
            "rows": [asdict(row) for row in self.rows],
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(self.to_json(), indent=2, ensure_ascii=False, default=str) + "\n",
            encoding="utf-8",
        )


def cpu_times() -> tuple[int, int]:
    """(stolen, all) CPU time of the machine so far, in ticks (Linux /proc/stat; 0s where
    unavailable). "Stolen" is time the hypervisor gave to other machines while this one
    wanted to run: on a shared VM it makes latency figures jump from one run to the next."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return 0, 0
    ticks = [int(x) for x in fields]
    return (ticks[7] if len(ticks) > 7 else 0), sum(ticks)


def stolen_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The % of the machine's CPU time stolen between two `cpu_times` readings."""
    total = after[1] - before[1]
    return 100 * (after[0] - before[0]) / total if total > 0 else 0.0


def machine() -> dict[str, Any]:
    """Where the numbers were measured (a loaded machine makes slower, noisier numbers)."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in load],
    }


def _format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if math.isnan(value):
        return "nan"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def _format_row(row: Row) -> str:
    ok = "" if row.met is None else ("yes" if row.met else "NO")
    value = _format_value(row.value, row.unit)
    return f"{row.part:<4} {row.name:<60} {value:>14}  {row.target:<28} {ok:<4} {row.detail}"
