"""Admin: fields of expertise — list, add, rename, rate, activate or deactivate (confirmed when
requests are open, none ever lost), leads added and removed. Through the real application."""

from __future__ import annotations

from bot.tools.emulator import Emulator
from tests import admin_helpers as h
from tests import flows


async def _field(bot: Emulator, code: str) -> tuple[object, ...]:
    found = await h.rows(
        bot,
        "SELECT name_fr, name_en, hourly_rate_cents, active FROM expertise_fields WHERE code = ?",
        code,
    )
    return found[0] if found else ()


async def test_domains_lists_codes_names_rates_and_leads(bot: Emulator) -> None:
    boss, _, _, _ = await flows.world(bot)
    await boss.send("/domain rate legal 95")
    text = (await boss.send("/domains"))[-1].text
    assert "legal — Services juridiques / Legal services" in text
    assert "95,00\xa0$/h · Responsables : Jean (@jean), Luc (@luc)" in text
    assert "hr — Gestion des ressources humaines / Human resources" in text
    # A field at 0 $ has no rate yet: said so, not shown as a price.
    assert "web — Développement Web / Web development\n    ⚠️ taux non fixé · aucune" in text
    assert "other — Autre / Other\n    ⚠️ taux non fixé · demandes dirigées vers les admins" in text
    assert "0,00" not in text and "facture 0 $" in text and "/domain taux code montant" in text
    english = await flows.admin(bot, language_code="en")
    await english.send("/language")
    await english.click("English")
    text = (await english.send("/domains"))[-1].text
    assert "Fields of expertise" in text and "$95.00/h · Leads: Jean (@jean), Luc (@luc)" in text


async def test_add_a_field_that_contacts_can_then_choose(bot: Emulator) -> None:
    boss, marie, _, _ = await flows.world(bot)
    replies = await boss.send(
        "/domain add finance Finances et comptabilité | Finance and accounting"
    )
    assert "Domaine ajouté : finance — Finances et comptabilité / Finance and accounting" in (
        replies[-1].text
    )
    assert await _field(bot, "finance") == (
        "Finances et comptabilité",
        "Finance and accounting",
        0,
        1,
    )
    assert "déjà pris" in (await boss.send("/domain add finance Autre | Other"))[-1].text
    await marie.send("/new")
    labels = [label for label, _ in marie.last.buttons]
    assert labels.index("Finances et comptabilité") < labels.index("Autre")
    for command in (
        "/domain add",
        "/domain add finance2",
        "/domain add finance2 Sans barre verticale",
        "/domain add finance2 | English only",
        "/domain add finance2 Un | Deux | Trois",
        "/domain add Fi!n Un | Two",
        "/domain add x Un | Two",
        "/domain add finance2 " + "x" * 81 + " | Two",
    ):
        assert "Syntaxe : <code>/domain ajouter" in (await boss.send(command))[-1].html, command
    assert await h.rows(bot, "SELECT COUNT(*) FROM expertise_fields") == [(8,)]


async def test_rename_in_both_languages(bot: Emulator) -> None:
    boss, _, jean, _ = await flows.world(bot)
    replies = await boss.send("/domain rename legal Droit coopératif | Co-operative law")
    assert "renommé : Droit coopératif / Co-operative law" in replies[-1].text
    assert await _field(bot, "legal") == ("Droit coopératif", "Co-operative law", 0, 1)
    assert "Droit coopératif" in (await jean.send("/start"))[-1].text
    assert "inconnu : nope" in (await boss.send("/domain rename nope Un | Two"))[-1].text
    assert "Syntaxe" in (await boss.send("/domain rename legal Droit"))[-1].text


async def test_hourly_rate_good_and_bad(bot: Emulator) -> None:
    boss, _, _, _ = await flows.world(bot)
    for typed, cents, shown in (
        ("95", 9500, "95,00\xa0$"),
        ("87,50", 8750, "87,50\xa0$"),
        ("$120.5", 12050, "120,50\xa0$"),
        ("110 $", 11000, "110,00\xa0$"),
        ("0", 0, "⚠️ taux non fixé"),
    ):
        replies = await boss.send(f"/domain rate legal {typed}")
        assert f"Taux horaire de Services juridiques : {shown}" in replies[-1].text, typed
        assert (await _field(bot, "legal"))[2] == cents
    for bad in ("-5", "abc", "12.345", "", "99999999", "1e3", "12,5,0"):
        replies = await boss.send(f"/domain rate legal {bad}".strip())
        assert "Syntaxe : /domain taux code montant" in replies[-1].text, bad
    assert (await _field(bot, "legal"))[2] == 0
    assert "inconnu : nope" in (await boss.send("/domain rate nope 95"))[-1].text


async def test_deactivate_without_open_requests_then_reactivate(bot: Emulator) -> None:
    boss, marie, _, _ = await flows.world(bot)
    replies = await boss.send("/domain off events")
    assert "Organisation d'événements désactivé" in replies[-1].text and not replies[-1].buttons
    assert (await _field(bot, "events"))[3] == 0
    await marie.send("/new")
    assert not marie.last.button("Organisation d'événements")
    assert "déjà désactivé" in (await boss.send("/domain off events"))[-1].text
    assert "(inactif)" in (await boss.send("/domains"))[-1].text
    assert "réactivé" in (await boss.send("/domain on events"))[-1].text
    assert "déjà actif" in (await boss.send("/domain on events"))[-1].text
    assert (await _field(bot, "events"))[3] == 1
    assert "Syntaxe" in (await boss.send("/domain off events maintenant"))[-1].text
    assert "Syntaxe" in (await boss.send("/domain off"))[-1].text
    assert "inconnu : nope" in (await boss.send("/domain off nope"))[-1].text


async def test_deactivating_a_field_with_open_requests_asks_and_loses_nothing(
    bot: Emulator,
) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    reference = await flows.file_request(marie)
    question = (await boss.send("/domain off legal"))[-1]
    assert "1 demande ouverte" in question.text
    assert (await _field(bot, "legal"))[3] == 1  # nothing changes before the answer
    await boss.click("Garder", question)
    assert "reste actif" in boss.last.text and not question.buttons
    assert (await _field(bot, "legal"))[3] == 1

    question = (await boss.send("/domain off legal"))[-1]
    confirm = question.button("Désactiver quand même")
    assert confirm is not None
    await jean.press(confirm)  # a lead cannot confirm it, even with the admin's button data
    assert jean.last_answer and "pas accès" in (jean.last_answer.text or "")
    assert (await _field(bot, "legal"))[3] == 1
    await boss.click("Désactiver quand même", question)
    assert "désactivé" in boss.last.text and "Demandes ouvertes, toujours à traiter : 1" in (
        boss.last.text
    )
    assert (await _field(bot, "legal"))[3] == 0
    # The request is still there, open, visible and workable by its leads and the admins.
    assert await h.rows(bot, "SELECT status FROM tickets") == [("new",)]
    assert reference in (await jean.send(f"/ticket {reference}"))[-1].text
    assert reference in (await boss.send(f"/ticket {reference}"))[-1].text
    await jean.click("Prendre")
    assert await h.rows(bot, "SELECT status, assignee_id FROM tickets") == [("assigned", jean.id)]
    # The old confirmation pressed again changes nothing.
    await boss.press(confirm, question)
    assert "déjà désactivé" in boss.last.text


async def test_forged_confirmation_buttons_are_refused(bot: Emulator) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    await flows.file_request(marie)
    before = await h.database_dump(bot)
    for data in (
        "adm:off:999",
        "adm:off:abc",
        "adm:off",
        "adm:keep:0",
        "adm:zap:1",
        "adm:off:1:2",
    ):
        await boss.press(data)
        assert boss.last_answer and "n'est plus valide" in (boss.last_answer.text or ""), data
    legal = await h.field_id(bot, "legal")
    for person in (marie, jean):
        await person.press(f"adm:off:{legal}")
        assert person.last_answer and "pas accès" in (person.last_answer.text or "")
    stranger = bot.person(6666, "Mallory")
    await stranger.press(f"adm:off:{legal}")
    assert stranger.last_answer and "pas encore accès" in (stranger.last_answer.text or "")
    assert await h.database_dump(bot) == before


async def test_leads_added_and_removed(bot: Emulator) -> None:
    boss, marie, jean, luc = await flows.world(bot)
    eve = await flows.lead(bot, boss, 3003, "Eve", "hr")
    replies = await boss.send("/domain addlead legal @EVE")
    assert "Eve (@eve) est maintenant responsable de Services juridiques" in replies[-1].text
    assert "déjà responsable" in (await boss.send("/domain addlead legal 3003"))[-1].text
    reference = await flows.file_request(marie)
    assert reference in eve.last.text and eve.last.button("Prendre")
    assert "n'est pas responsable" in (await boss.send("/domain addlead legal 2001"))[-1].text
    assert "Aucune personne « @personne »" in (
        (await boss.send("/domain addlead legal @personne"))[-1].text
    )
    assert "Aucune personne" in (await boss.send("/domain addlead legal 424242"))[-1].text
    assert "Syntaxe" in (await boss.send("/domain addlead legal"))[-1].text
    assert "Syntaxe" in (await boss.send("/domain addlead legal jean luc"))[-1].text

    assert (
        "Jean (@jean) n'est plus responsable"
        in (await boss.send("/domain removelead legal jean"))[-1].text
    )
    assert (
        "n'est pas responsable de" in (await boss.send("/domain removelead legal jean"))[-1].text
    )
    assert await h.rows(
        bot,
        "SELECT user_id FROM field_leads WHERE field_id = ? ORDER BY 1",
        await h.field_id(bot, "legal"),
    ) == [(luc.id,), (eve.id,)]
    assert "n'est plus responsable" in (await boss.send("/domain removelead hr eve"))[-1].text
    last = (await boss.send("/domain removelead hr luc"))[-1].text
    assert "n'a plus de responsable" in last and "iront aux admins" in last
    assert jean.id not in {r[0] for r in await h.rows(bot, "SELECT user_id FROM field_leads")}


async def test_domain_without_or_with_a_wrong_action_shows_every_action(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    for command in ("/domain", "/domain list", "/domain rate", "/domain rate LEGAL!"):
        text = (await boss.send(command))[-1].text
        assert "Syntaxe" in text, command
    text = (await boss.send("/domain"))[-1].text
    for action in (
        "ajouter",
        "renommer",
        "taux",
        "désactiver",
        "réactiver",
        "ajouter-responsable",
        "retirer-responsable",
    ):
        assert f"/domain {action} code" in text, action


async def test_field_commands_are_for_admins_only(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    await flows.file_request(marie)
    before = await h.database_dump(bot)
    for person in (marie, jean):
        for command in (
            "/domains",
            "/domain add finance Finances | Finance",
            "/domain rename legal A | B",
            "/domain rate legal 1",
            "/domain off legal",
            "/domain on legal",
            "/domain addlead legal jean",
            "/domain removelead legal jean",
        ):
            assert "pas accès" in (await person.send(command))[-1].text, command
    assert await h.database_dump(bot) == before
