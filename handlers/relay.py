"""What people write to a ticket: the input a button asked for (Reply, Ask, Resolve, Log time, a
rating's comment), a Telegram reply to a message of the ticket, a file following what they last
wrote on it; and edits of relayed messages. Group 1: before the form's answers and the catch-all.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import Application, ApplicationHandlerStop, MessageHandler, filters

from bot.conversation import Incoming, relay, relay_edit, replied_ticket, ticket_written_to
from bot.lifecycle import act
from bot.rules.forms import has_visible_text
from bot.rules.workflow import Action
from bot.services import Services, get_services
from bot.ui.i18n import t
from handlers.common import PRIVATE, Context, current_member, reply
from handlers.workflow import NOTE_MAX, explain, log_time_from_text
from storage import conversation, tickets
from storage.models import User

PENDING_KINDS = {"ask", "reply", "resolve", "time", "comment"}


def incoming_of(message: Message) -> Incoming | None:
    """The relayable content of a message (text, document, photo); None for anything else."""
    if message.text:
        return Incoming("text", message.text, message.chat_id, message.message_id)
    if message.document:
        doc = message.document
        return Incoming(
            "document",
            message.caption,
            message.chat_id,
            message.message_id,
            doc.file_id,
            doc.file_unique_id,
            doc.file_name,
            doc.file_size,
        )
    if message.photo:
        photo = message.photo[-1]
        return Incoming(
            "photo",
            message.caption,
            message.chat_id,
            message.message_id,
            photo.file_id,
            photo.file_unique_id,
            file_size=photo.file_size,
        )
    return None


async def _relay(
    update: Update, context: Context, user: User, ticket_id: int, question: bool
) -> str:
    """Relay the message: `sent`, `retry` (fix it and send again) or `dead` (told why)."""
    message = update.effective_message
    assert message is not None
    language = user.language
    incoming = incoming_of(message)
    if incoming is None:
        await reply(update, context, t(language, "relay.wrong_kind"))
        return "retry"
    done = await relay(get_services(context), user, ticket_id, incoming, question=question)
    if done.refusal == "too_long":
        await reply(
            update,
            context,
            t(
                language,
                f"relay.too_long_{incoming.kind}",
                limit=done.limit,
                length=len(incoming.text or ""),
            ),
        )
        return "retry"
    if done.refusal == "duplicate":
        return "sent"
    if done.refusal == "file_too_big":
        await reply(update, context, t(language, "limit.file_size", max=done.limit))
        return "retry"
    if done.refusal or done.ticket is None:
        key = {"closed": "relay.closed", "not_allowed": "relay.not_allowed"}.get(
            done.refusal or "", "button.stale"
        )
        await reply(update, context, t(language, key))
        return "dead"
    await reply(update, context, t(language, "relay.sent", reference=done.ticket.reference))
    return "sent"


async def on_message(update: Update, context: Context) -> None:
    """A message for a ticket: the input a button asked for, a Telegram reply to a message of
    the ticket, or a file following what the person last wrote on it. Anything else goes on to
    the form and the catch-all."""
    user = await current_member(update, context)
    message = update.effective_message
    if user is None or not user.active or message is None:
        return
    services = get_services(context)
    async with services.db.read() as conn:
        pending = await conversation.pending_input(conn, user.id)
        replied = (
            await replied_ticket(conn, message.chat_id, message.reply_to_message.message_id)
            if message.reply_to_message
            else None
        )
    if pending is not None and pending.kind in PENDING_KINDS:
        await _answer_pending(update, context, user, services, pending.kind, pending.ticket_id)
        raise ApplicationHandlerStop
    if replied is None and (message.document or message.photo):
        async with services.db.read() as conn:
            replied = await ticket_written_to(conn, user, message.chat_id)
    if replied is not None:
        await _relay(update, context, user, replied, question=False)
        raise ApplicationHandlerStop


async def _answer_pending(
    update: Update, context: Context, user: User, services: Services, kind: str, ticket_id: int
) -> None:
    """The message the person was asked for; the wait ends unless they must try again."""
    message = update.effective_message
    assert message is not None
    language = user.language
    text = message.text or ""
    if kind in {"resolve", "time", "comment"} and not has_visible_text(text):
        async with services.db.read() as conn:  # asked again, as the button asked it
            ticket = await tickets.get_ticket(conn, ticket_id)
        reference = ticket.reference if ticket else ""
        await reply(update, context, t(language, f"input.{kind}", reference=reference))
        return
    if kind in {"ask", "reply"}:
        finished = (
            await _relay(update, context, user, ticket_id, question=kind == "ask") != "retry"
        )
    elif kind == "resolve":
        if len(text) > NOTE_MAX:
            await reply(update, context, t(language, "input.too_long", max=NOTE_MAX))
            return
        outcome = await act(services, user, ticket_id, Action.RESOLVE, note=text.strip())
        if outcome.ok and outcome.ticket is not None:
            ref = outcome.ticket.reference
            await reply(update, context, t(language, "done.resolve", reference=ref))
        else:
            await explain(update, context, user, outcome)
        finished = True
    elif kind == "time":
        finished = await log_time_from_text(update, context, user, ticket_id, text)
    else:  # a comment on the rating
        async with services.db.transaction() as conn:
            await tickets.set_rating_comment(conn, ticket_id, text.strip()[:NOTE_MAX])
        await reply(update, context, t(language, "rating.comment_saved"))
        finished = True
    if finished:
        async with services.db.transaction() as conn:
            await conversation.clear_input(conn, user.id)


async def on_edit(update: Update, context: Context) -> None:
    """An author edited a message that was relayed: the copies are edited too."""
    user = await current_member(update, context)
    message = update.edited_message
    if user is None or message is None:
        return
    text = message.text if message.text is not None else message.caption
    if text is None:
        return
    done = await relay_edit(get_services(context), user, message.chat_id, message.message_id, text)
    if done is not None and done.refusal == "too_long":
        await reply(update, context, t(user.language, "relay.too_long_edit", limit=done.limit))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the handlers of messages for a ticket and of edits (group 1)."""
    # Messages for a ticket come before the form's answers (group 2) and the catch-all.
    app.add_handler(MessageHandler(PRIVATE & ~filters.COMMAND, on_message), group=1)
    edits = filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE
    app.add_handler(MessageHandler(edits, on_edit), group=1)
