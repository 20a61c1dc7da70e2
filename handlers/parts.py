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
from bot.rules.forms import DESCRIPTION_MAX, DESCRIPTION_MIN
from bot.rules.parts import needs_choice, open_parts
from bot.services import get_services
from bot.together.parts import (
    NotPickable,
    add_part,
    addable_fields,
    choices,
    review_draft,
    toggle,
)
from bot.ui import callbacks as cb
from bot.ui import keyboards
from bot.ui.i18n import t
from handlers.common import PRIVATE, Context, current_member, drop_buttons, members, refuse, reply
from handlers.intake import ask
from storage import conversation, parts, people
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


@members(Role.LEAD, Role.ADMIN)
async def on_card_button(update: Update, context: Context, user: User) -> None:
    """p:add:<ticket id> (« Ajouter un domaine »): the fields a part may be added in;
    p:fld:<ticket id>:<field id>: that field, then the note the bot asks for."""
    query = update.callback_query
    assert query is not None
    services = get_services(context)
    language = user.language
    data = cb.unpack(query.data)
    ticket_id = data.int_arg(0) if data else None
    field_id = data.int_arg(1) if data else None
    if data is None or ticket_id is None or (data.action == "fld" and field_id is None):
        await refuse(update, context, t(language, "button.stale"))
        return
    async with services.db.read() as conn:
        found = await addable_fields(conn, user, ticket_id, services.today())
    if found is None:
        await refuse(update, context, t(language, "parts.add_not_allowed"))
        return
    ticket, offered = found
    if data.action == "add":
        if not offered:
            await refuse(update, context, t(language, "parts.no_field_left"))
            return
        rows = [[(f.name(language), cb.pack(cb.PART, "fld", ticket.id, f.id))] for f in offered]
        await query.answer()
        text = t(language, "parts.add_which", reference=ticket.reference)
        await reply(update, context, text, keyboards.keyboard(rows))
        return
    field = next((f for f in offered if f.id == field_id), None)
    if field is None:
        await refuse(update, context, t(language, "parts.field_taken"))
        return
    async with services.db.transaction() as conn:
        await parts.choose_field(conn, user.id, ticket.id, field.id, services.clock.now())
        await conversation.expect_input(conn, user.id, "part", ticket.id, services.clock.now())
    await query.answer()
    await drop_buttons(update)
    text = t(
        language,
        "parts.ask_note",
        reference=ticket.reference,
        field=field.name(language),
        min=DESCRIPTION_MIN,
        max=DESCRIPTION_MAX,
    )
    await reply(update, context, text)


async def _part_note(update: Update, context: Context, user: User, ticket_id: int) -> None:
    """The note of a lead's new part: the part is filed, or the note asked again."""
    message = update.effective_message
    assert message is not None
    services = get_services(context)
    language = user.language
    async with services.db.read() as conn:
        field_id = await parts.chosen_field(conn, user.id, ticket_id)
    if field_id is None:
        return
    done = await add_part(services, user, ticket_id, field_id, message.text or "")
    if done.part is None:
        key = f"parts.refused.{done.refusal}"
        await reply(update, context, t(language, key, min=DESCRIPTION_MIN, max=DESCRIPTION_MAX))
        if done.refusal in {"not_allowed", "field_taken"}:
            async with services.db.transaction() as conn:
                await conversation.clear_input(conn, user.id)
        return
    async with services.db.read() as conn:
        field = await people.get_field(conn, done.part.field_id)
    name = field.name(language) if field else "—"
    await reply(
        update, context, t(language, "parts.added", reference=done.part.reference, field=name)
    )


async def on_plain_message(update: Update, context: Context) -> None:
    """A lead's note for a new part; or a contact's text that is not a reply, while several of
    their parts are open: kept, and they choose the part it is for (one button per part)."""
    user = await current_member(update, context)
    message = update.effective_message
    if user is None or not user.active or message is None:
        return
    if user.role is not Role.CONTACT:
        async with get_services(context).db.read() as conn:
            pending = await conversation.pending_input(conn, user.id)
        if pending is not None and pending.kind == "part":
            await _part_note(update, context, user, pending.ticket_id)
            raise ApplicationHandlerStop
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
    app.add_handler(CallbackQueryHandler(on_card_button, pattern=rf"^{cb.PART}:(add|fld):"))
    app.add_handler(
        MessageHandler(PRIVATE & ~filters.COMMAND, on_plain_message), group=MESSAGE_GROUP
    )
