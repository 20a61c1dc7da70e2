"""`python -m bench` (`make bench`): measure, print the table, write it as JSON.

    python -m bench                 the default run: a few minutes (1,000,000 tickets: --full)
    python -m bench --full          the issue's sizes: 1,000,000 tickets, 10,000 drafts, 5,000
                                    notifications (the 1M database is generated once, cached)
    python -m bench --parts 3       only some parts (1 and 2 run together; 6: a flood, ~90 s)
    python -m bench --tiny          seconds; what tests/test_bench.py runs

Targets are reported, not enforced: the exit status is 0 whatever they show.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from . import drain, flood, memory, queries, throughput, transport
from .common import RESULTS, Report, cpu_times, machine, stolen_share

MODES = ("tiny", "quick", "full")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="the issue's sizes (1,000,000 tickets)")
    size.add_argument("--tiny", action="store_true", help="seconds, for the test")
    parser.add_argument(
        "--parts", default="1,2,3,4,5,6", help="comma-separated parts to run (default: all)"
    )
    parser.add_argument(
        "--tickets",
        help="part 3's two sizes, e.g. 10000,1000000 (default: 10000,100000; --full: 1000000)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=RESULTS,
        help="where generated databases are kept between runs (default: bench/results/)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS / "latest.json",
        help="where to write the results (default: bench/results/latest.json)",
    )
    return parser


async def _main(args: argparse.Namespace) -> Report:
    mode = "full" if args.full else "tiny" if args.tiny else "quick"
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    report = Report(mode)
    tickets = {"tiny": queries.TINY, "quick": queries.QUICK, "full": queries.FULL}[mode]
    if args.tickets:
        small, large = (int(n) for n in args.tickets.split(","))
        tickets = queries.Sizes(small, large, tickets.repeats)
    steps: list[tuple[str, Callable[[], Awaitable[None]]]] = []
    if parts & {"1", "2"}:
        loads = {"tiny": throughput.TINY, "quick": throughput.QUICK, "full": throughput.FULL}
        calls = {"tiny": transport.TINY, "quick": transport.QUICK, "full": transport.FULL}

        async def parts_1_2() -> None:
            await throughput.run(report, loads[mode])
            await transport.run(report, calls[mode])

        steps.append(("parts 1-2", parts_1_2))
    if "3" in parts:
        steps.append(("part 3", lambda: queries.run(report, tickets, args.cache)))
    if "4" in parts:
        sizes = {"tiny": drain.TINY, "quick": drain.QUICK, "full": drain.FULL}[mode]
        steps.append(("part 4", lambda: drain.run(report, sizes)))
    if "5" in parts:
        drafts = {"tiny": memory.TINY, "quick": memory.QUICK, "full": memory.FULL}[mode]
        steps.append(("part 5", lambda: memory.run(report, drafts)))
    if "6" in parts:
        flooding = {"tiny": flood.TINY, "quick": flood.QUICK, "full": flood.FULL}[mode]
        steps.append(("part 6", lambda: flood.run(report, flooding)))
    info = machine()
    print(
        f"bench ({mode}): Python {info['python']}, {info['cpus']} CPUs,"
        f" load average {info['loadavg']}",
        flush=True,
    )
    for name, step in steps:
        started, cpu = time.perf_counter(), cpu_times()
        await step()
        report.durations[name] = time.perf_counter() - started
        report.stolen[name] = stolen_share(cpu, cpu_times())
    return report


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; print the table; write the JSON."""
    args = _parser().parse_args(argv)
    # The bot's warnings (a 429, a retry) are part of what is measured, not news; so are the
    # tracebacks PTB's AIORateLimiter logs for each 429 it lets through.
    logging.disable(logging.WARNING)
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    started = time.perf_counter()
    report = asyncio.run(_main(args))
    print()
    print(report.table())
    met = [row.met for row in report.rows if row.met is not None]
    took = time.perf_counter() - started
    stolen = ", ".join(f"{name} {share:.1f} %" for name, share in report.stolen.items())
    print(f"\nCPU time stolen by the hypervisor (other VMs): {stolen}")
    print(f"targets met: {sum(met)} of {len(met)}; {took:.0f} s; JSON: {args.json}")
    report.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
