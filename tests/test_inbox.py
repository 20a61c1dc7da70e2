"""Durable receipt: an update is committed before it is confirmed, handled once, replayed
after a crash."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import Settings
from bot.delivery.inbox import DurableQueue, IntakeApplication
from bot.runner import polling, running
from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import FakeBotAPI
from storage import db as database
from storage import inbox as inbox_repo
from storage import tickets
from tests import flows
from tests.conftest import make_settings
from tests.fake_telegram import FakeTelegram


def _message(person: Person, text: str) -> dict[str, Any]:
    """A message update as Telegram sends it (not yet handed to the bot)."""
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        content["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(text.split(maxsplit=1)[0])}
        ]
    return {"message": person._message(**content)}


async def _counts(bot: Emulator) -> dict[str, int]:
    async with bot.services.db.read() as conn:
        result = {}
        for table in ("tickets", "ticket_events", "ticket_messages", "outbox", "drafts"):
            rows = await conn.execute_fetchall(f"SELECT COUNT(*) FROM {table}")
            result[table] = next(iter(rows))[0]
        return result


async def test_an_update_is_committed_before_it_is_handled(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    update = bot.stamp(_message(boss, "/federations"))
    seen: list[tuple[int, bool]] = []
    original = bot.app.process_update

    async def spy(upd: object) -> None:
        async with bot.services.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT handled_at IS NULL FROM inbox WHERE update_id = ?", (update["update_id"],)
            )
        pending = [bool(r[0]) for r in rows]
        seen.append((update["update_id"], pending == [True]))
        await original(upd)

    bot.app.process_update = spy  # type: ignore[method-assign, assignment]
    await bot.receive(update)
    assert seen == [(update["update_id"], True)]  # in the inbox, pending, when handling began
    async with bot.services.db.read() as conn:
        assert await inbox_repo.is_handled(conn, update["update_id"])
    assert "Aucune fédération" in boss.last.text


async def test_every_update_delivered_twice_has_one_effect(bot: Emulator) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    await bot.receive(bot.stamp(_message(marie, "/new")))
    await marie.click("Services juridiques")
    for text in ("Objet livré deux fois", "Une description livrée deux fois par Telegram."):
        update = bot.stamp(_message(marie, text))
        await bot.receive(update)
        await bot.receive(update)  # the same update again
    await marie.click("Urgente")
    await marie.click("Pas de date")
    await marie.click("Continuer sans")
    send = bot.stamp(marie.callback("f:send:1", marie.find_button("Envoyer")[0]))
    await bot.receive(send)
    await bot.receive(send)
    await jean.click("Prendre")
    await jean.click("Poser une question")
    question = bot.stamp(_message(jean, "Une seule question?"))
    await bot.receive(question)
    await bot.receive(question)
    counts = await _counts(bot)
    assert counts["tickets"] == 1 and counts["ticket_messages"] == 1
    async with bot.services.db.read() as conn:
        events = [e.kind for e in await tickets.ticket_events(conn, 1)]
        ticket = await tickets.get_ticket(conn, 1)
    assert events == ["created", "take", "ask"]
    assert ticket is not None and ticket.subject == "Objet livré deux fois"
    assert sum("Une seule question?" in text for text in marie.texts()) == 1
    assert not any("Erreur" in text for text in boss.texts())  # nothing went wrong


async def test_updates_received_but_not_handled_are_handled_after_a_restart(
    settings: Settings, clock: ManualClock
) -> None:
    api = FakeBotAPI()
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        _, marie, jean, _ = await flows.world(bot)
        await flows.fill_form(marie)
        # Telegram's update reaches the inbox, then the process dies before handling it.
        send = bot.stamp(marie.callback("f:send:1", marie.find_button("Envoyer")[0]))
        async with bot.services.db.transaction() as conn:
            await inbox_repo.record(conn, send["update_id"], marie.id, send, clock.now())
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        await bot.deliver()
        async with bot.services.db.read() as conn:
            assert await tickets.count_contact_tickets(conn, marie.id) == 1
            assert await inbox_repo.is_handled(conn, send["update_id"])
        assert any("CREC-2026-0001" in m.text for m in api.chats[jean.id])


async def test_a_form_answer_replayed_after_a_crash_is_not_taken_twice(
    settings: Settings, clock: ManualClock
) -> None:
    api = FakeBotAPI()
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        _, marie, _, _ = await flows.world(bot)
        await marie.send("/new")
        await marie.click("Services juridiques")
        subject = bot.stamp(_message(marie, "Objet saisi juste avant la panne"))
        await bot.receive(subject)
        # The process died after the draft was saved, before the update was marked handled.
        async with bot.services.db.transaction() as conn:
            await conn.execute(
                "UPDATE inbox SET handled_at = NULL WHERE update_id = ?", (subject["update_id"],)
            )
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        async with bot.services.db.read() as conn:
            rows = await conn.execute_fetchall("SELECT step, subject, description FROM drafts")
        assert [tuple(r) for r in rows] == [
            ("description", "Objet saisi juste avant la panne", None)
        ]


async def test_old_handled_updates_are_forgotten(bot: Emulator, clock: ManualClock) -> None:
    boss = await flows.admin(bot)
    await bot.receive(bot.stamp(_message(boss, "/help")))
    app = bot.app
    assert isinstance(app, IntakeApplication) and app.inbox is not None
    clock.advance(days=8)
    assert await app.inbox.tidy() == 1
    async with bot.services.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT payload FROM inbox")
    assert [json.loads(r[0]) for r in rows] == []


def test_json_kept_for_updates_never_put_is_bounded() -> None:
    from bot.delivery.inbox import DurableQueue  # noqa: PLC0415

    queue = DurableQueue()
    queue.keep_json([{"update_id": n} for n in range(1, 1_501)])
    queue.keep_json(["not an update", {"update_id": "7"}, {"message": {}}, None])
    kept = queue._json
    assert len(kept) == DurableQueue.KEEP_AT_MOST
    assert min(kept) == 501 and max(kept) == 1_500  # the oldest went first


# -- one fsync for a batch ---------------------------------------------------------------------


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
    """The fsyncs of the write-ahead log, as each ends: the newest update on disk by then (the
    newest committed when it began, read as another process would)."""
    done: list[int] = []
    real = database._datasync

    def counted(fd: int) -> None:
        with sqlite3.connect(tmp_path / "intake.db") as other:
            (newest,) = other.execute("SELECT COALESCE(MAX(update_id), 0) FROM inbox").fetchone()
        real(fd)
        done.append(newest)

    monkeypatch.setattr(database, "_datasync", counted)
    return done


async def test_a_getupdates_batch_of_500_shares_its_fsyncs(
    bot: Emulator, fsyncs: list[int]
) -> None:
    """A stranger's 499 `/start <garbage>` ahead of Marie's `/help`, in one batch, as PTB's
    Updater hands a getUpdates answer over: each update put, then the next getUpdates waits
    for them to be on disk. A few fsyncs for the 500, not one each: one for the batch, and two
    more at each checkpoint (every 200 commits), which lets the fsync under way start early."""
    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    stranger = bot.person(6666, "Inconnu")
    batch = [bot.stamp(_message(stranger, f"/start {n:032d}")) for n in range(499)]
    batch.append(bot.stamp(_message(marie, "/help")))
    queue = bot.app.update_queue
    assert isinstance(queue, DurableQueue)
    handled_after: list[int] = []  # fsyncs done when each update began to be handled
    original = bot.app.process_update

    async def spy(update: object) -> None:
        handled_after.append(len(fsyncs))
        await original(update)

    bot.app.process_update = spy  # type: ignore[method-assign]
    queue.keep_json(batch)  # KeepingJSONRequest, as the answer is read
    for payload in batch:
        await queue.put(Update.de_json(payload, bot.app.bot))
    await queue.durable()  # what the next getUpdates waits for, before its offset goes out
    # 3 to 5 on an idle machine; a loaded one (CI beside other work) splits a few more.
    assert 1 <= len(fsyncs) <= 10, f"{len(fsyncs)} fsyncs for 500 updates"
    assert fsyncs[-1] == batch[-1]["update_id"]  # all 500 on disk
    await queue.join()
    await bot.deliver()
    assert len(handled_after) == 500 and min(handled_after) >= 1  # none handled before its fsync
    assert "/new" in marie.last.text
    assert isinstance(bot.app, IntakeApplication) and bot.app.inbox is not None
    assert await bot.app.inbox.pending() == []


async def test_polling_confirms_updates_once_on_disk_with_an_fsync_a_batch(
    tmp_path: Path, fsyncs: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """500 updates waiting at Telegram (five getUpdates batches of 100; a stranger's edits,
    which the bot takes without a word): each getUpdates offset, which lets Telegram forget
    what came before it, goes out only once those are on disk; an fsync or two a batch."""
    offsets: list[tuple[int, int]] = []  # each getUpdates offset, the newest update on disk then
    send = HTTPXRequest.do_request

    async def watched(self: HTTPXRequest, url: str, method: str, *args: Any, **kw: Any) -> Any:
        data = args[0] if args else kw.get("request_data")
        if url.endswith("/getUpdates") and data is not None:
            offset = int(data.parameters.get("offset") or 0)
            offsets.append((offset, fsyncs[-1] if fsyncs else 0))
        return await send(self, url, method, *args, **kw)

    monkeypatch.setattr(HTTPXRequest, "do_request", watched)
    async with FakeTelegram(limits=None) as telegram:
        stranger = telegram.person(6666, "Inconnu")
        for n in range(500):
            edited = {**stranger._message(text=f"Bonjour ({n})"), "edit_date": 1_800_000_000}
            telegram.push_update({"edited_message": edited})
        settings = make_settings(tmp_path, telegram_api_base_url=telegram.base_url)
        app = build_application(settings)
        async with running(app, *polling(app)):
            await telegram.until(lambda: telegram.confirmed(500), timeout=60, what="confirmed")
    assert len(fsyncs) <= 10, f"{len(fsyncs)} fsyncs for 500 updates in 5 batches"
    confirming = [(offset, on_disk) for offset, on_disk in offsets if offset > 0]
    assert confirming and max(offset for offset, _ in confirming) == 501
    assert all(on_disk >= offset - 1 for offset, on_disk in confirming), confirming
    with sqlite3.connect(settings.database_path) as conn:
        rows = conn.execute("SELECT COUNT(*), COUNT(handled_at) FROM inbox").fetchone()
    assert rows == (500, 500)
