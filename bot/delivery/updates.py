"""Concurrency that keeps each chat in order, and one person's flood away from everyone else.

Different people are handled at the same time (one waiting on Telegram does not hold up the
others); the updates of one chat are handled one after the other, in the order they came, so
a form's answers can never overtake each other.

python-telegram-bot handles at most `max_concurrent_updates` updates at once: its
`BaseUpdateProcessor.process_update` takes one of that many slots, then calls
`do_process_update`. Waiting for the chat's turn there would hold a slot while waiting: a
person who sends 100 messages at once, whose replies Telegram lets out at one a second, would
hold every slot with updates that only wait, and everyone else would wait for the flood's
backlog (issue 12). So an update here first waits for its chat's turn, holding no slot, and
only then takes a slot: one chat never holds more than one, and the flood guard
(handlers/limits.py) drops the excess one update at a time, in order, on that one slot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

DEFAULT_CONCURRENCY = 64


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """PTB's update processor, with one lock per chat (or per user, for chatless updates),
    taken before the processing slot."""

    def __init__(self, max_concurrent_updates: int = DEFAULT_CONCURRENCY) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # how many updates hold or wait for each lock

    # PTB marks `process_update` final (typing only) and takes the slot there, before
    # `do_process_update`; the order has to be the other way round (see the module's docstring).
    async def process_update(  # type: ignore[misc]
        self, update: object, coroutine: Awaitable[Any]
    ) -> None:
        """Wait for the chat's turn (holding no slot), then for a slot, then handle it."""
        key = _key(update)
        if key is None:
            await super().process_update(update, coroutine)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:  # asyncio.Lock is fair: waiters get it in arrival order
                await super().process_update(update, coroutine)  # the slot: PTB's semaphore
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # nobody left: forget the lock, keep memory flat
                del self._users[key]
                del self._locks[key]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None
