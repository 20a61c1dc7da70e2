"""Estimates and their approval through the real bot (issue 14): the lead estimates, the
federation's managers (or the contact who filed, without one) approve or refuse, critical
requests are worked meanwhile, over-runs ask for a revised estimate."""

from __future__ import annotations

import asyncio

from bot.clock import ManualClock
from bot.config import Settings
from bot.estimates import remind_approvers
from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import FakeBotAPI
from storage import envelopes, estimates, people, tickets
from storage.models import EnvelopeKind, EstimateStatus, Ticket, TicketStatus
from tests import flows

S = TicketStatus


def _plain(text: str) -> str:
    """Amounts are written with non-breaking spaces (570,00 $): read as spaces here."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


async def _manager(bot: Emulator, boss: Person, user_id: int, name: str, code: str) -> Person:
    """A contact of `code` made its manager (no command for it in this slice: the repository)."""
    person = await flows.contact(bot, boss, user_id, name, code=code)
    async with bot.services.db.transaction() as conn:
        assert await people.set_manager(conn, person.id, True)
    return person


async def _ticket(bot: Emulator, reference: str = "CREC-2026-0001") -> Ticket:
    async with bot.services.db.read() as conn:
        ticket = await tickets.ticket_by_reference(conn, reference)
    assert ticket is not None
    return ticket


async def _setup(
    bot: Emulator, urgency: str = "Urgente"
) -> tuple[Person, Person, Person, Person, str]:
    """Admin, contact Marie, lead Jean holding her request (legal services at 95 $ an hour),
    manager Gisèle of her federation."""
    boss, marie, jean, _ = await flows.world(bot)
    replies = await boss.send("/domain rate legal 95")
    assert "95" in replies[-1].text
    gisele = await _manager(bot, boss, 2003, "Gisèle", "CQCH")
    reference = await flows.file_request(marie, urgency=urgency)
    await jean.click("Prendre")
    return boss, marie, jean, gisele, reference


async def test_estimate_approved_from_the_card(bot: Emulator) -> None:
    _, marie, jean, gisele, ref = await _setup(bot)
    await jean.click("Estimer")
    assert "Combien d'heures" in jean.last.text
    replies = await jean.send("4-6h Deux rencontres avec le conseil")
    assert "envoyée pour approbation" in replies[-1].text
    assert "570,00 $" in _plain(replies[-1].text)  # 6 h × 95 $
    ticket = await _ticket(bot, ref)
    assert ticket.status is S.AWAITING_APPROVAL
    card = gisele.last
    parts = (ref, "Révision des règlements", "Services juridiques", "Marie", "entre 4 h et 6 h")
    for part in parts:
        assert part in card.text, part
    assert "95,00 $" in _plain(card.text) and "entre 380,00 $ et 570,00 $" in _plain(card.text)
    assert "Deux rencontres" in card.text
    assert any("Estimation de votre demande" in text for text in marie.texts())
    # Time waits for the approval, with a clear word.
    replies = await jean.send(f"/log {ref} 1h")
    assert "attend l'approbation" in replies[-1].text
    await gisele.click("Approuver", card)
    assert gisele.last_answer is not None and "approuvée" in (gisele.last_answer.text or "")
    ticket = await _ticket(bot, ref)
    assert ticket.status is S.IN_PROGRESS
    assert "approuvée par Gisèle" in jean.last.text
    assert any("approuvée par Gisèle" in text for text in marie.texts())
    async with bot.services.db.read() as conn:
        events = await tickets.ticket_events(conn, ticket.id)
        approved = await estimates.approved_estimate(conn, ticket.id)
    approve = [e for e in events if e.kind == "approve"]
    assert len(approve) == 1 and approve[0].actor_id == gisele.id
    assert approved is not None and approved.high_amount_cents == 57000
    assert approved.decided_by == gisele.id
    replies = await jean.send(f"/log {ref} 1h")
    assert "consigné" in replies[-1].text.lower() or "1 h" in replies[-1].text
    # The history says it.
    replies = await jean.send(f"/ticket {ref}")
    await jean.click("Historique")
    assert "Estimation approuvée" in jean.last.text


async def test_refused_then_re_estimated(bot: Emulator) -> None:
    _, marie, jean, gisele, ref = await _setup(bot)
    await jean.send(f"/estimate {ref} 10h")
    await gisele.click("Refuser")
    assert "Pourquoi" in gisele.last.text
    await gisele.send("Trop cher pour cette année.")
    assert "refusée" in gisele.last.text
    ticket = await _ticket(bot, ref)
    assert ticket.status is S.ASSIGNED
    assert "refusée par Gisèle" in jean.chat[-1].text and "Trop cher" in jean.chat[-1].text
    # Back to the lead, on their card: a new estimate, or resolve it with a note.
    assert jean.chat[-1].button("Estimer") and jean.chat[-1].button("Résoudre")
    assert any("Trop cher" in text for text in marie.texts())
    async with bot.services.db.read() as conn:
        events = await tickets.ticket_events(conn, ticket.id)
    refuse = [e for e in events if e.kind == "refuse"]
    assert len(refuse) == 1 and refuse[0].note == "Trop cher pour cette année."
    # The lead sends a new estimate, approved this time.
    replies = await jean.send(f"/estimate {ref} 1,5 h Une seule rencontre")
    assert "142,50 $" in _plain(replies[-1].text)
    await gisele.click("Approuver")
    ticket = await _ticket(bot, ref)
    assert ticket.status is S.IN_PROGRESS
    async with bot.services.db.read() as conn:
        every = await estimates.ticket_estimates(conn, ticket.id)
    assert [e.status for e in every] == [EstimateStatus.REFUSED, EstimateStatus.APPROVED]
    assert every[1].revision_of == every[0].id


async def test_an_old_card_decides_nothing_once_a_new_estimate_is_sent(bot: Emulator) -> None:
    _, _, jean, gisele, ref = await _setup(bot)
    await jean.send(f"/estimate {ref} 10h")
    old_card, data = gisele.find_button("Approuver")
    await jean.send(f"/estimate {ref} 8h")
    await gisele.press(data, old_card)
    assert gisele.last_answer is not None and "remplacée" in (gisele.last_answer.text or "")
    assert (await _ticket(bot, ref)).status is S.AWAITING_APPROVAL


async def test_two_managers_approve_at_once(bot: Emulator) -> None:
    boss, _, jean, gisele, ref = await _setup(bot)
    paul = await _manager(bot, boss, 2004, "Paul", "CQCH")
    await jean.send(f"/estimate {ref} 6h")
    g_card, data = gisele.find_button("Approuver")
    p_card, p_data = paul.find_button("Approuver")
    assert data == p_data
    await asyncio.gather(gisele.press(data, g_card), paul.press(data, p_card))
    ticket = await _ticket(bot, ref)
    assert ticket.status is S.IN_PROGRESS
    async with bot.services.db.read() as conn:
        events = await tickets.ticket_events(conn, ticket.id)
    assert [e.kind for e in events].count("approve") == 1
    answers = [p.last_answer.text or "" for p in (gisele, paul) if p.last_answer]
    assert sum("déjà été approuvée" in a for a in answers) == 1


async def test_without_a_manager_the_contact_approves(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    ref = await flows.file_request(marie)
    await jean.click("Prendre")
    await jean.send(f"/estimate {ref} 2h")
    await marie.click("Approuver")
    assert (await _ticket(bot, ref)).status is S.IN_PROGRESS
    assert "approuvée par Marie" in jean.last.text


async def test_a_critical_request_is_worked_before_approval(
    bot: Emulator, clock: ManualClock
) -> None:
    _, _, jean, gisele, ref = await _setup(bot, urgency="Critique")
    replies = await jean.send(f"/estimate {ref} 6h")
    assert "envoyée pour approbation" in replies[-1].text
    ticket = await _ticket(bot, ref)
    assert ticket.status is S.ASSIGNED  # worked at once: the state does not change
    assert "Demande critique" in gisele.last.text
    replies = await jean.send(f"/log {ref} 2h")
    assert "attend" not in replies[-1].text
    async with bot.services.db.read() as conn:
        assert (await estimates.time_logged(conn, ticket.id)).minutes == 120
    cards = len(gisele.chat)
    # Tuesday 14:00 in Montréal: not a business day later yet on Wednesday 13:00.
    clock.advance(hours=23)
    assert await remind_approvers(bot.services) == 0
    clock.advance(hours=2)  # Wednesday 15:00: one business day without a decision
    assert await remind_approvers(bot.services) == 1
    assert await remind_approvers(bot.services) == 0  # the job runs again: once only
    await bot.deliver()
    assert len(gisele.chat) == cards + 1
    assert "Rappel" in gisele.last.text and gisele.last.button("Approuver")
    clock.advance(days=3)
    assert await remind_approvers(bot.services) == 0
    # Approved after the work: the state still does not change.
    await gisele.click("Approuver")
    assert (await _ticket(bot, ref)).status is S.ASSIGNED
    async with bot.services.db.read() as conn:
        assert (await estimates.approved_estimate(conn, ticket.id)) is not None


async def test_over_run_asks_for_a_revised_estimate(bot: Emulator) -> None:
    _, _, jean, gisele, ref = await _setup(bot)
    await jean.send(f"/estimate {ref} 10h")
    await gisele.click("Approuver")
    await jean.send(f"/log {ref} 10h")
    told = len(gisele.chat)
    await jean.send(f"/log {ref} 1h")  # 11 h: within 10 %
    assert len(gisele.chat) == told
    await jean.send(f"/log {ref} 30m")  # 11 h 30: past 10 h + 10 %
    assert "estimation révisée" in jean.last.text and jean.last.button("Estimer")
    assert len(gisele.chat) == told + 1 and "dépasse" in gisele.last.text
    replies = await jean.send(f"/log {ref} 1h")
    assert "dépasse l'estimation approuvée" in replies[-1].text
    # The card says time is on hold, and does not offer to log it.
    replies = await jean.send(f"/ticket {ref}")
    assert "Estimation révisée attendue" in replies[-1].text
    assert not replies[-1].button("Consigner du temps") and replies[-1].button("Estimer")
    ticket = await _ticket(bot, ref)
    async with bot.services.db.read() as conn:
        assert (await estimates.time_logged(conn, ticket.id)).minutes == 11 * 60 + 30
    await jean.click("Estimer")
    await jean.send("15h")
    replies = await jean.send(f"/log {ref} 1h")
    assert "attend l'approbation" in replies[-1].text  # the revised one awaits approval
    await gisele.click("Approuver")
    replies = await jean.send(f"/log {ref} 1h")
    assert "attend" not in replies[-1].text and "dépasse" not in replies[-1].text
    async with bot.services.db.read() as conn:
        assert (await estimates.time_logged(conn, ticket.id)).minutes == 12 * 60 + 30


async def test_forged_approval_buttons_change_nothing(bot: Emulator) -> None:
    boss, marie, jean, gisele, ref = await _setup(bot)
    await flows.federation(boss, "FCHQ")
    other = await _manager(bot, boss, 2005, "Odile", "FCHQ")
    luc = bot.person(3002, "Luc")
    await jean.send(f"/estimate {ref} 6h")
    _, approve = gisele.find_button("Approuver")
    _, refuse = gisele.find_button("Refuser")
    _, ask = gisele.find_button("Poser une question")
    before = await _ticket(bot, ref)
    for person in (marie, jean, luc, other, boss):
        for data in (approve, refuse, ask, "e:ok:999", "e:ok:x", "e:zz:1"):
            await person.press(data)
            assert person.last_answer is not None and person.last_answer.text, (person, data)
            if data in {refuse, ask}:  # they were not asked for a reason: what they write next
                await person.send("Non merci.")  # goes nowhere near the estimate
    after = await _ticket(bot, ref)
    assert after.status is S.AWAITING_APPROVAL and after.updated_at == before.updated_at
    async with bot.services.db.read() as conn:
        pending = await estimates.pending_estimate(conn, after.id)
        events = await tickets.ticket_events(conn, after.id)
    assert pending is not None and pending.decided_by is None
    assert not {"approve", "refuse"} & {e.kind for e in events}


async def test_a_question_to_the_lead(bot: Emulator) -> None:
    _, _, jean, gisele, ref = await _setup(bot)
    await jean.send(f"/estimate {ref} 6h")
    await gisele.click("Poser une question")
    await gisele.send("Pourquoi deux rencontres?")
    assert "Question envoyée" in gisele.last.text
    assert "Pourquoi deux rencontres?" in jean.last.text and "Gisèle" in jean.last.text
    assert (await _ticket(bot, ref)).status is S.AWAITING_APPROVAL


async def test_federation_approval_policies(bot: Emulator) -> None:
    boss, _, jean, gisele, ref = await _setup(bot)
    replies = await boss.send("/federation approval CQCH off")
    assert "aucune estimation" in replies[-1].text.lower()
    cards = len(gisele.chat)
    replies = await jean.send(f"/estimate {ref} 6h")
    assert "ne demande pas d'approbation" in replies[-1].text
    assert (await _ticket(bot, ref)).status is S.ASSIGNED
    assert len(gisele.chat) == cards
    replies = await boss.send("/federation approbation CQCH 5h")
    assert "plus de 5 h" in _plain(replies[-1].text)
    await jean.send(f"/estimate {ref} 4h")
    assert (await _ticket(bot, ref)).status is S.ASSIGNED and len(gisele.chat) == cards
    await jean.send(f"/estimate {ref} 6h")
    assert (await _ticket(bot, ref)).status is S.AWAITING_APPROVAL
    assert len(gisele.chat) == cards + 1
    replies = await boss.send("/federation approval CQCH 500$")
    assert "500,00 $" in _plain(replies[-1].text)
    replies = await boss.send("/federation approval CQCH 0")
    assert "chaque estimation" in replies[-1].text
    for wrong in ("/federation approval CQCH beaucoup", "/federation approval CQCH"):
        replies = await boss.send(wrong)
        assert "Syntaxe" in replies[-1].text
    replies = await boss.send("/federation approval NOPE 5h")
    assert "NOPE" in replies[-1].text
    federation_id = (await _ticket(bot, ref)).federation_id
    async with bot.services.db.read() as conn:
        policy = await estimates.approval_policy(conn, federation_id)
    assert policy.kind.value == "every"


async def test_estimate_usage_and_unreadable_hours(bot: Emulator) -> None:
    _, _, jean, _, ref = await _setup(bot)
    replies = await jean.send("/estimate")
    assert "Syntaxe" in replies[-1].text
    replies = await jean.send(f"/estimate {ref} beaucoup")
    assert "Je ne comprends pas" in replies[-1].text
    replies = await jean.send(f"/estimate {ref} 6-4h")
    assert "plus petite valeur" in replies[-1].text
    await jean.click("Estimer")
    await jean.send("bientôt")
    assert "Je ne comprends pas" in jean.last.text
    await jean.send("6h")  # still waiting for the hours
    assert "envoyée pour approbation" in jean.last.text
    assert (await _ticket(bot, ref)).status is S.AWAITING_APPROVAL


async def test_the_card_says_what_the_estimate_leaves_of_the_envelope(
    bot: Emulator, clock: ManualClock
) -> None:
    boss, _, jean, gisele, ref = await _setup(bot)
    ticket = await _ticket(bot, ref)
    async with bot.services.db.transaction() as conn:
        for field_id, hours in ((None, 10), (ticket.field_id, 5)):
            await envelopes.set_envelope(
                conn,
                federation_id=ticket.federation_id,
                year=2026,
                field_id=field_id,
                kind=EnvelopeKind.HOURS,
                amount=hours * 60,
                created_by=boss.id,
                now=clock.now(),
            )
    await jean.send(f"/estimate {ref} 6h")
    card = _plain(gisele.last.text)
    assert "il en restera 4 h une fois cette estimation approuvée" in card
    assert "cette estimation la dépasserait de 1 h" in card


async def test_the_reminder_is_sent_once_across_a_restart(
    settings: Settings, clock: ManualClock, api: FakeBotAPI
) -> None:
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        _, _, jean, gisele, ref = await _setup(bot, urgency="Critique")
        await jean.send(f"/estimate {ref} 6h")
        clock.advance(hours=25)
        assert await remind_approvers(bot.services) == 1
        await bot.deliver()
        seen = len(gisele.chat)
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        clock.advance(hours=1)
        assert await remind_approvers(bot.services) == 0
        await bot.deliver()
        assert len(api.chats[gisele.id]) == seen
