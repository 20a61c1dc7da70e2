"""Whole lives of tickets, through the real application: a lead works a request from start to
finish without leaving Telegram, and the contact always knows where it stands."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.tools.emulator import Emulator, Person
from bot.worklog import close_resolved
from storage import conversation, tickets
from storage.models import Ticket, TicketStatus
from tests import flows


async def _ticket(bot: Emulator, reference: str = "CREC-2026-0001") -> Ticket:
    async with bot.services.db.read() as conn:
        ticket = await tickets.ticket_by_reference(conn, reference)
    assert ticket is not None
    return ticket


async def _events(bot: Emulator, ticket_id: int = 1) -> list[str]:
    async with bot.services.db.read() as conn:
        return [e.kind for e in await tickets.ticket_events(conn, ticket_id)]


async def _taken(bot: Emulator) -> tuple[Person, Person, Person, Person, str]:
    boss, marie, jean, luc = await flows.world(bot)
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    return boss, marie, jean, luc, reference


async def test_a_whole_life_from_take_to_rating(bot: Emulator) -> None:
    _, marie, jean, luc, reference = await _taken(bot)
    card = jean.find_button("Poser une question")[0]
    assert card.button("Consigner du temps") and card.button("Résoudre")
    assert not luc.chat[-1].buttons  # Luc's offer now says Jean has it

    # Jean asks a question; it reaches Marie with the reference; the ticket waits on her.
    await jean.click("Poser une question")
    await jean.send("Avez-vous la dernière version des règlements?")
    question = marie.last
    assert reference in question.text and "Avez-vous la dernière version" in question.text
    assert (await _ticket(bot)).status is TicketStatus.WAITING
    assert "En attente" in (await marie.send("/mytickets"))[-1].text

    # Marie answers with a document, as a Telegram reply to the question.
    await marie.send_document("reglements-2024.pdf", caption="La voici", reply_to=question)
    relayed = jean.last
    assert relayed.kind == "document" and reference in relayed.text and "La voici" in relayed.text
    assert (await _ticket(bot)).status is TicketStatus.IN_PROGRESS

    # Jean logs time (the button, then the command) and resolves with a note.
    await jean.click("Consigner du temps")
    replies = await jean.send("1h30 lecture des règlements")
    assert "consigné sur CREC-2026-0001 : 1 h 30." in replies[-1].text
    replies = await jean.send(f"/log {reference} 45m appel avec la fédération")
    assert "consigné sur CREC-2026-0001 : 45 min." in replies[-1].text
    await jean.click("Résoudre", jean.find_button("Résoudre")[0])
    await jean.send("Règlements révisés et envoyés par courriel.")
    assert (await _ticket(bot)).status is TicketStatus.RESOLVED
    assert "Règlements révisés" in marie.last.text and marie.last.button("C'est réglé")

    # Marie confirms, rates 4 stars and comments; the ticket is closed.
    await marie.click("C'est réglé")
    assert "Comment évaluez-vous" in marie.last.text
    await marie.click("⭐⭐⭐⭐")
    await marie.send("Rapide et clair, merci!")
    ticket = await _ticket(bot)
    assert ticket.status is TicketStatus.CLOSED and ticket.rating == 4
    assert ticket.rating_comment == "Rapide et clair, merci!"
    assert ticket.resolution_note == "Règlements révisés et envoyés par courriel."
    assert "4/5" in jean.last.text
    assert await _events(bot) == [
        "created",
        "take",
        "ask",
        "answer",
        "time",
        "time",
        "resolve",
        "confirm",
        "rated",
    ]
    async with bot.services.db.read() as conn:
        entries = await conversation.time_entries(conn, ticket.id)
        messages = await conversation.ticket_messages(conn, ticket.id)
    assert [e.minutes for e in entries] == [90, 45]
    assert [(m.kind, m.file_name) for m in messages] == [
        ("text", None),
        ("document", "reglements-2024.pdf"),
    ]


async def test_not_solved_reopens_and_tells_the_lead(bot: Emulator) -> None:
    _, marie, jean, _, reference = await _taken(bot)
    await jean.click("Résoudre")
    await jean.send("Fait.")
    await marie.click("Pas réglé")
    assert (await _ticket(bot)).status is TicketStatus.IN_PROGRESS
    assert "n'est pas réglée" in jean.last.text and reference in jean.last.text
    assert (await _ticket(bot)).resolved_at is None


async def test_contact_cancels_until_resolved(bot: Emulator) -> None:
    _, marie, jean, _, reference = await _taken(bot)
    await marie.send(f"/ticket {reference}")
    await marie.click("Annuler ma demande")
    await marie.click("Non, la garder")
    assert (await _ticket(bot)).status is TicketStatus.ASSIGNED
    await marie.click("Annuler ma demande")
    await marie.click("Oui, annuler")
    assert (await _ticket(bot)).status is TicketStatus.CANCELLED
    assert "a annulé" in jean.last.text
    # Once resolved, cancelling is no longer possible.
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    await jean.click("Résoudre")
    await jean.send("Réglé.")
    await marie.press("t:cancelok:2")
    assert marie.last_answer and "Impossible maintenant" in (marie.last_answer.text or "")
    assert (await _ticket(bot, reference)).status is TicketStatus.RESOLVED


async def test_cancel_of_a_new_ticket_withdraws_the_offers(bot: Emulator) -> None:
    _, marie, jean, luc = await flows.world(bot)
    reference = await flows.file_request(marie)
    await marie.send(f"/ticket {reference}")
    await marie.click("Annuler ma demande")
    await marie.click("Oui, annuler")
    for lead in (jean, luc):
        offer = next(m for m in lead.chat if reference in m.text)
        assert "Annulée" in offer.text and not offer.button("Prendre")


async def test_reassign_to_another_lead(bot: Emulator) -> None:
    boss, marie, jean, _, _ = await _taken(bot)
    eve = await flows.lead(bot, boss, 3003, "Eve", "hr")
    await jean.click("Réassigner", jean.find_button("Réassigner")[0])
    await jean.click("Eve")
    ticket = await _ticket(bot)
    assert ticket.assignee_id == eve.id and ticket.status is TicketStatus.ASSIGNED
    assert "vous a confié" in eve.last.text and eve.last.button("Résoudre")
    assert "Eve" in marie.last.text
    # Jean no longer holds it: his buttons do nothing now.
    await jean.press("t:resolve:1")
    assert jean.last_answer and "pas accès" in (jean.last_answer.text or "")
    await jean.press("t:start:1")
    assert (await _ticket(bot)).status is TicketStatus.ASSIGNED
    # An admin can give an unassigned ticket to someone.
    second = await flows.file_request(marie)
    await boss.send(f"/ticket {second}")
    await boss.click("Confier à…")
    await boss.click("Eve")
    assert (await _ticket(bot, second)).assignee_id == eve.id


async def test_resolved_ticket_closes_itself_after_seven_days(
    bot: Emulator, clock: ManualClock
) -> None:
    _, marie, jean, _, reference = await _taken(bot)
    await jean.click("Résoudre")
    await jean.send("Réglé.")
    clock.advance(days=6, hours=23)
    assert await close_resolved(bot.services) == 0
    clock.advance(hours=1)
    assert await close_resolved(bot.services) == 1
    await bot.deliver()
    assert (await _ticket(bot)).status is TicketStatus.CLOSED
    assert "fermée" in marie.last.text and reference in marie.last.text
    assert "automatiquement" in jean.last.text
    assert await close_resolved(bot.services) == 0  # once
    assert (await _events(bot))[-1] == "auto_close"


async def test_in_progress_and_status_changes_reach_the_contact(bot: Emulator) -> None:
    _, marie, jean, _, reference = await _taken(bot)
    assert "prise en charge par Jean" in marie.last.text
    await jean.click("Commencer le travail")
    assert "En cours" in marie.last.text and reference in marie.last.text
    await jean.press("t:start:1")  # again: already in progress
    assert jean.last_answer and "Impossible maintenant" in (jean.last_answer.text or "")


async def test_queue_lists_most_urgent_and_oldest_first(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    assert "Rien à traiter" in (await jean.send("/queue"))[-1].text
    await flows.file_request(marie, subject="Normale ancienne", urgency="Normale")
    await flows.file_request(marie, subject="Critique récente", urgency="Critique")
    await flows.file_request(marie, subject="Urgente", urgency="Urgente")
    text = (await jean.send("/queue"))[-1].text
    assert text.index("Critique récente") < text.index("Urgente") < text.index("Normale ancienne")
    for _ in range(10):
        await flows.file_request(marie)
    page = (await jean.send("/queue"))[-1]
    assert "page 1/2" in page.text
    await jean.click("Suivant", page)
    assert "page 2/2" in page.text and page.button("Précédent")


async def test_history_shows_audit_and_conversation_to_those_inside(bot: Emulator) -> None:
    boss, marie, jean, _, reference = await _taken(bot)
    paul = await flows.contact(bot, boss, 2002, "Paul")
    await jean.click("Poser une question")
    await jean.send("Une précision?")
    await marie.click("Répondre")
    await marie.send("Voici la précision demandée.")
    await marie.send(f"/ticket {reference}")
    replies = await marie.click("Historique")
    text = replies[-1].text
    for expected in ("demande créée", "prise en charge", "Une précision?", "Voici la précision"):
        assert expected in text
    assert text.index("demande créée") < text.index("Une précision?") < text.index("Voici")
    await paul.press("t:hist:1:0")
    assert paul.last_answer and "plus valide" in (paul.last_answer.text or "")
    assert (await boss.press("t:hist:1:0"))[-1].text.startswith("Historique")


async def test_search_by_words_for_leads_and_admins(bot: Emulator) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    eve = await flows.lead(bot, boss, 3003, "Eve", "hr")
    await flows.file_request(marie, subject="Congrès annuel 2027")
    await flows.file_request(
        marie, subject="Politique de télétravail", field="Ressources humaines"
    )
    text = (await jean.send("/ticket congres"))[-1].text
    assert "CREC-2026-0001" in text and "télétravail" not in text
    assert "Aucune demande" in (await eve.send("/ticket congrès"))[-1].text  # not her field
    assert "CREC-2026-0002" in (await eve.send("/ticket teletravail"))[-1].text
    assert "CREC-2026-0002" in (await boss.send("/ticket politique"))[-1].text
    # Contacts cannot search; odd input is not an error.
    # A contact (who searches nothing) is shown how /ticket reads a reference.
    assert "Syntaxe : /ticket référence" in (await marie.send("/ticket congres"))[-1].text
    assert "Aucune demande ne contient" in (await jean.send('/ticket "* OR NEAR('))[-1].text
    assert "au moins 2 lettres" in (await jean.send("/ticket * ?"))[-1].text
