"""Time logged on a ticket, the contact's rating, and the close of tickets resolved 7 days ago
without an answer: each in one transaction with its audit event (transitions: bot/lifecycle.py)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram.ext import Application, ContextTypes

from bot.lifecycle import EVENT_HOOKS, Outcome, act, log_block, notify
from bot.rules.durations import format_duration
from bot.rules.estimates import over_run
from bot.rules.workflow import Action, Relation
from bot.services import Services, get_services
from bot.tickets import relation_to
from bot.ui.i18n import t
from storage import conversation, estimates, people, tickets
from storage.models import TicketStatus, User

log = logging.getLogger(__name__)

AUTO_CLOSE_AFTER = timedelta(days=7)
AUTO_CLOSE_EVERY = timedelta(hours=1)

LOGGABLE = frozenset(
    {
        TicketStatus.ASSIGNED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.WAITING,
        TicketStatus.RESOLVED,
        TicketStatus.CLOSED,
    }
)


async def log_time(
    services: Services, user: User, ticket_id: int, minutes: int, note: str | None
) -> Outcome:
    """Log time on a ticket (its lead or an admin), at the field's hourly rate of today."""
    now = services.clock.now()
    async with services.db.transaction() as conn:
        ticket = await tickets.get_ticket(conn, ticket_id)
        if ticket is None:
            return Outcome(None, "unknown")
        who = await relation_to(conn, user, ticket, services.today())
        if not who & {Relation.ASSIGNEE, Relation.ADMIN}:
            return Outcome(ticket, "not_allowed")
        # Time runs against the approved estimate: past it, a revised one is approved first.
        tolerance = services.settings.overrun_tolerance_percent
        approved = await estimates.approved_estimate(conn, ticket.id)
        high = approved.high_minutes if approved else None
        logged = (await estimates.time_logged(conn, ticket.id)).minutes
        blocker = await log_block(conn, services, ticket)
        if blocker is not None:
            return Outcome(ticket, blocker.value)
        if ticket.status not in LOGGABLE:
            return Outcome(ticket, "wrong_state")
        field = await people.get_field(conn, ticket.field_id)
        assert field is not None
        await conversation.add_time(
            conn,
            ticket_id=ticket.id,
            lead_id=user.id,
            field_id=field.id,
            work_date=services.today(),
            minutes=minutes,
            hourly_rate_cents=field.hourly_rate_cents,
            note=note,
            now=now,
        )
        # Stored once for every reader of the history: in the bot's default language.
        duration = format_duration(minutes, services.settings.default_language)
        summary = duration + (f" — {note}" if note else "")
        await tickets.add_event(
            conn, ticket_id=ticket.id, actor_id=user.id, kind="time", note=summary, now=now
        )
        for hook in EVENT_HOOKS:
            await hook(conn, services, ticket)
    crossed = over_run(logged + minutes, high, tolerance) and not over_run(logged, high, tolerance)
    return Outcome(ticket, unpriced=field.hourly_rate_cents == 0, over_run=crossed)


async def rate(services: Services, user: User, ticket_id: int, stars: int) -> Outcome:
    """The contact rates the service of their closed ticket, once, from 1 to 5."""
    now = services.clock.now()
    async with services.db.transaction() as conn:
        ticket = await tickets.get_ticket(conn, ticket_id)
        if ticket is None or ticket.contact_id != user.id:
            return Outcome(None, "unknown")
        if not 1 <= stars <= 5 or not await tickets.set_rating(conn, ticket.id, stars, now):
            return Outcome(ticket, "not_rateable")
        await tickets.add_event(
            conn, ticket_id=ticket.id, actor_id=user.id, kind="rated", note=f"{stars}/5", now=now
        )
        await conversation.expect_input(conn, user.id, "comment", ticket.id, now)
        if ticket.assignee_id:
            await notify(
                conn,
                services,
                ticket.assignee_id,
                ticket,
                "rated",
                lambda lang: t(lang, "notify.rated", reference=ticket.reference, stars=stars),
            )
    services.wake_outbox()
    return Outcome(ticket)


async def close_resolved(services: Services) -> int:
    """Close the tickets resolved more than 7 days ago without an answer; how many."""
    async with services.db.read() as conn:
        due = await tickets.resolved_before(conn, services.clock.now() - AUTO_CLOSE_AFTER)
    closed = 0
    for ticket in due:
        if (await act(services, None, ticket.id, Action.AUTO_CLOSE)).ok:
            closed += 1
    if closed:
        log.info("closed %d resolved tickets after 7 days", closed)
    return closed


async def _auto_close_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await close_resolved(get_services(context))


def schedule_jobs(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Check hourly for resolved tickets to close."""
    assert app.job_queue is not None
    app.job_queue.run_repeating(
        _auto_close_job, interval=AUTO_CLOSE_EVERY, first=60, name="auto-close"
    )
