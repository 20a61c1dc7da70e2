"""Webhook mode: the secret is checked, an update is committed before 200, /healthz reports."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Update

from bot.clock import ManualClock
from bot.tools.emulator import Emulator
from bot.webhook import SECRET_HEADER, WebhookServer
from storage import inbox, outbox
from tests import flows

SECRET = "s3cret-webhook-token-for-tests"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def web(bot: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    port = _free_port()
    server = WebhookServer(
        bot.app,
        url="https://bot.example.org/telegram",
        secret=SECRET,
        listen="127.0.0.1",
        port=port,
    )
    server.start()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        yield client
    await server.stop()


def _update(bot: Emulator, text: str = "/help") -> dict[str, object]:
    boss = bot.person(1001, "Claire")
    message = boss._message(
        text=text, entities=[{"type": "bot_command", "offset": 0, "length": len(text)}]
    )
    return bot.stamp({"message": message})


async def test_wrong_or_missing_secret_is_refused_and_logged(
    bot: Emulator, web: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    update = _update(bot)
    for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}):
        response = await web.post("/telegram", json=update, headers=headers)
        assert response.status_code == 403
    assert sum("webhook.refused" in r.getMessage() for r in caplog.records) == 3
    async with bot.services.db.read() as conn:
        waiting, _ = await inbox.counts(conn)
        assert not await inbox.is_handled(conn, int(update["update_id"]))  # type: ignore[call-overload]
    assert waiting == 0


async def test_good_secret_commits_the_update_before_answering(
    bot: Emulator, web: httpx.AsyncClient
) -> None:
    update = _update(bot, "/start")
    response = await web.post("/telegram", json=update, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 200
    async with bot.services.db.read() as conn:
        rows = list(
            await conn.execute_fetchall(
                "SELECT update_id FROM inbox WHERE update_id = ?", (update["update_id"],)
            )
        )
    assert len(rows) == 1  # in SQLite by the time Telegram got its 200
    await bot.app.update_queue.join()
    assert "admin du bot" in bot.api.chats[1001][-1].text
    # Not JSON, or not an update: refused without harm.
    for body in (b"{nope", b"[1, 2]", b'"update"', b'{"message": {}}'):
        bad = await web.post("/telegram", content=body, headers={SECRET_HEADER: SECRET})
        assert bad.status_code == 400, body


async def test_the_inbox_keeps_the_update_as_telegram_sent_it(
    bot: Emulator, web: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def rebuilt(*_: object, **__: object) -> None:
        raise AssertionError("the update was rebuilt from PTB's objects")

    monkeypatch.setattr(Update, "to_dict", rebuilt)  # slow, and not what Telegram sent
    update = {**_update(bot, "/start"), "a_field_from_a_newer_bot_api": {"n": 1}}
    response = await web.post("/telegram", json=update, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 200
    await bot.app.update_queue.join()
    async with bot.services.db.read() as conn:
        rows = list(
            await conn.execute_fetchall(
                "SELECT payload FROM inbox WHERE update_id = ?", (update["update_id"],)
            )
        )
    assert [json.loads(r[0]) for r in rows] == [update]


async def test_healthz_reports_database_and_a_stuck_outbox(
    bot: Emulator, web: httpx.AsyncClient, clock: ManualClock
) -> None:
    await flows.admin(bot)
    response = await web.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["outbox"]["pending"] == 0
    bot.api.fail("sendMessage", status=500, times=100)
    async with bot.services.db.transaction() as conn:
        await outbox.enqueue(
            conn,
            chat_id=1001,
            method="send_message",
            payload={"text": "x"},
            purpose="test",
            now=clock.now(),
        )
    await bot.deliver()
    clock.advance(minutes=6)
    response = await web.get("/healthz")
    body = response.json()
    assert response.status_code == 503 and body["status"] == "degraded"
    assert body["outbox"]["pending"] == 1 and body["outbox"]["oldest_pending_seconds"] >= 360
    assert "outbox" in body["problems"][0]


async def test_an_update_id_that_is_not_an_id_is_refused_and_logged(
    bot: Emulator, web: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    good = _update(bot, "/start")
    not_ids: list[object] = ["abc", "42", 1.5, None, True, -1, 2**63, 10**30, [1], {"id": 1}]
    bodies = [{**good, "update_id": value} for value in not_ids]
    bodies.append({k: v for k, v in good.items() if k != "update_id"})  # no update_id at all
    # A chat id no Telegram chat has (SQLite's integers end at 2**63 - 1).
    message = good["message"]
    assert isinstance(message, dict)
    bodies.append({**good, "message": {**message, "chat": {**message["chat"], "id": 10**30}}})
    for body in bodies:
        response = await web.post("/telegram", json=body, headers={SECRET_HEADER: SECRET})
        assert response.status_code == 400, body
    refused = [r.getMessage() for r in caplog.records if "webhook.refused" in r.getMessage()]
    assert len(refused) == len(bodies)
    assert all("reason=" in line for line in refused)
    async with bot.services.db.read() as conn:
        assert list(await conn.execute_fetchall("SELECT update_id FROM inbox")) == []
    # The server is none the worse: the real update is taken.
    response = await web.post("/telegram", json=good, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 200
    await bot.app.update_queue.join()
    assert "admin du bot" in bot.api.chats[1001][-1].text
