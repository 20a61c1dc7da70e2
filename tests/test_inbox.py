"""Durable receipt: an update is committed before it is confirmed, handled once, replayed
after a crash."""

from __future__ import annotations

import json
from typing import Any

from bot.clock import ManualClock
from bot.config import Settings
from bot.delivery.inbox import IntakeApplication
from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import FakeBotAPI
from storage import inbox as inbox_repo
from storage import tickets
from tests import flows


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
