"""Requests across several fields: at the form's review, « Ce besoin touche aussi… » and its
field picker (toggle buttons, then back to the review); a contact's plain message while several
of their parts are open is asked which part it is for (a Telegram reply goes to its part as
it does for any ticket, in handlers/relay.py)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.conversation import TEXT_LIMIT, Incoming, relay
from bot.rules.parts import needs_choice, open_parts
from bot.services import get_services
from bot.together.parts import NotPickable, choices, review_draft, toggle
from bot.ui import callbacks as cb
from bot.ui import keyboards
from bot.ui.i18n import t
from handlers.common import PRIVATE, Context, current_member, drop_buttons, members, refuse, reply
from handlers.intake import ask
from storage import parts, people
from storage.models import Draft, ExpertiseField, Role, User

# After the form's answers (group 2), before the catch-all.
MESSAGE_GROUP = 3


def picker(
    draft: Draft, offered: list[ExpertiseField], picked: set[int], language: str
) -> InlineKeyboardMarkup:
    """One toggle button per field the request may also touch, then back to the review."""
    rows = [
        [
            (
                t(
                    language,
                    "parts.picked" if f.id in picked else "parts.not_picked",
                    field=f.name(language),
                ),
                cb.pack(cb.PART, "tog", draft.id, f.id),
            )
        ]
        for f in offered
    ]
    rows.append([(t(language, "button.parts_done"), cb.pack(cb.PART, "done", draft.id))])
    return keyboards.keyboard(rows)


@members(Role.CONTACT)
async def on_form_button(update: Update, context: Context, user: User) -> None:
    """p:pick|tog|done:<draft id>[:<field id>]: the picker of the other fields."""
    query = update.callback_query
    assert query is not None
    services = get_services(context)
    language = user.language
    data = cb.unpack(query.data)
    draft_id = data.int_arg(0) if data else None
    if data is None or draft_id is None or data.action not in {"pick", "tog", "done"}:
        await refuse(update, context, t(language, "button.stale"))
        return
    try:
        draft = await review_draft(services, user, draft_id)
        if data.action == "tog":
            field_id = data.int_arg(1)
            if field_id is None:
                raise NotPickable
            draft = await toggle(services, user, draft_id, field_id)
    except NotPickable:
        await refuse(update, context, t(language, "parts.not_pickable"))
        return
    await query.answer()
    if data.action == "done":
        await drop_buttons(update)
        await ask(update, context, user, draft)
        return
    offered, picked = await choices(services, draft)
    markup = picker(draft, offered, picked, language)
    if data.action == "pick":
        await drop_buttons(update)
        await reply(update, context, t(language, "parts.pick"), markup)
    else:
        await query.edit_message_reply_markup(markup)


async def on_plain_message(update: Update, context: Context) -> None:
    """A contact's text that is not a reply, while several of their parts are open: kept, and
    they choose the part it is for (one button per open part)."""
    user = await current_member(update, context)
    message = update.effective_message
    if user is None or not user.active or user.role is not Role.CONTACT or message is None:
        return
    if not message.text or len(message.text) > TEXT_LIMIT:
        return
    services = get_services(context)
    async with services.db.read() as conn:
        mine = await parts.open_parts_of_contact(conn, user.id)
        if not needs_choice(mine):
            return
        names = {}
        for part in open_parts(mine):
            field = await people.get_field(conn, part.field_id)
            names[part.id] = (part.reference, field.name(user.language) if field else "—")
    held = parts.HeldMessage(message.chat_id, message.message_id, message.text)
    async with services.db.transaction() as conn:
        await parts.hold_message(conn, user.id, held, services.clock.now())
    rows = [
        [
            (
                t(user.language, "parts.to_part", reference=ref, field=name),
                cb.pack(cb.PART, "to", ticket_id, message.message_id),
            )
        ]
        for ticket_id, (ref, name) in names.items()
    ]
    await reply(update, context, t(user.language, "parts.which"), keyboards.keyboard(rows))
    raise ApplicationHandlerStop


@members(Role.CONTACT)
async def on_part_chosen(update: Update, context: Context, user: User) -> None:
    """p:to:<ticket id>:<message id>: the held message goes to that part (once)."""
    query = update.callback_query
    assert query is not None
    services = get_services(context)
    language = user.language
    data = cb.unpack(query.data)
    ticket_id = data.int_arg(0) if data else None
    message_id = data.int_arg(1) if data else None
    async with services.db.read() as conn:
        held = await parts.held_message(conn, user.id)
        mine = {p.id for p in open_parts(await parts.open_parts_of_contact(conn, user.id))}
    if held is None or ticket_id is None or held.message_id != message_id:
        await refuse(update, context, t(language, "button.stale"))
        return
    if ticket_id not in mine:
        await refuse(update, context, t(language, "relay.not_allowed"))
        return
    incoming = Incoming("text", held.body, held.chat_id, held.message_id)
    done = await relay(services, user, ticket_id, incoming)
    async with services.db.transaction() as conn:
        await parts.release_message(conn, user.id, held.message_id)
    await query.answer()
    await drop_buttons(update)
    if done.ticket is None or (done.refusal and done.refusal != "duplicate"):
        await reply(update, context, t(language, "relay.not_allowed"))
        return
    await reply(update, context, t(language, "relay.sent", reference=done.ticket.reference))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(on_form_button, pattern=rf"^{cb.PART}:(pick|tog|done):"))
    app.add_handler(CallbackQueryHandler(on_part_chosen, pattern=rf"^{cb.PART}:to:"))
    app.add_handler(
        MessageHandler(PRIVATE & ~filters.COMMAND, on_plain_message), group=MESSAGE_GROUP
    )
