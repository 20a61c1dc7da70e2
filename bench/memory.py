"""Part 5: resident memory of the bot with many requests in progress (open drafts).

Contacts open a draft the way people do (/new through the update queue); the resident memory
of the process is read before and after, once garbage is collected. It runs in a process of
its own (`python -m bench.memory N`), so that the other parts' memory is not in the figures,
and the fake Bot API forgets each chat once its contact is done: what grows is the bot's.
A draft lives in SQLite; what the process keeps per person is PTB's and the bot's own state.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import logging
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .common import Report, Row, bench_settings, rss_bytes
from .driver import Client, WatchingAPI, running_bot, seed_people, services

MB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent  # where `python -m bench.memory` runs
AT_ONCE = 100  # contacts typing at the same time


@dataclass(frozen=True)
class Sizes:
    """How many drafts are opened."""

    drafts: int


QUICK = Sizes(2_500)
FULL = Sizes(10_000)
TINY = Sizes(100)


async def open_drafts(drafts: int) -> tuple[int, int, int]:
    """RSS before and after `drafts` contacts each opened a draft; the drafts in SQLite."""
    api = WatchingAPI(trim=True)
    with tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp:
        settings = bench_settings(Path(tmp) / "intake.db")
        async with running_bot(settings, api, outbox_worker=False) as app:
            svc = services(app)
            cast = await seed_people(svc, api, drafts + AT_ONCE)
            ids = itertools.count(1)

            async def one(user_id: int) -> None:
                client = Client(app, api, user_id, f"C{user_id}", ids)
                await client.send(("command", "/new"))
                api.chats.pop(user_id, None)  # the benchmark's memory, not the bot's

            async def crowd(users: list[int]) -> None:
                for start in range(0, len(users), AT_ONCE):
                    await asyncio.gather(*(one(u) for u in users[start : start + AT_ONCE]))

            await crowd(cast.contacts[drafts:])  # warm-up: imports, caches, first-use costs
            gc.collect()
            before = rss_bytes()
            await crowd(cast.contacts[:drafts])
            gc.collect()
            after = rss_bytes()
            async with svc.db.read() as conn:
                rows = await conn.execute_fetchall(
                    "SELECT COUNT(*) FROM drafts WHERE status = 'open'"
                )
            count = int(next(iter(rows))[0]) - AT_ONCE
    return before, after, count


async def measured_apart(drafts: int) -> tuple[int, int, int]:
    """`open_drafts` in a fresh Python process."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.memory",
        str(drafts),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await child.communicate()
    if child.returncode:
        raise RuntimeError(f"bench.memory failed ({child.returncode})")
    before, after, count = json.loads(out.decode().strip().splitlines()[-1])
    return int(before), int(after), int(count)


async def run(report: Report, sizes: Sizes) -> None:
    """Measure and report part 5."""
    before, after, count = await measured_apart(sizes.drafts)
    if count != sizes.drafts:
        raise AssertionError(f"{count} open drafts for {sizes.drafts} contacts")
    per_thousand = (after - before) / (count / 1000)
    report.add(
        Row(
            "5",
            f"resident memory with {count:,} open drafts",
            after / MB,
            "MB",
            detail=f"{before / MB:.1f} MB before them (the bot started and warm)",
            data={"before": before, "after": after, "drafts": count},
        )
    )
    report.add(
        Row(
            "5",
            "resident memory per 1,000 open drafts",
            per_thousand / MB,
            "MB",
            detail=f"projected for 10,000: {(before + 10 * per_thousand) / MB:.1f} MB"
            if count < 10_000
            else "",
        )
    )


if __name__ == "__main__":
    logging.disable(logging.WARNING)
    print(json.dumps(asyncio.run(open_drafts(int(sys.argv[1])))))
