"""Keeping sends inside Telegram's flood limits: overall, per private chat and per group.

Telegram documents (core.telegram.org/bots/faq, "My bot is hitting limits"): in one chat, avoid
more than one message per second (short bursts are tolerated); for bulk notifications, about 30
messages per second overall; in a group, at most 20 messages per minute. Over a limit it answers
429 with `retry_after`.

PTB's `AIORateLimiter` paces the overall rate and groups, but lets a bot write to one private
chat as fast as the overall limit allows: a new ticket with its attachments (a card and up to
five documents to one lead) is a burst that Telegram answers with 429. `ChatRateLimiter` adds a
token bucket per private chat, and takes every token a send needs at the same instant, just
before the request goes out, so that waiting for one limit never lets another one be overrun.

A 429 is still raised to the caller (`max_retries=0`): the outbox postpones that chat's rows
(bot/delivery/outbox.py). The limiter also holds the requests to that chat until the
`retry_after` has passed, so that nothing is sent to it inside the window Telegram announced;
the other chats go on. Telegram's 429 says neither which limit was overrun nor whether it was
the overall one (the body is the same "Too Many Requests: retry after N" with `retry_after`), so
a 429 is taken as the chat's: the overall pacing below (28/s) is what keeps the overall limit
from being reached. Were it reached anyway (another program using the same token), each chat
would meet its own 429 on its next send and be held in turn: at most one request per chat
inside the window, never a lost row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery.retry import retry_after_seconds

log = logging.getLogger(__name__)

# Telegram's documented limits, never exceeded in any one second: 28/s with a burst of 2 sends
# at most 30 messages in any second (PTB's AIORateLimiter allows 30/s with bursts on top). The
# burst of 2 absorbs the event loop's lateness, which a burst of 1 would turn into lost sends.
# Measured by `python -m bench --parts 4`: the drain sits at 93 % of 30/s with no 429.
OVERALL_RATE = 28.0
OVERALL_BURST = 2
CHAT_RATE = 1.0
CHAT_BURST = 2
GROUP_RATE = 20 / 60
GROUP_BURST = 3
# Past this many chats, idle ones (bucket full, nobody waiting) are forgotten.
MAX_IDLE_LANES = 1024
# A wait is recomputed after each sleep (a 429 may extend it); this bounds the rechecks.
MAX_WAITS = 100
_EPSILON = 1e-9

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]


class TokenBucket:
    """At most `burst` tokens, refilled at `rate` per second; one send takes one token."""

    __slots__ = ("_stamp", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a bucket needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._stamp = now

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now

    def wait(self, now: float) -> float:
        """Seconds until one token is there (0.0: now)."""
        self._refill(now)
        missing = 1.0 - self._tokens
        return 0.0 if missing <= _EPSILON else missing / self.rate

    def take(self, now: float) -> None:
        """Use one token (call when `wait(now)` is 0)."""
        self._refill(now)
        self._tokens -= 1.0

    def full(self, now: float) -> bool:
        """True when the bucket has refilled completely (its chat is idle)."""
        self._refill(now)
        return self._tokens >= self.burst - _EPSILON


class _Lane:
    """One chat: its bucket, a lock that makes its sends wait their turn, in order, and the
    `clock()` time until which a 429 holds its sends."""

    __slots__ = ("bucket", "hold_until", "lock")

    def __init__(self, bucket: TokenBucket) -> None:
        self.bucket = bucket
        self.lock = asyncio.Lock()
        self.hold_until = 0.0


class ChatRateLimiter(BaseRateLimiter[int]):
    """Paces chat-addressed requests: overall, per private chat, per group or channel.

    Requests without a `chat_id` (answering a button, `getMe`, menus) are not paced, as with
    `AIORateLimiter`. `rate_limit_args` (a bot method's `rate_limit_args=`) overrides
    `max_retries` for one call. `clock` and `sleep` can be replaced to test with a fake time.
    """

    def __init__(
        self,
        *,
        overall_rate: float = OVERALL_RATE,
        overall_burst: int = OVERALL_BURST,
        chat_rate: float = CHAT_RATE,
        chat_burst: int = CHAT_BURST,
        group_rate: float = GROUP_RATE,
        group_burst: int = GROUP_BURST,
        max_retries: int = 0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_retries = max_retries
        self._clock = clock
        self._sleep = sleep
        self._chat_shape = (chat_rate, chat_burst)
        self._group_shape = (group_rate, group_burst)
        self._overall = TokenBucket(overall_rate, overall_burst, clock())
        self._overall_lock = asyncio.Lock()
        self._lanes: dict[int | str, _Lane] = {}

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def hold_until(self, chat_id: int | str) -> float:
        """The `clock()` time until which requests to `chat_id` wait after its 429 (0: none)."""
        key = _chat_key(chat_id)
        lane = self._lanes.get(key) if key is not None else None
        return lane.hold_until if lane is not None else 0.0

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        """Wait for the chat's turn and tokens, then send; a 429 holds that chat, then raises."""
        chat = _chat_key(data.get("chat_id"))
        if chat is None:
            return await callback(*args, **kwargs)
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            await self._acquire(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                lane = self._lane(chat)
                lane.hold_until = max(lane.hold_until, self._clock() + seconds)
                log.warning("429 on %s to %s: holding its sends for %ss", endpoint, chat, seconds)
                if attempt >= retries:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _acquire(self, chat: int | str) -> None:
        lane = self._lane(chat)
        async with lane.lock:  # FIFO: the sends of one chat leave in the order they came
            for _ in range(MAX_WAITS):
                await self._wait_for(lane.bucket, lane)
                async with self._overall_lock:
                    await self._wait_for(self._overall)
                    now = self._clock()
                    if lane.hold_until - now > _EPSILON:
                        continue  # a 429 to this chat came meanwhile: wait, not holding others
                    # Both tokens at the same instant, right before the request leaves: a wait
                    # for one never makes the other's spend early (which compresses the sends).
                    self._overall.take(now)
                    lane.bucket.take(now)  # only grew while we waited: we hold the chat's lock
                    return
            log.warning("rate limiter: gave up waiting after %s rechecks", MAX_WAITS)
            now = self._clock()
            self._overall.take(now)
            lane.bucket.take(now)

    async def _wait_for(self, bucket: TokenBucket, lane: _Lane | None = None) -> None:
        """Until `bucket` has a token and `lane` (if given) is not held by a 429."""
        for _ in range(MAX_WAITS):
            now = self._clock()
            hold = lane.hold_until - now if lane is not None else 0.0
            wait = max(hold, bucket.wait(now))
            if wait <= _EPSILON:
                return
            await self._sleep(wait)
        log.warning("rate limiter: gave up waiting after %s rechecks", MAX_WAITS)

    def _lane(self, chat: int | str) -> _Lane:
        lane = self._lanes.get(chat)
        if lane is not None:
            return lane
        if len(self._lanes) >= MAX_IDLE_LANES:
            now = self._clock()
            for key, old in list(self._lanes.items()):
                if not old.lock.locked() and old.bucket.full(now) and old.hold_until <= now:
                    del self._lanes[key]
        private = isinstance(chat, int) and chat > 0
        rate, burst = self._chat_shape if private else self._group_shape
        lane = self._lanes[chat] = _Lane(TokenBucket(rate, burst, self._clock()))
        return lane


def _chat_key(chat_id: object) -> int | str | None:
    """The chat a request writes to: an int id, or a channel's @username; None for none."""
    if chat_id is None:
        return None
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id)
    try:
        return int(text)
    except ValueError:
        return text
