"""Every ticket action, from every state, by every kind of person, through the real bot:
exactly the allowed ones change the ticket; the others change nothing and get an answer."""

from __future__ import annotations

import pytest

from bot.tools.emulator import Emulator, Person
from storage import tickets
from storage.models import TicketStatus
from tests import flows

S = TicketStatus
A = S.AWAITING_APPROVAL
OPEN = {S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING, A}
WORKED = {S.ASSIGNED, S.IN_PROGRESS, S.WAITING}
# (button, follow-up message or None): allowed states, who may, and the state it leads to.
Case = tuple[str | None, set[TicketStatus], set[str], TicketStatus | None]
ACTIONS: dict[str, Case] = {
    "take": (None, {S.NEW}, {"field_lead", "admin"}, S.ASSIGNED),
    "start": (None, {S.ASSIGNED, S.WAITING}, {"assignee", "admin"}, S.IN_PROGRESS),
    "ask": ("Une question?", WORKED, {"assignee", "admin"}, S.WAITING),
    "resolve": ("Réglé ainsi.", WORKED, {"assignee", "admin"}, S.RESOLVED),
    "confirm": (None, {S.RESOLVED}, {"owner"}, S.CLOSED),
    "reopen": (None, {S.RESOLVED}, {"owner", "admin"}, S.IN_PROGRESS),
    "cancelok": (None, OPEN, {"owner"}, S.CANCELLED),
    # Issue 14: the lead's estimate, the approver's decision (the "manager" below approves).
    "estimate": ("6h", WORKED | {A}, {"assignee", "admin"}, A),
    "approve": (None, {A}, {"manager"}, S.IN_PROGRESS),
    "refuse": ("Trop cher pour cette année.", {A}, {"manager"}, S.ASSIGNED),
    # The lead cancels after a refusal: its estimate (number 1) is then refused.
    "drop": ("Le conseil a renoncé.", WORKED, {"assignee", "admin"}, S.CANCELLED),
}
# The approver's buttons are on the estimate (`e:`), the others on the ticket (`t:`).
BUTTON = {"approve": "e:ok:1", "refuse": "e:no:1", "drop": "e:drop:1"}


async def _set(
    bot: Emulator, status: TicketStatus, assignee: int | None, lead: int, estimate: str = "pending"
) -> None:
    """Ticket 1 in `status`, with one estimate (number 1) pending, whatever the state."""
    async with bot.services.db.transaction() as conn:
        await conn.execute(
            "UPDATE tickets SET status = ?, assignee_id = ?, rating = NULL WHERE id = 1",
            (status.value, assignee),
        )
        await conn.execute("DELETE FROM pending_inputs")
        await conn.execute("DELETE FROM approval_reminders")
        await conn.execute("DELETE FROM estimates")
        await conn.execute(
            "INSERT INTO estimates (id, ticket_id, low_minutes, high_minutes, hourly_rate_cents,"
            " low_amount_cents, high_amount_cents, created_by, created_at, status, decided_at)"
            " VALUES (1, 1, 360, 360, 0, 0, 0, ?, '2026-11-24T19:00:00.000000+00:00', ?, ?)",
            (
                lead,
                estimate,
                None if estimate == "pending" else "2026-11-24T20:00:00.000000+00:00",
            ),
        )


@pytest.mark.parametrize("state", list(TicketStatus))
async def test_every_action_by_everyone_from(bot: Emulator, state: TicketStatus) -> None:
    boss, marie, jean, luc = await flows.world(bot)
    paul = await flows.contact(bot, boss, 2002, "Paul")
    gisele = await flows.contact(bot, boss, 2003, "Gisèle")
    made = await boss.send(f"/role {gisele.id} gestionnaire CQCH")  # the federation's manager
    assert "gestionnaire" in made[-1].text
    eve = await flows.lead(bot, boss, 3003, "Eve", "hr")
    await flows.file_request(marie)
    assignee = None if state is S.NEW else jean.id
    people: dict[str, Person] = {
        "owner": marie,
        "other_contact": paul,
        "manager": gisele,  # of the same federation: reads the request, does not act on it
        "assignee": jean,
        "field_lead": luc,
        "other_lead": eve,
        "admin": boss,
    }
    for action, (follow_up, states, allowed, target) in ACTIONS.items():
        for role, person in people.items():
            await _set(bot, state, assignee, jean.id, "refused" if action == "drop" else "pending")
            roles = {role} | ({"field_lead"} if role == "assignee" else set())
            may = state in states and bool(roles & allowed)
            before = len(person.chat)
            data = BUTTON.get(action, f"t:{action}:1")
            await person.press(data, person.chat[-1] if person.chat else None)
            answered = person.last_answer is not None and bool(person.last_answer.text)
            if may and follow_up:
                await person.send(follow_up)
            async with bot.services.db.read() as conn:
                ticket = await tickets.get_ticket(conn, 1)
            assert ticket is not None
            case = f"{action} by {role} from {state.value}"
            if may:
                assert ticket.status is target, case
            else:
                assert ticket.status is state, case
                assert ticket.assignee_id == assignee, case
                # They were told why: an alert on the button, or a message.
                assert answered or len(person.chat) > before, case
