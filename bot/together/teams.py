"""A team's group (issue 15, part 1): linking a forum supergroup to fields, and the topic of
each of their tickets there (delivery of topics: bot/together/topics.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.rules.teams import names_ticket, topic_name
from bot.rules.workflow import Relation
from bot.services import Services
from bot.tickets import lead_card, message_payload
from bot.ui import keyboards
from bot.ui.i18n import Html, t
from storage import outbox, people, teams, tickets
from storage.db import Connection
from storage.models import ExpertiseField, TeamGroup, Ticket, TicketTopic

if TYPE_CHECKING:
    from bot.delivery.outbox import Outbox

TOPIC = "team_topic"  # purposes of the outbox rows
TOPIC_POST = "team_post"
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


# -- a ticket's topic -------------------------------------------------------------------------


async def on_new_ticket(conn: Connection, services: Services, ticket: Ticket) -> None:
    """A new ticket of a field that has a group: its topic, card and attachments, queued."""
    group = await teams.group_of_field(conn, ticket.field_id)
    if group is None:
        return
    now = services.clock.now()
    topic = await teams.add_topic(conn, ticket.id, group.chat_id, now)
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
    offer = frozenset({Relation.FIELD_LEAD})
    markup = keyboards.lead_actions(ticket, offer, language)
    await queue("topic_message", TOPIC_POST, message_payload(card, markup))
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
        group = await teams.get_group(conn, dead.chat_id)
        if ticket is None or group is None:
            return  # the group was unlinked: the ticket's posts stop there
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
