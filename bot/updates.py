"""Concurrency that keeps each chat in order.

Different people are handled at the same time (one waiting on Telegram does not hold up the
others); the updates of one chat are handled one after the other, in the order they came, so
a form's answers can never overtake each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

DEFAULT_CONCURRENCY = 64


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """PTB's update processor, with one lock per chat (or per user, for chatless updates)."""

    def __init__(self, max_concurrent_updates: int = DEFAULT_CONCURRENCY) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # how many updates hold or wait for each lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:  # asyncio.Lock is fair: waiters get it in arrival order
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # nobody left: forget the lock, keep memory flat
                del self._users[key]
                del self._locks[key]

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
