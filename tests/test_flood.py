"""A flood of 10,000 notifications stays inside Telegram's limits, and nothing is lost.

The real outbox (`bot.delivery.outbox.Outbox`: its rows, its 429 holds, its retries) delivers
through a real PTB `ExtBot` with its `HTTPXRequest` and `bot.delivery.ratelimit.ChatRateLimiter`,
against the fake Telegram over HTTP (tests/fake_telegram.py), which enforces the flood limits and
records every send. The two properties: at most 0.1 % of the sends get a 429, and none is made
inside a `retry_after` window the server announced. Also: every notification is delivered exactly
once, and in each chat in the order it was queued.

The workload: 10,000 notifications to 1,000 private chats (every chat gets some; 50 busy ones,
the admins and the leads of busy fields, get about four times as many), queued at once as the
consequences of events, in event order: a single message (a relay, a status change, 55 %), a
new-ticket card with one to three attachments as documents (25 %: 2 to 4 messages in a row to
one chat, more than the per-chat burst), a message and a follow-up (15 %), an edit of a card
sent earlier in that chat (5 %).

At Telegram's real limits (about 30/s overall) 10,000 sends take about 7 minutes: that run is
`soak` (`make soak`). The default run uses the same limits with time running ten times faster
on both sides (server 300/s overall and 10/s per chat with the same bursts; the bot 250/s and
10/s), and still sends 10,000.

The real outbox (bot/delivery/outbox.py) delivers several chats at once, each chat in order: with
one row at a time, every chat would wait for each message the limiter paces (the third and fourth
of a new-ticket card): measured at ten times the speed, 209 s instead of about 50.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot
from telegram.request import HTTPXRequest

from bot.clock import SystemClock
from bot.delivery.outbox import Outbox
from bot.delivery.ratelimit import OVERALL_RATE, ChatRateLimiter
from bot.tools.fakeapi import FakeBotAPI
from storage import Database
from storage import outbox as repo
from tests.conftest import TOKEN
from tests.fake_telegram import FakeTelegram, Limits

NOTIFICATIONS = 10_000
CHATS = 1_000
BUSY_CHATS = 50
FIRST_CHAT = 500_001
SPEEDUP = 10  # the default run: Telegram's limits with time ten times faster
MAX_429_SHARE = 0.001
LANES = 16  # sends under way at once in LanedOutbox (as proposed for bot/delivery/outbox.py)
LANE_BATCH = 200  # rows LanedOutbox keeps queued in its lanes
MAX_ROUNDS = 1_000_000  # a bound on LanedOutbox's loops (each round moves at least one row)


@dataclass(frozen=True)
class Note:
    """One notification to queue: `edit_of` is the index of the note it edits."""

    chat_id: int
    method: str
    payload: dict[str, Any]
    edit_of: int | None = None


def workload(total: int = NOTIFICATIONS, seed: int = 2026) -> list[Note]:
    """The notifications, in the order the events that cause them happen (see the docstring)."""
    rng = random.Random(seed)
    chats = list(range(FIRST_CHAT, FIRST_CHAT + CHATS))
    weights = [4 if i < BUSY_CHATS else 1 for i in range(CHATS)]
    notes: list[Note] = []
    cards: dict[int, int] = {}  # chat → index of its newest card
    counts: Counter[int] = Counter()

    def text(chat: int, words: str) -> dict[str, Any]:
        counts[chat] += 1
        body = f"<b>#{counts[chat]}</b> {words}"  # per-chat sequence: order is checked
        return {"text": body, "parse_mode": "HTML"}

    # Every chat gets something, then events go to chats by weight.
    order = chats + rng.choices(chats, weights, k=total)
    for chat in order:
        if len(notes) >= total:
            break
        kind = rng.random()
        if kind < 0.55:
            notes.append(Note(chat, "send_message", text(chat, "Nouveau message sur CREC-2026")))
        elif kind < 0.80:
            cards[chat] = len(notes)
            notes.append(Note(chat, "send_message", text(chat, "Nouvelle demande CREC-2026")))
            for n in range(rng.randint(1, 3)):
                counts[chat] += 1
                payload = {"document": f"doc-file-{n}", "caption": f"#{counts[chat]} pièce"}
                notes.append(Note(chat, "send_document", payload))
        elif kind < 0.95:
            notes.append(Note(chat, "send_message", text(chat, "Statut : en cours")))
            notes.append(Note(chat, "send_message", text(chat, "Question du responsable")))
        elif chat in cards:
            payload = {"text": f"<b>Prise en charge</b> {len(notes)}", "parse_mode": "HTML"}
            notes.append(Note(chat, "edit_message_text", payload, edit_of=cards[chat]))
        else:
            notes.append(Note(chat, "send_message", text(chat, "Rappel")))
    return notes[:total]


@dataclass(frozen=True)
class Flood:
    """What a flood run measured."""

    rows: int
    sent_rows: int
    seconds: float
    sends: int
    rate_limited: int
    violations: int
    delivered: int


async def run_flood(
    tmp_path: Path,
    *,
    speedup: float,
    outbox_class: type[Outbox] = Outbox,
    total: int = NOTIFICATIONS,
    deadline: float = 600.0,
) -> tuple[Flood, FakeTelegram]:
    """Queue `total` notifications and let the outbox deliver them all; what happened."""
    notes = workload(total)
    db = Database(tmp_path / "flood.db")
    await db.open()
    clock = SystemClock()
    api = FakeBotAPI(known_chats_only=False)
    telegram = FakeTelegram(limits=Limits().faster(speedup), api=api)
    limiter = ChatRateLimiter(overall_rate=OVERALL_RATE * speedup, chat_rate=1.0 * speedup)
    async with telegram:  # in this event loop: a thread would fight the bot for the GIL
        bot = ExtBot(
            TOKEN,
            base_url=telegram.base_url,
            request=HTTPXRequest(connection_pool_size=LANES + 8),
            rate_limiter=limiter,
            defaults=Defaults(parse_mode=ParseMode.HTML),
        )
        await bot.initialize()
        try:
            ids: list[int] = []
            async with db.transaction() as conn:
                for note in notes:
                    edit_of = ids[note.edit_of] if note.edit_of is not None else None
                    ids.append(
                        await repo.enqueue(
                            conn,
                            chat_id=note.chat_id,
                            method=note.method,
                            payload=note.payload,
                            purpose="flood",
                            now=clock.now(),
                            edit_of=edit_of,
                        )
                    )
            outbox = outbox_class(db, clock, bot, admin_ids=())
            started = time.monotonic()
            await deliver_everything(outbox, db, started + deadline)
            seconds = time.monotonic() - started
            async with db.read() as conn:
                rows = await conn.execute_fetchall(
                    "SELECT status, COUNT(*) FROM outbox GROUP BY 1"
                )
        finally:
            await bot.shutdown()
            await db.close()
    statuses = {str(r[0]): int(r[1]) for r in rows}
    stats = telegram.stats()
    flood = Flood(
        rows=len(notes),
        sent_rows=statuses.get("sent", 0),
        seconds=seconds,
        sends=stats.sends,
        rate_limited=stats.rate_limited,
        violations=stats.violations,
        delivered=stats.delivered,
    )
    return flood, telegram


async def deliver_everything(outbox: Outbox, db: Database, deadline: float) -> None:
    """Drain until no row is pending, waiting out pauses and backoffs, until `deadline`."""
    for _ in range(100_000):
        await outbox.drain()
        async with db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT COUNT(*) FROM outbox WHERE status = 'pending'"
            )
        if not int(next(iter(rows))[0]) or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.05)  # a 429 hold or a backoff: look again shortly


def check(flood: Flood, telegram: FakeTelegram, notes: list[Note]) -> None:
    """Nothing lost, nothing doubled, each chat in order, and the two flood properties."""
    assert flood.sent_rows == flood.rows == len(notes)
    assert flood.rate_limited <= MAX_429_SHARE * flood.sends, flood
    assert flood.violations == 0, [r for r in telegram.sends if r.in_window][:5]
    expected: Counter[int] = Counter(n.chat_id for n in notes if n.method.startswith("send"))
    for chat_id, count in expected.items():
        messages = telegram.sent_to(chat_id)
        assert len(messages) == count, chat_id
        numbers = [int(m.text.split()[0].lstrip("#")) for m in messages if m.edits == 0]
        assert numbers == sorted(numbers), (chat_id, numbers)


def test_the_workload_is_what_the_docstring_says() -> None:
    notes = workload()
    per_chat = Counter(n.chat_id for n in notes)
    assert len(notes) == NOTIFICATIONS and len(per_chat) == CHATS
    assert min(per_chat.values()) >= 1 and max(per_chat.values()) <= 100
    methods = Counter(n.method for n in notes)
    assert methods["send_document"] > 1_000 and methods["edit_message_text"] > 100
    # Runs longer than the per-chat burst (2 for the bot, 3 for Telegram) are common.
    runs = sum(
        1
        for i in range(len(notes) - 3)
        if len({n.chat_id for n in notes[i : i + 4]}) == 1 and notes[i].method == "send_message"
    )
    assert runs > 200


async def test_flood_of_10000_notifications_within_limits_time_ten_times_faster(
    tmp_path: Path,
) -> None:
    flood, telegram = await run_flood(tmp_path, speedup=SPEEDUP, deadline=300)
    print(f"\nflood x{SPEEDUP}: {flood}")
    check(flood, telegram, workload())


@pytest.mark.soak
async def test_flood_of_10000_notifications_at_telegrams_real_limits(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # About 7 minutes: only when asked for (`pytest -m soak`, `make soak`).
    if "soak" not in str(request.config.getoption("markexpr", "")):
        pytest.skip("a soak test: run it with `pytest -m soak` (make soak)")
    flood, telegram = await run_flood(tmp_path, speedup=1, deadline=1200)
    print(f"\nflood x1: {flood}")
    check(flood, telegram, workload())
