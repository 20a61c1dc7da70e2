"""/report (issue 14): a governance report of a quarter or a year as a PDF, in the reader's
language. An admin: one federation's board report with its code, the Consortium-wide one
without; a manager: their own federation's. Contacts and leads may not.
"""

from __future__ import annotations

from datetime import date

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.reports.governance import period_label, report_data, send_report
from bot.rules.periods import Period, parse_period
from bot.services import get_services
from bot.ui.i18n import t
from handlers.common import PRIVATE, Context, command_args, members, refuse, reply
from storage import people
from storage.models import Federation, Role, User


def _period(text: str) -> Period | None:
    """A quarter (`2026-Q4`, `2026-T4`) or a year (`2026`); None for anything else (a month)."""
    period = parse_period(text, date.min) if text.strip() else None
    return period if period is not None and period.kind != "month" else None


@members(Role.ADMIN, Role.CONTACT)
async def report_command(update: Update, context: Context, user: User) -> None:
    """/report <period> [CODE] (admin); /report <period> (a manager, their own federation)."""
    services = get_services(context)
    language = user.language
    args = command_args(context)
    manager = user.role is Role.CONTACT
    if manager and (not user.manager or user.federation_id is None):
        await refuse(update, context, t(language, "access.not_allowed"))
        return
    usage = "report.usage_manager" if manager else "report.usage"
    period = _period(args[0]) if 1 <= len(args) <= 2 else None
    if period is None:
        await reply(update, context, t(language, usage))
        return
    federation: Federation | None = None
    async with services.db.read() as conn:
        if manager:
            assert user.federation_id is not None
            federation = await people.federation_by_id(conn, user.federation_id)
            if len(args) == 2 and (federation is None or args[1].upper() != federation.code):
                # Whether that code exists or not, a manager gets their own federation's.
                own = federation.code if federation else "—"
                label = period_label(period, language)
                text = t(language, "report.own_only", code=own, period=label)
                await reply(update, context, text)
                return
        elif len(args) == 2:
            federation = await people.federation_by_code(conn, args[1].upper())
            if federation is None:
                await reply(
                    update, context, t(language, "report.unknown_federation", code=args[1][:40])
                )
                return
    async with services.db.report() as conn:
        data = await report_data(conn, services, period, language, federation)
    assert update.effective_chat is not None
    await send_report(context.bot, update.effective_chat.id, data, language)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /report."""
    app.add_handler(CommandHandler("report", report_command, filters=PRIVATE))
