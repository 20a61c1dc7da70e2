"""A Bot API call that fails for a passing reason is tried again, briefly.

A direct reply (sent while an update is handled, not through the outbox) had one try: a 502 or
a timeout lost the answer, the person read "something went wrong" and the admins got a report.
Now a call that fails with a 5xx, a connection error or a timeout is tried twice more, 0.5 s
then 1 s later, and a 429 whose `retry_after` is short is waited for; then the error goes where
it went before (the handler, the error handler, the admins' report).

The retry wraps the rate limiter, the one hook PTB runs around every Bot API call but
`getUpdates` (which the Updater retries itself): each new try waits its turn like any send, and
a 429 holds that chat's sends as it did. The outbox retries its rows with its own backoff and
holds a chat's rows on a 429 (bot/delivery/outbox.py): its calls are made inside
`left_to_caller()` and tried once here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextvars import ContextVar
from datetime import timedelta
from enum import Enum
from typing import Any, TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

from bot.logs import log_event

log = logging.getLogger(__name__)

RLArgs = TypeVar("RLArgs")
JSONResult = bool | dict[str, Any] | list[dict[str, Any]]

PAUSES = (0.5, 1.0)  # seconds before the second and the third try
LONGEST_FLOOD_WAIT = 5.0  # a 429 asking for longer is not waited for while a person waits
# What Telegram answers when a call is repeated after it had in fact been carried out.
DONE_ALREADY = ("message is not modified", "query is too old", "query id is invalid")

_RETRYING: ContextVar[bool] = ContextVar("quick_retries", default=True)


class Failure(Enum):
    """Why a call failed, as far as trying it again goes."""

    PASSING = "passing"  # a 5xx or a connection error: nothing was done, safe to repeat
    TIMEOUT = "timeout"  # no answer in time: the call may have been carried out
    FLOOD = "flood"  # a 429: Telegram says how long to wait
    FINAL = "final"  # anything else (400, 403...): the same call would fail the same way


def pause_before_retry(
    failure: Failure, tries: int, retry_after: float | None = None
) -> float | None:
    """Seconds to wait before trying again a call that failed `tries` times; None: give up."""
    if failure is Failure.FINAL or tries > len(PAUSES):
        return None
    if failure is Failure.FLOOD:
        wait = 1.0 if retry_after is None else retry_after
        return wait if wait <= LONGEST_FLOOD_WAIT else None
    return PAUSES[tries - 1]


def done_already(description: str) -> bool:
    """True when Telegram's refusal of a repeated call means the first one went through."""
    lowered = description.lower()
    return any(text in lowered for text in DONE_ALREADY)


def failure_of(error: Exception) -> tuple[Failure, float | None]:
    """The kind of a Bot API error, and the wait Telegram asks for (a 429)."""
    if isinstance(error, RetryAfter):
        return Failure.FLOOD, retry_after_seconds(error)
    if isinstance(error, TimedOut):
        return Failure.TIMEOUT, None
    # PTB raises NetworkError for a 5xx (and any status it has no class for) and for connection
    # errors; BadRequest is a NetworkError too, but a 400 is final.
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        return Failure.PASSING, None
    return Failure.FINAL, None


def retry_after_seconds(error: RetryAfter) -> float:
    """How long a 429 asks to wait, in seconds (1 if it says nothing readable)."""
    wait: object = error.retry_after  # a timedelta (PTB_TIMEDELTA, see bot/__init__.py)
    if isinstance(wait, timedelta):
        return wait.total_seconds()
    return float(wait) if isinstance(wait, int | float) else 1.0


@contextlib.contextmanager
def left_to_caller() -> Iterator[None]:
    """Calls made in the block are tried once: the caller retries them its own way."""
    token = _RETRYING.set(False)
    try:
        yield
    finally:
        _RETRYING.reset(token)


class RetryingRateLimiter(BaseRateLimiter[RLArgs]):
    """`inner` (the rate limiter), with every call that fails for a passing reason retried."""

    def __init__(
        self,
        inner: BaseRateLimiter[RLArgs],
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.inner = inner
        self._sleep = sleep

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: RLArgs | None,
    ) -> JSONResult:
        """Send through `inner`; try again after a 5xx, a timeout or a short 429."""
        if not _RETRYING.get():
            return await self.inner.process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        timed_out = False
        for tries in range(1, len(PAUSES) + 2):
            try:
                return await self.inner.process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest as exc:
                # An edit or a button's answer repeated after a timeout had gone through.
                if timed_out and done_already(exc.message):
                    return True
                raise
            except (NetworkError, RetryAfter) as exc:
                failure, retry_after = failure_of(exc)
                pause = pause_before_retry(failure, tries, retry_after)
                if pause is None:
                    raise
                # After a timeout, Telegram may have carried the call out: a message sent again
                # may then arrive twice. Telegram has no idempotency key to prevent that; an
                # answer seen twice is better than an answer lost, an apology and a report.
                timed_out = timed_out or failure is Failure.TIMEOUT
                log_event(
                    log,
                    "telegram.retry",
                    logging.WARNING,
                    method=endpoint,
                    error=type(exc).__name__,
                    tries=tries,
                    pause=pause,
                )
                await self._sleep(pause)
        raise AssertionError("unreachable: the last try returns or raises")
