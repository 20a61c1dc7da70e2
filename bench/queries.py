"""Part 3: the commands that read tickets, on 10,000 and on 1,000,000 tickets (or the sizes
asked for), with the SQL each one ran and its query plan.

Interactive commands are timed through the whole bot, as a person's command (update → reply);
their SQL, captured with SQLite's trace callback while the command runs, is timed on its own
too and explained with EXPLAIN QUERY PLAN. /stats and /billing are timed through their pure
functions (bot/rules/, bot/reports/) on the month's data, per ticket (or time entry) of the
month.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypeAlias

from bot.services import Services

from .common import ADMIN_ID, RESULTS, Report, Row, bench_settings, median
from .datagen import Picks, cached_database
from .driver import Client, Step, WatchingAPI, running_bot, services

# Statements that are the bot's plumbing, not the command's query.
_PLUMBING = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|PRAGMA)|\binbox\b|\boutbox\b", re.IGNORECASE)
REPORT_REPEATS = 3
_READ = re.compile(r"^\s*(SELECT|WITH)\b", re.IGNORECASE)
# Tables whose size grows with the history: a SCAN of one of them is a full scan.
_BIG = re.compile(
    r"^SCAN (tickets|t|ticket_events|time_entries|te|attachments|ticket_messages)\b(?! VIRTUAL)"
)


@dataclass
class Measure:
    """One command at one size."""

    ms: float
    sql_ms: float | None = None
    plans: dict[str, list[str]] = field(default_factory=dict)
    count: int | None = None  # tickets (or entries) the measure is about, for per-item figures

    @property
    def scans(self) -> list[str]:
        return [step for steps in self.plans.values() for step in steps if _BIG.match(step)]


@dataclass(frozen=True)
class Command:
    """A command typed by someone, e.g. ("lead", "/queue")."""

    name: str
    who: str
    text: str


def commands(picks: Picks) -> list[Command]:
    """The interactive commands timed, with the people and ticket of a generated database."""
    words = " ".join(picks.search)
    return [
        Command("/mytickets (contact)", "contact", "/mytickets"),
        Command("/queue (lead)", "lead", "/queue"),
        Command("/queue (admin: everything open)", "admin", "/queue"),
        Command("/ticket <ref> (lead)", "lead", f"/ticket {picks.reference}"),
        Command(f"search '{words}' (lead)", "lead", f"/ticket {words}"),
        Command(f"search '{words}' (admin)", "admin", f"/ticket {words}"),
    ]


class Tracer:
    """Collects the SQL a connection runs (SQLite trace callback: values already bound)."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.on = False

    def __call__(self, statement: str) -> None:
        # Reads only: they are run again to be timed and explained (a write must not be).
        if self.on and _READ.match(statement) and not _PLUMBING.search(statement):
            self.statements.append(statement)

    async def capture(self, action: Callable[[], Awaitable[object]]) -> list[str]:
        self.statements, self.on = [], True
        try:
            await action()
        finally:
            self.on = False
        return list(dict.fromkeys(self.statements))


async def plans_of(svc: Services, statements: Sequence[str]) -> dict[str, list[str]]:
    """EXPLAIN QUERY PLAN of each statement: its steps, as SQLite words them."""
    found: dict[str, list[str]] = {}
    async with svc.db.read() as conn:
        for sql in statements:
            rows = await conn.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}")
            found[_short(sql)] = [str(r[3]) for r in rows]
    return found


async def sql_time(svc: Services, statements: Sequence[str], repeats: int) -> float:
    """Median ms to run these statements (all rows fetched), in one read, as the bot does."""
    times = []
    for _ in range(repeats):
        async with svc.db.read() as conn:
            started = time.perf_counter()
            for sql in statements:
                await conn.execute_fetchall(sql)
            times.append(time.perf_counter() - started)
    return median(times) * 1000


def _short(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()[:300]


@dataclass
class Instance:
    """The bot running on a copy of one generated database, with its people ready to type."""

    size: int
    picks: Picks
    svc: Services
    tracer: Tracer
    clients: dict[str, Client]
    interactive: dict[str, Measure] = field(default_factory=dict)
    reports: dict[str, Measure] = field(default_factory=dict)


@asynccontextmanager
async def running_instance(size: int, path: Path, picks: Picks) -> AsyncIterator[Instance]:
    """The bot on a copy of the database at `path` (the cached file stays as generated)."""
    with tempfile.TemporaryDirectory(prefix="bench-q-") as tmp:
        copy = Path(tmp) / "intake.db"
        await asyncio.to_thread(shutil.copyfile, path, copy)  # the bot writes (its inbox)
        api = WatchingAPI(trim=True)
        async with running_bot(bench_settings(copy), api, outbox_worker=False) as app:
            svc = services(app)
            tracer = Tracer()
            await svc.db.conn.set_trace_callback(tracer)
            ids = itertools.count(10_000_000)
            people = {"contact": picks.contact_id, "lead": picks.lead_id, "admin": ADMIN_ID}
            api.known_chats.update(people.values())
            clients = {
                who: Client(app, api, user_id, who.title(), ids) for who, user_id in people.items()
            }
            yield Instance(size, picks, svc, tracer, clients)


async def measure_all(instances: Sequence[Instance], repeats: int) -> None:
    """Every command on every instance; samples alternate between the instances, so that a
    moment when the machine is busier weighs on both sizes alike."""
    names = [c.name for c in commands(instances[0].picks)]
    for index, name in enumerate(names):
        steps: dict[int, Step] = {
            i.size: ("command", commands(i.picks)[index].text) for i in instances
        }
        latencies: dict[int, list[float]] = {i.size: [] for i in instances}
        for attempt in range(repeats + 2):  # the first two warm (caches, pages from disk)
            for inst in instances:
                client = inst.clients[commands(inst.picks)[index].who]
                latency = await client.send(steps[inst.size])
                if attempt >= 2:
                    latencies[inst.size].append(latency)
        for inst in instances:
            client = inst.clients[commands(inst.picks)[index].who]
            step = steps[inst.size]
            statements = await inst.tracer.capture(partial(client.send, step))
            measure = Measure(
                median(latencies[inst.size]) * 1000,
                await sql_time(inst.svc, statements, repeats),
                await plans_of(inst.svc, statements),
            )
            measure.plans["reply"] = [(client.last_reply.text if client.last_reply else "")[:80]]
            inst.interactive[name] = measure
    actions = [report_actions(inst) for inst in instances]
    if not all(actions):
        return
    for name in actions[0]:
        # Reports are slow on large months (seconds): one warm run (its SQL is captured), then
        # REPORT_REPEATS timed runs, alternating between the instances.
        times: dict[int, list[float]] = {i.size: [] for i in instances}
        captured: dict[int, list[str]] = {}
        for inst, found in zip(instances, actions, strict=True):
            captured[inst.size] = await inst.tracer.capture(found[name][0])
        for _ in range(REPORT_REPEATS):
            for inst, found in zip(instances, actions, strict=True):
                started = time.perf_counter()
                await found[name][0]()
                times[inst.size].append(time.perf_counter() - started)
        for inst, found in zip(instances, actions, strict=True):
            inst.reports[name] = Measure(
                median(times[inst.size]) * 1000,
                await sql_time(inst.svc, captured[inst.size], 3),
                await plans_of(inst.svc, captured[inst.size]),
                found[name][1],
            )


ReportAction: TypeAlias = Callable[[], Awaitable[object]]


def report_actions(inst: Instance) -> dict[str, tuple[ReportAction, int]]:
    """/stats and /billing for the month, through the functions of bot/rules/ and bot/reports/
    (empty if those are not there yet: the caller reports them as not available)."""
    try:  # imported here: written concurrently, they may be missing
        from bot.reports.billing import billing_workbook  # noqa: PLC0415
        from bot.reports.stats import render_stats  # noqa: PLC0415
        from bot.rules.billing import billing_statement  # noqa: PLC0415
        from bot.rules.periods import parse_month  # noqa: PLC0415
        from bot.rules.service_levels import calendar_for  # noqa: PLC0415
        from bot.rules.stats import compute_stats  # noqa: PLC0415
        from storage import people  # noqa: PLC0415
        from storage import reports as repo  # noqa: PLC0415
        from storage import sla as sla_repo  # noqa: PLC0415
    except ImportError:
        return {}
    svc, picks = inst.svc, inst.picks
    period = parse_month(picks.month)
    assert period is not None
    tz = svc.settings.tz
    start, end = period.bounds(tz)
    now = datetime.now(UTC)

    async def stats() -> object:
        async with svc.db.read() as conn:
            facts = await repo.ticket_facts(conn, start, end)
            targets = await sla_repo.targets(conn)
            fields = {f.id: f for f in await people.list_fields(conn, active_only=False)}
            federations = {f.id: f for f, _ in await people.list_federations(conn)}
        result = compute_stats(period, facts, targets, calendar_for(tz), now)
        return render_stats(result, "fr", fields, federations)

    async def billing() -> object:
        async with svc.db.read() as conn:
            entries = await repo.time_entries_between(conn, period.first, period.after)
            fields = {f.id: f for f in await people.list_fields(conn, active_only=False)}
            federations = {f.id: f for f, _ in await people.list_federations(conn)}
        statement = billing_statement(period, entries)
        return billing_workbook(statement, fields=fields, federations=federations, language="fr")

    return {
        f"/stats {picks.month} (text)": (stats, picks.month_tickets),
        f"/billing {picks.month} (spreadsheet)": (billing, picks.month_time_entries),
    }


@dataclass(frozen=True)
class Sizes:
    """Part 3's two database sizes, and how many times each command is timed."""

    small: int
    large: int
    repeats: int


QUICK = Sizes(10_000, 100_000, 15)
FULL = Sizes(10_000, 1_000_000, 25)
TINY = Sizes(300, 900, 3)


async def run(report: Report, sizes: Sizes, cache: Path = RESULTS) -> None:
    """Generate (or reuse) both databases, time every command on each, report the ratios."""
    found: list[tuple[int, Path, Picks]] = []
    for size in (sizes.small, sizes.large):
        path, picks, made = await cached_database(size, cache)
        found.append((size, path, picks))
        if made:
            report.durations[f"generate {size:,} tickets"] = made
            report.add(
                Row("3", f"generate {size:,} tickets", made, "s", detail=f"cached as {path.name}")
            )
    async with AsyncExitStack() as stack:
        instances = [
            await stack.enter_async_context(running_instance(size, path, picks))
            for size, path, picks in found
        ]
        await measure_all(instances, sizes.repeats)
    measured = {i.size: (i.interactive, i.reports) for i in instances}
    small_i, small_r = measured[sizes.small]
    large_i, large_r = measured[sizes.large]
    report.sections[f"query plans at {sizes.large:,} tickets"] = plan_lines(large_i | large_r)
    label = f"{sizes.large:,} ÷ {sizes.small:,}"
    for name, small in small_i.items():
        large = large_i[name]
        ratio = large.ms / small.ms
        scans = large.scans
        sql_ratio = (large.sql_ms or 0) / (small.sql_ms or 1)
        report.add(
            Row(
                "3",
                f"{name}: time {label}",
                ratio,
                "×",
                "≤ 2×, no full scan",
                ratio <= 2 and not scans,
                f"{small.ms:.2f} → {large.ms:.2f} ms; SQL {small.sql_ms:.2f} → "
                f"{large.sql_ms:.2f} ms ({sql_ratio:.1f}×)"
                + (f"; SCANS: {'; '.join(scans)}" if scans else "; plans: index searches only"),
                data={
                    "ms": {str(sizes.small): small.ms, str(sizes.large): large.ms},
                    "sql_ms": {str(sizes.small): small.sql_ms, str(sizes.large): large.sql_ms},
                    "plans": large.plans,
                },
            )
        )
    if not large_r:
        report.unavailable("3", "/stats and /billing for one month", "bot/reports/ not usable")
        return
    for name, small in small_r.items():
        large = large_r[name]
        assert small.count and large.count
        per_small = small.ms / small.count
        per_large = large.ms / large.count
        scans = large.scans
        report.add(
            Row(
                "3",
                f"{name}: per month item {label}",
                per_large / per_small,
                "×",
                "≤ 2× per item, no full scan",
                per_large / per_small <= 2 and not scans,
                f"{small.ms:.1f} ms for {small.count:,} → {large.ms:.1f} ms for {large.count:,}"
                f" ({per_small * 1000:.0f} → {per_large * 1000:.0f} µs each)"
                + (f"; SCANS: {'; '.join(scans)}" if scans else "; plans: index searches only"),
                data={
                    "ms": {str(sizes.small): small.ms, str(sizes.large): large.ms},
                    "items": {str(sizes.small): small.count, str(sizes.large): large.count},
                    "sql_ms": {str(sizes.small): small.sql_ms, str(sizes.large): large.sql_ms},
                    "plans": large.plans,
                },
            )
        )


def plan_lines(measures: dict[str, Measure]) -> list[str]:
    """The query plans as text (for the printed report)."""
    lines: list[str] = []
    for name, measure in measures.items():
        lines.append(f"{name}:")
        for sql, steps in measure.plans.items():
            if sql == "reply":
                continue
            lines.append(f"  {sql}")
            lines += [f"    {step}" for step in steps]
    return lines
