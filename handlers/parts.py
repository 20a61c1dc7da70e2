"""Requests across several fields: at the form's review, « Ce besoin touche aussi… » and its
field picker (toggle buttons, then back to the review)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.services import get_services
from bot.together.parts import NotPickable, choices, review_draft, toggle
from bot.ui import callbacks as cb
from bot.ui import keyboards
from bot.ui.i18n import t
from handlers.common import Context, drop_buttons, members, refuse, reply
from handlers.intake import ask
from storage.models import Draft, ExpertiseField, Role, User


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


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(on_form_button, pattern=rf"^{cb.PART}:(pick|tog|done):"))
