"""After a refusal the lead may cancel the request with a note; the lead's answer to an
approver's question goes back to who asked; /approvals lists what awaits a decision."""

from __future__ import annotations

from bot.tools.emulator import Emulator
from storage import conversation, tickets
from storage import estimates as estimates_repo
from storage.models import TicketStatus
from tests import flows
from tests.test_estimates import _manager, _setup, _ticket

S = TicketStatus


async def test_the_lead_cancels_after_a_refusal(bot: Emulator) -> None:
    _, marie, jean, gisele, ref = await _setup(bot)
    await jean.send(f"/estimate {ref} 10h")
    await gisele.click("Refuser")
    await gisele.send("Trop cher pour cette année.")
    notice = jean.chat[-1]
    assert notice.button("Annuler la demande")
    # Not for the contact, nor the manager, nor another lead: nothing changes.
    _, data = jean.find_button("Annuler la demande")
    luc = bot.person(3002, "Luc")
    for person in (marie, gisele, luc):
        await person.press(data)
        assert person.last_answer is not None and person.last_answer.text
        await person.send("Non merci.")
    assert (await _ticket(bot, ref)).status is S.ASSIGNED
    await jean.click("Annuler la demande", notice)
    assert "Pourquoi annulez-vous" in jean.last.text
    await jean.send("Le conseil a renoncé au projet.")
    assert "est annulée" in jean.last.text
    ticket = await _ticket(bot, ref)
    assert ticket.status is S.CANCELLED
    assert "Le conseil a renoncé" in marie.last.text and "Jean" in marie.last.text
    assert "Le conseil a renoncé" in gisele.last.text
    async with bot.services.db.read() as conn:
        events = await tickets.ticket_events(conn, ticket.id)
    dropped = [e for e in events if e.kind == "drop"]
    assert len(dropped) == 1 and dropped[0].actor_id == jean.id
    assert dropped[0].note == "Le conseil a renoncé au projet."
    # Pressed again: stale, nothing more.
    await jean.press(data)
    assert jean.last_answer is not None and jean.last_answer.text


async def test_no_cancel_once_a_new_estimate_is_sent(bot: Emulator) -> None:
    _, _, jean, gisele, ref = await _setup(bot)
    await jean.send(f"/estimate {ref} 10h")
    await gisele.click("Refuser")
    await gisele.send("Trop cher.")
    _, data = jean.find_button("Annuler la demande")
    await jean.send(f"/estimate {ref} 5h")
    await jean.press(data)
    assert jean.last_answer is not None and jean.last_answer.text
    assert (await _ticket(bot, ref)).status is S.AWAITING_APPROVAL


async def test_the_lead_answers_the_manager_who_asked(bot: Emulator) -> None:
    _, marie, jean, gisele, ref = await _setup(bot)
    await jean.send(f"/estimate {ref} 6h")
    await gisele.click("Poser une question")
    await gisele.send("Pourquoi deux rencontres?")
    seen = len(marie.chat)
    await jean.click("Répondre à Gisèle Tremblay")
    await jean.send("Une pour le conseil, une pour l'assemblée.")
    assert "Réponse envoyée à Gisèle" in jean.last.text
    assert "Une pour le conseil" in gisele.last.text and "Pourquoi deux" in gisele.last.text
    assert len(marie.chat) == seen  # not to the contact
    # A Telegram reply to the question goes to her too.
    question = next(m for m in reversed(jean.chat) if "Pourquoi deux" in m.text)
    await jean.send("Et deux heures de rédaction.", reply_to=question)
    assert "Réponse envoyée à Gisèle" in jean.last.text
    assert "deux heures de rédaction" in gisele.last.text
    assert len(marie.chat) == seen
    # Forged: the contact, the manager herself press it; nothing reaches anyone.
    _, data = jean.find_button("Répondre à Gisèle Tremblay")
    for person in (marie, gisele):
        await person.press(data)
        assert person.last_answer is not None and person.last_answer.text
    ticket = await _ticket(bot, ref)
    async with bot.services.db.read() as conn:
        bodies = [m.body for m in await conversation.ticket_messages(conn, ticket.id)]
    assert "Une pour le conseil, une pour l'assemblée." in bodies


async def test_approvals_lists_what_awaits_a_decision(bot: Emulator) -> None:
    boss, marie, jean, gisele, ref = await _setup(bot)
    replies = await gisele.send("/approvals")
    assert "Aucune estimation n'attend votre décision." in replies[-1].text
    await jean.send(f"/estimate {ref} 6h")
    replies = await gisele.send("/approvals")
    assert "1 estimation attend votre décision" in replies[0].text
    assert ref in replies[-1].text and replies[-1].button("Approuver")
    await gisele.click("Approuver", replies[-1])
    assert (await _ticket(bot, ref)).status is S.IN_PROGRESS
    replies = await gisele.send("/approvals")
    assert "Aucune estimation" in replies[-1].text
    # A lead, and a contact whose federation has a manager, approve nothing.
    replies = await jean.send("/approvals")
    assert "/approvals est pour leurs gestionnaires" in replies[-1].text
    replies = await marie.send("/approvals")
    assert "gestionnaires de votre fédération" in replies[-1].text
    # Another federation's manager sees nothing of it; the admin sees it, without buttons.
    await flows.federation(boss, "FCHQ")
    odile = await _manager(bot, boss, 2005, "Odile", "FCHQ")
    await jean.send(f"/estimate {ref} 8h")
    replies = await odile.send("/approvals")
    assert "Aucune estimation" in replies[-1].text
    replies = await boss.send("/approvals")
    assert ref in replies[-1].text and "Gisèle" in replies[-1].text
    assert not replies[-1].button("Approuver")
    assert "/approvals" in (await gisele.send("/help"))[-1].text
    assert "/approvals" not in (await marie.send("/help"))[-1].text


async def test_without_a_manager_the_contact_lists_hers(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    ref = await flows.file_request(marie)
    await jean.click("Prendre")
    await jean.send(f"/estimate {ref} 2h")
    replies = await marie.send("/approvals")
    assert ref in replies[-1].text and replies[-1].button("Approuver")
    assert "/approvals" in (await marie.send("/help"))[-1].text


async def test_in_english(bot: Emulator) -> None:
    boss, _, _, _ = await flows.world(bot)
    lead = await flows.lead(bot, boss, 3004, "Ann", "legal", language_code="en")
    replies = await lead.send("/approvals")
    assert "/approvals is for their managers" in replies[-1].text
    replies = await boss.send("/approvals")
    assert "Aucune estimation n'attend votre décision." in replies[-1].text


async def test_the_approval_policy_is_in_the_usage_and_the_help(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    replies = await boss.send("/federation")
    assert "/federation approbation CODE seuil" in replies[-1].text
    assert "/federation approbation CODE seuil" in (await boss.send("/help"))[-1].text


async def test_a_decision_is_written_on_the_card_and_each_reads_it_from_their_side(
    bot: Emulator,
) -> None:
    _, marie, jean, gisele, ref = await _setup(bot)
    await jean.send(f"/estimate {ref} 10h")
    card = gisele.last
    await gisele.click("Refuser", card)
    await gisele.send("Trop cher pour cette année.")
    # The card loses its buttons and says the decision, who and when, as an approval does.
    assert not card.buttons
    assert "Refusée par vous le" in card.text and "à approuver" not in card.text
    # The lead is told what they may do; the contact, who will tell her the rest.
    lead_notice = next(m for m in reversed(jean.chat) if "refusée par Gisèle" in m.text)
    assert "Vous pouvez envoyer une nouvelle estimation" in lead_notice.text
    contact_notice = next(m for m in reversed(marie.chat) if "refusée par Gisèle" in m.text)
    assert "Jean (@jean) vous proposera une nouvelle estimation" in contact_notice.text
    assert "La personne responsable peut" not in contact_notice.text
    # A stale card pressed again: « you already refused it », not her own name.
    ticket = await _ticket(bot, ref)
    async with bot.services.db.read() as conn:
        every = await estimates_repo.ticket_estimates(conn, ticket.id)
    await gisele.press(f"e:ok:{every[0].id}", card)
    answer = gisele.last_answer
    assert answer is not None
    assert "Vous avez déjà refusé cette estimation le" in (answer.text or "")
    # A new estimate, approved from its card: the card says so too.
    await jean.send(f"/estimate {ref} 3h")
    card = gisele.last
    await gisele.click("Approuver", card)
    assert not card.buttons and "Approuvée par vous le" in card.text


async def test_no_time_after_a_refusal_until_a_new_estimate(bot: Emulator) -> None:
    _, _, jean, gisele, ref = await _setup(bot)
    await jean.send(f"/estimate {ref} 10h")
    await gisele.click("Refuser")
    await gisele.send("Trop cher.")
    notice = jean.chat[-1]
    assert "Estimation refusée : envoyez-en une nouvelle" in notice.text
    assert not notice.button("Consigner du temps") and notice.button("Estimer")
    replies = await jean.send(f"/log {ref} 1h lecture")
    assert "envoyez une nouvelle estimation (/estimate), ou annulez la demande" in replies[-1].text
    # A card sent before the refusal: its button says so at once, not after the duration.
    _, log_button = jean.find_button("Consigner du temps")
    await jean.press(log_button)
    assert jean.last_answer is not None and "refusée" in (jean.last_answer.text or "")
    ticket = await _ticket(bot, ref)
    async with bot.services.db.read() as conn:
        assert (await estimates_repo.time_logged(conn, ticket.id)).minutes == 0
    # A new estimate approved: time again, and the card offers it.
    await jean.send(f"/estimate {ref} 3h")
    await gisele.click("Approuver")
    replies = await jean.send(f"/log {ref} 1h lecture")
    assert "refusée" not in replies[-1].text
    replies = await jean.send(f"/ticket {ref}")
    assert replies[-1].button("Consigner du temps")
    assert "Estimation refusée" not in replies[-1].text


async def test_a_critical_request_is_still_worked_after_a_refusal(bot: Emulator) -> None:
    _, _, jean, gisele, ref = await _setup(bot, urgency="Critique")
    await jean.send(f"/estimate {ref} 2-3h")
    await jean.send(f"/log {ref} 1h")
    await gisele.click("Refuser")
    await gisele.send("Pas cette fois.")
    notice = jean.chat[-1]
    assert "Estimation refusée : envoyez-en une nouvelle" in notice.text
    assert notice.button("Consigner du temps")
    replies = await jean.send(f"/log {ref} 30m")
    assert "refusée" not in replies[-1].text


async def test_each_reads_who_cancelled_after_a_refusal(bot: Emulator) -> None:
    _, marie, jean, gisele, ref = await _setup(bot)
    await jean.send(f"/estimate {ref} 10h")
    await gisele.click("Refuser")
    await gisele.send("Trop cher.")
    await jean.click("Annuler la demande")
    await jean.send("La fédération traitera ce dossier elle-même.")
    replies = await jean.send(f"/ticket {ref}")
    assert "Annulée par vous (après le refus de l'estimation)" in replies[-1].text
    for person in (marie, gisele):
        replies = await person.send(f"/ticket {ref}")
        assert "Annulée par Jean (après le refus de l'estimation)" in replies[-1].text
        assert "par le contact" not in replies[-1].text


async def test_who_approves_reads_it_and_decides_from_the_card_or_the_answer(
    bot: Emulator,
) -> None:
    _, marie, jean, gisele, ref = await _setup(bot)
    await jean.send(f"/estimate {ref} 6h")
    replies = await marie.send(f"/ticket {ref}")
    assert "En attente de l'approbation de votre fédération" in replies[-1].text
    assert not replies[-1].button("Approuver")
    assert "approbation de votre fédération" in (await marie.send("/mytickets"))[-1].text
    replies = await gisele.send(f"/ticket {ref}")
    assert "En attente de votre approbation" in replies[-1].text
    assert replies[-1].button("Approuver") and replies[-1].button("Historique")
    await gisele.send("/mytickets")
    await gisele.click("Toute la fédération")
    assert "En attente de votre approbation" in gisele.last.text
    # Her question answered: she decides from the answer.
    await gisele.click("Poser une question")
    await gisele.send("Pourquoi 6 h?")
    await jean.click("Répondre à Gisèle Tremblay")
    await jean.send("Deux rencontres.")
    answer = gisele.last
    assert "Deux rencontres." in answer.text and answer.button("Approuver")
    await gisele.click("Approuver", answer)
    assert (await _ticket(bot, ref)).status is S.IN_PROGRESS
    replies = await gisele.send(f"/ticket {ref}")
    assert not replies[-1].button("Approuver")


async def test_a_contact_who_approves_reads_it_on_her_card(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    ref = await flows.file_request(marie)
    await jean.click("Prendre")
    await jean.send(f"/estimate {ref} 2h")
    replies = await marie.send(f"/ticket {ref}")
    assert "En attente de votre approbation" in replies[-1].text
    listed = (await marie.send("/mytickets"))[-1].text  # her list says so too
    assert "En attente de votre approbation" in listed and "fédération" not in listed, listed
    await marie.click("Approuver", replies[-1])
    assert (await _ticket(bot, ref)).status is S.IN_PROGRESS


async def test_the_words_of_time_and_estimates(bot: Emulator) -> None:
    _, marie, jean, gisele, ref = await _setup(bot)
    await jean.send(f"/estimate {ref} 1h30-2h")
    notice = next(m for m in reversed(marie.chat) if "Estimation de votre demande" in m.text)
    assert "entre 1 h 30 et 2 h au taux horaire de" in notice.text
    await gisele.click("Approuver")
    replies = await jean.send(f"/log {ref} 1h lecture")
    assert f"Temps consigné sur {ref} : 1 h." in replies[-1].text


async def test_an_english_range_names_its_unit_once(bot: Emulator) -> None:
    boss, marie, _, _ = await flows.world(bot)
    await boss.send("/domain rate legal 95")
    ann = await flows.lead(bot, boss, 3004, "Ann", "legal", language_code="en")
    ref = await flows.file_request(marie)
    await ann.click("Take this request")
    replies = await ann.send(f"/estimate {ref} 2-3h")
    assert "2 to 3 hours at $95.00 an hour" in replies[-1].text
    assert "2 hours to" not in replies[-1].text
