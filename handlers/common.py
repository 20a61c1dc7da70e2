"""What every handler shares: who is writing, the role guard, replies."""

from __future__ import annotations

import contextlib
import functools
import html
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeAlias

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes, filters

from bot.registration import queue_menu
from bot.services import Services, get_services
from bot.ui.i18n import Html, normalise_language, t, visible_length
from storage import people
from storage.models import Role, User

Context: TypeAlias = ContextTypes.DEFAULT_TYPE
MemberHandler: TypeAlias = Callable[[Update, Context, User], Awaitable[None]]
Handler: TypeAlias = Callable[[Update, Context], Coroutine[Any, Any, None]]

ALERT_LIMIT = 200  # characters Telegram shows in a button's alert

# New messages in private chats (edits of old messages are not answers to anything).
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def telegram_language(update: Update, services: Services) -> str:
    """The language for someone we do not know yet, from their Telegram settings."""
    code = update.effective_user.language_code if update.effective_user else None
    return normalise_language(code, services.settings.default_language)


def display_name(update: Update) -> tuple[str, str | None]:
    tg = update.effective_user
    assert tg is not None
    return (tg.full_name or str(tg.id))[:128], tg.username


async def current_member(update: Update, context: Context) -> User | None:
    """The registered user behind the update; an `ADMIN_IDS` person is registered on sight."""
    tg = update.effective_user
    if tg is None:
        return None
    services = get_services(context)
    async with services.db.read() as conn:
        user = await people.get_user(conn, tg.id)
    if user is None and tg.id in services.settings.admin_ids:
        name, username = display_name(update)
        async with services.db.transaction() as conn:
            user = await people.get_user(conn, tg.id)
            if user is None:
                user = await people.create_user(
                    conn,
                    user_id=tg.id,
                    role=Role.ADMIN,
                    full_name=name,
                    username=username,
                    language=telegram_language(update, services),
                    now=services.clock.now(),
                )
                await queue_menu(conn, services, user)
        services.wake_outbox()
    if user is not None and user.blocked_at is not None:  # they are back: deliveries work again
        async with services.db.transaction() as conn:
            await people.clear_blocked(conn, user.id)
    return user


async def reply(
    update: Update, context: Context, text: Html, markup: InlineKeyboardMarkup | None = None
) -> Message:
    """Send a message to the chat the update came from."""
    chat = update.effective_chat
    assert chat is not None
    return await context.bot.send_message(chat.id, text, reply_markup=markup)


async def refuse(update: Update, context: Context, text: Html) -> None:
    """Say no: as an alert on a button press, as a message otherwise (or when it is too long
    for an alert: Telegram shows at most 200 characters there)."""
    query = update.callback_query
    if query is not None and visible_length(text) <= ALERT_LIMIT:
        await query.answer(html.unescape(re.sub(r"<[^>]*>", "", text)), show_alert=True)
        return
    if query is not None:
        await query.answer()
    await reply(update, context, text)


async def edit_pressed(
    update: Update, context: Context, text: Html, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Write `text` in the message whose button was pressed (a page turned, a choice made).
    Pressed twice (it says so already), Telegram answers "not modified": nothing to do; gone,
    the text comes in a new message."""
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            await reply(update, context, text, markup)


async def drop_buttons(update: Update) -> None:
    """Take the buttons off the message whose button was pressed (it has been answered)."""
    query = update.callback_query
    if query is not None and query.message is not None:
        # Already gone, or too old to edit: nothing to fix.
        with contextlib.suppress(BadRequest):
            await query.edit_message_reply_markup(None)


def members(*roles: Role) -> Callable[[MemberHandler], Handler]:
    """Guard a handler: only registered, active users with one of `roles` (any role if none).

    The role comes from the database on every update, never from the message or the button.
    """

    def decorate(func: MemberHandler) -> Handler:
        @functools.wraps(func)
        async def guarded(update: Update, context: Context) -> None:
            services = get_services(context)
            user = await current_member(update, context)
            if user is None:
                await refuse(
                    update, context, t(telegram_language(update, services), "access.unknown")
                )
                return
            if not user.active:
                await refuse(update, context, t(user.language, "access.revoked"))
                return
            if roles and user.role not in roles:
                await refuse(update, context, t(user.language, "access.not_allowed"))
                return
            await func(update, context, user)

        return guarded

    return decorate


def command_args(context: Context) -> list[str]:
    return list(context.args or [])


async def answer_query(update: Update, text: Html | None = None) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(text)
