"""Service levels: the job that reminds and alerts (the rules: bot/rules/service_levels.py).

Each alert is recorded in the transaction that queues its message, so it is sent once per
ticket and target, however often the job runs and across restarts.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CallbackContext

from bot.rules.service_levels import Due, alerts_due, calendar_for
from bot.services import Services, get_services
from bot.tickets import message_payload, recipients
from bot.together import absences
from bot.ui import callbacks as cb
from bot.ui import keyboards, render
from bot.ui.i18n import Html, t, tn
from storage import outbox, people
from storage import sla as repo
from storage.db import Connection
from storage.models import AlertKind, ExpertiseField, Federation, Target, User, WatchedTicket

log = logging.getLogger(__name__)

CHECK_EVERY = timedelta(minutes=5)
FIRST_CHECK = timedelta(seconds=30)
JOB_NAME = "service_levels"
PURPOSE = {AlertKind.REMINDER: "sla_reminder", AlertKind.MISSED: "sla_missed"}
DIGEST_OVER = 5  # more alerts than this for one person in one run: one summary instead
DIGEST_SHOWN = 40  # references listed in a summary (it stays under Telegram's 4096)


async def check_service_levels(services: Services) -> int:
    """Queue the reminders and alerts that are due; the number of alerts recorded.

    Reads first (usually nothing is due); then, in one transaction, re-reads the candidates,
    records each alert and queues its messages, skipping those already recorded.
    """
    now = services.clock.now()
    calendar = calendar_for(services.settings.tz)
    async with services.db.read() as conn:
        targets = await repo.targets(conn)
        watched = await repo.watched_tickets(conn)
    candidates = [
        ticket.id
        for ticket in watched
        if any(
            (due.target, due.kind) not in ticket.sent
            for due in alerts_due(ticket, targets[ticket.urgency], calendar, now)
        )
    ]
    if not candidates:
        return 0
    async with services.db.transaction() as conn:
        # Re-read: a ticket taken, resolved or closed since the read calls for less, or nothing.
        # The write lock is held: what is recorded now cannot change until the commit.
        tickets = await repo.watched_tickets_by_id(conn, candidates)
        sent = await repo.sent_alerts(conn, [ticket.id for ticket in tickets])
        fresh: list[Alert] = []
        record: list[tuple[int, Target, AlertKind]] = []
        for ticket in tickets:
            for due in alerts_due(ticket, targets[ticket.urgency], calendar, now):
                if (ticket.id, due.target, due.kind) not in sent:
                    fresh.append(Alert(ticket, due))
                    record.append((ticket.id, due.target, due.kind))
                if due.kind is AlertKind.MISSED:  # its reminder is moot now: never send it
                    record.append((ticket.id, due.target, AlertKind.REMINDER))
        await repo.record_alerts(conn, record, now)
        await _announce(conn, services, fresh)
    if fresh:
        services.wake_outbox()
        log.info("service levels: %s alert(s) queued", len(fresh))
    return len(fresh)


@dataclass(frozen=True)
class Alert:
    """An alert just recorded: the ticket and what is due."""

    ticket: WatchedTicket
    due: Due


class _Directory:
    """Who and what alerts name, read once per run (a backlog can raise thousands at once)."""

    def __init__(self, conn: Connection, services: Services) -> None:
        self.conn = conn
        self.services = services
        self.fields: dict[int, ExpertiseField] = {}
        self.federations: dict[int, Federation] = {}
        self._users: dict[int, User | None] = {}
        self._field_readers: dict[int, list[tuple[int, str]]] = {}
        self._covers: dict[int, list[tuple[int, str]]] = {}  # an assignee's readers (absences)
        self.admins: list[tuple[int, str]] = []

    async def load(self) -> None:
        """Read the fields, the federations and the admins once."""
        self.fields = {f.id: f for f in await people.list_fields(self.conn, active_only=False)}
        self.federations = {f.id: f for f, _ in await people.list_federations(self.conn)}
        settings = self.services.settings
        self.admins = await people.admins_to_tell(
            self.conn, settings.admin_ids, settings.default_language
        )

    async def user(self, user_id: int | None) -> User | None:
        """A user by id (read once per run), or None."""
        if user_id is None:
            return None
        if user_id not in self._users:
            self._users[user_id] = await people.get_user(self.conn, user_id)
        return self._users[user_id]

    async def readers(self, alert: Alert) -> list[tuple[int, str]]:
        """The admins for a missed target; for a reminder, the assignee if still active (or who
        covers them while they are away), else the field's leads (or the admins)."""
        if alert.due.kind is AlertKind.MISSED:
            return self.admins
        assignee = await self.user(alert.ticket.assignee_id)
        if assignee is not None and assignee.active:
            if assignee.id not in self._covers:  # once per run, as the rest
                found = await absences.readers_for(self.conn, self.services, assignee.id)
                self._covers[assignee.id] = found
            return self._covers[assignee.id]
        field_id = alert.ticket.field_id
        if field_id not in self._field_readers:
            self._field_readers[field_id] = await recipients(self.conn, self.services, field_id)
        return self._field_readers[field_id]


async def _announce(conn: Connection, services: Services, alerts: Sequence[Alert]) -> None:
    """Queue each alert to its readers; someone with more than a few at once gets one digest."""
    if not alerts:
        return
    directory = _Directory(conn, services)
    await directory.load()
    inbox: dict[tuple[int, str, AlertKind], list[Alert]] = defaultdict(list)
    for alert in alerts:
        for chat_id, language in await directory.readers(alert):
            inbox[(chat_id, language, alert.due.kind)].append(alert)
    now = services.clock.now()
    for (chat_id, language, kind), mine in inbox.items():
        messages: list[tuple[Html, InlineKeyboardMarkup | None, int | None]]
        if len(mine) > DIGEST_OVER:
            messages = [(_digest(mine, kind, language), None, None)]
        else:
            messages = [
                (
                    await _text(directory, alert, language),
                    take_button(alert.ticket.id, language)
                    if alert.ticket.assignee_id is None
                    else None,
                    alert.ticket.id,
                )
                for alert in mine
            ]
        for text, markup, ticket_id in messages:
            await outbox.enqueue(
                conn,
                chat_id=chat_id,
                method="send_message",
                payload=message_payload(text, markup),
                purpose=PURPOSE[kind],
                now=now,
                ticket_id=ticket_id,
            )


async def _text(directory: _Directory, alert: Alert, language: str) -> Html:
    """One alert, in full."""
    ticket, due = alert.ticket, alert.due
    if due.kind is AlertKind.REMINDER:
        key = f"sla.remind_{due.target.value}"
    elif due.target is Target.FIRST_RESPONSE:
        key = "sla.unassigned" if ticket.assignee_id is None else "sla.missed_first_response"
    else:
        key = "sla.missed_resolution"
    field = directory.fields.get(ticket.field_id)
    federation = directory.federations.get(ticket.federation_id)
    tz = directory.services.settings.tz
    return t(
        language,
        key,
        reference=ticket.reference,
        subject=ticket.subject,
        field=field.name(language) if field else "—",
        federation=federation.code if federation else "—",
        urgency=render.urgency(ticket.urgency, language),
        deadline=render.moment(due.deadline, language, tz),
        created=render.moment(ticket.created_at, language, tz),
        lead=render.person(await directory.user(ticket.assignee_id)),
    )


def _digest(alerts: Sequence[Alert], kind: AlertKind, language: str) -> Html:
    """Many alerts for one person at once (a backlog, a long outage): one message."""
    ordered = sorted(alerts, key=lambda a: (a.ticket.id, a.due.target.value))
    unassigned = len({a.ticket.id for a in alerts if a.ticket.assignee_id is None})
    lines = [
        tn(
            language,
            f"sla.digest_{kind.value}",
            len(alerts),
            unassigned=tn(language, "sla.digest_unassigned", unassigned) if unassigned else "",
        )
    ]
    lines += [
        t(
            language,
            "sla.digest_line",
            reference=a.ticket.reference,
            urgency=render.urgency(a.ticket.urgency, language),
            target=t(language, f"sla.target_{a.due.target.value}"),
        )
        for a in ordered[:DIGEST_SHOWN]
    ]
    if len(ordered) > DIGEST_SHOWN:
        lines.append(tn(language, "sla.digest_more", len(ordered) - DIGEST_SHOWN))
    return Html("\n".join(lines))


def take_button(ticket_id: int, language: str) -> InlineKeyboardMarkup:
    """The Take button of a ticket (handled, and re-checked, by the lead workflow)."""
    return keyboards.keyboard(
        [[(t(language, "button.take"), cb.pack(cb.TICKET, "take", ticket_id))]]
    )


async def _run(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """The JobQueue's callback: one check."""
    await check_service_levels(get_services(context))


def schedule_jobs(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Check service levels every five minutes (the first check shortly after start)."""
    if app.job_queue is None:
        log.warning("no JobQueue (python-telegram-bot[job-queue] missing): no SLA reminders")
        return
    app.job_queue.run_repeating(_run, interval=CHECK_EVERY, first=FIRST_CHECK, name=JOB_NAME)
