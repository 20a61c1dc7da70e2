"""Admin: users — the paged, filtered list; revoking (the person can do nothing more, their
requests stay visible); restoring; changing a role; promoting an admin."""

from __future__ import annotations

from bot.tools.emulator import Emulator
from bot.ui.commands import menu
from storage.db import utc_text
from storage.models import Role
from tests import admin_helpers as h
from tests import flows
from tests.conftest import START


async def _many_contacts(bot: Emulator, n: int) -> None:
    fed = await h.federation_id(bot, "CQCH")
    async with bot.services.db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO users (id, role, federation_id, full_name, language, created_at)"
            " VALUES (?, 'contact', ?, ?, 'fr', ?)",
            [(5000 + i, fed, f"Zoé Contact {i:02d}", utc_text(START)) for i in range(n)],
        )


async def test_users_are_paged_and_filtered(bot: Emulator) -> None:
    boss, *_ = await flows.world(bot)
    await flows.federation(boss, "FCDQ")
    await flows.contact(bot, boss, 2002, "Paul", code="FCDQ")
    await _many_contacts(bot, 30)
    first = (await boss.send("/users"))[-1]
    assert "Personnes inscrites — toutes : 35 (page 1 sur 3)" in first.text
    assert "Claire Gagnon · 1001 · admin" in first.text
    assert "Jean (@jean) · 3001 · responsable · Services juridiques" in first.text
    assert (
        "Luc (@luc) · 3002 · responsable · Services juridiques, Gestion des ressources humaines"
        in (first.text)
    )
    assert "Marie Tremblay · 2001 · contact · CQCH" in first.text
    assert [label for label, _ in first.buttons] == ["Suivantes ▶️"]
    await boss.click("Suivantes", first)
    assert "page 2 sur 3" in first.text and "Zoé Contact 1" in first.text
    assert [label for label, _ in first.buttons] == ["◀️ Précédentes", "Suivantes ▶️"]
    assert "page 3 sur 3" in (await boss.send("/users 3"))[-1].text
    assert "page 3 sur 3" in (await boss.send("/users 9"))[-1].text  # past the end: the last
    leads = (await boss.send("/users lead"))[-1].text
    assert "Personnes inscrites — responsables : 2 (page 1 sur 1)" in leads
    assert "Marie" not in leads
    fcdq = (await boss.send("/users fcdq"))[-1].text
    assert "FCDQ : 1" in fcdq and "Paul Tremblay" in fcdq and "Marie" not in fcdq
    assert "Aucune personne (accès retirés)" in (await boss.send("/users revoked"))[-1].text
    assert "admin : 1" in (await boss.send("/users administrateur"))[-1].text
    assert "ne connais pas le filtre « NOPE »" in (await boss.send("/users NOPE"))[-1].text
    assert "Syntaxe" in (await boss.send("/users contact lead"))[-1].text
    for data in ("adm:users:all:0", "adm:users:ZZZ:1", "adm:users:all", "adm:users:all:x"):
        await boss.press(data, first)
        assert boss.last_answer and "n'est plus valide" in (boss.last_answer.text or ""), data


async def test_users_are_listed_in_alphabetical_order_accents_and_case_aside(
    bot: Emulator,
) -> None:
    boss, *_ = await flows.world(bot)
    fed = await h.federation_id(bot, "CQCH")
    names = ["Zoé Ouellet", "Émilie Roy", "andré Lavoie", "Bernard Côté", "Eric Émond"]
    async with bot.services.db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO users (id, role, federation_id, full_name, language, created_at)"
            " VALUES (?, 'contact', ?, ?, 'fr', ?)",
            [(6000 + i, fed, name, utc_text(START)) for i, name in enumerate(names)],
        )
    text = (await boss.send("/users contact"))[-1].text
    shown = ["andré Lavoie", "Bernard Côté", "Émilie Roy", "Eric Émond", "Marie Tremblay"]
    shown.append("Zoé Ouellet")
    assert sorted(shown, key=text.index) == shown, text


async def test_a_revoked_user_can_do_nothing_and_their_requests_stay_visible(
    bot: Emulator,
) -> None:
    boss, marie, jean, luc = await flows.world(bot)
    reference = await flows.file_request(marie)
    replies = await boss.send("/revoke 2001")
    assert "Accès retiré à Marie Tremblay" in replies[-1].text
    assert f"restent visibles aux responsables et aux admins : {reference}" in replies[-1].text
    assert "/reinstate 2001" in replies[-1].text
    assert await h.rows(bot, "SELECT active FROM users WHERE id = 2001") == [(0,)]
    for command in ("/new", "/mytickets", "/help", f"/ticket {reference}"):
        assert "accès a été retiré" in (await marie.send(command))[-1].text, command
    await marie.press("m:new")
    assert marie.last_answer and "retiré" in (marie.last_answer.text or "")
    # Her menu is a stranger's again.
    assert bot.api.commands[f"chat:{marie.id}:"] == menu(None, "fr")
    # Her request is still there for the leads and the admins.
    assert reference in (await jean.send(f"/ticket {reference}"))[-1].text
    assert reference in (await boss.send(f"/ticket {reference}"))[-1].text
    await luc.click("Prendre")
    assert await h.rows(bot, "SELECT status, assignee_id FROM tickets") == [("assigned", luc.id)]
    assert "Marie Tremblay" in (await boss.send("/users revoked"))[-1].text
    assert "déjà retiré" in (await boss.send("/revoke 2001"))[-1].text
    # Restored: the same role, the same menu, her requests.
    assert "Accès rétabli pour Marie Tremblay" in (await boss.send("/reinstate 2001"))[-1].text
    assert reference in (await marie.send("/mytickets"))[-1].text
    assert bot.api.commands[f"chat:{marie.id}:"] == menu(Role.CONTACT, "fr")
    assert "a déjà accès" in (await boss.send("/reinstate 2001"))[-1].text


async def test_revoking_a_lead_lists_the_requests_to_reassign(bot: Emulator) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    text = (await boss.send("/revoke @jean"))[-1].text
    assert "Accès retiré à Jean (@jean)" in text and f"à réassigner : {reference}" in text
    assert "accès a été retiré" in (await jean.send("/queue"))[-1].text
    # A new legal request now goes to Luc only.
    second = await flows.file_request(marie, subject="Deuxième demande juridique")
    assert not any(second in text for text in jean.texts())


async def test_revoke_bad_arguments(bot: Emulator) -> None:
    boss, _, jean, _ = await flows.world(bot)
    await boss.send("/promote jean")
    for command, expected in (
        ("/revoke", "Syntaxe"),
        ("/revoke jean luc", "Syntaxe"),
        ("/revoke 424242", "Aucune personne « 424242 »"),
        ("/revoke @personne", "Aucune personne"),
        ("/revoke n'importe-quoi!", "Aucune personne"),
        ("/revoke 1001", "propre accès"),
        ("/reinstate", "Syntaxe"),
        ("/reinstate 424242", "Aucune personne"),
    ):
        assert expected in (await boss.send(command))[-1].text, command
    # Jean, now an admin, cannot revoke the admin of ADMIN_IDS.
    assert "ADMIN_IDS" in (await jean.send("/revoke 1001"))[-1].text
    assert "ADMIN_IDS" in (await jean.send("/role 1001 contact CQCH"))[-1].text
    assert await h.rows(bot, "SELECT role, active FROM users WHERE id = 1001") == [("admin", 1)]


async def test_changing_roles(bot: Emulator) -> None:
    boss, marie, jean, luc = await flows.world(bot)
    replies = await boss.send("/role 2001 lead legal hr")
    assert "Marie Tremblay est maintenant responsable (Services juridiques, Gestion" in (
        replies[-1].text
    )
    assert await h.rows(bot, "SELECT role, federation_id FROM users WHERE id = 2001") == [
        ("lead", None)
    ]
    assert len(await h.rows(bot, "SELECT * FROM field_leads WHERE user_id = 2001")) == 2
    assert "Votre rôle dans le bot est maintenant : responsable" in marie.last.text
    assert "queue" in [c for c, _ in bot.api.commands[f"chat:{marie.id}:"]]
    reference = await flows.file_request(await flows.contact(bot, boss, 2002, "Paul"))
    assert reference in marie.last.text  # she is told of new legal requests now

    replies = await boss.send("/role @jean contact cqch")
    assert "Jean (@jean) est maintenant contact (CQCH)" in replies[-1].text
    assert await h.rows(bot, "SELECT * FROM field_leads WHERE user_id = 3001") == []
    assert "Dans quel domaine" in (await jean.send("/new"))[-1].text

    replies = await boss.send("/promote luc")
    assert "Luc (@luc) est maintenant admin" in replies[-1].text
    assert "Fédérations" in (await luc.send("/federations"))[-1].text
    assert "invitelead" in [c for c, _ in bot.api.commands[f"chat:{luc.id}:"]]


async def test_role_bad_arguments(bot: Emulator) -> None:
    boss, _, _, _ = await flows.world(bot)
    before = await h.database_dump(bot)
    for command, expected in (
        ("/role", "Syntaxe"),
        ("/role 2001", "Syntaxe"),
        ("/role 2001 chef", "Syntaxe"),
        ("/role 2001 contact", "indiquez sa fédération"),
        ("/role 2001 contact NOPE", "Aucune fédération active avec le code NOPE"),
        ("/role 2001 lead", "indiquez ses domaines"),
        ("/role 2001 lead legal nope", "inconnu : nope"),
        ("/role 2001 admin maintenant", "Syntaxe"),
        ("/role 1001 lead legal", "propre rôle"),
        ("/role @personne admin", "Aucune personne"),
        ("/promote", "Syntaxe"),
        ("/promote 424242", "Aucune personne"),
    ):
        assert expected in (await boss.send(command))[-1].text, command
    assert await h.database_dump(bot) == before


async def test_user_commands_are_for_admins_only(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    before = await h.database_dump(bot)
    for person in (marie, jean):
        for command in (
            "/users",
            "/users lead 2",
            "/revoke 2001",
            "/reinstate 2001",
            "/role 2001 admin",
            "/promote 3001",
        ):
            assert "pas accès" in (await person.send(command))[-1].text, command
        await person.press("adm:users:all:2")
        assert person.last_answer and "pas accès" in (person.last_answer.text or "")
    assert await h.database_dump(bot) == before
