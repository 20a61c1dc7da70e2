"""Issue 15's follow-ups, through the real application: the delegate's /queue lists the
requests they cover and the contact's messages say whose request it is; the reassign list shows
who is away and a request given to them goes to who covers them; a part a lead adds is told to
the leads of the other parts; a field switched off before Send is not filed, the contact told."""

from __future__ import annotations

from bot.tools.emulator import Emulator, Person
from tests import admin_helpers as h
from tests import flows
from tests.test_parts import HR, _pick_two, _three_leads

AWAY = "🌴 absence jusqu'au 31 décembre 2026"
COVER = "🌴 Demande de Jean (@jean), en absence : vous en assurez le relais."


def count(person: Person, *words: str) -> int:
    return sum(all(w in text for w in words) for text in person.texts())


async def test_the_delegates_queue_and_messages_say_whose_request_it_is(bot: Emulator) -> None:
    _, marie, jean, luc = await flows.world(bot)
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    taken = marie.last
    assert reference not in (await luc.send("/queue"))[-1].text
    await jean.send("/away 2026-11-24 2026-12-31 @luc")

    queue = (await luc.send("/queue"))[-1].text
    line = next(line for line in queue.split("\n") if reference in line)
    assert line.endswith("· relais de Jean (@jean)")
    assert "relais de" not in (await jean.send("/queue"))[-1].text  # his own, unmarked

    await marie.send("Voici le document demandé.", reply_to=taken)
    relayed = luc.last.text.split("\n")
    assert relayed[0] == COVER
    assert reference in relayed[1] and relayed[2] == "Voici le document demandé."

    # Back: the request is Jean's again, off Luc's queue, and his messages are plain again.
    await jean.send("/back")
    assert reference not in (await luc.send("/queue"))[-1].text
    await marie.send("Encore une chose.", reply_to=taken)
    assert "en absence" not in jean.last.text and "Encore une chose." in jean.last.text


async def test_the_queue_and_header_in_english(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    jean = await flows.lead(bot, boss, 3001, "Jean", "legal")
    ann = await flows.lead(bot, boss, 3005, "Ann", "legal", language_code="en")
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    taken = marie.last
    await jean.send("/away 2026-11-24 2026-12-31 @ann")
    assert "covering for Jean (@jean)" in (await ann.send("/queue"))[-1].text
    await marie.send("Voici.", reply_to=taken)
    assert ann.last.text.startswith("🌴 A request of Jean (@jean), who is away: you are covering")
    assert reference in ann.last.text


async def test_the_reassign_list_shows_who_is_away_and_the_card_goes_to_the_cover(
    bot: Emulator,
) -> None:
    boss, marie, jean, luc = await flows.world(bot)
    eve = await flows.lead(bot, boss, 3003, "Eve", "hr")
    reference = await flows.file_request(marie)
    await jean.send("/away 2026-11-24 2026-12-31 @eve")
    await luc.send("/away 2026-12-20 2026-12-31")  # to come: not away yet
    card = (await boss.send(f"/ticket {reference}"))[-1]
    await boss.click("Confier à", card)  # the card's buttons become the list
    listing = next(m for m in boss.chat if m.message_id == card.message_id)
    labels = [label for label, _ in listing.buttons]
    jean_label = next(label for label in labels if label.startswith("Jean"))
    assert jean_label.startswith(f"Jean · {AWAY}") and len(jean_label) <= 60
    assert next(label for label in labels if label.startswith("Luc")) == (
        "Luc · Services juridiques, Gestion des ressources humaines"
    )
    assert "Eve · Gestion des ressources humaines" in labels

    # Given to Jean anyway: the card goes to Eve, who covers him, and says so; not to Jean.
    before = len(jean.chat)
    await boss.press(listing.button("Jean") or "", listing)
    assert boss.last_answer is not None and "confiée à Jean" in (boss.last_answer.text or "")
    assert await h.rows(bot, "SELECT assignee_id FROM tickets") == [(jean.id,)]
    card_to_eve = eve.last
    given = "🔀 Claire Gagnon a confié cette demande à Jean (@jean), en absence : vous en assurez"
    assert card_to_eve.text.startswith(given)
    assert reference in card_to_eve.text and card_to_eve.button("Commencer") is not None
    assert not [m for m in jean.chat[before:] if reference in m.text]


async def test_an_added_part_is_told_to_the_other_parts_leads(bot: Emulator) -> None:
    _, marie, (jean, luc, sophie) = await _three_leads(bot)
    await flows.fill_form(marie)
    await marie.click("Ce besoin touche aussi")
    await marie.click(HR)
    await marie.click("Revenir au récapitulatif")
    await marie.click("Envoyer")
    await bot.deliver()
    await jean.click("Prendre", next(m for m in jean.chat if "CREC-2026-0001" in m.text))
    await luc.click("Prendre", next(m for m in luc.chat if "CREC-2026-0002" in m.text))
    # Jean adds an events part: Luc, who holds the HR part, is told; Jean and Sophie are not
    # (Sophie gets the offer of the new part).
    await jean.send("/ticket CREC-2026-0001")
    await jean.click("Ajouter un domaine")
    await jean.click("Organisation")
    await jean.send("Réserver la salle et le traiteur pour le congrès de mars.")
    told = "➕ Nouveau volet de la demande CREC-2026-0001 : CREC-2026-0003 · Organisation"
    assert count(luc, told, "ajouté par Jean (@jean)") == 1
    assert count(jean, "➕") == 0 and count(sophie, "➕") == 0
    assert count(sophie, "CREC-2026-0003") >= 1


async def test_a_field_switched_off_before_send_is_not_filed(bot: Emulator) -> None:
    boss, marie, _ = await _three_leads(bot)
    await _pick_two(marie)  # human resources and events
    await boss.send("/domain off events")
    sent = (await marie.click("Envoyer"))[-1].text
    assert "2 volets" in sent and "CREC-2026-0002 · Gestion des ressources humaines" in sent
    assert sent.endswith(
        "Le domaine Organisation d'événements n'est plus offert; ce volet n'a pas été créé."
    )
    assert await h.rows(bot, "SELECT COUNT(*) FROM tickets") == [(2,)]
    # Its only extra field off: a request on its own, and the same line.
    await _pick_again(marie)
    await boss.send("/domain off marketing")
    sent = (await marie.click("Envoyer"))[-1].text
    assert "CREC-2026-0003" in sent and "volets" not in sent
    assert sent.endswith("n'est plus offert; ce volet n'a pas été créé.")
    assert "Le domaine Marketing et développement des affaires" in sent
    assert await h.rows(bot, "SELECT COUNT(*) FROM ticket_parts") == [(2,)]  # the first request's


async def _pick_again(marie: Person) -> None:
    await flows.fill_form(marie, subject="Campagne d'adhésion")
    await marie.click("Ce besoin touche aussi")
    await marie.click("Marketing")
    await marie.click("Revenir au récapitulatif")


async def test_who_covers_an_absent_lead_may_add_a_part_as_the_card_offers(
    bot: Emulator,
) -> None:
    _, marie, jean, luc = await flows.world(bot)
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    await jean.send("/away 2026-11-24 2026-12-31 @luc")
    card = (await luc.send(f"/ticket {reference}"))[-1]
    assert card.button("Ajouter un domaine"), card.text  # offered to who covers…
    await luc.click("Ajouter un domaine", card)
    picker = luc.last
    assert picker.button(HR), picker.text  # …and the press is theirs too
    await luc.click(HR, picker)
    await luc.send("Revoir les contrats des personnes embauchées pour le congrès.")
    assert await h.rows(bot, "SELECT ticket_id, request_id, added_by FROM ticket_parts") == [
        (1, 1, None),
        (2, 1, luc.id),
    ]
    # Back: Luc no longer covers, and a forged press of the picker is refused.
    await jean.send("/back")
    await luc.press(picker.button(HR) or "", picker)
    assert luc.last_answer is not None and luc.last_answer.show_alert
