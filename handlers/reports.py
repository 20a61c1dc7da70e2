"""Admin reports: /stats [period] (text and chart), /export [period] and /billing <YYYY-MM>
(spreadsheets). Files answer the command directly; building them runs in a worker thread so
that a large period never holds up the bot.
"""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.reports.billing import billing_workbook
from bot.reports.billing_message import render_billing
from bot.reports.chart import weekly_chart
from bot.reports.export import export_workbook
from bot.reports.stats import render_stats
from bot.rules.billing import billing_statement
from bot.rules.periods import Period, describe, parse_month, parse_period
from bot.rules.service_levels import calendar_for
from bot.rules.stats import compute_stats
from bot.services import get_services
from bot.ui.i18n import plain, t
from handlers.admin.shared import reply_lines
from handlers.common import PRIVATE, Context, members, reply
from storage import estimates, people
from storage import reports as repo
from storage import sla as sla_repo
from storage.db import Connection
from storage.models import ExpertiseField, Federation, Role, User


async def _period_argument(
    update: Update, context: Context, user: User, usage: str
) -> Period | None:
    """The period the command names (this month if none); None after answering with its usage
    line (key `usage`)."""
    args = context.args or []
    period = parse_period(args[0] if args else None, get_services(context).today())
    if len(args) > 1 or period is None:
        await reply(update, context, t(user.language, usage))
        return None
    return period


async def _names(conn: Connection) -> tuple[dict[int, ExpertiseField], dict[int, Federation]]:
    """Every field and every federation by id, inactive ones too (a report names them)."""
    fields = {f.id: f for f in await people.list_fields(conn, active_only=False)}
    federations = {f.id: f for f, _ in await people.list_federations(conn)}
    return fields, federations


@members(Role.ADMIN)
async def stats_command(update: Update, context: Context, user: User) -> None:
    """/stats [period]: this month by default; `2026-11`, `2026-Q4`, `2026`."""
    services = get_services(context)
    language = user.language
    period = await _period_argument(update, context, user, "stats.usage")
    if period is None:
        return
    tz = services.settings.tz
    start, end = period.bounds(tz)
    async with services.db.report() as conn:
        facts = await repo.ticket_facts(conn, start, end)
        targets = await sla_repo.targets(conn)
        fields, federations = await _names(conn)
    stats = await asyncio.to_thread(
        compute_stats, period, facts, targets, calendar_for(tz), services.clock.now()
    )
    text = render_stats(stats, language, fields, federations)
    await reply_lines(update, context, text.split("\n"))
    if not stats.totals.opened:
        return
    chart = await asyncio.to_thread(weekly_chart, stats, fields, language)
    assert update.effective_chat is not None
    await context.bot.send_photo(
        update.effective_chat.id,
        photo=chart,
        caption=t(language, "stats.chart_caption", period=describe(period, language)),
    )


@members(Role.ADMIN)
async def export_command(update: Update, context: Context, user: User) -> None:
    """/export [period]: the tickets received in the period, as a spreadsheet."""
    services = get_services(context)
    language = user.language
    period = await _period_argument(update, context, user, "export.usage")
    if period is None:
        return
    tz = services.settings.tz
    start, end = period.bounds(tz)
    async with services.db.report() as conn:
        rows = await repo.export_rows(conn, start, end)
        time_by_ticket = await repo.time_of_tickets_created(conn, start, end)
        targets = await sla_repo.targets(conn)
        fields, federations = await _names(conn)
    described = describe(period, language)
    if not rows:
        await reply(update, context, t(language, "export.empty", period=described))
        return
    workbook = await asyncio.to_thread(
        lambda: export_workbook(
            rows,
            time_by_ticket,
            fields=fields,
            federations=federations,
            targets=targets,
            calendar=calendar_for(tz),
            now=services.clock.now(),
            language=language,
        )
    )
    assert update.effective_chat is not None
    await context.bot.send_document(
        update.effective_chat.id,
        document=workbook,
        filename=plain(t(language, "export.file", period=period.label)),
        caption=t(language, "export.caption", period=described, count=len(rows)),
    )


@members(Role.ADMIN)
async def billing_command(update: Update, context: Context, user: User) -> None:
    """/billing <YYYY-MM>: the month's juste-coût statement, per federation, as a spreadsheet."""
    services = get_services(context)
    language = user.language
    args = context.args or []
    period = parse_month(args[0]) if len(args) == 1 else None
    if period is None:
        await reply(update, context, t(language, "billing.usage"))
        return
    async with services.db.report() as conn:
        entries = await repo.time_entries_between(conn, period.first, period.after)
        fields, federations = await _names(conn)
        ticket_ids = list(dict.fromkeys(entry.ticket_id for entry in entries))
        # The estimates as they stood at the month's end (a later revision leaves it as sent).
        end = period.bounds(services.settings.tz)[1]
        approved = await estimates.approved_estimates(conn, ticket_ids, before=end)
    described = describe(period, language)
    if not entries:
        await reply(update, context, t(language, "billing.empty", period=described))
        return
    statement = billing_statement(period, entries)
    workbook = await asyncio.to_thread(
        lambda: billing_workbook(
            statement,
            fields=fields,
            federations=federations,
            language=language,
            estimates=approved,
        )
    )
    lines = render_billing(statement, fields, federations, language)
    await reply_lines(update, context, lines)
    assert update.effective_chat is not None
    await context.bot.send_document(
        update.effective_chat.id,
        document=workbook,
        filename=plain(t(language, "billing.file", period=period.label)),
        caption=t(language, "billing.caption", period=described),
    )


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /stats, /export and /billing."""
    app.add_handler(CommandHandler("stats", stats_command, filters=PRIVATE))
    app.add_handler(CommandHandler("export", export_command, filters=PRIVATE))
    app.add_handler(CommandHandler("billing", billing_command, filters=PRIVATE))
