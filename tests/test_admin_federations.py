"""Admin: federations (rename, deactivate, reactivate) and invites (the pending ones, cancel)."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.tools.emulator import Emulator
from tests import admin_helpers as h
from tests import flows


async def test_rename_deactivate_and_reactivate_a_federation(bot: Emulator) -> None:
    boss, marie, _, _ = await flows.world(bot)
    replies = await boss.send(
        "/federation rename cqch Confédération des coopératives d'habitation"
    )
    assert "« Confédération québécoise des coopératives » devient « Confédération des" in (
        replies[-1].text
    )
    assert await h.rows(bot, "SELECT name FROM federations") == [
        ("Confédération des coopératives d'habitation",)
    ]
    pending = flows.token_in((await boss.send("/invite CQCH"))[-1].text)
    replies = await boss.send("/federation off CQCH")
    assert "Fédération CQCH désactivée" in replies[-1].text
    assert "1 invitation en attente annulée" in replies[-1].text
    assert await h.rows(bot, "SELECT active FROM federations") == [(0,)]
    assert "(inactive)" in (await boss.send("/federations"))[-1].text
    assert "Aucune fédération active" in (await boss.send("/invite CQCH"))[-1].text
    newcomer = bot.person(2005, "Nadia")
    assert "annulé" in (await newcomer.send(f"/start {pending}"))[-1].text
    # Its contacts keep following their requests.
    assert "aucune demande" in (await marie.send("/mytickets"))[-1].text
    assert "déjà désactivée" in (await boss.send("/federation off CQCH"))[-1].text
    assert "réactivée" in (await boss.send("/federation on cqch"))[-1].text
    assert "déjà active" in (await boss.send("/federation on CQCH"))[-1].text
    assert "https://t.me/" in (await boss.send("/invite CQCH"))[-1].text


async def test_federation_bad_arguments(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    before = await h.database_dump(bot)
    for command, expected in (
        ("/federation", "Syntaxe"),
        ("/federation explode CQCH", "Syntaxe"),
        ("/federation rename", "Syntaxe"),
        ("/federation rename CQCH", "Syntaxe"),
        ("/federation rename CQCH " + "x" * 121, "Syntaxe"),
        ("/federation off", "Syntaxe"),
        ("/federation off CQCH maintenant", "Syntaxe"),
        ("/federation off C!", "Syntaxe"),
        ("/federation off NOPE", "Aucune fédération avec le code NOPE"),
        ("/federation rename NOPE Nouveau nom", "Aucune fédération avec le code NOPE"),
    ):
        assert expected in (await boss.send(command))[-1].text, command
    assert await h.database_dump(bot) == before


async def test_pending_invites_listed_and_cancelled(bot: Emulator, clock: ManualClock) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    assert "Aucune invitation en attente" in (await boss.send("/invites"))[-1].text
    contact_link = flows.token_in((await boss.send("/invite CQCH"))[-1].text)
    lead_link = flows.token_in((await boss.send("/invitelead legal hr"))[-1].text)
    used = flows.token_in((await boss.send("/invite CQCH"))[-1].text)
    await bot.person(2001, "Marie").send(f"/start {used}")
    listing = (await boss.send("/invites"))[-1]
    assert "Invitations en attente (2)" in listing.text
    assert "n° 2 · responsable : legal, hr · créée par Claire Gagnon · expire le" in listing.text
    assert "n° 1 · contact de CQCH" in listing.text and "n° 3" not in listing.text
    assert [label for label, _ in listing.buttons] == ["✖️ Annuler n° 2", "✖️ Annuler n° 1"]
    await boss.click("Annuler n° 2", listing)
    assert "Invitation n° 2 annulée" in boss.last.text
    assert "annulé" in (await bot.person(3001, "Jean").send(f"/start {lead_link}"))[-1].text
    assert "déjà annulée" in (await boss.send("/cancelinvite 2"))[-1].text
    assert "a déjà servi" in (await boss.send("/cancelinvite #3"))[-1].text
    assert "Aucune invitation n° 99" in (await boss.send("/cancelinvite 99"))[-1].text
    for command in ("/cancelinvite", "/cancelinvite abc", "/cancelinvite 1 2"):
        assert "Syntaxe" in (await boss.send(command))[-1].text, command
    clock.advance(days=8)
    assert "a déjà expiré" in (await boss.send("/cancelinvite 1"))[-1].text
    assert "Aucune invitation en attente" in (await boss.send("/invites"))[-1].text
    assert contact_link  # never opened: it simply expired


async def test_federation_and_invite_commands_are_for_admins_only(bot: Emulator) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    await boss.send("/invite CQCH")
    before = await h.database_dump(bot)
    for person in (marie, jean):
        for command in (
            "/federation rename CQCH Pirates",
            "/federation off CQCH",
            "/invites",
            "/cancelinvite 1",
        ):
            assert "pas accès" in (await person.send(command))[-1].text, command
        for data in ("adm:inv:1", "adm:inv:abc"):
            await person.press(data)
            assert person.last_answer and "pas accès" in (person.last_answer.text or "")
    await boss.press("adm:inv:abc")
    assert boss.last_answer and "n'est plus valide" in (boss.last_answer.text or "")
    assert await h.database_dump(bot) == before
