"""A team's group (issue 15, part 1): linking a forum supergroup to fields, and the topic of
each of their tickets there (delivery of topics: bot/together/topics.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.conversation import Incoming
from bot.rules.teams import (
    NotifyMode,
    names_ticket,
    told_in_private,
    topic_closed,
    topic_name,
    topic_state,
)
from bot.services import Services
from bot.tickets import lead_card, message_payload
from bot.ui import callbacks as cb
from bot.ui import render
from bot.ui.i18n import Html, escape, t
from storage import outbox, people, teams, tickets
from storage.db import Connection
from storage.models import ExpertiseField, TeamGroup, Ticket, TicketStatus, TicketTopic, User

if TYPE_CHECKING:
    from bot.delivery.outbox import Outbox

TOPIC = "team_topic"  # purposes of the outbox rows
TOPIC_POST = "team_post"
TEAM_CARD = "team_card"
WRITE_SCOPE = "tw"  # the topic card's « Écrire au contact »: tw:write:<ticket id>
TOPIC_STATE = "team_topic_state"
_REFERENCE = re.compile(r"[A-Z][A-Z0-9]*-\d{4}-\d{4,}")


@dataclass(frozen=True)
class Linked:
    fields: list[ExpertiseField]
    unknown: list[str]  # codes that name no field (nothing was linked then)
    moved: list[tuple[ExpertiseField, str]]  # fields taken from another group (its title)


async def link(
    services: Services, chat_id: int, title: str, codes: tuple[str, ...], user_id: int, lang: str
) -> Linked:
    """Make the group the workspace of the fields `codes` (all known, or nothing changes)."""
    async with services.db.transaction() as conn:
        found = await people.fields_by_codes(conn, codes)
        unknown = [code for code in codes if code not in found]
        if unknown:
            return Linked([], unknown, [])
        fields = [found[code] for code in codes]
        moved_from = await teams.link_group(
            conn,
            chat_id=chat_id,
            title=title,
            language=lang,
            user_id=user_id,
            field_ids=[f.id for f in fields],
            now=services.clock.now(),
        )
        moved = []
        for field in fields:
            if field.id in moved_from:
                group = await teams.get_group(conn, moved_from[field.id])
                moved.append((field, group.title if group else str(moved_from[field.id])))
    return Linked(fields, [], moved)


async def unlink(services: Services, chat_id: int) -> list[ExpertiseField]:
    async with services.db.transaction() as conn:
        return await teams.unlink_group(conn, chat_id)


async def linked_fields(services: Services, chat_id: int) -> list[ExpertiseField]:
    async with services.db.read() as conn:
        return await teams.fields_of_group(conn, chat_id)


def card_markup(ticket: Ticket, language: str) -> InlineKeyboardMarkup | None:
    """The buttons of a topic's card: *Prendre la demande* while it is new, then *Écrire au
    contact* while it is open (who may press them is checked when they do)."""
    if ticket.status is TicketStatus.NEW:  # the same data as the private offer's button
        take = cb.pack(cb.TICKET, "take", ticket.id)
        return _one_button(t(language, "button.take"), take)
    if ticket.status in {TicketStatus.CLOSED, TicketStatus.CANCELLED}:
        return None
    return _one_button(t(language, "teams.write"), cb.pack(WRITE_SCOPE, "write", ticket.id))


def _one_button(label: str, data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


async def notify_mode(conn: Connection, user_id: int) -> NotifyMode:
    mode = await teams.notify_mode(conn, user_id)
    return NotifyMode(mode) if mode else NotifyMode.BOTH


async def set_notify(services: Services, user_id: int, mode: NotifyMode) -> None:
    async with services.db.transaction() as conn:
        await teams.set_notify_mode(conn, user_id, mode.value)


async def offer_elsewhere(conn: Connection, chat_id: int, ticket: Ticket) -> bool:
    """A lead who chose `/notify group` is offered the ticket in its topic, not in private."""
    mode = await notify_mode(conn, chat_id)
    if mode is not NotifyMode.GROUP:
        return False
    has_group = await teams.group_of_field(conn, ticket.field_id) is not None
    return not told_in_private(mode, has_group)


# -- a ticket's topic -------------------------------------------------------------------------


async def on_new_ticket(conn: Connection, services: Services, ticket: Ticket) -> None:
    """A new ticket of a field that has a group: its topic, card and attachments, queued."""
    group = await teams.group_of_field(conn, ticket.field_id)
    if group is None:
        return
    now = services.clock.now()
    topic = await teams.add_topic(conn, ticket.id, group.chat_id, now)
    events = await teams.events_after(conn, ticket.id, 0)
    if events:  # "created": the card says it
        await teams.set_last_event(conn, topic.id, events[-1].id)
    await _open_topic(conn, now, group, ticket, topic, None)


async def _open_topic(
    conn: Connection,
    now: datetime,
    group: TeamGroup,
    ticket: Ticket,
    topic: TicketTopic,
    header: Html | None,
) -> None:
    """Queue the topic's creation, then its card (under `header`) and the attachments."""
    language = group.language

    async def queue(method: str, purpose: str, payload: dict[str, object]) -> None:
        await outbox.enqueue(
            conn,
            chat_id=group.chat_id,
            method=method,
            payload={"topic": topic.id, **payload},
            purpose=purpose,
            now=now,
            ticket_id=ticket.id,
        )

    await queue("topic_create", TOPIC, {"name": topic_name(ticket.reference, ticket.subject)})
    card = await lead_card(conn, ticket, language)
    if header is not None:
        card = Html(f"{header}\n\n{card}")
    await queue("topic_message", TEAM_CARD, message_payload(card, card_markup(ticket, language)))
    files = await tickets.ticket_attachments(conn, ticket.id)
    for number, file in enumerate(files, start=1):
        caption = t(
            language, "card.attachment", reference=ticket.reference, n=number, of=len(files)
        )
        photo = file.kind == "photo"
        method, key = ("topic_photo", "photo") if photo else ("topic_document", "document")
        payload: dict[str, object] = {
            key: file.file_id,
            "caption": str(caption),
            "parse_mode": "HTML",
        }
        await queue(method, TOPIC_POST, payload)


async def heal(box: Outbox, dead: TicketTopic) -> None:
    """Telegram says the topic is gone: a new one, with the card and a note of what happened."""
    now = box.clock.now()
    async with box.db.transaction() as conn:
        if not await teams.mark_deleted(conn, dead.id, now):
            return  # another post healed it already
        ticket = await tickets.get_ticket(conn, dead.ticket_id)
        group = await teams.group_of_field(conn, ticket.field_id) if ticket else None
        if ticket is None or group is None or group.chat_id != dead.chat_id:
            return  # its field no longer works in that group: the ticket's posts stop there
        topic = await teams.add_topic(conn, ticket.id, group.chat_id, now)
        note = t(group.language, "teams.topic_recreated")
        await _open_topic(conn, now, group, ticket, topic, note)
    box.wake()


async def adopt(services: Services, chat_id: int, thread: int, name: str) -> int | None:
    """A `forum_topic_created` of the bot: record it as its ticket's topic if that one's answer
    was lost; a duplicate of a recorded topic is returned (to delete). None: nothing to do."""
    match = _REFERENCE.search(name)
    if match is None:
        return None
    async with services.db.transaction() as conn:
        ticket = await tickets.ticket_by_reference(conn, match.group(0))
        if ticket is None or not names_ticket(name, ticket.reference):
            return None
        topic = await teams.live_topic(conn, ticket.id, chat_id)
        if topic is None or topic.thread_id == thread:
            return None
        if topic.thread_id is None and topic.attempted_at is not None:
            await teams.record_thread(conn, topic.id, thread)
            return None
        if topic.thread_id is not None:
            return thread  # created twice: this one goes
    return None


# -- what happens to the ticket afterwards ----------------------------------------------------


async def _live(
    conn: Connection, ticket: Ticket, now: datetime | None = None
) -> tuple[TicketTopic, TeamGroup] | None:
    """The ticket's topic, if its field still works in the group that has it. With `now`, a
    ticket whose topic there was lost (deleted, or refused by Telegram) gets a new one, which
    goes on from where the lost one was."""
    group = await teams.group_of_field(conn, ticket.field_id)
    if group is None:
        return None
    topic = await teams.live_topic(conn, ticket.id, group.chat_id)
    if topic is not None or now is None:
        return (topic, group) if topic is not None else None
    earlier = [
        x for x in await teams.topics_of_ticket(conn, ticket.id) if x.chat_id == group.chat_id
    ]
    if not earlier:
        return None  # filed before the group was linked: it is not the group's
    topic = await teams.add_topic(conn, ticket.id, group.chat_id, now)
    await teams.set_last_event(conn, topic.id, max(x.last_event_id for x in earlier))
    deleted = any(x.thread_id is not None for x in earlier)
    header = t(group.language, "teams.topic_recreated") if deleted else None
    await _open_topic(conn, now, group, ticket, topic, header)
    again = await teams.get_topic(conn, topic.id)
    assert again is not None
    return again, group


async def _post(
    conn: Connection,
    now: datetime,
    topic: TicketTopic,
    method: str,
    payload: dict[str, object],
    *,
    purpose: str = TOPIC_POST,
    ticket_message_id: int | None = None,
    edit_of: int | None = None,
) -> None:
    await outbox.enqueue(
        conn,
        chat_id=topic.chat_id,
        method=method,
        payload={"topic": topic.id, **payload} if method.startswith("topic_") else payload,
        purpose=purpose,
        now=now,
        ticket_id=topic.ticket_id,
        ticket_message_id=ticket_message_id,
        edit_of=edit_of,
    )


async def on_event(conn: Connection, services: Services, ticket: Ticket) -> None:
    """Post the ticket's new events in its topic, and show its state in the topic's name."""
    now = services.clock.now()
    live = await _live(conn, ticket, now)
    if live is None:
        return
    topic, group = live
    language = group.language
    current = await tickets.get_ticket(conn, ticket.id) or ticket
    events = await teams.events_after(conn, ticket.id, topic.last_event_id)
    for entry in events:
        if entry.kind == "created":
            continue
        actor = await people.get_user(conn, entry.actor_id) if entry.actor_id else None
        line = t(
            language,
            "teams.event",
            who=render.person(actor) if actor else t(language, "teams.the_bot"),
            what=render.event(entry, language, for_contact=False),
        )
        await _post(conn, now, topic, "topic_message", message_payload(line))
    if events:
        await teams.set_last_event(conn, topic.id, events[-1].id)
    if any(e.from_status is TicketStatus.NEW for e in events):
        await _refresh_card(conn, now, group, current, topic)
    await _show_state(conn, now, current, topic)


async def _refresh_card(
    conn: Connection, now: datetime, group: TeamGroup, ticket: Ticket, topic: TicketTopic
) -> None:
    """The topic's card as the ticket now stands (no *Prendre la demande* once it is taken)."""
    cards = [
        row
        for row in await outbox.for_ticket(conn, ticket.id, TEAM_CARD)
        if row.chat_id == topic.chat_id and row.payload.get("topic") == topic.id
    ]
    if not cards:
        return
    card = await lead_card(conn, ticket, group.language)
    payload = message_payload(card, card_markup(ticket, group.language))
    await _post(conn, now, topic, "edit_message_text", payload, edit_of=cards[-1].id)


async def _show_state(conn: Connection, now: datetime, ticket: Ticket, topic: TicketTopic) -> None:
    state = topic_state(ticket.status)
    if state.value != topic.shown_state:
        name = topic_name(ticket.reference, ticket.subject, state)
        await _post(conn, now, topic, "topic_edit", {"name": name}, purpose=TOPIC_STATE)
        await teams.set_shown(conn, topic.id, state=state.value)
    closed = topic_closed(ticket.status)
    if closed != topic.closed:
        method = "topic_close" if closed else "topic_reopen"
        await _post(conn, now, topic, method, {}, purpose=TOPIC_STATE)
        await teams.set_shown(conn, topic.id, closed=closed)


async def on_message(
    conn: Connection,
    services: Services,
    ticket: Ticket,
    author: User,
    incoming: Incoming,
    message_id: int,
) -> None:
    """A message relayed on the ticket, both ways, shown in its topic too."""
    live = await _live(conn, ticket)
    if live is None:
        return
    topic, group = live
    language = group.language
    now = services.clock.now()
    if incoming.chat_id == topic.chat_id:  # written in the topic: the team saw it there
        contact = await people.get_user(conn, ticket.contact_id)
        name = contact.full_name if contact else "—"
        sent = t(language, "teams.sent_to", name=name)
        await _post(conn, now, topic, "topic_message", message_payload(sent))
        return
    key = "teams.from_contact" if author.id == ticket.contact_id else "teams.from_lead"
    header = t(language, key, name=author.full_name)
    text = Html(f"{header}\n{escape(incoming.text)}") if incoming.text else header
    if incoming.kind == "text":
        method, payload = "topic_message", message_payload(text)
    else:
        method = "topic_photo" if incoming.kind == "photo" else "topic_document"
        payload = {incoming.kind: incoming.file_id, "caption": str(text), "parse_mode": "HTML"}
    await _post(conn, now, topic, method, payload, ticket_message_id=message_id)
