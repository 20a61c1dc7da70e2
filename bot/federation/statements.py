"""Monthly statements to the federations (issue 14): the statement's data read from the
database, its PDF (bot/documents, rendered in a worker thread), and the job that sends each
federation's managers the previous month's on the first business day of the month.

A PDF is bytes, which the outbox (JSON payloads) does not hold: statements are sent directly,
tried once (`left_to_caller()`: no quick retry, which after a timeout could deliver it twice).
Each manager's is recorded (storage/migrations/0010, 0015): 'sending' committed before the
send, then
- 'sent';
- 'blocked' (a 403: the person is marked blocked, as the outbox does; the admins are told);
- 'failed' (a 400, for good);
- 'unsure' (a timeout: Telegram may have delivered it): not sent again; the admins are told
  which manager's statement of which month may not have arrived, and how to send it again;
- 'retry' (a 5xx, a connection error, a 429: nothing was delivered), tried at the next check
  for that manager only, until it failed at MAX_CHECKS checks: 'given_up', the admins told.
The federation's month is recorded as sent once every manager's is settled.

At most once: a crash between the send and its record leaves 'sending'; a check that finds it
older than STALE_SENDING makes it 'unsure' (the admins told), and it is not sent again. A
statement is a document of account; two copies of it are the double the project promises
against, while a missed one is not lost: the manager gets it with /statement.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError, TimedOut
from telegram.ext import Application, CallbackContext

from bot.delivery.outbox import REPORT
from bot.delivery.retry import left_to_caller
from bot.documents.data import EntryLine, Member, RequestLine, StatementData
from bot.documents.data import Estimate as EstimateLine
from bot.documents.statement import statement_pdf
from bot.federation.envelopes import envelope_lines
from bot.logs import log_event
from bot.rules.periods import Period, describe, parse_month
from bot.rules.service_levels import calendar_for
from bot.services import Services, get_services
from bot.ui.i18n import plain, t
from storage import envelopes as envelopes_repo
from storage import estimates, outbox, people
from storage import statements as repo
from storage.db import Connection
from storage.models import Federation, User

log = logging.getLogger(__name__)

CHECK_EVERY = timedelta(hours=1)
FIRST_CHECK = timedelta(seconds=60)
JOB_NAME = "monthly_statements"
SEND_FROM_HOUR = 8  # local: a PDF arriving at midnight wakes a manager for nothing
MAX_CHECKS = 5  # checks at which a manager's send may fail for a passing reason
STALE_SENDING = timedelta(minutes=10)  # a 'sending' row older than this was cut by a crash
# The outcomes the admins are told of, and by which text.
TOLD = {
    "blocked": "statement.blocked",
    "unsure": "statement.unsure",
    "given_up": "statement.given_up",
}


def month_of(day: date) -> Period:
    """The month a day is in."""
    period = parse_month(f"{day.year:04d}-{day.month:02d}")
    assert period is not None
    return period


def previous_month(today: date) -> Period:
    """The month before the one `today` is in."""
    return month_of(today.replace(day=1) - timedelta(days=1))


async def statement_data(
    conn: Connection, services: Services, federation: Federation, period: Period, language: str
) -> StatementData:
    """A federation's statement of a month, as the PDF shows it in `language`."""
    entries = await repo.month_entries(conn, federation.id, period.first, period.after)
    fields = {f.id: f for f in await people.list_fields(conn, active_only=False)}
    ticket_ids = list(dict.fromkeys(e.ticket_id for e in entries))
    # The estimates as they stood at the month's end: a later revision is next month's.
    approved = await estimates.approved_estimates(
        conn, ticket_ids, before=period.bounds(services.settings.tz)[1]
    )
    requests: dict[int, RequestLine] = {}
    for entry in entries:
        if entry.ticket_id in requests:
            continue
        field = fields.get(entry.ticket_field_id)
        estimate = approved.get(entry.ticket_id)
        requests[entry.ticket_id] = RequestLine(
            reference=entry.reference,
            subject=entry.subject,
            field=field.name(language) if field else "—",
            estimate=EstimateLine(
                estimate.low_minutes, estimate.high_minutes, estimate.high_amount_cents
            )
            if estimate
            else None,
        )
    return StatementData(
        consortium=plain(t(language, "statement.consortium")),
        federation=Member(federation.code, federation.name),
        period=period,
        produced=services.today(),
        requests=tuple(requests.values()),
        entries=tuple(
            EntryLine(
                day=e.work_date,
                reference=e.reference,
                lead=e.lead_name,
                minutes=e.minutes,
                rate_cents=e.hourly_rate_cents,
                note=e.note or "",
            )
            for e in entries
        ),
        envelopes=await envelope_lines(conn, services, federation, period, fields, language),
    )


async def render(data: StatementData, language: str) -> bytes:
    """The statement's PDF, built in a worker thread (it takes a few tenths of a second)."""
    return await asyncio.to_thread(statement_pdf, data, language)


async def send_statement(
    bot: Bot, chat_id: int, data: StatementData, language: str, caption: str = "statement.caption"
) -> None:
    """Send a statement as a PDF to one chat, its caption the text `caption` (raises what the
    Bot API raised)."""
    await _send_pdf(bot, chat_id, await render(data, language), data, language, caption)


async def _send_pdf(
    bot: Bot, chat_id: int, pdf: bytes, data: StatementData, language: str, caption: str
) -> None:
    await bot.send_document(
        chat_id,
        document=pdf,
        filename=plain(
            t(language, "statement.file", code=data.federation.code, period=data.period.label)
        ),
        caption=t(
            language,
            caption,
            code=data.federation.code,
            period=describe(data.period, language),
        ),
    )


def first_business_day(services: Services, month: Period) -> date:
    """The first business day of a month (Québec holidays and weekends off)."""
    calendar = calendar_for(services.settings.tz)
    day = month.first
    while not calendar.is_business_day(day):
        day += timedelta(days=1)
    return day


async def check_statements(services: Services, bot: Bot) -> int:
    """From 8 h on the first business day of a month (or any time after), send each
    federation's managers the previous month's statement, once; the number of federations
    whose statement was sent."""
    now = services.clock.now().astimezone(services.settings.tz)
    today = now.date()
    first = first_business_day(services, month_of(today))
    if today < first or (today == first and now.hour < SEND_FROM_HOUR):
        return 0
    period = previous_month(today)
    async with services.db.read() as conn:
        done = await envelopes_repo.statements_sent(conn, period.label)
        due = [
            f
            for f in await repo.federations_with_time(conn, period.first, period.after)
            if f not in done
        ]
    sent = 0
    for federation_id in due:
        if await _send_to_managers(services, bot, federation_id, period):
            sent += 1
    return sent


async def _send_to_managers(
    services: Services, bot: Bot, federation_id: int, period: Period
) -> bool:
    async with services.db.read() as conn:
        federation = await people.federation_by_id(conn, federation_id)
        managers = await people.managers_of(conn, federation_id)
        if federation is None or not managers:
            return False
        by_language = {
            language: await statement_data(conn, services, federation, period, language)
            for language in {m.language for m in managers}
        }
    pdfs = {language: await render(data, language) for language, data in by_language.items()}
    complete = True
    for manager in managers:
        if not await _send_one(services, bot, federation, period, manager, by_language, pdfs):
            complete = False
    if not complete:
        return False
    async with services.db.transaction() as conn:
        return await envelopes_repo.mark_statement_sent(
            conn, federation_id, period.label, services.clock.now()
        )


async def _send_one(
    services: Services,
    bot: Bot,
    federation: Federation,
    period: Period,
    manager: User,
    by_language: dict[str, StatementData],
    pdfs: dict[str, bytes],
) -> bool:
    """Send one manager their statement unless it was settled; whether it is settled now."""
    month, now = period.label, services.clock.now()
    async with services.db.read() as conn:
        done = await repo.delivery(conn, federation.id, month, manager.id)
    tries = done.tries if done else 0
    if done is not None and done.status == "sending":
        if now - done.at < STALE_SENDING:  # being sent, or cut a moment ago: seen next time
            return False
        # A crash between the send and its record: perhaps delivered, not sent again.
        log_event(log, "statement.unsure", logging.WARNING, chat=manager.id, month=month)
        await _settle(services, manager, federation, period, "unsure", tries, was="sending")
        return True
    if done is not None and done.status != "retry":  # sent, blocked, failed, unsure, given up
        return True
    async with services.db.transaction() as conn:  # the intent, committed before the send
        await repo.record_delivery(conn, federation.id, month, manager.id, "sending", now)
    language = manager.language
    try:
        with left_to_caller():  # tried once: a repeat after a timeout could double it
            await _send_pdf(
                bot,
                manager.id,
                pdfs[language],
                by_language[language],
                language,
                "statement.monthly",
            )
    except Forbidden:  # the manager blocked the bot: recorded, not retried
        log_event(log, "statement.blocked", logging.WARNING, chat=manager.id)
        await _settle(services, manager, federation, period, "blocked", tries)
        return True
    except BadRequest as exc:  # for good: not retried
        log_event(log, "statement.undeliverable", logging.WARNING, chat=manager.id, error=str(exc))
        await _settle(services, manager, federation, period, "failed", tries)
        return True
    except TimedOut:  # no answer: Telegram may have delivered it, so it is not sent again
        log_event(log, "statement.unsure", logging.WARNING, chat=manager.id, month=month)
        await _settle(services, manager, federation, period, "unsure", tries)
        return True
    except TelegramError as exc:  # nothing delivered (5xx, connection, 429): the next check
        tries += 1
        log_event(
            log,
            "statement.retry",
            logging.WARNING,
            chat=manager.id,
            error=type(exc).__name__,
            tries=tries,
        )
        status = "given_up" if tries >= MAX_CHECKS else "retry"
        await _settle(services, manager, federation, period, status, tries)
        return status == "given_up"
    await _settle(services, manager, federation, period, "sent", tries)
    return True


async def _settle(
    services: Services,
    manager: User,
    federation: Federation,
    period: Period,
    status: str,
    tries: int,
    was: str | None = None,
) -> None:
    """Record a manager's statement's outcome and, in the same transaction (so once), tell the
    admins of one they should know about; a 403 marks the manager blocked, as the outbox does.
    With `was`, only if the record is still in that state."""
    now = services.clock.now()
    settings = services.settings
    async with services.db.transaction() as conn:
        if not await repo.record_delivery(
            conn, federation.id, period.label, manager.id, status, now, tries=tries, was=was
        ):
            return
        if status == "blocked":
            await people.mark_blocked(conn, manager.id, now)
        if status not in TOLD:
            return
        for admin_id, language in await people.admins_to_tell(
            conn, settings.admin_ids, settings.default_language
        ):
            text = t(
                language,
                TOLD[status],
                name=manager.full_name,
                code=federation.code,
                period=describe(period, language),
                month=period.label,
            )
            await outbox.enqueue(
                conn,
                chat_id=admin_id,
                method="send_message",
                payload={"text": text, "parse_mode": "HTML"},
                purpose=REPORT,
                now=now,
            )
    services.wake_outbox()


async def _run(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """The JobQueue's callback: one check."""
    await check_statements(get_services(context), context.bot)


def schedule_jobs(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Check every hour whether the monthly statements are due (by the bot's clock)."""
    if app.job_queue is None:
        log.warning("no JobQueue (python-telegram-bot[job-queue] missing): no statements")
        return
    app.job_queue.run_repeating(_run, interval=CHECK_EVERY, first=FIRST_CHECK, name=JOB_NAME)
