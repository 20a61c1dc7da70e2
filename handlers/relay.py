"""What people write to a ticket: the input a button asked for (Reply, Ask, Resolve, Log time, a
rating's comment), a Telegram reply to a message of the ticket, a file following what they last
wrote on it; and edits of relayed messages. Group 1: before the form's answers and the catch-all.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.conversation import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    Incoming,
    relay,
    relay_edit,
    replied_ticket,
    ticket_written_to,
)
from bot.federation.questions import question_replied
from bot.lifecycle import act
from bot.rules.forms import has_visible_text
from bot.rules.workflow import Action
from bot.services import Services, get_services
from bot.ui.i18n import format_number, t
from handlers.common import PRIVATE, Context, current_member, reply
from handlers.estimates import answer
from handlers.workflow import NOTE_MAX, explain, log_time_from_text
from storage import conversation, tickets
from storage.models import User

PENDING_KINDS = {"ask", "reply", "resolve", "time", "comment"}
# Before the commands and buttons of group 0, after the flood guard (-10).
MOVED_ON_GROUP = -1
# A command that is not /cancel (which says what it stopped waiting for).
OTHER_COMMAND = PRIVATE & filters.COMMAND & ~filters.Regex(r"^/cancel(?:@\w+)?(?:\s|$)")


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
        # Every number of the refusal written one way: « 4 100 », « 4 096 », « 4 060 ».
        most = TEXT_LIMIT if incoming.kind == "text" else CAPTION_LIMIT
        await reply(
            update,
            context,
            t(
                language,
                f"relay.too_long_{incoming.kind}",
                length=format_number(len(incoming.text or ""), language),
                most=format_number(most, language),
                limit=format_number(done.limit, language),
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
        quoted = message.reply_to_message.message_id if message.reply_to_message else None
        replied = await replied_ticket(conn, message.chat_id, quoted) if quoted else None
        # A reply to an approver's question goes back to who asked, not to the contact.
        asked = await question_replied(conn, message.chat_id, quoted) if quoted else None
    if pending is not None and pending.kind in PENDING_KINDS:
        await _answer_pending(update, context, user, services, pending.kind, pending.ticket_id)
        raise ApplicationHandlerStop
    if asked is not None and has_visible_text(message.text or ""):
        await answer(update, context, user, asked, (message.text or "").strip())
        raise ApplicationHandlerStop
    if replied is None and (message.document or message.photo):
        async with services.db.read() as conn:
            replied = await ticket_written_to(conn, user, message.chat_id, services.today())
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
        async with services.db.read() as conn:
            awaited = await tickets.get_ticket(conn, ticket_id)
        finished = await log_time_from_text(
            update, context, user, ticket_id, text, awaited=awaited
        )
    else:  # a comment on the rating
        async with services.db.transaction() as conn:
            await tickets.set_rating_comment(conn, ticket_id, text.strip()[:NOTE_MAX])
        await reply(update, context, t(language, "rating.comment_saved"))
        finished = True
    if finished:
        async with services.db.transaction() as conn:
            await conversation.clear_input(conn, user.id)


async def moved_on(update: Update, context: Context) -> None:
    """A command or a button press: the person has moved on, so the message a button asked for
    (a reply, a question, a duration…) is no longer awaited; a later text is not taken for it.
    A button that asks for one again sets the wait anew."""
    person = update.effective_user
    if person is None:
        return
    services = get_services(context)
    async with services.db.read() as conn:  # most presses wait for nothing: no write for them
        pending = await conversation.pending_input(conn, person.id)
    if pending is not None:
        async with services.db.transaction() as conn:
            await conversation.clear_input(conn, person.id)


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
        limit = format_number(done.limit, user.language)
        await reply(update, context, t(user.language, "relay.too_long_edit", limit=limit))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the end of a wait on a command or a button press (group -1), and the handlers of
    messages for a ticket and of edits (group 1)."""
    app.add_handler(MessageHandler(OTHER_COMMAND, moved_on), group=MOVED_ON_GROUP)
    app.add_handler(CallbackQueryHandler(moved_on), group=MOVED_ON_GROUP)
    # Messages for a ticket come before the form's answers (group 2) and the catch-all.
    app.add_handler(MessageHandler(PRIVATE & ~filters.COMMAND, on_message), group=1)
    edits = filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE
    app.add_handler(MessageHandler(edits, on_edit), group=1)
