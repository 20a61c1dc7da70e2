"""What nothing else answered: unknown commands, stray messages, stale or forged buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.services import get_services
from bot.ui.i18n import t
from handlers.common import PRIVATE, Context, current_member, refuse, telegram_language
from storage.models import Role

LAST_GROUP = 99


async def stray_message(update: Update, context: Context) -> None:
    """A command we do not know, or a message no step is waiting for: say what can be done."""
    services = get_services(context)
    user = await current_member(update, context)
    if user is None:
        await refuse(update, context, t(telegram_language(update, services), "access.unknown"))
        return
    if not user.active:  # revoked: nothing to suggest
        await refuse(update, context, t(user.language, "access.revoked"))
        return
    message = update.effective_message
    is_command = bool(message and message.text and message.text.startswith("/"))
    if is_command:
        await refuse(update, context, t(user.language, "fallback.unknown_command"))
    elif user.role is Role.CONTACT:
        await refuse(update, context, t(user.language, "fallback.contact"))
    else:
        await refuse(update, context, t(user.language, "fallback.other"))


async def stray_button(update: Update, context: Context) -> None:
    """A button whose data we did not make, or from a flow that has moved on."""
    services = get_services(context)
    user = await current_member(update, context)
    language = user.language if user else telegram_language(update, services)
    await refuse(update, context, t(language, "button.stale"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register last: the group-0 ones catch what no command or button handler took."""
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, stray_message))
    app.add_handler(CallbackQueryHandler(stray_button))
    # Messages that no conversation step took (those raise ApplicationHandlerStop).
    app.add_handler(MessageHandler(PRIVATE & ~filters.COMMAND, stray_message), group=LAST_GROUP)
