"""The one error handler: log, tell the person briefly, report to the admins (never the token)."""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.i18n import Html, t
from bot.logs import redact
from bot.services import get_services
from bot.tickets import message_payload
from handlers.common import Context, telegram_language
from storage import outbox, people

log = logging.getLogger(__name__)
REPORT_LIMIT = 600


async def on_error(update: object, context: Context) -> None:
    """Log the error; apologise to the user; queue a short report for the admins."""
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
    try:
        async with services.db.transaction() as conn:
            settings = services.settings
            admins = await people.admins_to_tell(
                conn, settings.admin_ids, settings.default_language
            )
            for admin_id, admin_language in admins:
                text = t(
                    admin_language, "report.error", user=user_id, detail=Html(html.escape(detail))
                )
                await outbox.enqueue(
                    conn,
                    chat_id=admin_id,
                    method="send_message",
                    payload=message_payload(text),
                    purpose="error_report",
                    now=services.clock.now(),
                )
        services.wake_outbox()
    except Exception:
        log.exception("could not queue the error report")
