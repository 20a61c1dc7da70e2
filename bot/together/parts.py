"""Requests across several fields: the other fields picked at the form's review, what the
contact is told once the request is sent in several parts, and a part a lead adds."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from bot.lifecycle import notify
from bot.logs import log_event
from bot.rules.forms import InvalidInput, validate_description
from bot.rules.parts import fields_to_add, may_add_part
from bot.services import Services
from bot.tickets import Filed, announce_new_ticket, message_payload, open_ticket, relation_to
from bot.ui import keyboards, render
from bot.ui.i18n import Html, t, tn
from storage import conversation, drafts, outbox, parts, people, tickets
from storage.db import Connection
from storage.models import (
    Draft,
    DraftStatus,
    ExpertiseField,
    FormStep,
    Ticket,
    TicketStatus,
    User,
)

log = logging.getLogger(__name__)
ENDED = frozenset({TicketStatus.CLOSED, TicketStatus.CANCELLED})  # parts nobody holds now


class NotPickable(Exception):
    """The draft is not at its review any more, or the field may not be picked."""


async def review_draft(services: Services, user: User, draft_id: int) -> Draft:
    """The contact's open draft at its review, or NotPickable (a stale or forged button)."""
    async with services.db.read() as conn:
        draft = await drafts.open_draft(conn, user.id)
    if draft is None or draft.id != draft_id or draft.status is not DraftStatus.OPEN:
        raise NotPickable
    if draft.step is not FormStep.REVIEW or draft.editing:
        raise NotPickable
    return draft


async def choices(services: Services, draft: Draft) -> tuple[list[ExpertiseField], set[int]]:
    """The fields the draft may also touch (active, not its own), and those picked."""
    async with services.db.read() as conn:
        every = await people.list_fields(conn, active_only=True)
        picked = set(await parts.draft_fields(conn, draft.id))
    offered = fields_to_add(every, [draft.field_id] if draft.field_id else [])
    return offered, picked & {f.id for f in offered}


async def toggle(services: Services, user: User, draft_id: int, field_id: int) -> Draft:
    """Pick or unpick a field for the draft, checked in the same transaction."""
    async with services.db.transaction() as conn:
        draft = await drafts.open_draft(conn, user.id)
        field = await people.get_field(conn, field_id)
        if draft is None or draft.id != draft_id or draft.step is not FormStep.REVIEW:
            raise NotPickable
        if field is None or not field.active or field.id == draft.field_id:
            raise NotPickable
        await parts.toggle_draft_field(conn, draft.id, field.id)
    return draft


async def _dropped(conn: Connection, filed: Filed, language: str) -> list[Html]:
    """« Le domaine X n'est plus offert… »: each field picked at the review and switched off
    before Send, which was not filed."""
    if not filed.created or filed.ticket.draft_id is None:
        return []
    done = {part.field_id for part in (filed.ticket, *filed.parts)}
    lines = []
    for field_id in await parts.draft_fields(conn, filed.ticket.draft_id):
        field = await people.get_field(conn, field_id)
        if field is not None and not field.active and field_id not in done:
            lines.append(t(language, "parts.field_dropped", field=field.name(language)))
    return lines


async def sent_text(services: Services, filed: Filed, language: str) -> Html:
    """What the contact is told once the request is filed: its reference, or its parts; and
    the fields picked that were switched off meanwhile."""
    async with services.db.read() as conn:
        dropped = await _dropped(conn, filed, language)
        if not filed.parts:
            lines = [t(language, filed.sent_key, reference=filed.ticket.reference)]
        else:
            lines = [tn(language, "parts.sent", len(filed.parts) + 1)]
            for part in (filed.ticket, *filed.parts):
                field = await people.get_field(conn, part.field_id)
                name = field.name(language) if field else "—"
                lines.append(t(language, "parts.sent_line", reference=part.reference, field=name))
            lines.append(t(language, "parts.sent_after"))
    return Html("\n".join([*lines, *dropped]))


# -- a part added by a lead from a ticket's card ----------------------------------------------


async def addable_fields(
    conn: Connection, user: User, ticket_id: int, today: date | None = None
) -> tuple[Ticket, list[ExpertiseField]] | None:
    """The ticket and the fields a part may be added in; None: not this person's to add to
    (with `today`, who covers an absent lead may, as on the card)."""
    ticket = await tickets.get_ticket(conn, ticket_id)
    if ticket is None or not may_add_part(await relation_to(conn, user, ticket, today), ticket):
        return None
    every = await parts.parts_of(conn, ticket.id) or [ticket]
    offered = fields_to_add(
        await people.list_fields(conn, active_only=True), [p.field_id for p in every]
    )
    return ticket, offered


async def _tell_holders(
    conn: Connection,
    services: Services,
    lead: User,
    first: Ticket,
    part: Ticket,
    field: ExpertiseField,
) -> None:
    """The leads holding the request's other parts (or who covers them) hear of the new one."""
    told = {lead.id}
    who = render.person(lead)
    for other in await parts.parts_of(conn, part.id):
        holder = other.assignee_id
        if holder is None or holder in told or other.status in ENDED:
            continue
        told.add(holder)
        await notify(
            conn,
            services,
            holder,
            other,
            "part_added",
            lambda lang: t(
                lang,
                "parts.added_told",
                request=first.reference,
                reference=part.reference,
                field=field.name(lang),
                who=who,
            ),
        )


@dataclass(frozen=True)
class Added:
    part: Ticket | None
    refusal: str | None = None  # not_allowed, field_taken, description.too_short…


async def add_part(
    services: Services, lead: User, ticket_id: int, field_id: int, note: str
) -> Added:
    """A new ticket in `field_id`, linked to the ticket's request, its description the lead's
    note; offered to the field's leads as a new request, the contact told. One transaction."""
    now = services.clock.now()
    try:
        description = validate_description(note)
    except InvalidInput as problem:
        return Added(None, f"description.{problem.problem}")
    async with services.db.transaction() as conn:
        found = await addable_fields(conn, lead, ticket_id, services.today())
        if found is None:
            return Added(None, "not_allowed")
        ticket, offered = found
        field = next((f for f in offered if f.id == field_id), None)
        if field is None:
            return Added(None, "field_taken")
        first = await tickets.get_ticket(conn, await parts.request_of(conn, ticket.id))
        assert first is not None
        draft = Draft(
            id=0,
            user_id=ticket.contact_id,
            status=DraftStatus.SUBMITTED,
            step=FormStep.REVIEW,
            editing=False,
            field_id=ticket.field_id,
            subject=ticket.subject,
            description=description,
            urgency=ticket.urgency,
            desired_date=ticket.desired_date,
            created_at=now,
            updated_at=now,
            attachments=tuple(await tickets.ticket_attachments(conn, ticket.id)),
        )
        part = await open_ticket(
            conn,
            services,
            draft,
            federation_id=ticket.federation_id,
            field_id=field.id,
            actor_id=lead.id,
            now=now,
        )
        await tickets.add_event(
            conn,
            ticket_id=ticket.id,
            actor_id=lead.id,
            kind="part_added",
            now=now,
            note=part.reference,
        )
        await parts.link(conn, first, part, now, added_by=lead.id)
        await announce_new_ticket(conn, services, part)
        await _tell_holders(conn, services, lead, first, part, field)
        contact = await people.get_user(conn, ticket.contact_id)
        if contact is not None:
            language = contact.language
            text = t(
                language,
                "parts.contact_told",
                reference=part.reference,
                field=field.name(language),
                request=first.reference,
            )
            await outbox.enqueue(
                conn,
                chat_id=contact.id,
                method="send_message",
                payload=message_payload(text, keyboards.reply(part.id, language)),
                purpose="part_added",
                now=now,
                ticket_id=part.id,
            )
        await parts.clear_choice(conn, lead.id)
        await conversation.clear_input(conn, lead.id)
    services.wake_outbox()
    log_event(log, "ticket.part_added", ref=part.reference, of=ticket.reference, user=lead.id)
    return Added(part)
