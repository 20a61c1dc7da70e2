"""Estimates and their approval (issue 14): a lead's estimate priced and sent for approval, the
federation's decision, over-runs, and the reminder of a critical request's undecided estimate.
Each in one transaction with its audit event and the outbox rows that announce it (the rules:
bot/rules/estimates.py and bot/rules/workflow.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from telegram.ext import Application, CallbackContext

from bot.federation import envelopes
from bot.lifecycle import EVENT_HOOKS, notify, send_card
from bot.logs import log_event
from bot.rules.durations import format_duration
from bot.rules.envelopes import covers, with_estimate
from bot.rules.estimates import approvers, needs_approval, quote, reminder_cutoff
from bot.rules.money import dollars, money
from bot.rules.service_levels import calendar_for
from bot.rules.workflow import Action, Refusal, Relation, after_estimate, decide
from bot.services import Services, get_services
from bot.tickets import message_payload, relation_to
from bot.together import absences
from bot.ui import keyboards, render
from bot.ui.i18n import Html, format_number, t
from storage import estimates as repo
from storage import outbox, people, tickets
from storage.db import Connection
from storage.estimates import StaleTicket
from storage.models import (
    Commitment,
    Estimate,
    EstimateStatus,
    Quote,
    Ticket,
    Urgency,
    User,
)

log = logging.getLogger(__name__)

REMIND_EVERY = timedelta(minutes=15)
FIRST_REMINDER_CHECK = timedelta(seconds=45)
JOB_NAME = "approval_reminders"


@dataclass(frozen=True)
class Done:
    """What became of an estimate or a decision: the ticket as it now stands, or why not."""

    ticket: Ticket | None
    estimate: Estimate | None = None
    refusal: str | None = None  # unknown, not_allowed, wrong_state, decided
    approval_needed: bool = False
    decider: User | None = None  # with `decided`: who decided first

    @property
    def ok(self) -> bool:
        return self.ticket is not None and self.refusal is None


# -- words ------------------------------------------------------------------------------------


def hours_text(estimate: Quote | Estimate, language: str) -> Html:
    """`6 h`, or `entre 4 h et 6 h` for a range (`2 to 3 hours`: in English, whose durations
    are decimal hours, the unit once)."""
    low = format_duration(estimate.low_minutes, language)
    if estimate.low_minutes == estimate.high_minutes:
        return low
    if language == "en" and estimate.low_minutes >= 60:
        hours = (Decimal(estimate.low_minutes) / 60).quantize(Decimal("0.01"), ROUND_HALF_UP)
        low = Html(format_number(hours, language))
    return t(
        language, "estimate.range", low=low, high=format_duration(estimate.high_minutes, language)
    )


def amount_text(estimate: Quote | Estimate, language: str) -> Html:
    """`570,00 $`, or `380,00 $ à 570,00 $` for a range."""
    low = money(dollars(estimate.low_amount_cents), language)
    if estimate.low_amount_cents == estimate.high_amount_cents:
        return Html(low)
    high = money(dollars(estimate.high_amount_cents), language)
    return t(language, "estimate.range", low=low, high=high)


def summary(estimate: Quote | Estimate, language: str) -> Html:
    """The estimate in one line: hours, rate, amount."""
    return t(
        language,
        "estimate.summary",
        hours=hours_text(estimate, language),
        rate=money(dollars(estimate.hourly_rate_cents), language),
        amount=amount_text(estimate, language),
    )


async def envelope_lines(
    conn: Connection, services: Services, ticket: Ticket, estimate: Estimate, language: str
) -> list[Html]:
    """What the estimate, once approved, leaves of each of the federation's envelopes that
    cover the request this year (bot/federation/envelopes.py); none without an envelope."""
    year = services.clock.now().astimezone(services.settings.tz).year
    fields = {f.id: f for f in await people.list_fields(conn, active_only=False)}
    logged = await repo.time_logged(conn, ticket.id)
    proposed = Commitment(
        ticket_id=ticket.id,
        high_minutes=estimate.high_minutes,
        high_amount_cents=estimate.high_amount_cents,
        logged_minutes=logged.minutes,
        logged_cents=logged.cents,
    )
    lines = []
    for use in await envelopes.usages(conn, services, ticket.federation_id, year):
        if not covers(use.envelope, ticket.federation_id, year, ticket.field_id):
            continue
        left = with_estimate(use, proposed).remaining
        kind = use.envelope.kind
        lines.append(
            t(
                language,
                "estimate.card_envelope" if left >= 0 else "estimate.card_envelope_past",
                envelope=envelopes.label(use.envelope, fields, language),
                remaining=envelopes.quantity(kind, max(left, 0), language),
                past=envelopes.quantity(kind, max(-left, 0), language),
            )
        )
    return lines


async def approval_card(
    conn: Connection,
    services: Services,
    ticket: Ticket,
    estimate: Estimate,
    language: str,
    *,
    decided: bool = False,
) -> Html:
    """The card an approver decides from: reference, subject, field, contact, the estimate
    (`decided`: once decided, what it left of the envelopes is no longer its question)."""
    field = await people.get_field(conn, ticket.field_id)
    contact = await people.get_user(conn, ticket.contact_id)
    lead = await people.get_user(conn, estimate.created_by)
    assert field is not None
    ref = ticket.reference
    lines = [
        t(language, "estimate.card_decided" if decided else "estimate.card_title", reference=ref),
        t(language, "label.subject", value=ticket.subject),
        t(language, "label.field", value=field.name(language)),
        t(language, "label.contact", value=render.person(contact)),
        t(language, "estimate.card_lead", value=render.person(lead)),
        t(language, "estimate.card_hours", value=hours_text(estimate, language)),
        t(
            language,
            "estimate.card_rate",
            value=money(dollars(estimate.hourly_rate_cents), language),
        ),
        t(language, "estimate.card_amount", value=amount_text(estimate, language)),
    ]
    if estimate.note:
        lines += [t(language, "estimate.card_note"), render.quote(estimate.note)]
    if not decided:
        lines += await envelope_lines(conn, services, ticket, estimate, language)
    if ticket.urgency is Urgency.CRITICAL:
        lines.append(t(language, "estimate.card_critical"))
    return Html("\n".join(lines))


async def approver_ids(conn: Connection, ticket: Ticket) -> frozenset[int]:
    """Who decides on the ticket's estimates: its federation's managers, else its contact."""
    managers = await people.managers_of(conn, ticket.federation_id)
    return approvers(ticket, (m.id for m in managers))


async def _send_cards(
    conn: Connection,
    services: Services,
    ticket: Ticket,
    estimate: Estimate,
    purpose: str,
    header: str | None,
) -> None:
    for person_id in await approver_ids(conn, ticket):
        reader = await people.get_user(conn, person_id)
        if reader is None or not reader.active:
            continue
        language = reader.language
        card = await approval_card(conn, services, ticket, estimate, language)
        if header is not None:
            card = Html(f"{t(language, header, reference=ticket.reference)}\n\n{card}")
        markup = keyboards.approval(estimate.id, language)
        await outbox.enqueue(
            conn,
            chat_id=person_id,
            method="send_message",
            payload=message_payload(card, markup),
            purpose=purpose,
            now=services.clock.now(),
            ticket_id=ticket.id,
        )


# -- sending an estimate ----------------------------------------------------------------------


async def send_estimate(
    services: Services, user: User, ticket_id: int, low: int, high: int, note: str | None
) -> Done:
    """The lead's estimate of a ticket, priced at the field's rate of today: approved at once if
    the federation's policy wants no approval, else sent to its approvers."""
    now = services.clock.now()
    language = services.settings.default_language
    async with services.db.transaction() as conn:
        ticket = await tickets.get_ticket(conn, ticket_id)
        if ticket is None:
            return Done(None, refusal="unknown")
        field = await people.get_field(conn, ticket.field_id)
        assert field is not None
        priced = quote(low, high, field.hourly_rate_cents)
        needed = needs_approval(await repo.approval_policy(conn, ticket.federation_id), priced)
        try:
            who = await relation_to(conn, user, ticket, services.today())
            target = after_estimate(ticket, who, approval_needed=needed)
        except Refusal as refusal:
            return Done(ticket, refusal=refusal.reason)
        # The history shows the bot's words for the estimate, in the bot's default language.
        words = summary(priced, language) + (f" — {note}" if note else "")
        estimate = await repo.add_estimate(
            conn,
            ticket=ticket,
            quote=priced,
            created_by=user.id,
            now=now,
            to_status=target,
            approved=not needed,
            note=note,
            event_note=words,
        )
        if estimate is None:
            return Done(await tickets.get_ticket(conn, ticket.id), refusal="wrong_state")
        after = await tickets.get_ticket(conn, ticket.id)
        assert after is not None
        if needed:
            await _send_cards(conn, services, after, estimate, "estimate", None)
        if ticket.contact_id not in (await approver_ids(conn, after) if needed else frozenset()):
            key = "estimate.sent_contact" if needed else "estimate.noted_contact"
            await notify(
                conn,
                services,
                after.contact_id,
                after,
                "estimate",
                lambda lang: t(
                    lang, key, reference=after.reference, estimate=summary(estimate, lang)
                ),
            )
        for hook in EVENT_HOOKS:  # its team's topic
            await hook(conn, services, after)
    services.wake_outbox()
    log_event(log, "ticket.estimate", ref=after.reference, user=user.id, status=after.status.value)
    return Done(after, estimate, approval_needed=needed)


# -- deciding ---------------------------------------------------------------------------------


async def may_decide(conn: Connection, user: User, ticket: Ticket, estimate: Estimate) -> Done:
    """Whether `user` may decide on `estimate` now (Refuse and Ask check it before they wait
    for the reason or the question, and again when it comes)."""
    who = await relation_to(conn, user, ticket)
    if Relation.APPROVER in who and estimate.status is not EstimateStatus.PENDING:
        decider = await people.get_user(conn, estimate.decided_by) if estimate.decided_by else None
        return Done(ticket, estimate, refusal="decided", decider=decider)
    try:
        decide(Action.REFUSE, ticket, who)
    except Refusal as refusal:
        return Done(ticket, estimate, refusal=refusal.reason)
    return Done(ticket, estimate)


async def decide_on(
    services: Services, user: User, estimate_id: int, *, approve: bool, reason: str | None = None
) -> Done:
    """An approver approves or refuses an estimate; the first to decide decides. Rights are
    checked on the ticket as it stands now, whatever the button said."""
    action = Action.APPROVE if approve else Action.REFUSE
    now = services.clock.now()
    try:
        async with services.db.transaction() as conn:
            estimate = await repo.get_estimate(conn, estimate_id)
            ticket = await tickets.get_ticket(conn, estimate.ticket_id) if estimate else None
            if estimate is None or ticket is None:
                return Done(None, refusal="unknown")
            who = await relation_to(conn, user, ticket)
            if Relation.APPROVER in who and estimate.status is not EstimateStatus.PENDING:
                return await may_decide(conn, user, ticket, estimate)  # decided first: by whom
            try:
                target = decide(action, ticket, who)
            except Refusal as refusal:
                return Done(ticket, estimate, refusal=refusal.reason)
            decided = await repo.decide_estimate(
                conn,
                estimate_id=estimate.id,
                ticket=ticket,
                approve=approve,
                decided_by=user.id,
                now=now,
                to_status=target,
                reason=reason,
            )
            if not decided:
                first = await repo.get_estimate(conn, estimate.id)
                decider = (
                    await people.get_user(conn, first.decided_by)
                    if first and first.decided_by
                    else None
                )
                return Done(ticket, first, refusal="decided", decider=decider)
            after = await tickets.get_ticket(conn, ticket.id)
            assert after is not None
            await _announce_decision(conn, services, after, estimate, user, approve, reason)
            for hook in EVENT_HOOKS:
                await hook(conn, services, after)
    except StaleTicket:
        return Done(ticket, refusal="wrong_state")
    services.wake_outbox()
    log_event(log, f"ticket.{action.value}", ref=after.reference, user=user.id)
    return Done(after, estimate)


async def _announce_decision(
    conn: Connection,
    services: Services,
    ticket: Ticket,
    estimate: Estimate,
    decider: User,
    approve: bool,
    reason: str | None,
) -> None:
    """Tell the lead (with their card) and the contact what the federation decided."""
    who = render.person(decider)
    ref = ticket.reference
    lead_id = ticket.assignee_id or estimate.created_by
    lead = render.person(await people.get_user(conn, lead_id))

    def words_to(side: str) -> Any:
        # A refusal tells the lead what they may do next, and the contact who will tell them.
        key = "estimate.approved" if approve else f"estimate.refused_{side}"

        def words(lang: str) -> Html:
            estimated = summary(estimate, lang)
            text = t(lang, key, reference=ref, who=who, estimate=estimated, lead=lead)
            return Html(f"{text}\n{render.quote(reason)}") if reason else text

        return words

    if lead_id != decider.id:
        # To who covers the lead while they are away, with the buttons that now apply.
        for reader_id, _ in await absences.readers_for(conn, services, lead_id):
            lead_words = words_to("lead")
            await send_card(conn, services, ticket, reader_id, "estimate_decided", lead_words)
    if ticket.contact_id != decider.id:
        await notify(
            conn, services, ticket.contact_id, ticket, "estimate_decided", words_to("contact")
        )


# -- over-run ---------------------------------------------------------------------------------


async def announce_over_run(services: Services, ticket_id: int) -> None:
    """Time logged passed the approved estimate: the lead is asked for a revised one, the
    approvers are told."""
    async with services.db.transaction() as conn:
        ticket = await tickets.get_ticket(conn, ticket_id)
        approved = await repo.approved_estimate(conn, ticket_id)
        if ticket is None or approved is None:
            return
        logged = (await repo.time_logged(conn, ticket_id)).minutes
        ref = ticket.reference

        def words(key: str) -> Any:
            return lambda lang: t(
                lang,
                key,
                reference=ref,
                logged=format_duration(logged, lang),
                estimate=hours_text(approved, lang),
            )

        lead_id = ticket.assignee_id or approved.created_by
        await notify(
            conn,
            services,
            lead_id,
            ticket,
            "over_run",
            words("estimate.over_run_lead"),
            lambda lang: keyboards.estimate_button(ticket.id, lang),
        )
        for person_id in await approver_ids(conn, ticket):
            await notify(
                conn, services, person_id, ticket, "over_run", words("estimate.over_run_approvers")
            )
    services.wake_outbox()
    log_event(log, "ticket.over_run", ref=ticket.reference, minutes=logged)


# -- reminders --------------------------------------------------------------------------------


async def remind_approvers(services: Services) -> int:
    """Remind the approvers of a critical request's estimate undecided for one business day;
    once per estimate (recorded with the reminder's messages), across restarts."""
    now = services.clock.now()
    cutoff = reminder_cutoff(calendar_for(services.settings.tz), now)
    sent = 0
    async with services.db.transaction() as conn:
        for estimate in await repo.reminders_due(conn, cutoff):
            ticket = await tickets.get_ticket(conn, estimate.ticket_id)
            if ticket is None or not await repo.mark_reminded(conn, estimate.id, now):
                continue
            await _send_cards(
                conn, services, ticket, estimate, "estimate_reminder", "estimate.reminder"
            )
            sent += 1
    if sent:
        services.wake_outbox()
        log.info("approval reminders: %s queued", sent)
    return sent


async def _run(context: CallbackContext[Any, Any, Any, Any]) -> None:
    await remind_approvers(get_services(context))


def schedule_jobs(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Check every quarter of an hour for estimates whose approvers are due a reminder."""
    if app.job_queue is None:
        log.warning("no JobQueue: no approval reminders")
        return
    app.job_queue.run_repeating(
        _run, interval=REMIND_EVERY, first=FIRST_REMINDER_CHECK, name=JOB_NAME
    )
