"""A team's group (issue 15, part 1): `/teamgroup` in the group, and what Telegram tells the bot
there (the service messages of the topics it creates)."""

from __future__ import annotations

import logging

from telegram import ChatMemberAdministrator, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.rules.teams import Lack, Usage, group_lack, parse_notify, parse_teamgroup
from bot.services import get_services
from bot.together import teams, teamwork, topics
from bot.ui import callbacks as cb
from bot.ui.i18n import Html, t
from handlers.common import PRIVATE, Context, current_member, members, reply, telegram_language
from handlers.relay import incoming_of
from storage.models import ExpertiseField, Role, User

log = logging.getLogger(__name__)
SERVICE_GROUP = -11  # before the flood guard (handlers/limits.py, group -10)
# /notify in French words too, as the French usage line shows them.
NOTIFY_WORDS = {"privé": "private", "prive": "private", "groupe": "group", "les deux": "both"}


def _names(fields: list[ExpertiseField], language: str) -> Html:
    return Html(
        ", ".join(
            f"<b>{t(language, 'teams.field', code=f.code, name=f.name(language))}</b>"
            for f in fields
        )
    )


async def teamgroup_command(update: Update, context: Context) -> None:
    """`/teamgroup <field-code>…` links the group, `off` unlinks it; alone: what it serves."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return
    services = get_services(context)
    user = await current_member(update, context)
    language = user.language if user else telegram_language(update, services)
    is_admin = user is not None and user.active and user.role is Role.ADMIN
    staff = user is not None and user.active and user.role in {Role.ADMIN, Role.LEAD}
    if staff and not context.args and chat.type != "private":
        # Alone, in a group: which fields it serves, for a lead as well as an admin.
        await _show_linked(update, context, chat.id, language)
        return
    lack = group_lack(
        chat.type, is_admin, is_forum=True, bot_status="administrator", can_manage_topics=True
    )
    if lack is not None:  # private chat, or not an admin: said before anything is asked
        await reply(update, context, t(language, f"teams.lack.{lack.value}"))
        return
    try:
        command = parse_teamgroup(list(context.args or []))
    except Usage:
        await reply(update, context, t(language, "teams.usage"))
        return
    if command.show:
        await _show_linked(update, context, chat.id, language)
        return
    if command.off:
        fields = await teams.unlink(services, chat.id)
        key = "teams.unlinked" if fields else "teams.linked_none"
        await reply(update, context, t(language, key, fields=_names(fields, language)))
        return
    lack = await _what_the_group_lacks(update, context)
    if lack is not None:
        await reply(update, context, t(language, f"teams.lack.{lack.value}"))
        return
    assert user is not None
    linked = await teams.link(
        services, chat.id, chat.title or str(chat.id), command.codes, user.id, language
    )
    if linked.unknown:
        await reply(
            update, context, t(language, "teams.unknown_field", codes=", ".join(linked.unknown))
        )
        return
    text = t(language, "teams.linked", fields=_names(linked.fields, language))
    for field, title in linked.moved:
        text = Html(
            f"{text}\n{t(language, 'teams.moved', field=field.name(language), group=title)}"
        )
    await reply(update, context, text)


async def _show_linked(update: Update, context: Context, chat_id: int, language: str) -> None:
    fields = await teams.linked_fields(get_services(context), chat_id)
    key = "teams.linked_to" if fields else "teams.linked_none"
    await reply(update, context, t(language, key, fields=_names(fields, language)))


async def _what_the_group_lacks(update: Update, context: Context) -> Lack | None:
    """Ask Telegram what the group is and what the bot may do there."""
    chat = update.effective_chat
    assert chat is not None
    try:
        full = await context.bot.get_chat(chat.id)
        member = await context.bot.get_chat_member(chat.id, context.bot.id)
    except TelegramError as exc:
        log.warning("could not check group %s: %s", chat.id, exc)
        return Lack.BOT_NOT_ADMIN
    rights = isinstance(member, ChatMemberAdministrator) and bool(member.can_manage_topics)
    return group_lack(
        full.type,
        True,
        is_forum=bool(full.is_forum),
        bot_status=member.status,
        can_manage_topics=rights or member.status == "creator",
    )


async def bots_own_service_message(update: Update, context: Context) -> None:
    """A service message of what the bot itself did in a group (a topic created, closed,
    reopened): handled here, before the flood guard (it would count the bot's burst of topics
    as someone writing too fast), and no further. A `forum_topic_created` is adopted if the
    answer of createForumTopic was lost (bot/together/topics.py), or deleted if a duplicate."""
    message = update.effective_message
    if message is None or message.from_user is None or message.from_user.id != context.bot.id:
        return
    created = message.forum_topic_created
    if created is not None and message.message_thread_id is not None:
        services = get_services(context)
        duplicate = await teams.adopt(
            services, message.chat_id, message.message_thread_id, created.name
        )
        if duplicate is not None:
            try:
                await context.bot.delete_forum_topic(message.chat_id, duplicate)
            except TelegramError as exc:
                log.warning("could not delete duplicate topic %s: %s", duplicate, exc)
        services.wake_outbox()
    raise ApplicationHandlerStop


async def topic_message(update: Update, context: Context) -> None:
    """Someone wrote in a topic of a team's group: a note, or a message to the contact
    (bot/together/teamwork.py); anyone who does not act there is ignored, without a word."""
    message = update.effective_message
    if message is None or message.from_user is None or not message.is_topic_message:
        return
    incoming = incoming_of(message)
    if incoming is None:
        return
    quoted = message.reply_to_message
    reply_to = quoted.message_id if quoted and quoted.forum_topic_created is None else None
    services = get_services(context)
    outcome = await teamwork.from_topic(
        services,
        message.from_user.id,
        message.chat_id,
        message.message_thread_id,
        incoming,
        reply_to,
    )
    if outcome.done is teamwork.Done.REFUSED:
        await message.reply_text(teamwork.refusal_text(outcome))
    services.wake_outbox()


async def write_pressed(update: Update, context: Context) -> None:
    """« Écrire au contact » on a topic's card."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    data = cb.unpack(query.data)
    ticket_id = data.int_arg() if data else None
    thread = getattr(query.message, "message_thread_id", None)
    outcome = (
        await teamwork.press_write(
            get_services(context), query.from_user.id, query.message.chat.id, thread, ticket_id
        )
        if ticket_id is not None
        else teamwork.Outcome(teamwork.Done.IGNORED)
    )
    if outcome.done is teamwork.Done.SENT:
        await query.answer(t(outcome.language, "teams.write_now"), show_alert=True)
    elif outcome.done is teamwork.Done.REFUSED:
        await query.answer(teamwork.refusal_text(outcome), show_alert=True)
    else:
        await query.answer()  # someone who does not act here: nothing happens


@members(Role.LEAD)
async def notify_command(update: Update, context: Context, user: User) -> None:
    """`/notify private|group|both` (`privé|groupe|les deux`): where the lead is told of their
    fields' new requests."""
    language = user.language
    typed = " ".join(context.args or []).strip().lower()
    try:
        mode = parse_notify([NOTIFY_WORDS.get(typed, typed)] if typed else [])
    except Usage:
        await reply(update, context, t(language, "teams.notify_usage"))
        return
    services = get_services(context)
    if mode is not None:
        await teams.set_notify(services, user.id, mode)
    async with services.db.read() as conn:
        current = await teams.notify_mode(conn, user.id)
    key = "teams.notify_set" if mode is not None else "teams.notify_is"
    where = t(language, f"teams.notify.{current.value}")
    await reply(update, context, t(language, key, where=where))


def register(app: Application) -> None:  # type: ignore[type-arg]
    topics.install()
    app.add_handler(CommandHandler("teamgroup", teamgroup_command))
    app.add_handler(CommandHandler("notify", notify_command, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(write_pressed, pattern=rf"^{teams.WRITE_SCOPE}:"))
    in_groups = filters.ChatType.SUPERGROUP & filters.UpdateType.MESSAGE
    app.add_handler(
        MessageHandler(in_groups & ~filters.COMMAND & ~filters.StatusUpdate.ALL, topic_message),
        group=1,
    )
    service = (filters.ChatType.SUPERGROUP | filters.ChatType.GROUP) & filters.StatusUpdate.ALL
    app.add_handler(MessageHandler(service, bots_own_service_message), group=SERVICE_GROUP)
