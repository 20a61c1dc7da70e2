"""Nobody where they don't belong; secrets stay secret; errors are answered, reported, survived."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import Settings
from bot.logs import REDACTED, RedactingFormatter
from bot.tools.emulator import Emulator
from bot.tools.fakeapi import FakeBotAPI
from storage import parts, people, tickets
from storage.models import TicketStatus
from tests import flows
from tests.conftest import TOKEN

EVERY_COMMAND = [
    "/new",
    "/mytickets",
    "/ticket CREC-2026-0001",
    "/queue",
    "/log CREC-2026-0001 1h",
    "/federations",
    "/addfederation HACK Pirates",
    "/invite CQCH",
    "/invitelead legal",
    "/domains",
    "/users",
    "/revoke 2001",
    "/stats",
    "/export",
    "/billing 2026-11",
]
EVERY_BUTTON = ["t:take:1", "f:send:1", "f:cancel:1", "f:field:1:1", "m:new", "lang:set:en"]


async def _database_dump(bot: Emulator) -> str:
    async with bot.services.db.read() as conn:
        tables = [
            r[0]
            for r in await conn.execute_fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        ]
        dump = []
        for table in tables:
            dump.append(
                str([tuple(r) for r in await conn.execute_fetchall(f"SELECT * FROM {table}")])
            )
    return "\n".join(dump)


async def test_a_stranger_gets_nothing(bot: Emulator) -> None:
    _, marie, _, _ = await flows.world(bot)
    await flows.file_request(marie)
    before = await _database_dump(bot)
    stranger = bot.person(6666, "Mallory", language_code="en")
    for command in EVERY_COMMAND:
        replies = await stranger.send(command)
        assert [r.text for r in replies] == [replies[0].text] and "not registered" in replies[
            0
        ].text
    for data in EVERY_BUTTON:
        await stranger.press(data)
        assert stranger.last_answer and "not registered" in (stranger.last_answer.text or "")
    assert await _database_dump(bot) == before


async def test_contacts_and_leads_cannot_use_what_is_not_theirs(bot: Emulator) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    paul = await flows.contact(bot, boss, 2002, "Paul")
    await flows.file_request(marie)
    before = await _database_dump(bot)
    admin_only = [
        "/federations",
        "/addfederation HACK Pirates",
        "/invite CQCH",
        "/invitelead legal",
        "/domains",
    ]
    for person in (paul, jean):
        for command in admin_only:
            replies = await person.send(command)
            assert "pas accès" in replies[-1].text, command
    for command in ("/new", "/mytickets"):
        assert "pas accès" in (await jean.send(command))[-1].text
    # Paul forges Marie's buttons: her draft's Send, the Take of her ticket.
    for data in ("f:send:1", "t:take:1", "f:cancel:1"):
        await paul.press(data)
    assert "Aucune demande" in (await paul.send("/ticket CREC-2026-0001"))[-1].text
    assert await _database_dump(bot) == before


async def test_revoked_user_can_do_nothing(bot: Emulator) -> None:
    _, marie, _, _ = await flows.world(bot)
    async with bot.services.db.transaction() as conn:
        await conn.execute("UPDATE users SET active = 0 WHERE id = ?", (marie.id,))
    for command in ("/new", "/mytickets", "/help"):
        assert "retiré" in (await marie.send(command))[-1].text
    await marie.press("m:new")
    assert marie.last_answer and "retiré" in (marie.last_answer.text or "")


async def test_user_text_is_escaped_everywhere(bot: Emulator) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    nasty = "<b>gras</b> & <a href='x'>lien</a> </blockquote>"
    await flows.file_request(marie, subject=nasty[:60], description=nasty * 2)
    # The fake Bot API refuses broken HTML: had anything been unescaped, nothing would arrive.
    assert nasty[:30] in jean.last.text
    assert "<b>gras</b>" in (await marie.send("/ticket CREC-2026-0001"))[-1].text
    await boss.send("/addfederation EVIL <i>Fédé</i> & cie")
    assert "<i>Fédé</i> & cie" in (await boss.send("/federations"))[-1].text


async def test_an_error_is_answered_reported_and_survived(
    bot: Emulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    boss, marie, _, _ = await flows.world(bot)

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError(f"database on fire, token {TOKEN}")

    monkeypatch.setattr(parts, "contact_requests", broken)
    replies = await marie.send("/mytickets")
    assert len(replies) == 1 and "quelque chose n'a pas fonctionné" in replies[0].text
    report = boss.last.text
    assert "RuntimeError" in report and "database on fire" in report and TOKEN not in report
    monkeypatch.undo()
    assert "aucune demande" in (await marie.send("/mytickets"))[-1].text


async def test_the_token_appears_nowhere(
    bot: Emulator, api: FakeBotAPI, caplog: pytest.LogCaptureFixture, settings: Settings
) -> None:
    caplog.set_level(logging.DEBUG)
    _, marie, jean, _ = await flows.world(bot)
    api.fail("sendMessage", chat_id=jean.id, status=500)
    await flows.file_request(marie)
    await jean.send("/nonsense")
    assert TOKEN not in await _database_dump(bot)
    assert all(TOKEN not in str(call.params) for call in api.calls)
    # Not even before redaction: nothing logs the token in the first place.
    assert caplog.records
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
    for path in Path(settings.database_path).parent.glob("intake.db*"):
        assert TOKEN.encode() not in path.read_bytes()


def test_log_lines_are_redacted() -> None:
    formatter = RedactingFormatter("%(message)s", [TOKEN])
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "POST https://api/bot%s/getMe", (TOKEN,), None
    )
    assert formatter.format(record) == f"POST https://api/bot{REDACTED}/getMe"
    try:
        raise ValueError(TOKEN)
    except ValueError:
        import sys  # noqa: PLC0415

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    assert TOKEN not in formatter.format(record)


async def test_group_chats_are_ignored(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    bot.api.known_chats.add(-100)
    message = {
        "message_id": 1,
        "date": 0,
        "text": "/federations",
        "entities": [{"type": "bot_command", "offset": 0, "length": 12}],
        "chat": {"id": -100, "type": "supergroup", "title": "Group"},
        "from": {"id": boss.id, "is_bot": False, "first_name": "Claire"},
    }
    await bot.feed({"message": message})
    assert bot.api.chats[-100] == []


async def test_concurrent_takes_from_many_leads_have_one_winner(bot: Emulator) -> None:
    import asyncio  # noqa: PLC0415

    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    leads = [await flows.lead(bot, boss, 3100 + i, f"Lead{i}", "legal") for i in range(8)]
    await flows.file_request(marie)
    await asyncio.gather(*(lead.click("Prendre") for lead in leads))
    async with bot.services.db.read() as conn:
        ticket = await tickets.get_ticket(conn, 1)
        events = await tickets.ticket_events(conn, 1)
        assert ticket is not None and ticket.status is TicketStatus.ASSIGNED
        assert await people.get_user(conn, ticket.assignee_id or 0) is not None
    assert [e.kind for e in events].count("take") == 1
    winners = [
        lead
        for lead in leads
        if "Vous avez pris" in ((lead.last_answer and lead.last_answer.text) or "")
    ]
    assert len(winners) == 1


TICKET_PRESSES = [
    "take",
    "start",
    "confirm",
    "reopen",
    "cancelok",
    "ask",
    "resolve",
    "time",
    "reply",
    "reassign",
    "to:{id}:3001",
    "hist",
    "hist:{id}:1",
    "card",
    "cancel",
    "rate:{id}:5",
    "nocomment",
]


async def test_forged_presses_say_the_same_of_existing_and_missing_tickets(
    bot: Emulator,
) -> None:
    boss, marie, _, _ = await flows.world(bot)
    reference = await flows.file_request(marie)
    paul = await flows.contact(bot, boss, 2002, "Paul")
    eric = await flows.lead(bot, boss, 3003, "Eric", "web")
    before = await _database_dump(bot)
    for person in (paul, eric):
        for press in TICKET_PRESSES:
            seen = []
            for ticket_id in (1, 999):
                data = f"t:{press.format(id=ticket_id)}"
                if "{id}" not in press:
                    data += f":{ticket_id}"
                replies = await person.press(data)
                said = person.last_answer
                seen.append(([r.text for r in replies], said and (said.text, said.show_alert)))
            assert seen[0] == seen[1], (person.first_name, press, seen)
        # /ticket and /log: the same words for a ticket they may not see and for none at all.
        for command in ("/ticket {ref}", "/log {ref} 1h"):
            if command.startswith("/log") and person is paul:
                continue
            texts = [
                (await person.send(command.format(ref=ref)))[-1].text.replace(ref, "REF")
                for ref in (reference, "CREC-2026-0999")
            ]
            assert texts[0] == texts[1], (person.first_name, command, texts)
    assert await _database_dump(bot) == before
