"""What a coordinator trying the bot for the first time ran into, through the real application:
a revoked person's /start, routing a request from its notification, a wait for a duration
that outlived the lead's attention, the words of some buttons and messages."""

from __future__ import annotations

from bot.tools.emulator import Emulator, Person
from storage.models import TicketStatus
from tests import admin_helpers as h
from tests import flows
from tests.test_admin_first_steps import DEFAULT_FIELDS


async def _taken(bot: Emulator) -> tuple[Person, Person, Person, Person, str]:
    boss, marie, jean, luc = await flows.world(bot)
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    return boss, marie, jean, luc, reference


# -- /start -----------------------------------------------------------------------------------


async def test_a_revoked_person_s_start_says_their_access_was_withdrawn(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    await boss.send(f"/revoke {marie.id}")
    replies = await marie.send("/start")
    assert len(replies) == 1 and "Votre accès a été retiré" in replies[0].text
    assert "Bienvenue" not in replies[0].text and not replies[0].buttons  # no Nouvelle demande
    # With an invite link too: no "you already have access", no welcome.
    token = flows.token_in((await boss.send("/invite CQCH"))[-1].text)
    replies = await marie.send(f"/start {token}")
    assert [m.text for m in replies] == [replies[0].text] and "retiré" in replies[0].text
    assert await h.rows(bot, f"SELECT role, active FROM users WHERE id = {marie.id}") == [
        ("contact", 0)
    ]


async def test_a_repeat_start_does_not_say_now(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    assert "Vous êtes maintenant contact de CQCH" in marie.last.text  # just registered
    again = (await marie.send("/start"))[-1]
    assert "Vous êtes contact de CQCH" in again.text and "maintenant" not in again.text
    assert again.button("Nouvelle demande")
    john = await flows.contact(bot, boss, 2002, "John", language_code="en")
    assert "You are a contact of CQCH" in (await john.send("/start"))[-1].text


async def test_the_admin_s_start_speaks_of_missing_rates_only_while_some_are_missing(
    bot: Emulator,
) -> None:
    boss = await flows.admin(bot)
    assert "Domaines à taux non fixé : legal, hr" in boss.last.text
    for code in DEFAULT_FIELDS[:-1]:
        await boss.send(f"/domain taux {code} 95")
    text = (await boss.send("/start"))[-1].text
    assert "Domaines à taux non fixé : other" in text  # the one left, by its code
    await boss.send("/domain taux other 95")
    text = (await boss.send("/start"))[-1].text
    assert "/domain taux code montant" in text  # the step is still explained
    assert "taux non fixé" not in text and "0 $" not in text, text
    help_text = (await boss.send("/help"))[-1].text
    assert "✅ 2. Chaque domaine a son taux horaire" in help_text, help_text
    assert "taux non fixé" not in help_text and "0 $" not in help_text


# -- routing a request from its notification --------------------------------------------------


async def test_an_admin_gives_a_request_nobody_holds_from_its_notification(
    bot: Emulator,
) -> None:
    boss, marie, _, luc = await flows.world(bot)
    reference = await flows.file_request(marie, field="Autre")  # no lead: to the admins
    offer = boss.find_button("Prendre")[0]
    assert reference in offer.text
    labels = [label for label, _ in offer.buttons]
    assert labels == ["🙋 Prendre la demande", "🔀 Confier à…", "📜 Historique"]
    await boss.click("Confier à…", offer)
    await boss.click("Luc", offer)  # the same list as Réassigner, each lead with their fields
    async with bot.services.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT status, assignee_id FROM tickets")
    assert [tuple(r) for r in rows] == [(TicketStatus.ASSIGNED.value, luc.id)]
    assert "vous a confié" in luc.last.text and reference in luc.last.text
    assert "prise en charge par Luc" in marie.last.text  # by Luc, not by the admin
    assert "Claire" not in marie.last.text
    # Held now: the admin's card offers to give it again, no longer to give it.
    card = boss.find_button("Réassigner")[0]
    assert not card.button("Confier à") and not card.button("Prendre")


async def test_the_assign_button_reads_assign_in_english(bot: Emulator) -> None:
    boss = await flows.admin(bot, language_code="en")
    await boss.send("/language")
    await boss.click("English")
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    await flows.file_request(marie, field="Autre")
    assert [label for label, _ in boss.last.buttons] == [
        "🙋 Take this request",
        "🔀 Assign to…",
        "📜 History",
    ]


# -- the wait for a duration ------------------------------------------------------------------


async def test_a_wrong_duration_recalls_the_ticket_and_cancel(bot: Emulator) -> None:
    _, _, jean, _, reference = await _taken(bot)
    await jean.click("Consigner du temps")
    replies = await jean.send("bonjour")
    assert "Je ne comprends pas cette durée" in replies[-1].text
    assert f"pour {reference} — ou /cancel" in replies[-1].text
    replies = await jean.send("25h")  # still waiting: every refusal says it again
    assert "Au plus 24 h" in replies[-1].text and f"pour {reference}" in replies[-1].text
    assert "consigné sur CREC-2026-0001 : 1 h 30." in (await jean.send("1h30"))[-1].text
    # /log is not a wait: its refusal is only the reason.
    replies = await jean.send(f"/log {reference} bonjour")
    assert "/cancel" not in replies[-1].text


async def test_a_command_ends_the_wait_for_a_duration(bot: Emulator) -> None:
    _, _, jean, _, reference = await _taken(bot)
    await jean.click("Consigner du temps")
    await jean.send("/queue")
    await jean.send(f"/ticket {reference}")
    replies = await jean.send("bonjour")
    assert "durée" not in replies[-1].text and "n'attends pas de message" in replies[-1].text
    assert await h.rows(bot, "SELECT COUNT(*) FROM time_entries") == [(0,)]


async def test_a_button_press_ends_the_wait_for_a_duration(bot: Emulator) -> None:
    _, _, jean, _, reference = await _taken(bot)
    await jean.click("Consigner du temps")
    await jean.click("Historique")  # the lead moved on
    assert "Historique" in jean.last.text
    replies = await jean.send("1h")
    assert "consigné" not in replies[-1].text
    assert await h.rows(bot, "SELECT COUNT(*) FROM time_entries") == [(0,)]
    # The button that asks for it asks again; /cancel still says what it stopped.
    await jean.click("Consigner du temps")
    assert "annulé" in (await jean.send("/cancel"))[-1].text
    await jean.click("Consigner du temps")
    assert f"consigné sur {reference}" in (await jean.send("1h"))[-1].text


async def test_log_zero_says_why(bot: Emulator) -> None:
    _, _, jean, _, reference = await _taken(bot)
    for typed in ("0", "00", "0 pour rien", "0h", "0 min"):
        replies = await jean.send(f"/log {reference} {typed}")
        assert "La durée doit être plus grande que zéro." in replies[-1].text, typed
    await jean.click("Consigner du temps")
    replies = await jean.send("0")
    assert "plus grande que zéro" in replies[-1].text and f"pour {reference}" in replies[-1].text


# -- words ------------------------------------------------------------------------------------


async def test_start_work_is_an_action(bot: Emulator) -> None:
    _, _, jean, _, _ = await _taken(bot)
    card = jean.find_button("Résoudre")[0]
    assert "▶️ Commencer le travail" in [label for label, _ in card.buttons]
    assert not card.button("En cours")
    boss = await flows.admin(bot, language_code="en")
    await boss.send("/language")
    await boss.click("English")
    card = (await boss.send("/ticket CREC-2026-0001"))[-1]
    assert "▶️ Start work" in [label for label, _ in card.buttons]


async def test_who_holds_a_request_reads_as_a_person(bot: Emulator) -> None:
    _, marie, jean, _, reference = await _taken(bot)
    for person in (marie, jean):
        text = (await person.send(f"/ticket {reference}"))[-1].text
        assert "Personne responsable : Jean (@jean)" in text and "Pris en charge" not in text


async def test_a_new_request_s_contact_writes_a_message_then_replies(bot: Emulator) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    reference = await flows.file_request(marie)
    card = (await marie.send(f"/ticket {reference}"))[-1]
    labels = [label for label, _ in card.buttons]
    assert "💬 Écrire un message" in labels and "💬 Répondre" not in labels
    await jean.click("Prendre")
    card = (await marie.send(f"/ticket {reference}"))[-1]
    assert card.button("💬 Répondre") and not card.button("Écrire un message")
    john = await flows.contact(bot, boss, 2002, "John", language_code="en")
    await john.send("/new")
    await john.click("Legal services")
    await john.send("Bylaws review")
    await john.send("We must review our bylaws before the general meeting in March.")
    await john.click("Urgent")
    await john.click("No desired date")
    await john.click("Continue without")
    await john.click("Send")
    card = (await john.send("/ticket CREC-2026-0002"))[-1]
    assert "💬 Write a message" in [label for label, _ in card.buttons]


async def test_the_lead_reads_that_the_request_is_closed(bot: Emulator) -> None:
    _, marie, jean, _, reference = await _taken(bot)
    await jean.click("Résoudre")
    await jean.send("Fait.")
    await marie.click("C'est réglé")
    assert jean.last.text == (
        f"👍 Marie Tremblay confirme que la demande {reference} est réglée; la demande est fermée."
    )


async def test_users_by_role_count_in_the_plural(bot: Emulator) -> None:
    boss, *_ = await flows.world(bot)
    text = (await boss.send("/users responsables"))[-1].text
    assert "Personnes inscrites — responsables : 2 (page 1 sur 1)" in text
    assert "— contact : 1 (page" in (await boss.send("/users contacts"))[-1].text
    assert "— admin : 1 (page" in (await boss.send("/users admins"))[-1].text
    assert "— toutes : 4 (page" in (await boss.send("/users"))[-1].text
    await boss.send("/language")
    await boss.click("English")
    assert "Users — leads: 2 (page 1 of 1)" in (await boss.send("/users lead"))[-1].text


# -- « Pas réglé » ------------------------------------------------------------------------------


async def test_not_solved_asks_what_is_left_and_it_reaches_the_lead(bot: Emulator) -> None:
    _, marie, jean, _, reference = await _taken(bot)
    await jean.click("Résoudre")
    await jean.send("Fait.")
    await marie.click("Pas réglé")
    question = marie.last
    assert f"Qu'est-ce qui reste à faire sur {reference}?" in question.text
    assert [label for label, _ in question.buttons] == ["Passer"]
    assert "n'est pas réglée" in jean.last.text  # the lead is told at once, as before
    replies = await marie.send("Il manque l'article sur les assemblées extraordinaires.")
    assert "Transmis" in replies[-1].text
    assert reference in jean.last.text and "assemblées extraordinaires" in jean.last.text
    assert await h.rows(bot, "SELECT body FROM ticket_messages") == [
        ("Il manque l'article sur les assemblées extraordinaires.",)
    ]
    assert await h.rows(bot, "SELECT status FROM tickets") == [("in_progress",)]


async def test_not_solved_can_skip_the_question(bot: Emulator) -> None:
    _, marie, jean, _, reference = await _taken(bot)
    await jean.click("Résoudre")
    await jean.send("Fait.")
    await marie.send(f"/ticket {reference}")  # from the card this time
    await marie.click("Pas réglé")
    told = jean.last.text
    await marie.click("Passer")
    assert not marie.chat[-1].buttons  # the question's button is gone
    replies = await marie.send("bonjour")
    assert "/new" in replies[-1].text and jean.last.text == told  # nothing reached the lead
    assert await h.rows(bot, "SELECT COUNT(*) FROM ticket_messages") == [(0,)]


# -- numbers in the form's words ----------------------------------------------------------------


async def test_the_form_writes_its_lengths_as_the_reader_writes_numbers(bot: Emulator) -> None:
    boss, marie, _, _ = await flows.world(bot)
    john = await flows.contact(bot, boss, 2002, "John", language_code="en")
    for person, field, question, too_long in (
        (marie, "juridiques", "20 à 3\u00a0000 caractères", "trop longue (3\u00a0001 caractères)"),
        (john, "Legal", "20 to 3,000 characters", "too long (3,001 characters)"),
    ):
        await person.send("/new")
        await person.click(field)
        asked = (await person.send("Révision des règlements généraux"))[-1].text
        assert question in asked, asked
        replies = await person.send("x" * 3001)
        assert too_long in replies[0].text, replies[0].text
