"""Words for the reader, through the real application: a state reads from the reader's side
(the contact is waited on, the staff wait on the contact); a history line says each thing once
and quotes notes apart from the state; the resolution stays in the contact's chat once
answered; the reassign list says what each lead handles; a request the admins receive does not
say a field's lead was told."""

from __future__ import annotations

from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import Sent
from tests import admin_helpers as h
from tests import flows

STAFF_WAITING = "En attente du contact"
CONTACT_WAITING = "En attente de votre réponse"


async def _waiting(bot: Emulator) -> tuple[Person, Person, Person, str]:
    """Admin, contact and lead of a ticket the lead asked a question on; its reference."""
    boss, marie, jean, _ = await flows.world(bot)
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    await jean.click("Poser une question")
    await jean.send("Avez-vous la dernière version des règlements?")
    return boss, marie, jean, reference


async def test_a_ticket_waiting_on_the_contact_reads_from_each_side(bot: Emulator) -> None:
    boss, marie, jean, reference = await _waiting(bot)
    for text in (
        (await marie.send("/mytickets"))[-1].text,
        (await marie.send(f"/ticket {reference}"))[-1].text,
    ):
        assert CONTACT_WAITING in text and STAFF_WAITING not in text
    for person in (jean, boss):
        for text in (
            (await person.send("/queue"))[-1].text,
            (await person.send(f"/ticket {reference}"))[-1].text,
            (await person.send("/ticket règlements"))[-1].text,
        ):
            assert STAFF_WAITING in text and "votre réponse" not in text, person.first_name
    # The admin's export, a staff document, reads the staff's words too.
    sheet = h.workbook_of(bot.api, (await boss.send("/export"))[-1]).worksheets[0]
    values = [str(cell) for row in sheet.iter_rows(values_only=True) for cell in row]
    assert STAFF_WAITING in values and CONTACT_WAITING not in values
    # In English too.
    await jean.send("/language")
    await jean.click("English")
    assert "Waiting for the contact" in (await jean.send(f"/ticket {reference}"))[-1].text
    await marie.send("/language")
    await marie.click("English")
    assert "Waiting for your answer" in (await marie.send("/mytickets"))[-1].text


async def test_each_state_has_the_reader_s_words(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    reference = await flows.file_request(marie)
    assert "Reçue, pas encore prise en charge" in (await marie.send("/mytickets"))[-1].text
    assert "Nouvelle" in (await jean.send("/queue"))[-1].text
    await jean.click("Prendre")
    await jean.click("Résoudre", jean.find_button("Résoudre")[0])
    await jean.send("Règlements révisés.")
    assert "en attente de votre confirmation" in (await marie.send("/mytickets"))[-1].text
    assert "à confirmer par le contact" in (await jean.send(f"/ticket {reference}"))[-1].text


async def test_history_says_each_thing_once_and_quotes_notes(bot: Emulator) -> None:
    _, marie, jean, reference = await _waiting(bot)
    await jean.click("Consigner du temps")
    await jean.send("1h30 lecture des règlements")
    await jean.click("Résoudre", jean.find_button("Résoudre")[0])
    await jean.send("Règlements révisés et envoyés par courriel.")
    await jean.send(f"/ticket {reference}")
    history = (await jean.click("Historique"))[-1].text
    assert "prise en charge →" not in history and "Prise en charge" not in history
    assert "· prise en charge\n" in history
    assert f"question au contact → {STAFF_WAITING}" in history
    assert "temps consigné : 1 h 30 — lecture des règlements" in history
    assert "résolue : « Règlements révisés et envoyés par courriel. »" in history
    assert "→ Résolue" not in history
    await marie.send(f"/ticket {reference}")
    history = (await marie.click("Historique"))[-1].text
    assert f"question au contact → {CONTACT_WAITING}" in history


async def test_history_of_a_reassigned_ticket(bot: Emulator) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    eve = await flows.lead(bot, boss, 3003, "Eve", "hr")
    await flows.file_request(marie)
    await jean.click("Prendre")
    await jean.click("Réassigner", jean.find_button("Réassigner")[0])
    await jean.click("Eve")
    history = (await eve.click("Historique"))[-1].text
    assert "confiée à Eve" in history and "réassignée Eve" not in history


def _notice(contact: Person) -> Sent:
    """The resolution message, with its C'est réglé / Pas réglé buttons."""
    message, _ = contact.find_button("C'est réglé")
    return message


async def test_the_resolution_note_stays_after_it_is_confirmed(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    await jean.click("Résoudre")
    await jean.send("Règlements révisés et envoyés par courriel.")
    notice = _notice(marie)
    await marie.click("C'est réglé", notice)
    assert "Règlements révisés et envoyés par courriel." in notice.text
    assert reference in notice.text and "Jean" in notice.text
    assert "Vous avez confirmé que c'est réglé" in notice.text and not notice.buttons
    assert "Comment évaluez-vous" in marie.last.text  # then the rating, as before


async def test_the_resolution_note_stays_after_not_solved(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    await flows.file_request(marie)
    await jean.click("Prendre")
    await jean.click("Résoudre")
    await jean.send("Fait : voir le document joint.")
    notice = _notice(marie)
    await marie.click("Pas réglé", notice)
    assert "Fait : voir le document joint." in notice.text
    assert "ce n'est pas réglé" in notice.text and "rouverte" in notice.text
    assert [label for label, _ in notice.buttons] == ["💬 Répondre"]


async def test_a_resolved_ticket_s_card_shows_its_resolution(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    await jean.click("Résoudre")
    await jean.send("Règlements révisés.")
    for person in (marie, jean):
        text = (await person.send(f"/ticket {reference}"))[-1].text
        assert "Résolution :\nRèglements révisés." in text, person.first_name


async def test_the_reassign_list_shows_each_lead_s_fields(bot: Emulator) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    await flows.lead(bot, boss, 3003, "Eve", "hr")
    await flows.file_request(marie)
    await jean.click("Prendre")
    card, _ = jean.find_button("Réassigner")
    await jean.click("Réassigner", card)
    labels = [label for label, _ in card.buttons]
    assert "Eve · Gestion des ressources humaines" in labels
    assert "Luc · Services juridiques, Gestion des ressources humaines" in labels
    assert not any(label.startswith("Jean") for label in labels)  # he holds it


async def test_a_request_for_the_admins_does_not_say_a_lead_was_told(bot: Emulator) -> None:
    _, marie, _, _ = await flows.world(bot)
    for field in ("Autre", "Développement Web"):  # routed to the admins; no lead
        await flows.file_request(marie, field=field)
        text = marie.last.text
        assert "responsable du domaine" not in text and "coordination du Consortium" in text
    await flows.file_request(marie)  # a field with leads
    assert "coordination" not in marie.last.text
