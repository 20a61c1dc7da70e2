"""Registration: invites, roles, refusals."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.tools.emulator import Emulator
from storage import people
from storage.models import Role
from tests import flows


async def test_stranger_is_told_how_to_get_in_and_nothing_else_works(bot: Emulator) -> None:
    stranger = bot.person(9999, "Inconnu")
    replies = await stranger.send("/start")
    assert "lien d'invitation" in replies[-1].text
    for command in (
        "/new",
        "/mytickets",
        "/federations",
        "/invite CQCH",
        "/ticket CREC-2026-0001",
        "/help",
        "/language",
        "/cancel",
        "/nonsense",
        "bonjour",
    ):
        replies = await stranger.send(command)
        assert len(replies) == 1 and "pas encore accès" in replies[0].text, command
    async with bot.services.db.read() as conn:
        assert await people.get_user(conn, 9999) is None


async def test_admin_ids_are_admins_from_the_start(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    assert "admin du bot" in boss.chat[-1].text
    replies = await boss.send("/federations")
    assert "Aucune fédération" in replies[-1].text


async def test_contact_registers_with_invite_and_is_greeted(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    replies = await boss.send("/invite cqch")
    assert "https://t.me/crec_intake_bot?start=" in replies[-1].text
    token = flows.token_in(replies[-1].text)
    assert len(token) >= 22  # at least 128 random bits, URL-safe
    marie = bot.person(2001, "Marie", language_code="fr-CA")
    replies = await marie.send(f"/start {token}")
    assert "Bienvenue, Marie" in replies[-1].text and "CQCH" in replies[-1].text
    assert replies[-1].button("Nouvelle demande")
    async with bot.services.db.read() as conn:
        user = await people.get_user(conn, 2001)
        assert user is not None and user.role is Role.CONTACT and user.language == "fr"
        # The token itself is stored nowhere; only its hash.
        rows = await conn.execute_fetchall("SELECT token_hash FROM invites")
        assert token not in str(list(map(tuple, rows)))
    assert "Marie" in boss.last.text and "CQCH" in boss.last.text  # the admin is told


async def test_english_telegram_user_gets_english(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    john = await flows.contact(bot, boss, 2002, "John", language_code="en-US")
    assert "Welcome, John" in john.chat[-1].text
    replies = await john.send("/help")
    assert "/new" in replies[-1].text and "What you can do" in replies[-1].text


async def test_lead_registers_for_fields(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    jean = await flows.lead(bot, boss, 3001, "Jean", "legal", "hr")
    assert "Services juridiques" in jean.chat[-1].text
    assert "ressources humaines" in jean.chat[-1].text
    async with bot.services.db.read() as conn:
        assert await people.field_ids_of_lead(conn, 3001) == {1, 2}


async def test_invite_is_single_use(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    token = flows.token_in((await boss.send("/invite CQCH"))[-1].text)
    await bot.person(2001, "Marie").send(f"/start {token}")
    replies = await bot.person(2002, "Paul").send(f"/start {token}")
    assert "déjà servi" in replies[-1].text
    async with bot.services.db.read() as conn:
        assert await people.get_user(conn, 2002) is None


async def test_expired_invite_is_refused(bot: Emulator, clock: ManualClock) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    token = flows.token_in((await boss.send("/invite CQCH"))[-1].text)
    clock.advance(days=7, seconds=1)
    replies = await bot.person(2001, "Marie").send(f"/start {token}")
    assert "expiré" in replies[-1].text


async def test_forged_token_is_refused(bot: Emulator) -> None:
    stranger = bot.person(9999, "Intrus", language_code="en")
    for token in ("A" * 32, "short", "x" * 64, "../../etc", "é" * 30):
        replies = await stranger.send(f"/start {token}")
        assert "not valid" in replies[-1].text
    async with bot.services.db.read() as conn:
        assert await people.get_user(conn, 9999) is None


async def test_registered_person_keeps_role_when_opening_another_invite(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    token = flows.token_in((await boss.send("/invitelead legal"))[-1].text)
    replies = await marie.send(f"/start {token}")
    assert "déjà accès" in replies[0].text
    async with bot.services.db.read() as conn:
        user = await people.get_user(conn, marie.id)
        assert user is not None and user.role is Role.CONTACT
        rows = await conn.execute_fetchall("SELECT uses FROM invites WHERE role = 'lead'")
        assert [tuple(r) for r in rows] == [(0,)]  # the link was not spent


async def test_admin_commands_check_their_arguments(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    for command, expected in [
        ("/addfederation", "Syntaxe"),
        ("/addfederation CQCH", "Syntaxe"),
        ("/addfederation C Nom", "Syntaxe"),
        ("/addfederation CQCH " + "x" * 200, "Syntaxe"),
        ("/invite", "Syntaxe"),
        ("/invite NOPE", "Aucune fédération"),
        ("/invitelead", "Syntaxe"),
        ("/invitelead legal nope", "inconnu : nope"),
    ]:
        replies = await boss.send(command)
        assert expected in replies[-1].text, command
    await flows.federation(boss)
    replies = await boss.send("/addfederation CQCH Autre nom")
    assert "déjà pris" in replies[-1].text
    replies = await boss.send("/federations")
    assert "CQCH" in replies[-1].text
    replies = await boss.send("/domains")
    assert "legal" in replies[-1].text and "Autre" in replies[-1].text


async def test_invite_validity_is_seven_days(bot: Emulator, clock: ManualClock) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    token = flows.token_in((await boss.send("/invite CQCH"))[-1].text)
    clock.advance(days=6, hours=23)
    replies = await bot.person(2001, "Marie").send(f"/start {token}")
    assert "Bienvenue" in replies[-1].text
    async with bot.services.db.read() as conn:
        rows = list(await conn.execute_fetchall("SELECT created_at, expires_at FROM invites"))
    from datetime import datetime  # noqa: PLC0415

    created, expires = (datetime.fromisoformat(v) for v in rows[0])
    assert expires - created == timedelta(days=7)
