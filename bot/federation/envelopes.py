"""Envelopes (issue 14): what /envelope shows, and the job that tells managers and admins once
when used + committed reaches 80 % and 100 % (the rules: bot/rules/envelopes.py).

Each alert is recorded in the transaction that queues its messages, with ON CONFLICT DO
NOTHING: told once per envelope and threshold, however often the job runs and across restarts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from telegram.ext import Application, CallbackContext

from bot.documents.data import EnvelopeLine
from bot.rules.durations import format_duration
from bot.rules.envelopes import Usage, commitments_at, envelopes_for, new_alerts, usage
from bot.rules.money import dollars, money
from bot.rules.periods import Period
from bot.services import Services, get_services
from bot.tickets import message_payload
from bot.ui.i18n import Html, plain, t
from storage import envelopes as repo
from storage import outbox, people
from storage.db import Connection
from storage.models import Envelope, EnvelopeKind, ExpertiseField, Federation, User
from storage.statements import used_before

log = logging.getLogger(__name__)

CHECK_EVERY = timedelta(minutes=5)
FIRST_CHECK = timedelta(seconds=45)
JOB_NAME = "envelope_alerts"
PURPOSE = "envelope_alert"


def quantity(kind: EnvelopeKind, amount: int, language: str) -> str:
    """An envelope's quantity in its unit: `120 h`, `15 000,00 $`."""
    if kind is EnvelopeKind.HOURS:
        return str(format_duration(amount, language))
    return money(dollars(amount), language)


def label(envelope: Envelope, fields: dict[int, ExpertiseField], language: str) -> Html:
    """Which fields an envelope covers: all of them, or one by name."""
    field = fields.get(envelope.field_id) if envelope.field_id is not None else None
    if field is None:
        return t(language, "envelope.all_fields")
    return t(language, "envelope.one_field", field=field.name(language))


async def envelope_lines(
    conn: Connection,
    services: Services,
    federation: Federation,
    period: Period,
    fields: dict[int, ExpertiseField],
    language: str,
) -> tuple[EnvelopeLine, ...]:
    """The federation's envelopes of the period's year, used up to the end of the period (for
    the statement and the governance report), committed as of that end too."""
    _, end = period.bounds(services.settings.tz)
    lines: list[EnvelopeLine] = []
    for envelope in await repo.federation_envelopes(conn, federation.id, period.first.year):
        minutes, cents = await used_before(conn, envelope, period.after)
        history = await repo.envelope_history(conn, envelope, services.settings.tz)
        # Committed as it stood at the period's end, not as the estimates stand today.
        committed = commitments_at(history, end, period.after)
        hours = envelope.kind is EnvelopeKind.HOURS
        lines.append(
            EnvelopeLine(
                label=plain(label(envelope, fields, language)),
                kind="hours" if hours else "dollars",
                amount=envelope.amount,
                used=minutes if hours else cents,
                committed=Usage(envelope, 0, committed).committed,
            )
        )
    return tuple(lines)


async def usages(
    conn: Connection, services: Services, federation_id: int, year: int | None = None
) -> list[Usage]:
    """A federation's envelopes (of a year, or all) with their use."""
    tz = services.settings.tz
    return [
        usage(envelope, await repo.envelope_facts(conn, envelope, tz))
        for envelope in await repo.federation_envelopes(conn, federation_id, year)
    ]


def describe_usage(use: Usage, fields: dict[int, ExpertiseField], language: str) -> list[Html]:
    """Two lines for one envelope: its year, fields and amount; used, committed, remaining."""
    kind = use.envelope.kind
    over = use.remaining < 0
    return [
        t(
            language,
            "envelope.line",
            year=use.envelope.year,
            label=label(use.envelope, fields, language),
            amount=quantity(kind, use.envelope.amount, language),
        ),
        t(
            language,
            "envelope.use_over" if over else "envelope.use",
            used=quantity(kind, use.used, language),
            committed=quantity(kind, use.committed, language),
            remaining=quantity(kind, abs(use.remaining), language),
            percent=use.percent,
        ),
    ]


def show(
    federation: Federation,
    uses: Sequence[Usage],
    fields: dict[int, ExpertiseField],
    language: str,
    year: int | None,
) -> list[Html]:
    """What /envelope answers: a heading, then each envelope (or that there is none)."""
    if not uses:
        if year is None:
            return [t(language, "envelope.none", code=federation.code)]
        return [t(language, "envelope.none_in_year", code=federation.code, year=year)]
    lines = [t(language, "envelope.heading", code=federation.code, name=federation.name)]
    for use in uses:
        lines += describe_usage(use, fields, language)
    return lines


async def spent_warning(services: Services, user: User, field_id: int | None) -> Html | None:
    """What a contact is told at the review of a new request when an envelope of this year
    that covers it (their federation's, for all fields or the request's) is spent; None if
    none is (the request can be sent all the same)."""
    if user.federation_id is None or field_id is None:
        return None
    year = services.today().year
    async with services.db.read() as conn:
        found = envelopes_for(
            await repo.federation_envelopes(conn, user.federation_id, year),
            user.federation_id,
            year,
            field_id,
        )
        for envelope in found:
            facts = await repo.envelope_facts(conn, envelope, services.settings.tz)
            if usage(envelope, facts).spent:
                return t(user.language, "envelope.review_spent")
    return None


async def check_envelopes(services: Services) -> int:
    """Queue the alerts newly due for this year's envelopes; the number of envelopes told."""
    year = services.today().year
    async with services.db.read() as conn:
        due: list[tuple[Usage, tuple[int, ...]]] = []
        for envelope in await repo.envelopes_of_year(conn, year):
            use = usage(envelope, await repo.envelope_facts(conn, envelope, services.settings.tz))
            fresh = new_alerts(use, await repo.alerts_sent(conn, envelope.id))
            if fresh:
                due.append((use, fresh))
    if not due:
        return 0
    told = 0
    now = services.clock.now()
    async with services.db.transaction() as conn:
        fields = {f.id: f for f in await people.list_fields(conn, active_only=False)}
        settings = services.settings
        admins = await people.admins_to_tell(conn, settings.admin_ids, settings.default_language)
        for use, fresh in due:
            noted = await repo.mark_alerts_sent(conn, use.envelope.id, fresh, now)
            if not noted:
                continue  # another run told it meanwhile
            federation = await people.federation_by_id(conn, use.envelope.federation_id)
            if federation is None:
                continue
            managers = [(m.id, m.language) for m in await people.managers_of(conn, federation.id)]
            readers = dict(admins) | dict(managers)
            for chat_id, language in readers.items():
                await outbox.enqueue(
                    conn,
                    chat_id=chat_id,
                    method="send_message",
                    payload=message_payload(_alert(use, max(noted), federation, fields, language)),
                    purpose=PURPOSE,
                    now=now,
                )
            told += 1
    services.wake_outbox()
    return told


def _alert(
    use: Usage,
    threshold: int,
    federation: Federation,
    fields: dict[int, ExpertiseField],
    language: str,
) -> Html:
    kind = use.envelope.kind
    return t(
        language,
        f"envelope.alert_{threshold}",
        code=federation.code,
        year=use.envelope.year,
        label=label(use.envelope, fields, language),
        amount=quantity(kind, use.envelope.amount, language),
        taken=quantity(kind, use.used + use.committed, language),
        used=quantity(kind, use.used, language),
        committed=quantity(kind, use.committed, language),
        percent=use.percent,
    )


async def _run(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """The JobQueue's callback: one check."""
    await check_envelopes(get_services(context))


def schedule_jobs(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Check the envelopes every five minutes (the first check shortly after start)."""
    if app.job_queue is None:
        log.warning("no JobQueue (python-telegram-bot[job-queue] missing): no envelope alerts")
        return
    app.job_queue.run_repeating(_run, interval=CHECK_EVERY, first=FIRST_CHECK, name=JOB_NAME)
