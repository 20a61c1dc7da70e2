"""A coordinator's first hour, through the real application: /help and the welcome say what to
do first and in what order (federation → rates → invites) and how far it is done; a field
without a rate says so wherever its rate is shown, and a lead logging time on it is warned;
the admin commands take their words in French as in English, and their French usage lines
show the French words."""

from __future__ import annotations

from bot.tools.emulator import Emulator
from bot.ui.commands import commands_for
from storage.models import Role
from tests import admin_helpers as h
from tests import flows

DEFAULT_FIELDS = ("legal", "hr", "marketing", "events", "web", "it", "other")


async def test_admin_help_is_grouped_with_the_first_steps_in_order(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    welcome = boss.last.text
    # The welcome: the steps in order, and the rates that are not set, by code.
    assert welcome.index("/addfederation") < welcome.index("/domain taux")
    assert welcome.index("/domain taux") < welcome.index("/invitelead")
    assert "taux non fixé" in welcome and "0 $" in welcome
    assert "Domaines à taux non fixé : legal, hr, marketing" in welcome
    text = (await boss.send("/help"))[-1].text
    sections = ["Premiers pas", "Au quotidien", "Chaque mois", "Personnes, fédérations"]
    assert [text.index(s) for s in sections] == sorted(text.index(s) for s in sections)
    steps = [text.index(f"▫️ {n}. ") for n in (1, 2, 3)]
    assert steps == sorted(steps)
    first_steps = text[steps[0] : text.index("Au quotidien")]
    assert first_steps.index("/addfederation") < first_steps.index("/domain taux")
    assert first_steps.index("/domain taux") < first_steps.index("/invitelead")
    assert "taux non fixé" in first_steps
    daily = text[text.index("Au quotidien") : text.index("Chaque mois")]
    assert "/log référence durée" in daily and "/queue" in daily and "/ticket" in daily
    monthly = text[text.index("Chaque mois") : text.index("Personnes")]
    assert "/stats" in monthly and "/export" in monthly and "/billing" in monthly
    for command in commands_for(Role.ADMIN):  # nothing of the admin's menu is left out
        assert f"/{command}" in text, command
    assert "log" in [c for c, _ in bot.api.commands[f"chat:{boss.id}:"]]  # and /log is in it


async def test_the_first_steps_are_checked_off_as_they_are_done(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    text = (await boss.send("/help"))[-1].text
    assert "✅ 1. " in text and "▫️ 2. " in text and "▫️ 3. " in text
    for code in DEFAULT_FIELDS:
        await boss.send(f"/domain taux {code} 95")
    text = (await boss.send("/help"))[-1].text
    assert "✅ 2. " in text and "▫️ 3. " in text and "Domaines à taux non fixé" not in text
    assert "taux non fixé" not in (await boss.send("/start"))[-1].text.split("3.")[-1]
    await flows.lead(bot, boss, 3001, "Jean", "legal")
    assert "▫️ 3. " in (await boss.send("/help"))[-1].text  # a lead, but no contact yet
    await flows.contact(bot, boss)
    assert "✅ 3. " in (await boss.send("/help"))[-1].text


async def test_admin_help_in_english(bot: Emulator) -> None:
    boss = await flows.admin(bot, language_code="en")
    await boss.send("/language")
    await boss.click("English")
    text = (await boss.send("/help"))[-1].text
    for part in ("First steps", "Every day", "Every month", "People, federations and fields"):
        assert part in text, part
    assert "/domain rate code amount" in text and "rate not set" in text
    assert "Fields whose rate is not set: legal, hr" in text


async def test_lead_help_names_the_buttons_and_the_word_search(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    jean = await flows.lead(bot, boss, 3001, "Jean", "legal")
    text = (await jean.send("/help"))[-1].text
    for button in ("Prendre la demande", "Poser une question", "Consigner du temps", "Résoudre"):
        assert button in text, button
    assert "/ticket référence ou mots" in text and "/ticket règlements" in text
    assert "/log référence durée" in text and "/queue" in text
    assert "répondez à l'un de ses messages" in text
    assert "/invitelead" not in text and "Premiers pas" not in text


async def test_a_field_without_a_rate_reads_rate_not_set(bot: Emulator) -> None:
    boss, _, _, _ = await flows.world(bot)
    replies = await boss.send("/domain taux legal 95")
    assert "95,00\xa0$/h (avant : ⚠️ taux non fixé)" in replies[-1].text
    await boss.send("/language")
    await boss.click("English")
    text = (await boss.send("/domains"))[-1].text
    assert "hr — Gestion des ressources humaines / Human resources\n    ⚠️ rate not set" in text
    assert "$0.00" not in text and "bills $0" in text and "$95.00/h · Leads" in text


async def test_time_logged_on_a_field_without_a_rate_is_kept_and_the_lead_is_warned(
    bot: Emulator,
) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    await jean.click("Consigner du temps")
    text = (await jean.send("1h30 lecture"))[-1].text
    assert "consigné sur CREC-2026-0001 : 1 h 30." in text
    assert "Services juridiques n'a pas encore de taux horaire" in text and "à 0 $" in text
    assert "coordination du Consortium" in text
    text = (await jean.send(f"/log {reference} 20m appel"))[-1].text
    assert "consigné sur CREC-2026-0001 : 20 min." in text and "pas encore de taux horaire" in text
    # An admin logging time is told how to set the rate themselves.
    text = (await boss.send(f"/log {reference} 10m"))[-1].text
    assert "pas encore de taux horaire" in text and "/domain taux legal montant" in text
    assert await h.rows(bot, "SELECT minutes, hourly_rate_cents FROM time_entries") == [
        (90, 0),
        (20, 0),
        (10, 0),
    ]
    await boss.send("/domain taux legal 95")
    text = (await jean.send(f"/log {reference} 15m"))[-1].text
    assert "consigné sur CREC-2026-0001 : 15 min." in text and "taux" not in text


async def test_french_words_for_users_and_service_levels(bot: Emulator) -> None:
    boss, marie, _, _ = await flows.world(bot)
    await boss.send(f"/revoke {marie.id}")
    for words in ("révoqués", "Révoqués", "revoques", "retirés", "revoked"):
        text = (await boss.send(f"/users {words}"))[-1].text
        assert "Marie Tremblay" in text and "Jean" not in text, words
    for words in ("responsables", "responsable", "lead"):
        text = (await boss.send(f"/users {words}"))[-1].text
        assert "Jean" in text and "Marie" not in text, words
    assert "Claire" in (await boss.send("/users tous"))[-1].text
    for command, urgency, target, minutes in (
        ("/sla urgente première 4h", "urgent", "first_response", 240),
        ("/sla critique résolution 1j", "critical", "resolution", 1440),
        ("/sla normale première réponse 2j", "normal", "first_response", 1020),
    ):
        replies = await boss.send(command)
        assert "Nouvelle cible" in replies[-1].text, command
        column = f"{target}_minutes"
        found = await h.rows(bot, f"SELECT {column} FROM sla_targets WHERE urgency = ?", urgency)
        assert found == [(minutes,)], command
    usage = (await boss.send("/sla urgente"))[-1].text
    assert "/sla urgente première 4h" in usage and "critique, urgente ou normale" in usage
    usage = (await boss.send("/users a b c"))[-1].text
    assert "révoqués" in usage and "responsables" in usage


async def test_french_words_for_federations_fields_and_roles(bot: Emulator) -> None:
    boss, _, jean, _ = await flows.world(bot)
    assert "désactivée" in (await boss.send("/federation désactiver CQCH"))[-1].text
    assert "réactivée" in (await boss.send("/federation réactiver cqch"))[-1].text
    text = (await boss.send("/federation renommer CQCH Confédération de l'habitation"))[-1].text
    assert "renommée" in text
    usage = (await boss.send("/federation"))[-1].text
    assert "/federation renommer CODE" in usage and "/federation désactiver CODE" in usage
    assert "Taux horaire" in (await boss.send("/domain taux legal 95"))[-1].text
    assert "ajouté" in (await boss.send("/domain ajouter finance Finances | Finance"))[-1].text
    assert "renommé" in (await boss.send("/domain renommer finance Fin | Fin"))[-1].text
    assert "désactivé" in (await boss.send("/domain désactiver finance"))[-1].text
    assert "réactivé" in (await boss.send("/domain activer finance"))[-1].text
    text = (await boss.send("/domain ajouter-responsable finance jean"))[-1].text
    assert "est maintenant responsable de Fin" in text
    text = (await boss.send("/domain retirer-responsable finance jean"))[-1].text
    assert "n'est plus responsable de Fin" in text
    assert await h.rows(
        bot, "SELECT hourly_rate_cents, active FROM expertise_fields WHERE code = 'legal'"
    ) == [(9500, 1)]
    text = (await boss.send(f"/role {jean.id} responsable hr"))[-1].text
    assert "responsable" in text and "Gestion des ressources humaines" in text
    usage = (await boss.send(f"/role {jean.id} chef"))[-1].text
    assert "/role utilisateur responsable code-domaine" in usage
