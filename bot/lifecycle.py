"""The life of a ticket: every transition, checked in bot.rules.workflow, written with its audit
event and announced through the outbox in one transaction (time entries, ratings and the
7-day close: bot/worklog.py)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from telegram import InlineKeyboardMarkup

from bot.logs import log_event
from bot.rules.estimates import approvers, over_run, refusal_stands
from bot.rules.workflow import (
    WORKED_STATES,
    Action,
    Actor,
    LogBlock,
    Refusal,
    Relation,
    decide,
    decide_drop,
    droppable,
    log_blocker,
    relations,
)
from bot.services import Services
from bot.tickets import (
    NEW_TICKET,
    NEW_TICKET_FILE,
    dropped_status,
    lead_card,
    message_payload,
    relation_to,
)
from bot.together import absences
from bot.ui import keyboards, render
from bot.ui.i18n import Html, t
from storage import estimates, outbox, people, tickets
from storage.db import Connection
from storage.models import EstimateStatus, OutboxStatus, Role, Ticket, TicketStatus, Urgency, User

log = logging.getLogger(__name__)

# Who else hears of what happened to a ticket, in its transaction (after its event is written):
# its topic in the team's group (bot/together/topics.py).
EventHook = Callable[[Connection, Services, Ticket], Awaitable[None]]
EVENT_HOOKS: list[EventHook] = []


@dataclass(frozen=True)
class Outcome:
    """What became of an action: the ticket as it now stands, or why nothing changed."""

    ticket: Ticket | None
    refusal: str | None = None  # unknown, not_allowed, wrong_state, not_rateable
    unpriced: bool = False  # time was logged on a field whose hourly rate is not set (0 $)
    over_run: bool = False  # this entry took the time logged past the approved estimate

    @property
    def ok(self) -> bool:
        return self.ticket is not None and self.refusal is None


async def standing(
    conn: Connection, user: User | None, ticket: Ticket, today: date | None = None
) -> frozenset[Relation]:
    """How a user (None: the bot itself) stands to a ticket (`today`: as its absent lead's
    delegate too)."""
    if user is None:
        return relations(Actor.system(), ticket)
    return await relation_to(conn, user, ticket, today)


async def act(
    services: Services,
    user: User | None,
    ticket_id: int,
    action: Action,
    *,
    note: str | None = None,
    assignee: User | None = None,
) -> Outcome:
    """Do `action` on a ticket as `user`: check, change, audit and announce, atomically."""
    async with services.db.transaction() as conn:
        ticket = await tickets.get_ticket(conn, ticket_id)
        if ticket is None:
            return Outcome(None, "unknown")
        outcome = await apply(conn, services, user, ticket, action, note=note, assignee=assignee)
    services.wake_outbox()
    return outcome


async def apply(
    conn: Connection,
    services: Services,
    user: User | None,
    ticket: Ticket,
    action: Action,
    *,
    note: str | None = None,
    assignee: User | None = None,
) -> Outcome:
    """`act`, inside the caller's transaction (for changes that go with something else)."""
    now = services.clock.now()
    try:
        target = decide(action, ticket, await standing(conn, user, ticket, services.today()))
    except Refusal as refusal:
        return Outcome(ticket, refusal.reason)
    new_assignee = assignee.id if assignee else None
    if action is Action.TAKE and user is not None:
        new_assignee = user.id
    changed = await tickets.set_status(
        conn,
        ticket,
        target,
        now,
        assignee_id=new_assignee,
        resolution_note=note if action is Action.RESOLVE else None,
    )
    if not changed:  # someone else moved it first
        return Outcome(await tickets.get_ticket(conn, ticket.id), "wrong_state")
    if action is Action.CANCEL or (
        action is Action.RESOLVE and ticket.urgency is not Urgency.CRITICAL
    ):
        # Nobody is asked, or reminded, to decide on an estimate of a request that ended.
        await estimates.withdraw_pending(conn, ticket.id, user.id if user else None, now)
    await tickets.add_event(
        conn,
        ticket_id=ticket.id,
        actor_id=user.id if user else None,
        kind=action.value,
        from_status=ticket.status,
        to_status=target,
        note=note if note is not None else (assignee.full_name if assignee else None),
        now=now,
    )
    after = await tickets.get_ticket(conn, ticket.id)
    assert after is not None
    await _announce(conn, services, action, ticket, after, user, note)
    for hook in EVENT_HOOKS:
        await hook(conn, services, after)
    log_event(
        log,
        f"ticket.{action.value}",
        ref=after.reference,
        user=user.id if user else None,
        status=after.status.value,
    )
    return Outcome(after)


async def drop(services: Services, user: User, ticket_id: int, note: str) -> Outcome:
    """The lead holding a request (or an admin) cancels it, with a note, while its latest
    estimate stands refused (bot.rules.workflow.decide_drop); refusal `not_refused` if not."""
    async with services.db.transaction() as conn:
        ticket = await tickets.get_ticket(conn, ticket_id)
        if ticket is None:
            return Outcome(None, "unknown")
        latest = await estimates.latest_estimate(conn, ticket.id)
        try:
            decide_drop(ticket, await relation_to(conn, user, ticket), latest)
        except Refusal as refusal:
            return Outcome(ticket, refusal.reason)
        outcome = await apply(conn, services, user, ticket, Action.DROP, note=note)
    services.wake_outbox()
    return outcome


async def _announce_drop(
    conn: Connection, services: Services, ticket: Ticket, actor: User | None, note: str | None
) -> None:
    """The contact, the federation's approvers and the lead (if someone else did it) are told
    that the request was cancelled after its estimate's refusal, and why."""
    managers = await people.managers_of(conn, ticket.federation_id)
    told = {ticket.contact_id, *approvers(ticket, (m.id for m in managers))}
    if ticket.assignee_id:
        told.add(ticket.assignee_id)
    who = render.person(actor) if actor else Html("—")
    words = note or ""
    for person_id in sorted(told - {actor.id if actor else None}):
        await notify(
            conn,
            services,
            person_id,
            ticket,
            "dropped",
            lambda lang: Html(
                f"{t(lang, 'notify.dropped', reference=ticket.reference, who=who)}"
                f"\n{render.quote(words)}"
            ),
        )


# -- announcements ----------------------------------------------------------------------------


async def notify(
    conn: Connection,
    services: Services,
    person_id: int,
    ticket: Ticket,
    purpose: str,
    text_for: Any,
    markup_for: Any = None,
) -> None:
    """Queue a message to one person, written in their language by `text_for(language)`; to a
    lead who is away, it goes to who covers them."""
    person = await people.get_user(conn, person_id)
    language = person.language if person else services.settings.default_language
    readers = [(person_id, language)]
    if person is not None and person.role is Role.LEAD:
        readers = await absences.readers_for(conn, services, person_id)
    for chat_id, language in readers:
        markup = markup_for(language) if markup_for else None
        await outbox.enqueue(
            conn,
            chat_id=chat_id,
            method="send_message",
            payload=message_payload(text_for(language), markup),
            purpose=purpose,
            now=services.clock.now(),
            ticket_id=ticket.id,
        )


async def _announce(
    conn: Connection,
    services: Services,
    action: Action,
    before: Ticket,
    after: Ticket,
    actor: User | None,
    note: str | None,
) -> None:
    """Tell the people of a ticket what just happened to it (never the one who did it)."""
    ref = after.reference
    actor_name = render.person(actor) if actor else Html("—")
    if action in {Action.TAKE, Action.REASSIGN} and before.status is TicketStatus.NEW:
        await _withdraw_offers(conn, services, after, keep=actor.id if actor else None)
    if action in {Action.TAKE, Action.REASSIGN}:
        holder = await people.get_user(conn, after.assignee_id) if after.assignee_id else None
        lead = render.person(holder)
        await notify(
            conn,
            services,
            after.contact_id,
            after,
            "status",
            lambda lang: t(lang, "notify.taken", reference=ref, lead=lead),
        )
    if action is Action.REASSIGN and after.assignee_id is not None:
        # Given to a lead who is away: the card goes to who covers them, saying whose it is.
        holder_id = after.assignee_id
        for reader_id, _ in await absences.readers_for(conn, services, holder_id):
            if reader_id != holder_id and actor is not None and reader_id == actor.id:
                continue
            await send_card(
                conn,
                services,
                after,
                reader_id,
                "assigned",
                (lambda lang: t(lang, "notify.assigned_to_you", who=actor_name))
                if reader_id == holder_id
                else (lambda lang: t(lang, "away.assigned_to_cover", who=actor_name, lead=lead)),
            )
        if before.assignee_id and before.assignee_id not in {
            after.assignee_id,
            actor and actor.id,
        }:
            await notify(
                conn,
                services,
                before.assignee_id,
                after,
                "reassigned",
                lambda lang: t(lang, "notify.reassigned", reference=ref, lead=lead),
            )
    elif action is Action.START:
        await notify(
            conn,
            services,
            after.contact_id,
            after,
            "status",
            lambda lang: t(
                lang,
                "notify.status",
                reference=ref,
                status=render.status(after.status, lang, for_contact=True),
            ),
        )
    elif action is Action.RESOLVE:
        await notify(
            conn,
            services,
            after.contact_id,
            after,
            "resolved",
            lambda lang: t(
                lang, "notify.resolved", reference=ref, lead=actor_name, note=note or ""
            ),
            lambda lang: keyboards.resolution(after.id, lang),
        )
    elif action in {Action.CONFIRM, Action.REOPEN, Action.CANCEL} and after.assignee_id:
        key = {
            Action.CONFIRM: "notify.confirmed",
            Action.REOPEN: "notify.reopened",
            Action.CANCEL: "notify.cancelled",
        }[action]
        await notify(
            conn,
            services,
            after.assignee_id,
            after,
            action.value,
            lambda lang: t(lang, key, reference=ref, contact=actor_name),
        )
    elif action is Action.CANCEL:  # not taken yet: withdraw the offers
        await _withdraw_offers(conn, services, after, keep=None)
    elif action is Action.DROP:
        await _announce_drop(conn, services, after, actor, note)
    elif action is Action.AUTO_CLOSE:
        await notify(
            conn,
            services,
            after.contact_id,
            after,
            "closed",
            lambda lang: t(lang, "notify.auto_closed", reference=ref),
        )
        if after.assignee_id:
            await notify(
                conn,
                services,
                after.assignee_id,
                after,
                "closed",
                lambda lang: t(lang, "notify.auto_closed_lead", reference=ref),
            )


async def _withdraw_offers(
    conn: Connection, services: Services, ticket: Ticket, keep: int | None
) -> None:
    """A new ticket was taken, given or cancelled: the offers to the leads no longer stand.

    Offers not delivered yet are cancelled; delivered ones are edited to the ticket as it is.
    """
    for purpose in (NEW_TICKET, NEW_TICKET_FILE):
        await outbox.cancel_pending(conn, ticket.id, purpose, f"ticket {ticket.status.value}")
    for offer in await outbox.for_ticket(conn, ticket.id, NEW_TICKET):
        if offer.status is not OutboxStatus.SENT or offer.chat_id == keep:
            continue
        reader = await people.get_user(conn, offer.chat_id)
        language = reader.language if reader else services.settings.default_language
        await outbox.enqueue(
            conn,
            chat_id=offer.chat_id,
            method="edit_message_text",
            payload=message_payload(await lead_card(conn, ticket, language)),
            purpose="offer_withdrawn",
            now=services.clock.now(),
            ticket_id=ticket.id,
            edit_of=offer.id,
        )


async def send_card(
    conn: Connection,
    services: Services,
    ticket: Ticket,
    chat_id: int,
    purpose: str,
    header: Any = None,
) -> None:
    """Queue the lead's card of a ticket, with the buttons of their rights, under a header."""
    reader = await people.get_user(conn, chat_id)
    if reader is None:
        return
    who = await relation_to(conn, reader, ticket, services.today())
    card, markup = await lead_view(conn, services, reader, ticket, who)
    if header is not None:
        card = Html(f"{header(reader.language)}\n\n{card}")
    await outbox.enqueue(
        conn,
        chat_id=chat_id,
        method="send_message",
        payload=message_payload(card, markup),
        purpose=purpose,
        now=services.clock.now(),
        ticket_id=ticket.id,
    )


async def lead_view(
    conn: Connection, services: Services, reader: User, ticket: Ticket, who: frozenset[Relation]
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """The lead's (or an admin's) card of a ticket and its buttons: what its estimates leave
    them to do (a refused one: a new estimate, resolve or cancel; time held back after a
    refusal or an over-run: no « Consigner du temps »)."""
    language = reader.language
    latest = await estimates.latest_estimate(conn, ticket.id)
    block = await log_block(conn, services, ticket)
    notes = []
    refused = latest is not None and latest.status is EstimateStatus.REFUSED
    if refused and ticket.status in WORKED_STATES:
        notes.append(t(language, "estimate.card_refused"))
    if block is LogBlock.OVER_RUN:
        notes.append(t(language, "estimate.card_over_run"))
    state = await dropped_status(conn, ticket, reader, language)
    card = await lead_card(
        conn, ticket, language, services.today(), notes=notes, status_text=state
    )
    drop = droppable(ticket, who, latest)
    markup = keyboards.lead_actions(ticket, who, language, drop=drop, log=block is None)
    return card, markup


async def log_block(conn: Connection, services: Services, ticket: Ticket) -> LogBlock | None:
    """What stops time being logged on `ticket` now (bot.rules.workflow.log_blocker)."""
    approved = await estimates.approved_estimate(conn, ticket.id)
    high = approved.high_minutes if approved else None
    logged = (await estimates.time_logged(conn, ticket.id)).minutes
    latest = await estimates.latest_estimate(conn, ticket.id)
    policy = await estimates.approval_policy(conn, ticket.federation_id)
    passed = over_run(logged, high, services.settings.overrun_tolerance_percent)
    return log_blocker(ticket, passed, refusal_stands(latest, policy))
