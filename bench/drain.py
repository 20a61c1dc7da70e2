"""Part 4: draining 5,000 queued notifications against a Telegram that enforces its limits.

The bot's outbox (`bot.delivery.outbox.Outbox`, as it is) delivers through a real PTB `ExtBot` and
a rate limiter, against an in-process fake Bot API that enforces Telegram's flood limits with the
parameters of the tests' fake server (tests/fake_telegram.py `Limits`: 30 messages a second overall
with a burst of 30, one a second per chat with a burst of 3) and answers 429 with `retry_after`
beyond them. Measured: the drain rate beside the rate Telegram allows, the 429s, and the sends made
inside an announced `retry_after` window.

Why not the fake HTTP server itself: in one process, its loopback HTTP costs about 7 ms a call
(the server's thread shares the GIL), which caps a one-at-a-time outbox at ~130 sends a second
and would measure the fake rather than the pacing. The in-process fake costs ~0.1 ms.

The allowed rate is Telegram's overall 30 per second: the notifications go to 500 chats, so
the per-chat limit alone never caps the total. Telegram's limits are real time (5,000 sends
take nearly three minutes at best): the run keeps every limit and every ratio but lets time run
`speedup` times faster on both sides (the fake's limits and the bot's rate limiter). A
`retry_after` is whole seconds of real time, so a 429 costs `speedup` times more here than in
production: the target is no 429 at all anyway.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, BaseRateLimiter, Defaults, ExtBot

from bot.app import build_application
from bot.clock import SystemClock
from bot.delivery import ratelimit
from bot.delivery.outbox import Outbox
from bot.tools.fakeapi import FakeBotAPI
from storage import Database
from storage import outbox as repo

from .common import TOKEN, Report, Row, bench_settings

TELEGRAM_RATE = 30.0  # messages per second overall, Telegram's documented bulk limit
OVERALL_BURST = 30.0
CHAT_RATE = 1.0  # per private chat
CHAT_BURST = 3.0
FIRST_CHAT = 7_000_001
_SENDS = ("send", "edit", "copy", "forward")
COMPARED = 500  # notifications drained with a limiter the bot does not use


class _Bucket:
    """A token bucket that starts full."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, burst, now

    def wait(self, now: float) -> float:
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        return 0.0 if self.tokens >= 1.0 - 1e-9 else (1.0 - self.tokens) / self.rate


class LimitedBotAPI(FakeBotAPI):
    """The tests' fake Bot API, refusing sends over Telegram's limits as Telegram does: 429
    with `retry_after`, and every send to that chat (or all, for the overall limit) refused
    until the window has passed. Time runs `speedup` times faster for the limits."""

    def __init__(self, speedup: float) -> None:
        super().__init__(known_chats_only=False)
        self.speedup = speedup
        now = time.perf_counter()
        self.overall = _Bucket(TELEGRAM_RATE * speedup, OVERALL_BURST, now)
        self.buckets: dict[int, _Bucket] = {}
        self.overall_until = 0.0
        self.chat_until: dict[int, float] = {}
        self.sends = self.rate_limited = self.violations = 0
        self.delivered: list[float] = []  # when each send was let through

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, bytes]:
        chat = params.get("chat_id")
        if chat is not None and method.startswith(_SENDS):
            refusal = self._admit(int(str(chat)))
            if refusal is not None:
                return 429, refusal
        return super().answer(method, params)

    def _admit(self, chat: int) -> bytes | None:
        now = time.perf_counter()
        self.sends += 1
        window = max(self.overall_until, self.chat_until.get(chat, 0.0))
        if now < window:
            self.violations += 1
            return self._refuse(window - now)
        bucket = self.buckets.get(chat)
        if bucket is None:
            bucket = self.buckets[chat] = _Bucket(CHAT_RATE * self.speedup, CHAT_BURST, now)
        overall, mine = self.overall.wait(now), bucket.wait(now)
        if overall or mine:
            retry_after = max(1, math.ceil(max(overall, mine)))
            if overall:
                self.overall_until = now + retry_after
            else:
                self.chat_until[chat] = now + retry_after
            return self._refuse(retry_after)
        self.overall.tokens -= 1.0
        bucket.tokens -= 1.0
        self.delivered.append(now)
        return None

    def _refuse(self, seconds: float) -> bytes:
        self.rate_limited += 1
        retry_after = max(1, math.ceil(seconds))
        return json.dumps(
            {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            }
        ).encode()


@dataclass(frozen=True)
class Note:
    """One notification to queue (`edit_of`: index of the note whose message it edits)."""

    chat_id: int
    method: str
    payload: dict[str, Any]
    edit_of: int | None = None


def workload(total: int, seed: int = 6) -> list[Note]:
    """What a busy day of the bot queues, in order: new-ticket cards to the leads of a field
    (a quarter with one or two documents after the card), status changes and relayed messages
    to contacts and leads, and edits of cards once taken. 50 leads, 450 contacts."""
    rng = random.Random(seed)
    leads = list(range(FIRST_CHAT, FIRST_CHAT + 50))
    contacts = list(range(FIRST_CHAT + 1_000, FIRST_CHAT + 1_450))
    notes: list[Note] = []
    cards: list[int] = []

    def text(words: str) -> dict[str, Any]:
        return {"text": f"<b>{words}</b> #{len(notes)}", "parse_mode": "HTML"}

    while len(notes) < total:
        roll = rng.random()
        if roll < 0.35:  # a new ticket: its card to one or two leads, with its documents
            files = rng.choice((0, 0, 0, 1, 2))
            for lead in rng.sample(leads, rng.choice((1, 1, 2))):
                cards.append(len(notes))
                notes.append(Note(lead, "send_message", text("Nouvelle demande")))
                for n in range(files):
                    payload = {"document": f"doc-{n}", "caption": f"Pièce {n + 1}"}
                    notes.append(Note(lead, "send_document", payload))
        elif roll < 0.65:
            notes.append(Note(rng.choice(contacts), "send_message", text("Statut : en cours")))
        elif roll < 0.90:
            chat = rng.choice(contacts + leads)
            notes.append(Note(chat, "send_message", text("Nouveau message")))
        elif cards:  # taken: the card is edited
            card = cards[rng.randrange(len(cards))]
            payload = {"text": f"<b>Prise en charge</b> {len(notes)}", "parse_mode": "HTML"}
            notes.append(Note(notes[card].chat_id, "edit_message_text", payload, card))
    return notes[:total]


@dataclass(frozen=True)
class Drain:
    """What a drain measured."""

    rows: int
    sent: int
    seconds: float
    sends: int
    rate_limited: int
    violations: int
    steady: float  # sends per second between the 10th and the 90th percentile of the sends

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def steady_rate(moments: list[float]) -> float:
    """The rate of the middle 80 % of the sends: the pacing, without the start and the tail
    (the last rows of the busiest chats, which only their per-chat limit lets through)."""
    if len(moments) < 10:
        return 0.0
    first, last = len(moments) // 10, len(moments) * 9 // 10
    span = moments[last] - moments[first]
    return (last - first) / span if span > 0 else 0.0


async def drain(
    total: int, speedup: float, limiter: BaseRateLimiter[Any] | None, folder: Path
) -> Drain:
    """Queue `total` notifications, then let the outbox deliver them all (waiting out 429
    pauses, as its worker does); what happened."""
    notes = workload(total)
    db = Database(folder / "drain.db")
    await db.open()
    clock = SystemClock()
    api = LimitedBotAPI(speedup)
    bot: ExtBot[Any] = ExtBot(
        TOKEN,
        request=api,
        get_updates_request=api,
        rate_limiter=limiter,
        defaults=Defaults(parse_mode=ParseMode.HTML),
    )
    try:
        await bot.initialize()
        ids: list[int] = []
        async with db.transaction() as conn:
            for note in notes:
                ids.append(
                    await repo.enqueue(
                        conn,
                        chat_id=note.chat_id,
                        method=note.method,
                        payload=note.payload,
                        purpose="bench",
                        now=clock.now(),
                        edit_of=ids[note.edit_of] if note.edit_of is not None else None,
                    )
                )
        outbox = Outbox(db, clock, bot, admin_ids=())
        started = time.perf_counter()
        deadline = started + 20 * total / (TELEGRAM_RATE * speedup) + 30
        while time.perf_counter() < deadline:
            await outbox.drain()
            async with db.read() as conn:
                rows = await conn.execute_fetchall(
                    "SELECT COUNT(*) FROM outbox WHERE status = 'pending'"
                )
            if not int(next(iter(rows))[0]):
                break
            await asyncio.sleep(0.01)  # paused by a 429: look again shortly, as the worker does
        seconds = time.perf_counter() - started
        async with db.read() as conn:
            rows = await conn.execute_fetchall("SELECT COUNT(*) FROM outbox WHERE status = 'sent'")
        return Drain(
            total,
            int(next(iter(rows))[0]),
            seconds,
            api.sends,
            api.rate_limited,
            api.violations,
            steady_rate(api.delivered),
        )
    finally:
        await bot.shutdown()
        await db.close()


@dataclass(frozen=True)
class Sizes:
    """How many notifications, and how much faster than real time the limits run."""

    notifications: int
    speedup: float


QUICK = Sizes(2_000, 10.0)
FULL = Sizes(5_000, 5.0)
TINY = Sizes(80, 20.0)


def configured_limiter() -> str:
    """The class of the rate limiter bot/app.py gives the bot in production (talking to
    Telegram over HTTP: no `request` given; building makes no network call)."""
    with tempfile.TemporaryDirectory(prefix="bench-app-") as tmp:
        app = build_application(bench_settings(Path(tmp) / "x.db"))
        return type(app.bot.rate_limiter).__name__


def limiters(speedup: float) -> list[tuple[str, BaseRateLimiter[Any] | None]]:
    """The rate limiters to drain with, time running `speedup` times faster: PTB's
    `AIORateLimiter` and bot/delivery/ratelimit.py's `ChatRateLimiter` with its defaults; the one
    bot/app.py uses is said."""
    configured = configured_limiter()

    def label(name: str, what: str) -> str:
        return f"{name} ({what}{', bot/app.py' if name == configured else ''})"

    return [
        (
            label("AIORateLimiter", "PTB's, 30/s"),
            AIORateLimiter(overall_max_rate=TELEGRAM_RATE * speedup, max_retries=0),
        ),
        (
            label(
                "ChatRateLimiter",
                f"{ratelimit.OVERALL_RATE:g}/s and a burst of {ratelimit.OVERALL_BURST}",
            ),
            ratelimit.ChatRateLimiter(
                overall_rate=ratelimit.OVERALL_RATE * speedup,
                chat_rate=ratelimit.CHAT_RATE * speedup,
                group_rate=ratelimit.GROUP_RATE * speedup,
            ),
        ),
    ]


async def run(report: Report, sizes: Sizes) -> None:
    """The outbox's own speed (no limits), then a drain with each limiter: its rate beside
    Telegram's allowed rate, and the 429s."""
    with tempfile.TemporaryDirectory(prefix="bench-drain-") as tmp:
        free = await drain(sizes.notifications, 1e6, None, Path(tmp))
    report.add(
        Row(
            "4",
            f"outbox alone, {free.rows:,} with no limits",
            free.rate,
            "sends/s",
            detail=f"the ceiling here; limits below run ×{sizes.speedup:g}"
            f" ({TELEGRAM_RATE * sizes.speedup:.0f}/s allowed)",
            data=free.__dict__,
        )
    )
    allowed = TELEGRAM_RATE * sizes.speedup
    configured = configured_limiter()
    for name, limiter in limiters(sizes.speedup):
        ours = name.startswith(configured)  # the target is for the limiter the bot uses
        # The others are a comparison: a few hundred show their rate (PTB's, pausing at each
        # 429, takes minutes a hundred).
        rows = sizes.notifications if ours else min(sizes.notifications, COMPARED)
        with tempfile.TemporaryDirectory(prefix="bench-drain-") as tmp:
            result = await drain(rows, sizes.speedup, limiter, Path(tmp))
        share = result.steady / allowed
        slowed = (
            f"{result.rate_limited} × 429 (each a pause of its retry_after)"
            if result.rate_limited
            else "its tail being the last messages of the busiest chats, one a second each"
        )
        report.add(
            Row(
                "4",
                f"drain {result.rows:,}: {name}",
                share * 100,
                "% of 30/s",
                "≥ 90 %, no 429" if ours else "",
                share >= 0.9 and result.rate_limited == 0 if ours else None,
                f"steady {result.steady / sizes.speedup:.1f}/s in Telegram time (the middle 80 %"
                f" of the sends); over the whole drain {result.rate / sizes.speedup:.1f}/s,"
                f" {slowed} ({result.sent:,}/{result.rows:,} sent in {result.seconds:.1f} s at"
                f" ×{sizes.speedup:g}); sent inside a retry_after: {result.violations}",
                data=result.__dict__ | {"allowed_per_s": allowed, "speedup": sizes.speedup},
            )
        )
