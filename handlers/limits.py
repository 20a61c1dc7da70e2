"""Before anything else: drop the updates of someone writing too fast (with a polite word)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.logs import log_event
from bot.rules.limits import FloodGuard
from bot.services import get_services
from bot.ui.i18n import t
from handlers.common import Context, refuse, telegram_language
from storage import people

log = logging.getLogger(__name__)
GROUP = -10
KEY = "flood_guard"


async def flood_guard(update: Update, context: Context) -> None:
    """Let the update through, or stop it here if its sender is over the limit."""
    user = update.effective_user
    if user is None:
        return
    services = get_services(context)
    guard = context.bot_data.get(KEY)
    if not isinstance(guard, FloodGuard):
        settings = services.settings
        guard = FloodGuard(settings.rate_limit_per_minute, services.clock, settings.admin_ids)
        context.bot_data[KEY] = guard
    allowed, tell = guard.check(user.id)
    if allowed:
        return
    if tell:
        log_event(log, "limit.flood", logging.WARNING, user=user.id)
        async with services.db.read() as conn:
            member = await people.get_user(conn, user.id)
        language = member.language if member else telegram_language(update, services)
        await refuse(update, context, t(language, "limit.flood", count=guard.per_minute))
    elif update.callback_query is not None:
        await update.callback_query.answer()
    raise ApplicationHandlerStop


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(TypeHandler(Update, flood_guard), group=GROUP)
