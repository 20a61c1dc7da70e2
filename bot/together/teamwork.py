"""What the team does in a ticket's topic (issue 15, part 1): internal notes, writing to the
contact (a reply to one of their messages, or after « Écrire au contact »).

Only the registered leads of the ticket's field and the admins act in a topic; whatever anyone
else writes or presses there is ignored. What a lead writes in the topic stays in the team: a
note on the ticket (its history for staff, never shown to the contact), unless it answers the
contact, in which case it is relayed as any message on the ticket is, and the topic says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.conversation import Incoming, relay
from bot.services import Services
from bot.ui.i18n import t
from storage import people, teams, tickets
from storage.db import Connection
from storage.models import Role, Ticket, TicketStatus, User

NOTE_MAX = 4000
CLOSED = frozenset({TicketStatus.CLOSED, TicketStatus.CANCELLED})


class Done(StrEnum):
    IGNORED = "ignored"  # not a topic of ours, or someone who does not act here
    NOTE = "note"  # kept on the ticket for the team
    SENT = "sent"  # relayed to the contact (the topic is told by bot/together/teams.py)
    REFUSED = "refused"  # meant for the contact, but refused (the reason: `reason`)


@dataclass(frozen=True)
class Outcome:
    done: Done
    ticket: Ticket | None = None
    reason: str | None = None
    language: str = "fr"


async def _who_acts(
    conn: Connection, user_id: int, chat_id: int, thread_id: int | None
) -> tuple[Ticket, User, str] | None:
    """The topic's ticket, the person and the group's language, if they may act there."""
    if thread_id is None:
        return None
    topic = await teams.topic_by_thread(conn, chat_id, thread_id)
    if topic is None:
        return None
    ticket = await tickets.get_ticket(conn, topic.ticket_id)
    group = await teams.group_of_field(conn, ticket.field_id) if ticket else None
    if ticket is None or group is None or group.chat_id != chat_id:
        return None  # the field no longer works here: its ticket is not this group's business
    user = await people.get_user(conn, user_id)
    if user is None or not user.active:
        return None
    if user.role is Role.ADMIN:
        return ticket, user, group.language
    if user.role is Role.LEAD and ticket.field_id in await people.field_ids_of_lead(conn, user.id):
        return ticket, user, group.language
    return None


async def from_topic(
    services: Services,
    user_id: int,
    chat_id: int,
    thread_id: int | None,
    incoming: Incoming,
    reply_to: int | None,
) -> Outcome:
    """Someone wrote in a topic: a note, a message to the contact, or nothing."""
    now = services.clock.now()
    async with services.db.transaction() as conn:
        found = await _who_acts(conn, user_id, chat_id, thread_id)
        if found is None:
            return Outcome(Done.IGNORED)
        ticket, user, language = found
        to_contact = False
        if reply_to is not None:
            relayed = await teams.relayed_at(conn, chat_id, reply_to)
            to_contact = relayed is not None and relayed == (ticket.id, ticket.contact_id)
        pending = await teams.take_write(conn, user.id, chat_id)
        to_contact = to_contact or pending == ticket.id
        if not to_contact:
            body = (incoming.text or "").strip()
            if incoming.kind != "text":
                body = f"📎 {incoming.file_name or incoming.kind}" + (f" — {body}" if body else "")
            await tickets.add_event(
                conn,
                ticket_id=ticket.id,
                actor_id=user.id,
                kind="note",
                note=body[:NOTE_MAX],
                now=now,
            )
            events = await teams.events_after(conn, ticket.id, 0)
            topic = await teams.topic_by_thread(conn, chat_id, thread_id or 0)
            if topic is not None and events:  # already in the topic: not posted again
                await teams.set_last_event(conn, topic.id, events[-1].id)
            return Outcome(Done.NOTE, ticket, language=language)
    relayed_message = await relay(services, user, ticket.id, incoming)
    if relayed_message.refusal is not None:
        return Outcome(Done.REFUSED, ticket, relayed_message.refusal, language)
    return Outcome(Done.SENT, ticket, language=language)


async def press_write(
    services: Services, user_id: int, chat_id: int, thread_id: int | None, ticket_id: int
) -> Outcome:
    """« Écrire au contact » in a topic: the person's next message there goes to the contact."""
    async with services.db.transaction() as conn:
        found = await _who_acts(conn, user_id, chat_id, thread_id)
        if found is None or found[0].id != ticket_id:
            return Outcome(Done.IGNORED)
        ticket, user, _ = found
        if ticket.status in CLOSED:
            return Outcome(Done.REFUSED, ticket, "closed", user.language)
        await teams.expect_write(conn, user.id, chat_id, ticket.id, services.clock.now())
    return Outcome(Done.SENT, ticket, language=user.language)


def refusal_text(outcome: Outcome) -> str:
    """What the topic is told when a message for the contact did not go."""
    key = "teams.refused_closed" if outcome.reason == "closed" else "teams.refused_writer"
    return str(t(outcome.language, key))
