"""The rate limiter keeps the bot inside Telegram's flood limits (bot/delivery/ratelimit.py).

Most tests run on a fake time: `FakeTime` moves its clock only when every task is waiting, to
the earliest wake-up, so the times recorded are exact and the tests never depend on the speed
of the machine. The last tests send through PTB's real HTTP client to the fake Telegram
(tests/fake_telegram.py), which answers 429 when a limit is overrun.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections import defaultdict
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, BaseRateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.delivery.ratelimit import ChatRateLimiter, TokenBucket
from bot.tools.fakeapi import FakeBotAPI
from tests.conftest import TOKEN
from tests.fake_telegram import FakeTelegram, Limits

EPSILON = 1e-6


class FakeTime:
    """A clock for the limiter that jumps to the next wake-up once every task is waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), future))
        await future

    async def run(self, *coroutines: Coroutine[Any, Any, Any]) -> list[Any]:
        """Run the coroutines together to the end; exceptions are returned, not raised."""
        tasks = [asyncio.create_task(c) for c in coroutines]
        for _ in range(100_000):
            for _ in range(20):  # let every task run until it waits (nothing here does I/O)
                await asyncio.sleep(0)
            if all(t.done() for t in tasks):
                break
            if not self._sleepers:
                raise AssertionError("deadlock: tasks wait, nobody sleeps")
            when, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, when)
            future.set_result(None)
        return await asyncio.gather(*tasks, return_exceptions=True)


class Recorder:
    """A fake Bot API call: records when it was made and for which chat."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.sent: list[tuple[float, object]] = []
        self.fail_next: list[BaseException] = []

    async def call(self, chat: object) -> bool:
        self.sent.append((self.time.now, chat))
        if self.fail_next:
            raise self.fail_next.pop(0)
        return True


def limiter(time: FakeTime, **kwargs: Any) -> ChatRateLimiter:
    return ChatRateLimiter(clock=time.clock, sleep=time.sleep, **kwargs)


def chat_limiter(time: FakeTime) -> ChatRateLimiter:
    """The default per-chat and per-group limits, with the overall one out of the way."""
    return limiter(time, overall_rate=1000.0, overall_burst=100)


async def send(
    rate_limiter: BaseRateLimiter[int], recorder: Recorder, chat: object, endpoint: str = "x"
) -> Any:
    data = {} if chat is None else {"chat_id": chat}
    return await rate_limiter.process_request(
        recorder.call, (chat,), {}, endpoint, data, rate_limit_args=None
    )


def within_bucket(times: list[float], rate: float, burst: float) -> bool:
    """True if sends at `times` fit a bucket of `burst` refilled at `rate`/s (starting full)."""
    times = sorted(times)
    return all(
        j - i + 1 <= burst + rate * (times[j] - times[i]) + EPSILON
        for i in range(len(times))
        for j in range(i, len(times))
    )


async def test_one_chat_gets_a_short_burst_then_one_message_per_second() -> None:
    time = FakeTime()
    recorder = Recorder(time)
    limit = chat_limiter(time)
    await time.run(*(send(limit, recorder, 42) for _ in range(6)))
    assert [t for t, _ in recorder.sent] == [0.0, 0.0, 1.0, 2.0, 3.0, 4.0]


async def test_a_paced_chat_does_not_hold_up_the_others() -> None:
    time = FakeTime()
    recorder = Recorder(time)
    limit = chat_limiter(time)
    await time.run(*(send(limit, recorder, 42) for _ in range(4)), send(limit, recorder, 7))
    assert [t for t, c in recorder.sent if c == 7] == [0.0]
    assert [t for t, c in recorder.sent if c == 42] == [0.0, 0.0, 1.0, 2.0]


async def test_the_messages_of_one_chat_leave_in_the_order_they_came() -> None:
    time = FakeTime()
    order: list[int] = []
    limit = limiter(time)

    async def numbered(n: int) -> None:
        async def call() -> bool:
            order.append(n)
            return True

        await limit.process_request(call, (), {}, "sendMessage", {"chat_id": 5}, None)

    await time.run(*(numbered(n) for n in range(12)))
    assert order == list(range(12))


async def test_the_overall_rate_holds_across_chats() -> None:
    time = FakeTime()
    recorder = Recorder(time)
    limit = limiter(time, overall_rate=10.0, overall_burst=5)
    await time.run(*(send(limit, recorder, chat) for chat in range(1, 31)))
    times = [t for t, _ in recorder.sent]
    assert times[:5] == [0.0] * 5 and times[-1] == pytest.approx(2.5)
    assert within_bucket(times, 10.0, 5)


async def test_by_default_no_second_has_more_than_thirty_messages() -> None:
    time = FakeTime()
    recorder = Recorder(time)
    limit = limiter(time)  # the defaults, as in production
    await time.run(*(send(limit, recorder, chat) for chat in range(1, 121)))
    times = [t for t, _ in recorder.sent]
    busiest = max(sum(1 for u in times if t <= u <= t + 1.0 + 1e-9) for t in times)
    assert busiest == 30  # in any second, ends included: Telegram's limit, never passed
    assert times[-1] == pytest.approx(118 / 28)  # 2 at once, then 28 a second


async def test_groups_get_twenty_messages_a_minute() -> None:
    time = FakeTime()
    recorder = Recorder(time)
    limit = chat_limiter(time)
    await time.run(*(send(limit, recorder, -100123) for _ in range(6)))
    assert [t for t, _ in recorder.sent] == pytest.approx([0, 0, 0, 3, 6, 9])


async def test_calls_without_a_chat_are_not_paced() -> None:
    time = FakeTime()
    recorder = Recorder(time)
    limit = limiter(time, overall_rate=1.0, overall_burst=1)
    await time.run(*(send(limit, recorder, None, "answerCallbackQuery") for _ in range(50)))
    assert {t for t, _ in recorder.sent} == {0.0}


async def test_every_limit_holds_for_a_random_mix_of_chats() -> None:
    # Both tokens are taken at the same instant: waiting for the overall limit never lets a
    # chat's messages bunch up, nor the other way round. Checked on every pair of sends.
    time = FakeTime()
    recorder = Recorder(time)
    limit = limiter(time, overall_rate=8.0, overall_burst=4, chat_rate=1.0, chat_burst=2)
    rng = random.Random(5)
    chats = [rng.choice([11, 12, 13, 14, 15, 16, 17, -500]) for _ in range(150)]
    await time.run(*(send(limit, recorder, chat) for chat in chats))
    assert len(recorder.sent) == 150
    assert within_bucket([t for t, _ in recorder.sent], 8.0, 4)
    per_chat: dict[object, list[float]] = defaultdict(list)
    for t, chat in recorder.sent:
        per_chat[chat].append(t)
    for chat, times in per_chat.items():
        rate, burst = (1.0, 2) if isinstance(chat, int) and chat > 0 else (20 / 60, 3)
        assert within_bucket(times, rate, burst), chat


async def test_a_429_is_raised_to_the_caller_and_holds_its_chat_until_it_passes() -> None:
    time = FakeTime()
    recorder = Recorder(time)
    limit = chat_limiter(time)
    recorder.fail_next.append(RetryAfter(timedelta(seconds=5)))
    first, second = await time.run(send(limit, recorder, 1), send(limit, recorder, 2))
    assert isinstance(first, RetryAfter)  # max_retries=0: the outbox decides what to do
    assert second is True
    third, fourth = await time.run(send(limit, recorder, 1), send(limit, recorder, 2))
    assert third is True and fourth is True
    # Chat 2 is not held by chat 1's 429; chat 1 gets nothing inside its window.
    assert recorder.sent == [(0.0, 1), (0.0, 2), (0.0, 2), (5.0, 1)]
    assert limit.hold_until(1) == 5.0 and limit.hold_until(2) == 0.0


async def test_a_429_while_its_chat_waits_for_the_overall_rate_holds_no_other_chat() -> None:
    time = FakeTime()
    sent: list[tuple[float, int]] = []
    limit = limiter(time, overall_rate=1.0, overall_burst=1)

    async def slow_429(chat: int) -> bool:  # answered half a second later: 429 for 5 s
        sent.append((time.now, chat))
        await time.sleep(0.5)
        raise RetryAfter(timedelta(seconds=5))

    async def call(chat: int) -> bool:
        sent.append((time.now, chat))
        return True

    def request(callback: Any, chat: int) -> Coroutine[Any, Any, Any]:
        return limit.process_request(callback, (chat,), {}, "x", {"chat_id": chat}, None)

    # Chat 1's second send waits for the overall token when the first one's 429 comes: it
    # waits out its window without keeping chat 2 from the token.
    first, second, other = await time.run(request(slow_429, 1), request(call, 1), request(call, 2))
    assert isinstance(first, RetryAfter) and second is True and other is True
    assert sent == [(0.0, 1), (1.0, 2), (5.5, 1)]


async def test_max_retries_retries_after_the_window() -> None:
    time = FakeTime()
    recorder = Recorder(time)
    limit = limiter(time, max_retries=1)
    recorder.fail_next.append(RetryAfter(3))
    assert await time.run(send(limit, recorder, 1)) == [True]
    assert [t for t, _ in recorder.sent] == [0.0, 3.0]


def test_a_bucket_refills_up_to_its_burst() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    for _ in range(3):
        assert bucket.wait(0.0) == 0.0
        bucket.take(0.0)
    assert bucket.wait(0.0) == pytest.approx(0.5)
    assert bucket.full(100.0) and bucket.wait(100.0) == 0.0
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1, now=0.0)


# -- through PTB's HTTP client, against the fake Telegram --------------------------------------


async def _burst(
    telegram: FakeTelegram, rate_limiter: BaseRateLimiter[int], chats: list[int]
) -> list[BaseException | Any]:
    bot = ExtBot(
        TOKEN, base_url=telegram.base_url, request=HTTPXRequest(), rate_limiter=rate_limiter
    )
    await bot.initialize()
    try:
        sends = (bot.send_message(chat, f"n°{n}") for n, chat in enumerate(chats))
        return await asyncio.gather(*sends, return_exceptions=True)
    finally:
        await bot.shutdown()


async def test_ptbs_limiter_lets_a_burst_to_one_person_hit_429() -> None:
    # Why bot/delivery/ratelimit.py exists: AIORateLimiter does not pace private chats.
    api = FakeBotAPI(known_chats_only=False)
    async with FakeTelegram(api=api) as telegram:
        results = await _burst(telegram, AIORateLimiter(max_retries=0), [42] * 6)
    assert any(isinstance(r, RetryAfter) for r in results)
    assert telegram.stats().rate_limited >= 1


async def test_a_burst_to_one_person_is_paced_without_a_429() -> None:
    api = FakeBotAPI(known_chats_only=False)
    async with FakeTelegram(api=api, limits=Limits().faster(10)) as telegram:
        limit = ChatRateLimiter(overall_rate=250.0, chat_rate=10.0)
        results = await _burst(telegram, limit, [42] * 8 + [43] * 8)
    assert not [r for r in results if isinstance(r, BaseException)]
    stats = telegram.stats()
    assert (stats.delivered, stats.rate_limited, stats.violations) == (16, 0, 0)
    assert [m.text for m in telegram.sent_to(42)] == [f"n°{n}" for n in range(8)]


async def test_a_broadcast_stays_under_the_overall_limit_at_real_speed() -> None:
    # 60 people at once, at Telegram's real overall rate (30/s) with a stricter burst (10
    # instead of 30, so that an unpaced burst would fail): the limiter's defaults (28/s, a
    # burst of 2) keep every send inside it (about 2 s).
    api = FakeBotAPI(known_chats_only=False)
    async with FakeTelegram(api=api, limits=Limits(overall_burst=10)) as telegram:
        results = await _burst(telegram, ChatRateLimiter(), list(range(1000, 1060)))
    assert not [r for r in results if isinstance(r, BaseException)]
    stats = telegram.stats()
    assert (stats.delivered, stats.rate_limited, stats.violations) == (60, 0, 0)


def test_the_application_paces_with_chat_rate_limiter(tmp_path: Path) -> None:
    """In production (a real HTTP client) sends are paced per chat, overall and per group."""
    from bot.app import build_application  # noqa: PLC0415
    from bot.delivery.retry import RetryingRateLimiter  # noqa: PLC0415
    from tests.conftest import make_settings  # noqa: PLC0415

    limiter = build_application(make_settings(tmp_path)).bot.rate_limiter
    assert isinstance(limiter, RetryingRateLimiter) and isinstance(limiter.inner, ChatRateLimiter)
