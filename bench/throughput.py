"""Parts 1 and 2: contacts filing complete requests through the whole bot, against a bare
python-telegram-bot baseline on the same fake, at 1, 10 and 100 contacts and at a steady rate.

Each load runs on a fresh database in a fresh application (started as in production, with the
outbox worker delivering the leads' notifications while the contacts type). A load is timed
from its first update to the last reply *and* the last notification delivered. One warm-up
request (not timed) comes first, so that imports and first-use caches are not in the figures.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.services import Services

from .common import Report, Row, Stopwatch, bench_settings, median, percentile
from .driver import (
    STEPS_PER_REQUEST,
    Client,
    LoadResult,
    WatchingAPI,
    closed_loop,
    open_loop,
    running_baseline,
    running_bot,
    scripts_for,
    seed_people,
    services,
    settle_outbox,
)

REFERENCE = re.compile(r"[A-Z]+-\d{4}-\d{4,}")


@dataclass(frozen=True)
class Load:
    """A load: `contacts` at once, `requests` complete requests each; `rate`: open loop."""

    contacts: int
    requests: int
    rate: float | None = None

    @property
    def updates(self) -> int:
        return self.contacts * self.requests * STEPS_PER_REQUEST


async def bot_load(load: Load, folder: Path) -> LoadResult:
    """The load through the real application; checks that every request became a ticket."""
    api = WatchingAPI(trim=True)
    settings = bench_settings(folder / "bot.db")
    async with running_bot(settings, api, outbox_worker=True) as app:
        svc = services(app)
        cast = await seed_people(svc, api, load.contacts + 1)
        ids = itertools.count(1)
        clients = [
            Client(app, api, user_id, f"C{user_id}", ids)
            for user_id in cast.contacts[: load.contacts]
        ]
        warm = Client(app, api, cast.contacts[-1], "Warm", ids)
        await closed_loop([warm], scripts_for(cast.field_labels[-1:], 1))
        await settle_outbox(svc)
        scripts = scripts_for(cast.field_labels[: load.contacts], load.requests)
        late = 0
        with Stopwatch() as watch:
            if load.rate is None:
                await closed_loop(clients, scripts)
            else:
                _, late = await open_loop(clients, scripts, load.rate)
            await settle_outbox(svc)
        await _check_filed(svc, clients, load)
    latencies = [x for c in clients for x in c.latencies]
    return LoadResult(load.updates, watch.seconds, latencies, load.rate, late)


async def _check_filed(svc: Services, clients: Sequence[Client], load: Load) -> None:
    """Every client's last reply names a ticket; the database has one per request (+ warm-up):
    had two updates of one chat been handled out of order, a form step would have gone wrong."""
    for client in clients:
        last = client.last_reply
        if last is None or not REFERENCE.search(last.text):
            raise AssertionError(f"contact {client.user_id} did not get a reference: {last}")
    async with svc.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT COUNT(*) FROM tickets")
    count = int(next(iter(rows))[0])
    if count != load.contacts * load.requests + 1:
        raise AssertionError(f"{count} tickets for {load.contacts * load.requests + 1} requests")


async def baseline_load(load: Load, folder: Path, *, durable_inbox: bool = False) -> LoadResult:
    """The same number and shapes of updates through the bare application."""
    api = WatchingAPI(trim=True)
    async with running_baseline(folder / "baseline.db", api, durable_inbox=durable_inbox) as app:
        ids = itertools.count(1)
        users = [4_000_001 + i for i in range(load.contacts + 1)]
        api.known_chats.update(users)
        clients = [Client(app, api, u, f"B{u}", ids, any_button=True) for u in users[:-1]]
        warm = Client(app, api, users[-1], "Warm", ids, any_button=True)
        await closed_loop([warm], scripts_for(["x"], 1))
        scripts = scripts_for(["x"] * load.contacts, load.requests)
        late = 0
        with Stopwatch() as watch:
            if load.rate is None:
                await closed_loop(clients, scripts)
            else:
                _, late = await open_loop(clients, scripts, load.rate)
    latencies = [x for c in clients for x in c.latencies]
    return LoadResult(load.updates, watch.seconds, latencies, load.rate, late)


BOT, BASELINE, INBOX = "bot", "baseline", "baseline + inbox"


async def one_load(variant: str, load: Load) -> LoadResult:
    """One load through one application, on a fresh database."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = Path(tmp)
        if variant == BOT:
            return await bot_load(load, folder)
        return await baseline_load(load, folder, durable_inbox=variant == INBOX)


async def interleaved(
    plan: Sequence[tuple[str, Load]], repeats: int
) -> dict[tuple[str, int], list[LoadResult]]:
    """Every (application, load) of the plan, `repeats` times, in rounds: the bot and its
    baseline alternate, so that a machine busier at one moment weighs on both alike."""
    results: dict[tuple[str, int], list[LoadResult]] = {}
    for _ in range(repeats):
        for variant, load in plan:
            key = (variant, load.contacts if load.rate is None else -load.contacts)
            results.setdefault(key, []).append(await one_load(variant, load))
    return results


@dataclass(frozen=True)
class Sizes:
    """How big the loads of parts 1 and 2 are."""

    repeats: int
    headline: Load
    levels: tuple[Load, ...]
    steady: Load


QUICK = Sizes(
    repeats=3,
    headline=Load(10, 3),
    levels=(Load(1, 5), Load(10, 3), Load(100, 2)),
    steady=Load(100, 2, rate=200.0),
)
FULL = Sizes(
    repeats=5,
    headline=Load(10, 5),
    levels=(Load(1, 10), Load(10, 5), Load(100, 3)),
    steady=Load(100, 4, rate=200.0),
)
TINY = Sizes(
    repeats=1,
    headline=Load(2, 1),
    levels=(Load(1, 1), Load(3, 1)),
    steady=Load(3, 1, rate=30.0),
)


def _summary(results: Sequence[LoadResult]) -> dict[str, float]:
    latencies = [x for r in results for x in r.latencies]
    return {
        "updates_per_s": median(r.rate for r in results),
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "updates": float(results[0].updates),
        "runs": float(len(results)),
    }


async def run(report: Report, sizes: Sizes) -> None:
    """Measure and report parts 1 and 2."""
    loads = {load.contacts: load for load in sizes.levels}
    loads.setdefault(sizes.headline.contacts, sizes.headline)
    plan = [(v, load) for _, load in sorted(loads.items()) for v in (BOT, BASELINE)]
    plan += [(INBOX, sizes.headline), (BOT, sizes.steady)]
    runs = await interleaved(plan, sizes.repeats)
    measured = {key: _summary(results) for key, results in runs.items()}

    n = sizes.headline.contacts
    bot, base, inbox = measured[(BOT, n)], measured[(BASELINE, n)], measured[(INBOX, n)]
    ratio = bot["updates_per_s"] / base["updates_per_s"]
    report.add(
        Row("1", f"bot, {n} contacts filing requests", bot["updates_per_s"], "upd/s", data=bot)
    )
    report.add(
        Row("1", f"baseline (bare PTB), {n} contacts", base["updates_per_s"], "upd/s", data=base)
    )
    report.add(
        Row(
            "1",
            "baseline + the bot's durable inbox",
            inbox["updates_per_s"],
            "upd/s",
            detail=f"{inbox['updates_per_s'] / base['updates_per_s']:.0%} of the baseline:"
            " receipt alone (bot/inbox.py, storage/db.py)",
            data=inbox,
        )
    )
    report.add(
        Row(
            "1",
            "bot ÷ baseline",
            ratio * 100,
            "%",
            "≥ 50 %",
            ratio >= 0.5,
            f"median of {sizes.repeats}, {bot['updates']:.0f} updates each",
        )
    )
    levels = sorted(loads)
    for contacts in levels:
        bot, base = measured[(BOT, contacts)], measured[(BASELINE, contacts)]
        ratio = bot["updates_per_s"] / base["updates_per_s"]
        report.add(
            Row(
                "2",
                f"{contacts} contact(s) at once: bot",
                bot["updates_per_s"],
                "upd/s",
                detail=f"p50 {bot['p50_ms']:.1f} ms, p99 {bot['p99_ms']:.1f} ms;"
                f" baseline {base['updates_per_s']:.0f} upd/s ({ratio:.0%})",
                data={"bot": bot, "baseline": base},
            )
        )
    lone, crowd = measured[(BOT, levels[0])], measured[(BOT, levels[-1])]
    report.add(
        Row(
            "2",
            f"throughput {levels[-1]} ÷ {levels[0]} contact(s)",
            crowd["updates_per_s"] / lone["updates_per_s"],
            "×",
            "≥ 1 (no collapse)",
            crowd["updates_per_s"] >= lone["updates_per_s"],
        )
    )
    steady_key = (BOT, -sizes.steady.contacts)
    steady = measured[steady_key]
    late = sum(r.late for r in runs[steady_key])
    rate = sizes.steady.rate or 0.0
    report.add(
        Row(
            "2",
            f"steady {rate:.0f} upd/s over {sizes.steady.contacts} contacts: achieved",
            steady["updates_per_s"],
            "upd/s",
            detail=f"sends behind schedule (a reply not yet there): {late}",
            data=steady,
        )
    )
    limit = 10 * lone["p50_ms"]
    report.add(
        Row(
            "2",
            f"steady {rate:.0f} upd/s: p99 latency",
            steady["p99_ms"],
            "ms",
            f"≤ 10 × lone p50 = {limit:.1f} ms",
            steady["p99_ms"] <= limit,
            f"p50 {steady['p50_ms']:.1f} ms; lone contact p50 {lone['p50_ms']:.2f} ms",
        )
    )
