"""Driving an application the way Telegram does: updates into `app.update_queue`, replies out of
an in-process fake Bot API, one client per person.

The production path is the application's update queue (polling and webhook both end there);
for the bot that is `bot.delivery.inbox.DurableQueue`, which commits the update to SQLite (fsync'd)
before it is queued, so every number here includes the inbox commit. A client sends its next
update when the reply to the previous one has arrived (a `sendMessage` in its chat), as a person
does.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeAlias

import aiosqlite
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    ContextTypes,
    SimpleUpdateProcessor,
    TypeHandler,
)

from bot.app import IntakeApp, build_application, services_of
from bot.clock import SystemClock
from bot.config import Settings
from bot.delivery.inbox import DurableQueue, Inbox, IntakeApplication
from bot.delivery.updates import DEFAULT_CONCURRENCY
from bot.runner import running, start_up_frozen
from bot.services import Services
from bot.tools.fakeapi import FakeBotAPI, Sent
from storage import Database, people
from storage.models import Role

from .common import TOKEN

REPLIES = frozenset({"sendMessage", "sendDocument", "sendPhoto"})
FIRST_CONTACT = 2_000_001
FIRST_LEAD = 3_000_001
KEEP_MESSAGES = 3  # per chat in the fake, when trimming: the newest one carries the buttons

StepKind: TypeAlias = Literal["command", "text", "click"]
Step: TypeAlias = tuple[StepKind, str]
AnyApp: TypeAlias = Application[Any, Any, Any, Any, Any, Any]


class WatchingAPI(FakeBotAPI):
    """The fake Bot API of the tests, telling waiting clients when their reply has arrived.

    `trim=True` keeps only the newest messages of each chat and no call log, so that the fake's
    own memory stays flat in long runs (and out of the bot's memory figures).
    """

    def __init__(self, *, trim: bool = False) -> None:
        super().__init__(known_chats_only=True)
        self.trim = trim
        self.replies = 0
        self._waiters: dict[int, asyncio.Future[Sent]] = {}

    def expect(self, chat_id: int) -> asyncio.Future[Sent]:
        """A future set by the next reply in `chat_id` (register before sending)."""
        waiter: asyncio.Future[Sent] = asyncio.get_running_loop().create_future()
        self._waiters[chat_id] = waiter
        return waiter

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, bytes]:
        status, body = super().answer(method, params)
        if self.trim:
            self.calls.clear()
        if status == 200 and method in REPLIES:
            chat_id = int(str(params["chat_id"]))
            self.replies += 1
            chat = self.chats[chat_id]
            latest = chat[-1]
            if self.trim and len(chat) > KEEP_MESSAGES:
                del chat[:-KEEP_MESSAGES]
            waiter = self._waiters.pop(chat_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(latest)
        return status, body


@dataclass
class Client:
    """One person writing to the bot through the update queue."""

    app: AnyApp
    api: WatchingAPI
    user_id: int
    first_name: str
    update_ids: itertools.count[int]
    any_button: bool = False  # the baseline's replies have one button: press it, whatever it says
    latencies: list[float] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)  # perf_counter of each send
    last_reply: Sent | None = None

    def _user(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": "fr",
        }

    def _message(self, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.api.next_message_id(self.user_id),
            "date": int(time.time()),
            "chat": {"id": self.user_id, "type": "private", "first_name": self.first_name},
            "from": self._user(),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return message

    def _press(self, label: str) -> dict[str, Any]:
        for sent in reversed(self.api.chats[self.user_id]):
            data = (sent.buttons[0][1] if sent.buttons else None) if self.any_button else None
            data = data or sent.button(label)
            if data is not None:
                return {
                    "id": f"{self.user_id}-{next(self.update_ids)}",
                    "from": self._user(),
                    "chat_instance": str(self.user_id),
                    "data": data,
                    "message": self.api._message_json(sent),
                }
        raise LookupError(f"no button {label!r} in chat {self.user_id}")

    def update(self, step: Step) -> dict[str, Any]:
        """The update a person makes for one step (a typed text or a button press)."""
        kind, value = step
        body: dict[str, Any] = (
            {"callback_query": self._press(value)}
            if kind == "click"
            else {"message": self._message(value)}
        )
        return {"update_id": next(self.update_ids), **body}

    async def send(self, step: Step) -> float:
        """Send one step and wait for the reply; the latency in seconds (put → reply)."""
        payload = self.update(step)
        waiter = self.api.expect(self.user_id)
        started = time.perf_counter()
        self.sent_at.append(started)
        # As the webhook does (and polling, through KeepingJSONRequest): the JSON becomes an
        # Update, and both go to the queue (the bot's durable one stores that JSON).
        update = Update.de_json(payload, self.app.bot)
        queue = self.app.update_queue
        if isinstance(queue, DurableQueue):
            await queue.put_json(update, payload)
        else:
            await queue.put(update)
        self.last_reply = await asyncio.wait_for(waiter, REPLY_TIMEOUT)
        latency = time.perf_counter() - started
        self.latencies.append(latency)
        return latency


REPLY_TIMEOUT = 60.0


def request_script(field_label: str, number: int) -> list[Step]:
    """Every step of filing one complete request, as tests/flows.py `file_request` does."""
    urgency = ("Normale", "Urgente", "Critique")[number % 3]
    return [
        ("command", "/new"),
        ("click", field_label),
        ("text", f"Révision des règlements généraux no {number}"),
        (
            "text",
            "Nous devons réviser nos règlements avant l'assemblée générale de mars; "
            f"la demande {number} porte sur les articles 4 à 12 et le quorum.",
        ),
        ("click", urgency),
        ("click", "Pas de date"),
        ("click", "Continuer sans"),
        ("click", "Envoyer"),
    ]


STEPS_PER_REQUEST = len(request_script("x", 0))


# -- the bot ----------------------------------------------------------------------------------


@asynccontextmanager
async def running_bot(
    settings: Settings,
    api: FakeBotAPI,
    *,
    outbox_worker: bool,
    rate_limiter: BaseRateLimiter[Any] | None = None,
) -> AsyncIterator[IntakeApp]:
    """The real application, started as `intake-bot run` starts it (minus polling and
    signals; with what exists at start-up left out of garbage collections, as there).

    The rate limiter is taken off: it paces sends to Telegram's real limits (30 per second),
    which would make every figure here "30 per second" and measure nothing of the bot. Sending
    within Telegram's limits is measured on its own (bench/drain.py). `rate_limiter` puts one
    back, for a load whose pacing is what is measured (bench/flood.py).
    """
    app = build_application(settings, request=api, outbox_worker=outbox_worker)
    app.bot._rate_limiter = rate_limiter  # ExtBot has no public way to replace it
    async with running(app):
        with start_up_frozen():
            yield app


@dataclass(frozen=True)
class Cast:
    """Who is in the database: contacts (id → field label they ask for), leads, the admin."""

    contacts: list[int]
    field_labels: list[str]
    leads: list[int]


async def seed_people(
    services: Services, api: FakeBotAPI, contacts: int, *, leads_per_field: int = 1
) -> Cast:
    """Register a federation, leads for every field and `contacts` contacts, straight in SQLite.

    Registration is not what is measured; invites would cost two updates per person.
    """
    now = datetime.now(UTC)
    async with services.db.transaction() as conn:
        federation = await people.federation_by_code(conn, "BENCH")
        if federation is None:
            federation = await people.create_federation(conn, "BENCH", "Fédération banc", now)
        assert federation is not None
        fields = [f for f in await people.list_fields(conn, active_only=True)]
        lead_ids: list[int] = []
        number = FIRST_LEAD
        for item in fields:
            if item.routes_to_admins:
                continue
            for _ in range(leads_per_field):
                if await people.get_user(conn, number) is None:
                    await people.create_user(
                        conn,
                        user_id=number,
                        role=Role.LEAD,
                        full_name=f"Lead {number}",
                        username=None,
                        language="fr",
                        now=now,
                    )
                await people.add_lead(conn, item.id, number)
                lead_ids.append(number)
                number += 1
        rows = [
            (
                FIRST_CONTACT + i,
                "contact",
                federation.id,
                f"Contact {i}",
                None,
                "fr",
                now.isoformat(),
            )
            for i in range(contacts)
        ]
        await conn.executemany(
            "INSERT OR IGNORE INTO users (id, role, federation_id, full_name, username, language,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    labels = [f.name_fr for f in fields if not f.routes_to_admins]
    ids = [FIRST_CONTACT + i for i in range(contacts)]
    api.known_chats.update(ids)
    api.known_chats.update(lead_ids)
    return Cast(ids, [labels[i % len(labels)] for i in range(contacts)], lead_ids)


async def outbox_pending(services: Services) -> int:
    """How many notifications wait in the outbox."""
    async with services.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
    return int(next(iter(rows))[0])


async def settle_outbox(services: Services) -> None:
    """Wait until every queued notification is delivered (the worker's or an explicit drain)."""
    outbox = services.outbox
    assert outbox is not None
    for _ in range(10_000):
        await outbox.drain()  # waits for the worker's pass in progress, then drains the rest
        if not await outbox_pending(services):
            return
        await asyncio.sleep(0.01)


# -- the baseline -----------------------------------------------------------------------------


_SEEN = (
    "CREATE TABLE IF NOT EXISTS seen (update_id INTEGER PRIMARY KEY,"
    " chat_id INTEGER NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL)"
)


async def _record(conn: aiosqlite.Connection, update: Update) -> None:
    assert update.effective_chat is not None
    kind = "callback" if update.callback_query else "message"
    await conn.execute(
        "INSERT INTO seen (update_id, chat_id, kind, at) VALUES (?, ?, ?, ?)",
        (update.update_id, update.effective_chat.id, kind, datetime.now(UTC).isoformat()),
    )


class _BaselineStore:
    """One SQLite row per update, committed with the bot's own pragmas (WAL, synchronous=FULL)
    through one aiosqlite connection and a lock, as storage.db does: the same durability."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn: aiosqlite.Connection | None = None
        self.lock = asyncio.Lock()

    async def open(self) -> None:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=5000"):
            await conn.execute(f"PRAGMA {pragma}")
        await conn.execute(_SEEN)
        self.conn = conn

    async def record(self, update: Update) -> None:
        assert self.conn is not None
        async with self.lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            await _record(self.conn, update)
            await self.conn.execute("COMMIT")

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()


@asynccontextmanager
async def running_baseline(
    database: Path, api: FakeBotAPI, *, durable_inbox: bool = False
) -> AsyncIterator[AnyApp]:
    """A bare python-telegram-bot application on the same fake: per update, one committed row
    and one reply (with one button, so that clients can press something). Same concurrency as
    the bot (`bot.delivery.updates.DEFAULT_CONCURRENCY`), no rate limiter.

    `durable_inbox=True` adds the bot's own durable receipt (bot/delivery/inbox.py: each update
    committed before it is queued, marked handled after) and commits the row through the bot's
    storage (storage.db): how much of the bot's cost is receipt and storage, how much is the rest.
    """
    store = _BaselineStore(database)
    db: Database | None = None
    builder = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(api)
        .get_updates_request(api)
        .concurrent_updates(SimpleUpdateProcessor(DEFAULT_CONCURRENCY))
    )
    if durable_inbox:
        db = Database(database.with_suffix(".inbox.db"))
        await db.open()
        builder = builder.application_class(IntakeApplication).update_queue(DurableQueue())
    else:
        await store.open()

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if db is None:
            await store.record(update)
        else:
            async with db.transaction() as conn:
                await _record(conn, update)
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id,
            f"Reçu {update.update_id}",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]]),
        )

    app = builder.build()
    app.add_handler(TypeHandler(Update, handle))
    await app.initialize()
    if db is not None:
        await db.conn.execute(_SEEN)
        assert isinstance(app, IntakeApplication) and isinstance(app.update_queue, DurableQueue)
        app.inbox = app.update_queue.inbox = Inbox(db, SystemClock())
    await app.start()
    try:
        yield app
    finally:
        await app.stop()
        await app.shutdown()
        await store.close()
        if db is not None:
            await db.close()


# -- loads ------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What one load measured: updates, wall time, every update's latency; for an open loop,
    also the latencies and rate of its steady part (every client under way)."""

    updates: int
    seconds: float
    latencies: list[float]
    offered_rate: float | None = None  # open loop: the rate asked for
    late: int = 0  # open loop: sends that could not keep to the schedule
    steady_latencies: list[float] = field(default_factory=list)
    steady_rate: float = 0.0
    stolen: float = 0.0  # % of the machine's CPU time the hypervisor took meanwhile

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0


def scripts_for(labels: Sequence[str], requests: int) -> list[list[Step]]:
    """Each client's steps: `requests` complete requests, one after the other."""
    return [
        [step for n in range(requests) for step in request_script(label, i * 1000 + n)]
        for i, label in enumerate(labels)
    ]


async def closed_loop(clients: Sequence[Client], scripts: Sequence[Sequence[Step]]) -> float:
    """Everyone at once, each sending their next step when their reply arrives; seconds."""

    async def one(client: Client, steps: Sequence[Step]) -> None:
        for step in steps:
            await client.send(step)

    started = time.perf_counter()
    await asyncio.gather(*(one(c, s) for c, s in zip(clients, scripts, strict=True)))
    return time.perf_counter() - started


@dataclass(frozen=True)
class OpenLoop:
    """How an open loop went: its length, late sends, and its steady window (perf_counter
    times from when the last client has started to when the first has finished)."""

    seconds: float
    late: int
    steady: tuple[float, float]


async def open_loop(
    clients: Sequence[Client], scripts: Sequence[Sequence[Step]], rate: float, *, phases: int = 1
) -> OpenLoop:
    """A steady `rate` updates per second spread over the clients: each sends every
    len(clients)/rate seconds; a client whose reply is late sends as soon as it arrives (a
    person cannot press a button they have not seen).

    Client i sends at i/n of each interval, so no two send at once. With `phases=1`, every
    client is at the same step of its script in the same interval (all press "Envoyer" within
    one interval); with as many phases as a request has steps, client i starts i mod phases
    intervals late, so that the clients are spread over the steps, as people are: the kind
    of work is steady too, not only its amount.
    """
    interval = len(clients) / rate
    # Client i sends at i/n of each interval (no two at once), starting (i mod phases)
    # intervals late, so that at any moment the clients are at different steps.
    offsets = [interval * (index / len(clients) + index % phases) for index in range(len(clients))]
    late = 0

    async def one(index: int, client: Client, steps: Sequence[Step], start: float) -> None:
        nonlocal late
        due = start + offsets[index]
        for step in steps:
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -interval / 2:
                late += 1
            await client.send(step)
            due += interval

    started = time.perf_counter()
    await asyncio.gather(
        *(one(i, c, s, started) for i, (c, s) in enumerate(zip(clients, scripts, strict=True)))
    )
    last_start = started + max(offsets)
    first_end = started + min(o + len(s) * interval for o, s in zip(offsets, scripts, strict=True))
    return OpenLoop(time.perf_counter() - started, late, (last_start, first_end))


def steady_part(
    clients: Sequence[Client], window: tuple[float, float]
) -> tuple[list[float], float]:
    """The latencies of updates sent inside `window`, and their rate there (all of them, over
    the whole run, when the window is empty: a load too short to have a steady part)."""
    begin, end = window
    inside = [
        latency
        for client in clients
        for sent, latency in zip(client.sent_at, client.latencies, strict=True)
        if begin <= sent < end
    ]
    if end <= begin or not inside:
        everything = [x for c in clients for x in c.latencies]
        first = min(t for c in clients for t in c.sent_at)
        last = max(t for c in clients for t in c.sent_at)
        return everything, len(everything) / (last - first) if last > first else 0.0
    return inside, len(inside) / (end - begin)


def services(app: AnyApp) -> Services:
    """The bot's services (settings, database, outbox) of a running application."""
    return services_of(app)
