"""Ticket operations: filing a draft, taking a ticket, who may see what. Each in one transaction
with its audit event and the outbox rows that announce it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from telegram import InlineKeyboardMarkup

from bot.logs import log_event
from bot.rules.forms import TicketRequest
from bot.rules.workflow import Actor, Relation, can_view, relations
from bot.services import Services
from bot.together import absences, linked
from bot.ui import keyboards, render
from bot.ui.i18n import Html, escape, t
from storage import drafts, outbox, parts, people, tickets
from storage.db import Connection
from storage.models import Draft, DraftStatus, Role, Ticket, TicketStatus, User

log = logging.getLogger(__name__)

NEW_TICKET = "new_ticket"
NEW_TICKET_FILE = "new_ticket_file"
# Who else hears of a new ticket, in its transaction: its team's group (bot/together/topics.py).
NewTicketHook = Callable[[Connection, Services, Ticket], Awaitable[None]]
NEW_TICKET_HOOKS: list[NewTicketHook] = []
# Whether a recipient (chat id) of a new ticket is told elsewhere instead of in private: a lead
# who chose to be told in their team's group (`/notify group`, bot/together/teams.py).
OfferFilter = Callable[[Connection, int, Ticket], Awaitable[bool]]
OFFER_ELSEWHERE: list[OfferFilter] = []


def message_payload(text: Html, markup: InlineKeyboardMarkup | None = None) -> dict[str, Any]:
    """An outbox payload for `send_message` / `edit_message_text`."""
    payload: dict[str, Any] = {"text": str(text), "parse_mode": "HTML"}
    if markup is not None:
        payload["reply_markup"] = markup.to_dict()
    return payload


async def actor_for(conn: Connection, user: User, today: date | None = None) -> Actor:
    """`user` as an actor; with `today`, also what they cover for absent leads that day."""
    fields = await people.field_ids_of_lead(conn, user.id) if user.role is Role.LEAD else set()
    if today is None or user.role not in absences.STAFF:
        return Actor.of(user, frozenset(fields))
    covered, offered = await absences.coverage(conn, user, today)
    return Actor.of(user, frozenset(fields | offered), covered)


async def relation_to(
    conn: Connection, user: User, ticket: Ticket, today: date | None = None
) -> frozenset[Relation]:
    """How `user` stands to `ticket`; with `today`, as the delegate of an absent lead too."""
    field = await people.get_field(conn, ticket.field_id)
    admin_field = field is not None and (
        field.routes_to_admins or not await people.leads_of_field(conn, field.id)
    )
    managed = await people.has_managers(conn, ticket.federation_id)
    actor = await actor_for(conn, user, today)
    return relations(actor, ticket, admin_field=admin_field, federation_managed=managed)


async def visible_ticket(
    conn: Connection, user: User, key: str | int, today: date | None = None
) -> Ticket | None:
    """The ticket (by reference or id) if `user` may see it; None if unknown or not theirs,
    which look the same to them. `today`: as `relation_to`."""
    if isinstance(key, int):
        ticket = await tickets.get_ticket(conn, key)
    else:
        ticket = await tickets.ticket_by_reference(conn, key)
    if ticket is None or not can_view(await relation_to(conn, user, ticket, today)):
        return None
    return ticket


async def _field_leads(conn: Connection, services: Services, field_id: int) -> list[User]:
    """Who a new ticket of the field goes to: its active leads who are not away (when all are,
    those who cover them); none: it goes to the admins."""
    field = await people.get_field(conn, field_id)
    if field is None or field.routes_to_admins:
        return []
    return await absences.offer_takers(conn, field_id, services.today())


async def recipients(conn: Connection, services: Services, field_id: int) -> list[tuple[int, str]]:
    """Who is told of a new ticket: the field's active leads, else the admins (id, language)."""
    leads = await _field_leads(conn, services, field_id)
    if leads:
        return [(u.id, u.language) for u in leads]
    settings = services.settings
    return await people.admins_to_tell(conn, settings.admin_ids, settings.default_language)


@dataclass(frozen=True)
class Filed:
    ticket: Ticket
    created: bool  # False: this draft had already been sent (a second press of Send)
    to_admins: bool = False  # the field has no lead (or is "Other"): the admins were told
    parts: tuple[Ticket, ...] = ()  # the request's other parts, one per other field picked

    @property
    def sent_key(self) -> str:
        """The catalogue key of what the contact is told once it is filed."""
        return "form.sent_admins" if self.to_admins else "form.sent"


class IncompleteDraft(Exception):
    """The draft lacks something; `step` is the first missing step."""


class DailyLimit(Exception):
    """The contact has filed as many requests today as they may."""


class FederationInactive(Exception):
    """The contact's federation has been deactivated: no new requests."""


class FieldInactive(Exception):
    """The draft's field of expertise has been switched off since it was chosen."""


async def may_file(conn: Connection, services: Services, contact: User) -> None:
    """Raise why `contact` may not file a request now (federation off, daily limit)."""
    federation = (
        await people.federation_by_id(conn, contact.federation_id)
        if contact.federation_id
        else None
    )
    if federation is None or not federation.active:
        raise FederationInactive
    if await over_daily_limit(conn, services, contact.id):
        raise DailyLimit


async def over_daily_limit(conn: Connection, services: Services, contact_id: int) -> bool:
    """Whether a contact has used up their requests for the last 24 hours."""
    limit = services.settings.max_requests_per_day
    if limit <= 0:
        return False
    since = services.clock.now() - timedelta(days=1)
    return await tickets.count_filed_since(conn, contact_id, since) >= limit


async def file_draft(services: Services, user: User, draft_id: int) -> Filed | None:
    """Turn the user's draft into a ticket and queue the leads' notifications, atomically.

    Idempotent: a draft already filed returns its ticket. None: not this user's open draft.
    """
    now = services.clock.now()
    async with services.db.transaction() as conn:
        existing = await tickets.ticket_by_draft(conn, draft_id)
        if existing is not None:
            return Filed(existing, created=False) if existing.contact_id == user.id else None
        draft = await drafts.get_draft(conn, draft_id)
        if draft is None or draft.user_id != user.id or draft.status is not DraftStatus.OPEN:
            return None
        try:
            TicketRequest.model_validate(draft.model_dump())
        except ValidationError as exc:
            raise IncompleteDraft(str(exc.errors()[0]["loc"][0])) from None
        await may_file(conn, services, user)
        field = await people.get_field(conn, draft.field_id) if draft.field_id else None
        if field is None or not field.active:
            raise FieldInactive
        assert user.federation_id is not None
        # One ticket per field (the first records the draft), linked as one request.
        created: list[Ticket] = []
        for field_id in [field.id, *await linked.other_fields(conn, draft)]:
            part = await open_ticket(
                conn,
                services,
                draft,
                federation_id=user.federation_id,
                field_id=field_id if created else None,
                actor_id=user.id,
                now=now,
            )
            if created:
                await parts.link(conn, created[0], part, now)
            created.append(part)
        await drafts.close_draft(conn, draft.id, DraftStatus.SUBMITTED)
        ticket = created[0]
        to_admins = not await _field_leads(conn, services, ticket.field_id)
        for part in created:
            await announce_new_ticket(conn, services, part)
    services.wake_outbox()
    for part in created:
        log_event(log, "ticket.filed", ref=part.reference, user=user.id, field=part.field_id)
    return Filed(ticket, created=True, to_admins=to_admins, parts=tuple(created[1:]))


async def open_ticket(
    conn: Connection,
    services: Services,
    draft: Draft,
    *,
    federation_id: int,
    field_id: int | None,
    actor_id: int,
    now: datetime,
) -> Ticket:
    """A new ticket from `draft` (in `field_id` rather than the draft's field, if given), with
    the year's next reference and its `created` event; announced by the caller."""
    reference = await tickets.next_reference(
        conn, services.settings.ticket_prefix, now.astimezone(services.settings.tz).year
    )
    ticket = await tickets.insert_ticket(
        conn,
        reference=reference,
        draft=draft,
        federation_id=federation_id,
        now=now,
        field_id=field_id,
    )
    await tickets.add_event(
        conn,
        ticket_id=ticket.id,
        actor_id=actor_id,
        kind="created",
        to_status=TicketStatus.NEW,
        now=now,
    )
    return ticket


async def announce_new_ticket(conn: Connection, services: Services, ticket: Ticket) -> None:
    files = await tickets.ticket_attachments(conn, ticket.id)
    now = services.clock.now()
    # What the recipients may do: take it (the field's leads); the admins, who get it when the
    # field has no lead, may also give it to a lead from the notification.
    offer = frozenset({Relation.FIELD_LEAD})
    if not await _field_leads(conn, services, ticket.field_id):
        offer |= {Relation.ADMIN}
    for chat_id, language in await recipients(conn, services, ticket.field_id):
        if any([await elsewhere(conn, chat_id, ticket) for elsewhere in OFFER_ELSEWHERE]):
            continue
        card = await lead_card(conn, ticket, language)
        await outbox.enqueue(
            conn,
            chat_id=chat_id,
            method="send_message",
            payload=message_payload(card, keyboards.lead_actions(ticket, offer, language)),
            purpose=NEW_TICKET,
            now=now,
            ticket_id=ticket.id,
        )
        for number, file in enumerate(files, start=1):
            caption = t(
                language, "card.attachment", reference=ticket.reference, n=number, of=len(files)
            )
            method, key = (
                ("send_photo", "photo") if file.kind == "photo" else ("send_document", "document")
            )
            await outbox.enqueue(
                conn,
                chat_id=chat_id,
                method=method,
                payload={key: file.file_id, "caption": str(caption), "parse_mode": "HTML"},
                purpose=NEW_TICKET_FILE,
                now=now,
                ticket_id=ticket.id,
            )
    for hook in NEW_TICKET_HOOKS:
        await hook(conn, services, ticket)


async def dropped_status(
    conn: Connection, ticket: Ticket, reader: User, language: str
) -> Html | None:
    """« Annulée par Jean (après le refus de l'estimation) », or « par vous »: the state of a
    request its lead cancelled after a refusal, which is not « cancelled by the contact »;
    None for any other."""
    if ticket.status is not TicketStatus.CANCELLED:
        return None
    events = await tickets.ticket_events(conn, ticket.id)
    drop = next((e for e in reversed(events) if e.kind == "drop"), None)
    if drop is None:
        return None
    if drop.actor_id == reader.id:
        return t(language, "status.dropped_you")
    actor = await people.get_user(conn, drop.actor_id) if drop.actor_id else None
    return t(language, "status.dropped", who=escape(actor.full_name) if actor else "—")


async def lead_card(
    conn: Connection,
    ticket: Ticket,
    language: str,
    today: date | None = None,
    notes: Sequence[Html] = (),
    status_text: Html | None = None,
) -> Html:
    """The ticket as a lead or an admin sees it, with who holds it (`today`: and whether they
    are away, and who covers them); `notes`: lines under its state (what its estimates say)."""
    field = await people.get_field(conn, ticket.field_id)
    federation = await people.federation_by_id(conn, ticket.federation_id)
    assert field is not None and federation is not None
    text = render.ticket_for_lead(
        ticket,
        field=field,
        federation=federation,
        contact=await people.get_user(conn, ticket.contact_id),
        attachments=len(await tickets.ticket_attachments(conn, ticket.id)),
        language=language,
        notes=notes,
        status_text=status_text,
    )
    if ticket.assignee_id is not None:
        assignee = render.person(await people.get_user(conn, ticket.assignee_id))
        away = await absences.away_note(conn, ticket.assignee_id, language, today)
        text = Html(f"{text}\n{t(language, 'label.assignee', value=assignee)}{away}")
    return Html(text + await linked.card_block(conn, ticket, language, for_contact=False))
