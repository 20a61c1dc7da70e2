"""The fake Telegram over HTTP (tests/fake_telegram.py) behaves as Telegram does.

Every test talks to it the way the bot does: PTB's `ExtBot` with its normal `HTTPXRequest`
(or httpx directly, for the HTTP details), then the real application polling it in-process,
then `intake-bot run` as a separate process.
"""

from __future__ import annotations

import asyncio
import importlib.abc
import json
import os
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from telegram import Update
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.runner import polling, running
from bot.tools.fakeapi import FakeBotAPI
from tests.conftest import ADMIN_ID, TOKEN, make_settings
from tests.fake_telegram import FakeTelegram, Limits


def _message(chat_id: int, text: str) -> dict[str, Any]:
    chat = {"id": chat_id, "type": "private", "first_name": "Marie"}
    user = {"id": chat_id, "is_bot": False, "first_name": "Marie"}
    return {"message": {"message_id": 1, "date": 0, "chat": chat, "from": user, "text": text}}


def _press(chat_id: int, data: str) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "Marie"}
    return {"callback_query": {"id": "q1", "from": user, "chat_instance": "1", "data": data}}


@asynccontextmanager
async def _client(telegram: FakeTelegram, read_timeout: float = 5.0) -> AsyncIterator[ExtBot[Any]]:
    """A PTB bot as the application builds it: HTTPXRequest, no rate limiter."""
    bot: ExtBot[Any] = ExtBot(
        TOKEN,
        base_url=telegram.base_url,
        base_file_url=telegram.file_base_url,
        request=HTTPXRequest(read_timeout=read_timeout),
        get_updates_request=HTTPXRequest(),
    )
    await bot.initialize()
    try:
        yield bot
    finally:
        await bot.shutdown()


async def _ids(bot: ExtBot[Any], **kwargs: Any) -> list[int]:
    return [u.update_id for u in await bot.get_updates(**kwargs)]


def _open_telegram(**kwargs: Any) -> FakeTelegram:
    kwargs.setdefault("api", FakeBotAPI(known_chats_only=False))
    return FakeTelegram(**kwargs)


class _ImportWatch(importlib.abc.MetaPathFinder):
    """Records every module this thread looks for that is not imported yet."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.looked_for: list[str] = []

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> None:
        if threading.get_ident() == self.thread:
            self.looked_for.append(fullname)
        return None  # the real finders go on


async def test_a_call_to_telegram_looks_for_no_module_once_warm() -> None:
    """httpx's transport imports sniffio for each lock of each call; were it not installed,
    every attempt would search the disk (2.6 instead of 1.7 ms of CPU per call here: `python
    -m bench`, part 1)."""
    async with _open_telegram(limits=None) as telegram, _client(telegram) as bot:
        await bot.send_message(2001, "Bonjour")
        watch = _ImportWatch()
        sys.meta_path.insert(0, watch)
        try:
            for _ in range(3):
                await bot.send_message(2001, "Bonjour")
        finally:
            sys.meta_path.remove(watch)
    assert watch.looked_for == []


# -- getUpdates ---------------------------------------------------------------------------------


async def test_an_update_comes_back_until_a_later_offset_confirms_it() -> None:
    async with _open_telegram() as telegram, _client(telegram) as bot:
        ids = [telegram.push_update(_message(2001, f"m{n}")) for n in range(3)]
        assert ids == [1, 2, 3]
        assert await _ids(bot, offset=0) == [1, 2, 3]
        assert await _ids(bot, offset=0) == [1, 2, 3]  # fetched is not confirmed
        assert await _ids(bot, offset=2) == [2, 3]
        assert telegram.confirmed(1) and not telegram.confirmed(2)
        assert await _ids(bot, offset=1) == [2, 3]  # a confirmed update never comes back
        assert await _ids(bot, offset=4) == []
        assert telegram.pending_updates() == []
        assert telegram.push_update(_message(2001, "next")) == 4


async def test_limit_negative_offset_and_allowed_updates() -> None:
    async with _open_telegram() as telegram, _client(telegram) as bot:
        for n in range(5):
            telegram.push_update(_message(2001, f"m{n}"))
        assert await _ids(bot, offset=0, limit=2) == [1, 2]
        assert await _ids(bot, offset=-2) == [4, 5]  # the last two; the others are forgotten
        assert telegram.pending_updates() == [4, 5]
        telegram.push_update(_press(2001, "take:1"))
        # Updates of a type not asked for are never delivered.
        updates = await bot.get_updates(offset=0, allowed_updates=["callback_query"])
        assert [u.callback_query.data for u in updates if u.callback_query] == ["take:1"]
        assert telegram.pending_updates() == [6]


async def test_a_long_poll_answers_as_soon_as_an_update_comes() -> None:
    async with _open_telegram() as telegram, _client(telegram) as bot:
        poll = asyncio.create_task(bot.get_updates(offset=0, timeout=20))
        await telegram.until(lambda: telegram.waiting_polls == 1, what="a waiting poll")
        telegram.push_update(_message(2001, "bonjour"))
        updates = await asyncio.wait_for(poll, 10)  # far less than the poll's 20 s
        assert [u.message.text for u in updates if u.message] == ["bonjour"]
        assert await bot.get_updates(offset=2, timeout=1) == ()  # nothing: empty at timeout


async def test_a_newer_poll_ends_an_older_one_with_409() -> None:
    async with _open_telegram() as telegram:
        async with _client(telegram) as first, _client(telegram) as second:
            older = asyncio.create_task(first.get_updates(timeout=20))
            await telegram.until(lambda: telegram.waiting_polls == 1, what="a waiting poll")
            assert await second.get_updates(timeout=0) == ()
            with pytest.raises(Conflict):
                await asyncio.wait_for(older, 10)
        assert telegram.stats().conflicts == 1


async def test_redelivery_mode_delivers_every_update_twice() -> None:
    async with _open_telegram(redeliver=True) as telegram, _client(telegram) as bot:
        telegram.push_update(_message(2001, "un"))
        telegram.push_update(_message(2001, "deux"))
        assert await _ids(bot, offset=0) == [1, 2]
        assert await _ids(bot, offset=3) == [1, 2]  # confirmed, and delivered once more
        assert await _ids(bot, offset=3) == []
        assert telegram.pending_updates() == []


async def test_a_lost_shutdown_confirmation_redelivers_to_the_next_process() -> None:
    async with _open_telegram(lose_shutdown_confirmation=True) as telegram:
        telegram.push_update(_message(2001, "un"))
        telegram.push_update(_message(2001, "deux"))
        async with _client(telegram) as bot:
            assert await _ids(bot, offset=0, timeout=1) == [1, 2]
            assert await _ids(bot, offset=3, timeout=0) == []  # PTB's call when it stops
        assert telegram.pending_updates() == [1, 2]
        async with _client(telegram) as bot:  # the next process starts from offset 0
            assert await _ids(bot, offset=0, timeout=1) == [1, 2]
            assert await _ids(bot, offset=3, timeout=1) == []
        # unconfirm_last() undoes the last confirmation, whatever call made it.
        assert telegram.unconfirm_last() == 2
        assert telegram.pending_updates() == [1, 2]


async def test_delete_webhook_can_drop_pending_updates() -> None:
    async with _open_telegram() as telegram, _client(telegram) as bot:
        telegram.push_update(_message(2001, "vieux"))
        assert await bot.delete_webhook(drop_pending_updates=False)
        assert telegram.pending_updates() == [1]
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert telegram.pending_updates() == []
        assert (await bot.get_webhook_info()).url == ""


# -- flood limits --------------------------------------------------------------------------------


async def test_a_burst_to_one_chat_gets_429_and_its_window_is_enforced() -> None:
    async with _open_telegram() as telegram, _client(telegram) as bot:  # Telegram's real limits
        for n in range(3):  # the burst a chat is allowed
            await bot.send_message(42, f"n°{n}")
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(42, "un de trop")
        assert refused.value.retry_after.total_seconds() >= 1  # type: ignore[union-attr]
        with pytest.raises(RetryAfter):
            await bot.send_message(42, "sans attendre")  # inside the window: a violation
        await bot.send_message(43, "une autre personne")  # the window is for chat 42 only
        await asyncio.sleep(1.05)
        await bot.send_message(42, "après la fenêtre")
    stats = telegram.stats()
    assert (stats.sends, stats.delivered, stats.rate_limited, stats.violations) == (7, 5, 2, 1)
    assert [r.outcome for r in telegram.sends if r.chat_id == 42][3:] == ["flood", "window", "ok"]
    assert [m.text for m in telegram.sent_to(42)] == ["n°0", "n°1", "n°2", "après la fenêtre"]


async def test_the_overall_limit_opens_a_window_for_every_chat() -> None:
    limits = Limits(overall_rate=1.0, overall_burst=3)
    async with _open_telegram(limits=limits) as telegram, _client(telegram) as bot:
        for chat in (1, 2, 3):
            await bot.send_message(chat, "ok")
        with pytest.raises(RetryAfter):
            await bot.send_message(4, "over the overall limit")
        with pytest.raises(RetryAfter):
            await bot.send_message(5, "inside the window")
        await bot.answer_callback_query("q1")  # not a send: not limited
    outcomes = [(r.chat_id, r.outcome, r.in_window) for r in telegram.sends]
    assert outcomes[3:] == [(4, "flood", False), (5, "window", True)]


async def test_limits_can_be_off_or_faster() -> None:
    assert Limits().faster(10).chat_rate == 10.0 and Limits().faster(10).chat_burst == 3
    async with _open_telegram(limits=None) as telegram, _client(telegram) as bot:
        for n in range(10):
            await bot.send_message(42, f"n°{n}")
    assert telegram.stats().delivered == 10


# -- failures on demand --------------------------------------------------------------------------


async def test_statuses_on_demand() -> None:
    async with _open_telegram() as telegram, _client(telegram) as bot:
        telegram.fail("sendMessage", chat_id=7, status=502)
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(7, "perdu?")
        telegram.fail("sendMessage", chat_id=7, status=429, retry_after=3)
        with pytest.raises(RetryAfter):
            await bot.send_message(7, "trop tôt")
        with pytest.raises(RetryAfter):
            await bot.send_message(7, "encore trop tôt")  # the window it announced is enforced
        await bot.send_message(8, "quelqu'un d'autre")
        telegram.block(9)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(9, "bloqué")
        telegram.unblock(9)
        await bot.send_message(9, "débloqué")
        telegram.api.fail("sendMessage", status=400, description="Bad Request: chat not found")
        with pytest.raises(BadRequest, match="not found"):  # FakeBotAPI's own failures
            await bot.send_message(10, "personne")
    assert [r.outcome for r in telegram.sends] == [
        "fault",
        "fault",
        "window",
        "ok",
        "blocked",
        "ok",
        "error",
    ]
    assert telegram.stats().violations == 1 and telegram.texts_to(7) == []


async def test_network_failures_on_demand() -> None:
    async with _open_telegram() as telegram, _client(telegram, read_timeout=0.5) as bot:
        telegram.fail("sendMessage", delay=0.3)
        started = time.monotonic()
        await bot.send_message(1, "lent")
        assert time.monotonic() - started >= 0.3
        telegram.fail("sendMessage", chat_id=2, drop=True)
        with pytest.raises(NetworkError):
            await bot.send_message(2, "coupé avant")
        telegram.fail("sendMessage", chat_id=3, drop=True, delivered=True)
        with pytest.raises(NetworkError):
            await bot.send_message(3, "coupé après")  # sent, but the answer is lost
        telegram.fail("sendMessage", chat_id=4, hang=2.0)
        with pytest.raises(TimedOut):
            await bot.send_message(4, "pas de réponse")
        await bot.send_message(5, "et ensuite tout va bien")
    assert telegram.texts_to(1) == ["lent"]
    assert telegram.texts_to(2) == [] and telegram.texts_to(3) == ["coupé après"]
    assert telegram.texts_to(4) == [] and telegram.texts_to(5) == ["et ensuite tout va bien"]
    outcomes = [r.outcome for r in telegram.sends]
    assert outcomes == ["ok", "dropped", "unanswered", "dropped", "ok"]


async def test_fail_needs_something_to_do() -> None:
    telegram = FakeTelegram()
    with pytest.raises(ValueError):
        telegram.fail("sendMessage")
    with pytest.raises(ValueError):
        telegram.fail("sendMessage", status=429)


# -- HTTP details -----------------------------------------------------------------------------


async def test_uploads_get_a_file_id_and_can_be_downloaded() -> None:
    async with _open_telegram() as telegram, _client(telegram) as bot:
        sent = await bot.send_document(42, b"col1;col2\n", filename="export.csv", caption="Export")
        assert sent.document is not None
        [message] = telegram.sent_to(42)
        assert (message.kind, message.file_id) == ("document", sent.document.file_id)
        assert (message.file_name, message.content) == ("export.csv", b"col1;col2\n")
        file = await bot.get_file(sent.document.file_id)
        assert bytes(await file.download_as_bytearray()) == b"col1;col2\n"


async def test_json_and_form_bodies_strings_stay_strings_and_the_token_is_checked() -> None:
    async with _open_telegram() as telegram, httpx.AsyncClient(trust_env=False) as http:
        url = f"{telegram.base_url}{TOKEN}/sendMessage"
        answer = await http.post(url, json={"chat_id": 42, "text": "par JSON"})
        assert answer.json()["result"]["text"] == "par JSON"
        answer = await http.post(url, data={"chat_id": "42", "text": "42"})
        assert answer.json()["result"]["text"] == "42"  # a form value, not the number 42
        markup = json.dumps({"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]})
        answer = await http.post(url, data={"chat_id": "42", "text": "x", "reply_markup": markup})
        assert telegram.sent_to(42)[-1].buttons == [("Go", "go")]
        answer = await http.post(f"{telegram.base_url}123:wrong/getMe")
        assert answer.status_code == 401
    async with _open_telegram() as telegram:
        bot: ExtBot[Any] = ExtBot("123:wrong", base_url=telegram.base_url, request=HTTPXRequest())
        with pytest.raises(InvalidToken):
            await bot.initialize()


def test_the_thread_mode_serves_blocking_code_and_stops() -> None:
    with _open_telegram() as telegram:
        answer = httpx.post(f"{telegram.base_url}{TOKEN}/getMe", trust_env=False)
        assert answer.json()["result"]["is_bot"] is True
        telegram.push_update(_message(2001, "bonjour"))
        telegram.wait_until(lambda: telegram.pending_updates() == [1], what="the update")
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{telegram.base_url}{TOKEN}/getMe", trust_env=False)


# -- the bot against it ------------------------------------------------------------------------


async def test_the_application_polls_it_and_answers_a_person(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def rebuilt(*_: object, **__: object) -> None:
        raise AssertionError("the update was rebuilt from PTB's objects")

    # The inbox keeps the JSON that getUpdates returned (bot.delivery.inbox.KeepingJSONRequest).
    monkeypatch.setattr(Update, "to_dict", rebuilt)
    async with FakeTelegram() as telegram:
        settings = make_settings(tmp_path, telegram_api_base_url=telegram.base_url)
        app = build_application(settings)
        async with running(app, *polling(app)):  # as `intake-bot run`, minus the signals
            claire = telegram.person(ADMIN_ID, "Claire")
            replies = await claire.send("/start")  # returns once the bot has gone quiet
            await telegram.until(lambda: telegram.sent_to(ADMIN_ID), what="an answer")
            assert replies == telegram.sent_to(ADMIN_ID)
        assert telegram.pending_updates() == []  # PTB confirmed the update when it stopped
        assert telegram.stats().rate_limited == 0
    with sqlite3.connect(settings.database_path) as conn:
        stored = [json.loads(r[0]) for r in conn.execute("SELECT payload FROM inbox")]
    assert [u["message"]["text"] for u in stored] == ["/start"]
    assert stored[0]["message"]["from"]["id"] == ADMIN_ID


async def test_intake_bot_run_as_a_process_answers_and_stops_cleanly(tmp_path: Path) -> None:
    with FakeTelegram() as telegram:  # a thread: the process is another client of it
        env = {
            **os.environ,
            **telegram.bot_env(),
            "DATABASE_PATH": str(tmp_path / "intake.db"),
            "ADMIN_IDS": str(ADMIN_ID),
        }
        log = tmp_path / "bot.log"
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path, stderr=output
            )
        try:
            claire = telegram.person(ADMIN_ID, "Claire")
            await claire.send("/start")
            await telegram.until(lambda: telegram.sent_to(ADMIN_ID), timeout=30, what="a reply")
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 30) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert telegram.pending_updates() == []  # confirmed on the way out
        assert TOKEN not in log.read_text()
