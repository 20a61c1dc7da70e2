"""/statement (issue 14): an admin gets one federation's statement of a month as a PDF; a
manager gets their own federation's (last month by default). In the reader's language.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.federation.statements import previous_month, send_statement, statement_data
from bot.rules.periods import Period, describe, parse_month
from bot.services import get_services
from bot.ui.i18n import t
from handlers.common import PRIVATE, Context, command_args, members, refuse, reply
from storage import people
from storage.models import Federation, Role, User


@members(Role.ADMIN, Role.CONTACT)
async def statement_command(update: Update, context: Context, user: User) -> None:
    """/statement <CODE> <YYYY-MM> (admin); /statement [YYYY-MM] (a manager, their own)."""
    services = get_services(context)
    language = user.language
    args = command_args(context)
    federation: Federation | None
    period: Period | None
    if user.role is Role.CONTACT:
        if not user.manager or user.federation_id is None:
            await refuse(update, context, t(language, "access.not_allowed"))
            return
        period = parse_month(args[0]) if len(args) == 1 else None
        if not args:
            period = previous_month(services.today())
        if period is None:
            await reply(update, context, t(language, "statement.usage_manager"))
            return
        async with services.db.read() as conn:
            federation = await people.federation_by_id(conn, user.federation_id)
    else:
        period = parse_month(args[1]) if len(args) == 2 else None
        if period is None:
            await reply(update, context, t(language, "statement.usage"))
            return
        async with services.db.read() as conn:
            federation = await people.federation_by_code(conn, args[0].upper())
        if federation is None:
            await reply(
                update, context, t(language, "statement.unknown_federation", code=args[0][:40])
            )
            return
    assert federation is not None
    async with services.db.report() as conn:
        data = await statement_data(conn, services, federation, period, language)
    if not data.entries:
        await reply(
            update,
            context,
            t(
                language,
                "statement.no_time",
                code=federation.code,
                period=describe(period, language),
            ),
        )
        return
    assert update.effective_chat is not None
    await send_statement(context.bot, update.effective_chat.id, data, language)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /statement."""
    app.add_handler(CommandHandler("statement", statement_command, filters=PRIVATE))
