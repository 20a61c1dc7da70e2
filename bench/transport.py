"""Part 1, beside the loads: what one Telegram call costs the bot's process over HTTP.

The loads of part 1 hand each call to the in-process fake (`bot.tools.fakeapi.FakeBotAPI`), which
leaves out what production adds: PTB's `HTTPXRequest`, httpx and its connection pool. Here the
same `sendMessage` goes both ways, one call at a time: to the in-process fake (the baseline),
and over HTTP to the fake Telegram server of the tests (tests/fake_telegram.py, in a thread of
its own, so that its work is not counted). The figure is the CPU time of the bot's thread
per call. (The server comes from the tests: `make bench` installs the development extras.)
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from typing import Any

from telegram.ext import ExtBot
from telegram.request import BaseRequest, HTTPXRequest

from bot.tools.fakeapi import FakeBotAPI
from tests.fake_telegram import FakeTelegram

from .common import TOKEN, Report, Row

CHAT = 2_000_001
WARM_UP = 20


@dataclass(frozen=True)
class Sizes:
    calls: int


QUICK = Sizes(500)
FULL = Sizes(1_000)
TINY = Sizes(20)


async def cpu_per_call(bot: ExtBot[Any], calls: int) -> float:
    """The bot thread's CPU time per `sendMessage`, in ms (after a warm-up)."""
    for _ in range(WARM_UP):
        await bot.send_message(CHAT, "Bonjour")
    started = time.thread_time()
    for _ in range(calls):
        await bot.send_message(CHAT, "Bonjour")
    return (time.thread_time() - started) / calls * 1000


async def _measure(request: BaseRequest, calls: int, base_url: str | None = None) -> float:
    bot: ExtBot[Any] = ExtBot(
        TOKEN,
        base_url=base_url or "https://api.telegram.org/bot",
        request=request,
        get_updates_request=request,
    )
    await bot.initialize()
    try:
        return await cpu_per_call(bot, calls)
    finally:
        await bot.shutdown()


async def run(report: Report, sizes: Sizes) -> None:
    """Measure and report a call in-process and over HTTP."""
    inside = await _measure(FakeBotAPI(known_chats_only=False), sizes.calls)
    # Started with `with`, the server runs in a thread of its own (`async with` would run it
    # in this event loop, and its work would count as the bot's).
    with FakeTelegram(
        token=TOKEN, api=FakeBotAPI(known_chats_only=False), limits=None
    ) as telegram:
        over_http = await _measure(HTTPXRequest(), sizes.calls, telegram.base_url)
    sniffio = importlib.util.find_spec("sniffio") is not None
    found = "installed" if sniffio else "MISSING: httpcore looks for it on disk at every call"
    report.add(
        Row(
            "1",
            "one Telegram call over HTTP (PTB's HTTPXRequest): CPU",
            over_http,
            "ms",
            detail=f"{over_http / inside:.1f}× the same call to the in-process fake"
            f" ({inside:.2f} ms); {sizes.calls} sendMessage, the bot's thread only;"
            f" sniffio {found}",
            data={"http_ms": over_http, "in_process_ms": inside, "sniffio": sniffio},
        )
    )
