"""Filing a ticket, notifying the leads, taking it, following it."""

from __future__ import annotations

import asyncio

from bot.tools.emulator import Emulator
from storage import tickets
from storage.models import TicketStatus
from tests import flows


async def test_send_creates_one_ticket_and_notifies_every_lead_of_the_field(bot: Emulator) -> None:
    boss, marie, jean, luc = await flows.world(bot)
    hr_only = await flows.lead(bot, boss, 3003, "Eve", "hr")
    reference = await flows.file_request(marie)
    assert reference == "CREC-2026-0001"
    for lead in (jean, luc):
        card = lead.last
        assert reference in card.text and "Marie Tremblay" in card.text
        assert "Urgente" in card.text and "CQCH" in card.text
        assert card.button("Prendre")
    assert reference not in "".join(hr_only.texts())
    async with bot.services.db.read() as conn:
        ticket = await tickets.ticket_by_reference(conn, reference)
        assert ticket is not None and ticket.status is TicketStatus.NEW
        events = await tickets.ticket_events(conn, ticket.id)
    assert [e.kind for e in events] == ["created"]


async def test_references_follow_a_per_year_sequence(bot: Emulator) -> None:
    _, marie, _, _ = await flows.world(bot)
    assert await flows.file_request(marie) == "CREC-2026-0001"
    assert await flows.file_request(marie) == "CREC-2026-0002"


async def test_send_pressed_twice_makes_one_ticket(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    await flows.fill_form(marie)
    review, data = marie.find_button("Envoyer")
    await asyncio.gather(marie.press(data, review), marie.press(data, review))
    await marie.press(data, review)
    assert marie.last_answer and "déjà envoyée" in (marie.last_answer.text or "")
    async with bot.services.db.read() as conn:
        assert await tickets.count_contact_tickets(conn, marie.id) == 1
    assert sum("CREC-2026-0001" in text for text in jean.texts()) == 1


async def test_attachments_are_forwarded_to_the_leads(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    await marie.send("/new")
    await marie.click("Services juridiques")
    await marie.send("Contrat de travail")
    await marie.send("Pouvez-vous relire ce contrat de travail avant signature?")
    await marie.click("Normale")
    await marie.click("Pas de date")
    await marie.send_document("contrat.pdf")
    await marie.send_photo()
    await marie.click("Continuer")
    await marie.click("Envoyer")
    kinds = [m.kind for m in jean.chat[-3:]]
    assert kinds == ["text", "document", "photo"]
    assert "pièce jointe 1/2" in jean.chat[-2].text


async def test_field_without_lead_goes_to_the_admins(bot: Emulator) -> None:
    boss, marie, _, _ = await flows.world(bot)
    reference = await flows.file_request(marie, field="Autre")
    assert reference in boss.last.text and boss.last.button("Prendre")
    reference = await flows.file_request(marie, field="Développement Web")
    assert reference in boss.last.text
    await boss.click("Prendre")
    async with bot.services.db.read() as conn:
        ticket = await tickets.ticket_by_reference(conn, reference)
    assert ticket is not None and ticket.assignee_id == boss.id


async def test_first_lead_to_take_wins_and_the_others_are_told(bot: Emulator) -> None:
    _, marie, jean, luc = await flows.world(bot)
    reference = await flows.file_request(marie)
    jean_card, take = jean.find_button("Prendre")
    luc_card, _ = luc.find_button("Prendre")
    # Both press at once: exactly one wins.
    await asyncio.gather(jean.press(take, jean_card), luc.press(take, luc_card))
    async with bot.services.db.read() as conn:
        ticket = await tickets.ticket_by_reference(conn, reference)
        assert ticket is not None
        events = await tickets.ticket_events(conn, ticket.id)
    assert ticket.status is TicketStatus.ASSIGNED
    assert [e.kind for e in events] == ["created", "take"]
    winner, loser = (jean, luc) if ticket.assignee_id == jean.id else (luc, jean)
    assert loser.last_answer and "déjà été prise" in (loser.last_answer.text or "")
    assert winner.last_answer and "Vous avez pris" in (winner.last_answer.text or "")
    # The loser's card now says who took it, without a button; the contact is told.
    loser_card = jean_card if loser is jean else luc_card
    assert (
        not loser_card.buttons and f"Personne responsable : {winner.first_name}" in loser_card.text
    )
    assert "prise en charge par" in marie.last.text and winner.first_name in marie.last.text
    # A later press changes nothing.
    await loser.press(take, loser_card)
    async with bot.services.db.read() as conn:
        again = await tickets.ticket_by_reference(conn, reference)
    assert again is not None and again.assignee_id == winner.id


async def test_lead_of_another_field_cannot_take(bot: Emulator) -> None:
    boss, marie, _, _ = await flows.world(bot)
    eve = await flows.lead(bot, boss, 3003, "Eve", "hr")
    await flows.file_request(marie)
    await eve.press("t:take:1")
    # She may not see it: she is answered as for a ticket that does not exist.
    assert eve.last_answer and "plus valide" in (eve.last_answer.text or "")
    await marie.press("t:take:1")
    assert marie.last_answer and "pas accès" in (marie.last_answer.text or "")
    async with bot.services.db.read() as conn:
        ticket = await tickets.get_ticket(conn, 1)
    assert ticket is not None and ticket.status is TicketStatus.NEW


async def test_mytickets_lists_newest_first(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    replies = await marie.send("/mytickets")
    assert "aucune demande" in replies[-1].text
    await flows.file_request(marie, subject="Première demande")
    await flows.file_request(marie, subject="Deuxième demande")
    await jean.click("Prendre", jean.find_button("Prendre")[0])
    text = (await marie.send("/mytickets"))[-1].text
    assert text.index("CREC-2026-0002") < text.index("CREC-2026-0001")
    assert "Deuxième demande" in text and "Prise en charge" in text
    assert "Reçue, pas encore prise en charge" in text  # the contact's words, not "Nouvelle"


async def test_ticket_shows_only_to_those_who_may_see_it(bot: Emulator) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    paul = await flows.contact(bot, boss, 2002, "Paul")
    eve = await flows.lead(bot, boss, 3003, "Eve", "hr")
    reference = await flows.file_request(marie, subject="Objet très précis")
    text = (await marie.send(f"/ticket {reference.lower()}"))[-1].text
    assert "Objet très précis" in text and "Reçue, pas encore prise en charge" in text
    for person in (paul, eve):
        text = (await person.send(f"/ticket {reference}"))[-1].text
        assert "Aucune demande" in text and "Objet très précis" not in text
    for person in (jean, boss):
        text = (await person.send(f"/ticket {reference}"))[-1].text
        assert "Objet très précis" in text
    assert "Aucune demande" in (await marie.send("/ticket CREC-2026-9999"))[-1].text
    assert (
        "Syntaxe : /ticket référence, par exemple /ticket CREC"
        in (await marie.send("/ticket"))[-1].text
    )
    # A contact's words are no search: the usage, not « Aucune demande Objet très ».
    assert "Syntaxe : /ticket référence" in (await marie.send("/ticket Objet très"))[-1].text
