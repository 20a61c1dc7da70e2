"""A restart in the middle of the form loses nothing: the draft in SQLite is the conversation."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.config import Settings
from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import FakeBotAPI
from storage import tickets
from tests import flows


def _again(bot: Emulator, person: Person) -> Person:
    return bot.person(person.id, person.first_name, last_name=person.last_name)


async def test_restart_mid_form_resumes_at_the_same_step(
    settings: Settings, clock: ManualClock
) -> None:
    api = FakeBotAPI()
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        boss = await flows.admin(bot)
        await flows.federation(boss)
        await flows.lead(bot, boss, 3001, "Jean", "legal")
        marie = await flows.contact(bot, boss)
        await marie.send("/new")
        await marie.click("Services juridiques")
        await marie.send("Objet avant le redémarrage")
    clock.advance(hours=14)  # the next morning, after a restart
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        marie = _again(bot, marie)
        # Her next message is taken as the answer to the step she was at: the description.
        replies = await marie.send(
            "La description, écrite le lendemain matin, après le redémarrage."
        )
        assert "Urgence" in replies[-1].text
        await marie.click("Normale")
        await marie.click("Pas de date")
        await marie.click("Continuer sans")
        replies = await marie.click("Envoyer")
        assert "CREC-2026-0001" in replies[-1].text
        async with bot.services.db.read() as conn:
            ticket = await tickets.ticket_by_reference(conn, "CREC-2026-0001")
        assert ticket is not None and ticket.subject == "Objet avant le redémarrage"
        jean = bot.person(3001, "Jean")
        assert "CREC-2026-0001" in jean.last.text


async def test_notifications_queued_before_a_stop_are_sent_after_the_restart(
    settings: Settings, clock: ManualClock
) -> None:
    api = FakeBotAPI()
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        _, marie, jean, _ = await flows.world(bot)
        api.fail("sendMessage", chat_id=jean.id, status=503, times=1)
        reference = await flows.file_request(marie)
        assert not any(reference in text for text in jean.texts())
    clock.advance(minutes=1)
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        await bot.deliver()
        assert sum(reference in text for text in bot.person(jean.id, "Jean").texts()) == 1


async def test_migrations_run_once(settings: Settings, clock: ManualClock) -> None:
    for _ in range(2):
        async with Emulator.running(settings, clock=clock) as bot, bot.services.db.read() as conn:
            rows = list(await conn.execute_fetchall("SELECT version FROM schema_migrations"))
            fields = list(await conn.execute_fetchall("SELECT COUNT(*) FROM expertise_fields"))
    assert [r[0] for r in rows] == sorted({r[0] for r in rows}) and len(rows) >= 3
    assert fields[0][0] == 7
