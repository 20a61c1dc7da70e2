"""One person's flood stalls nobody else (issue 12, defect 2).

A contact sends 100 commands in a fraction of a second and a stranger 1,000 `/start <garbage>`;
another contact's `/help`, sent right after, is answered at once. The replies to the two
flooders are paced at Telegram's one message per second per chat (`ChatRateLimiter`), on a time
that stands still until the test lets it go: `/help` must be answered before a single second
of that pacing has passed, while the flood's backlog is still waiting for it. Before the fix,
each flooder's queued updates held one of the application's 64 processing slots while they
waited for their chat's turn, and `/help` waited for a slot until the backlog was done (about
28 s with Telegram's pace and the 30-a-minute flood limit).

Then time goes on: every update is handled and marked so in the inbox (the dropped ones too),
each chat in the order it wrote, and the flood limit answered as it does today.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from telegram import Update

from bot.clock import ManualClock
from bot.delivery.inbox import DurableQueue, IntakeApplication
from bot.delivery.ratelimit import CHAT_BURST, ChatRateLimiter
from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import FakeBotAPI
from tests import flows
from tests.conftest import make_settings

FLOOD = 100
STRANGER_FLOOD = 1_000
PER_MINUTE = 30  # the production default (bot/config.py)
# Only a hang guard: on time that stands still, a /help that waits for the flood never comes.
HANG_GUARD_SECONDS = 30.0


class PausedTime:
    """The rate limiter's clock and sleep: time stands still until `release()`, then runs
    (each sleep moves it on by its length, at once)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.released = False
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if self.released:
            self.now += seconds
            await asyncio.sleep(0)
            return
        waiter = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, waiter))
        await waiter

    @property
    def waiting(self) -> int:
        return len(self._sleepers)

    def release(self) -> None:
        self.released = True
        for deadline, waiter in self._sleepers:
            self.now = max(self.now, deadline)
            if not waiter.done():
                waiter.set_result(None)
        self._sleepers.clear()


def _update(bot: Emulator, person: Person, text: str) -> dict[str, Any]:
    command = text.split(maxsplit=1)[0]
    entities = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return bot.stamp({"message": person._message(text=text, entities=entities)})


async def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.01)


async def test_a_flood_does_not_delay_anyone_else(tmp_path: Path, clock: ManualClock) -> None:
    settings = make_settings(tmp_path, rate_limit_per_minute=PER_MINUTE)
    async with Emulator.running(settings, clock=clock, api=FakeBotAPI()) as bot:
        boss = await flows.admin(bot)
        await flows.federation(boss)
        flooder = await flows.contact(bot, boss, 2001, "Marie")
        other = await flows.contact(bot, boss, 2002, "Paul")
        stranger = bot.person(6666, "Inconnu")
        clock.advance(minutes=1)  # registration is out of the flood limit's window
        paused = PausedTime()
        # Telegram's pace in a private chat; the overall pace (28/s) is not what this is about.
        bot.app.bot._rate_limiter = ChatRateLimiter(
            overall_rate=1000.0, overall_burst=10_000, clock=paused.clock, sleep=paused.sleep
        )
        before = {p.id: len(p.chat) for p in (flooder, other, stranger)}
        queue = bot.app.update_queue
        assert isinstance(queue, DurableQueue)
        updates = [_update(bot, flooder, f"/ticket CREC-2026-{n:04d}") for n in range(FLOOD)]
        updates += [_update(bot, stranger, f"/start {n:032d}") for n in range(STRANGER_FLOOD)]
        updates.append(_update(bot, other, "/help"))
        try:
            for payload in updates:  # as the webhook and polling hand them over
                await queue.put_json(Update.de_json(payload, bot.app.bot), payload)
            await _until(
                lambda: len(other.chat) > before[other.id],
                "/help was not answered before the flood's paced replies went out",
            )
            assert "/new" in other.last.text
            # Not one second of pacing has passed: the flood's backlog is still waiting for it.
            assert paused.now == 0.0 and paused.waiting
            assert len(flooder.chat) - before[flooder.id] <= CHAT_BURST
            assert len(stranger.chat) - before[stranger.id] <= CHAT_BURST
        finally:
            paused.release()
            await queue.join()

        # The flooder: the first 30 answered in order, told once, the other 70 dropped.
        replies = [m.text for m in flooder.chat[before[flooder.id] :]]
        assert len(replies) == PER_MINUTE + 1
        for n, text in enumerate(replies[:PER_MINUTE]):
            assert f"CREC-2026-{n:04d}" in text, (n, text)
        assert "beaucoup de messages" in replies[-1]
        # The stranger: five wrong invites, then "too many tries", then told once.
        replies = [m.text for m in stranger.chat[before[stranger.id] :]]
        assert len(replies) == PER_MINUTE + 1
        assert all("pas valide" in text for text in replies[:5])
        assert all("Trop d'essais" in text for text in replies[5:PER_MINUTE])
        assert "beaucoup de messages" in replies[-1]
        # Nothing lost: every update is marked handled, the dropped ones too.
        assert isinstance(bot.app, IntakeApplication) and bot.app.inbox is not None
        assert await bot.app.inbox.pending() == []
        assert "/new" in (await other.send("/help"))[-1].text
