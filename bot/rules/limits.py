"""Abuse limits, without Telegram: how often one person may write, how often they are told."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.clock import Clock

WINDOW = timedelta(minutes=1)
INVITE_FAILURES_PER_HOUR = 5
MAX_FILE_MB = 20
MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024  # what a bot may download from Telegram


class FloodGuard:
    """At most `per_minute` updates per person in any minute (a sliding window).

    Over the limit, updates are dropped; the person is told once per window, not at every
    update (that would be a flood of our own).
    """

    def __init__(self, per_minute: int, clock: Clock, exempt: Iterable[int] = ()) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.exempt = frozenset(exempt)
        self._seen: dict[int, deque[datetime]] = {}
        self._told: dict[int, datetime] = {}

    def check(self, user_id: int) -> tuple[bool, bool]:
        """(allowed, tell them): record one update of `user_id`."""
        if self.per_minute <= 0 or user_id in self.exempt:
            return True, False
        now = self.clock.now()
        seen = self._seen.setdefault(user_id, deque())
        while seen and now - seen[0] >= WINDOW:
            seen.popleft()
        if len(seen) < self.per_minute:
            seen.append(now)
            return True, False
        told = self._told.get(user_id)
        if told is None or now - told >= WINDOW:
            self._told[user_id] = now
            return False, True
        return False, False
