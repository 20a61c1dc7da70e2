"""The one error handler: log, tell the person briefly, report to the admins (never the token).

Reports of the same kind are grouped, at most one every few minutes (bot/errorreports.py).
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot import errorreports
from bot.logs import log_event, redact
from bot.services import get_services
from bot.ui.i18n import t
from handlers.common import Context, telegram_language
from storage import people

log = logging.getLogger(__name__)
REPORT_LIMIT = 600


async def on_error(update: object, context: Context) -> None:
    """Log the error; apologise to the user; report to the admins (grouped by kind)."""
    error = context.error
    log.error("error while handling an update", exc_info=error)
    if isinstance(update, Update) and update.effective_user is not None:
        await _tell(update, context)
    # The update has been answered: no catch-all further down should answer it again.
    raise ApplicationHandlerStop


async def _tell(update: Update, context: Context) -> None:
    error = context.error
    services = get_services(context)
    token = services.settings.telegram_bot_token
    secrets = [token.get_secret_value()] if token else []
    assert update.effective_user is not None
    user_id = update.effective_user.id
    language = telegram_language(update, services)
    try:
        async with services.db.read() as conn:
            user = await people.get_user(conn, user_id)
        language = user.language if user else language
        if update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, t(language, "error.user"))
        if update.callback_query is not None:
            await update.callback_query.answer()
    except TelegramError:
        log.warning("could not tell user %s about the error", user_id)
    detail = redact(f"{type(error).__name__}: {error}", secrets)[:REPORT_LIMIT]
    # Reports of one kind are grouped: the first at once, the next ones counted (bot/errorreports).
    kind = errorreports.kind_of(error)
    report = errorreports.groups_of(context.bot_data).note(
        kind, detail, user_id, services.clock.now()
    )
    if report is None:
        log_event(log, "error.counted", logging.INFO, error=kind[0], place=kind[1])
        return
    try:
        await errorreports.queue(services, report)
    except Exception:
        log.exception("could not queue the error report")
