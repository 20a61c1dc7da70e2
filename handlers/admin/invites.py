"""/invite, /invitelead, /invites, /cancelinvite: the single-use links that register people."""

from __future__ import annotations

from telegram import Update

from bot import registration
from bot.services import get_services
from bot.ui import admin_words as words
from bot.ui import callbacks as cb
from bot.ui import keyboards, render
from bot.ui.i18n import Html, t, tn
from handlers.admin.shared import SCOPE, ButtonHandler, reply_lines
from handlers.common import Context, members, refuse, reply
from storage import admin as repo
from storage import people
from storage.models import Role, User

INVITES_SHOWN = 20


@members(Role.ADMIN)
async def invite_contact(update: Update, context: Context, user: User) -> None:
    """/invite <CODE> [manager]: a single-use link that registers a contact of that federation
    (with `manager` or `gestionnaire`: a manager of it)."""
    services = get_services(context)
    language = user.language
    args = context.args or []
    manager = len(args) == 2 and words.means_manager(args[1])
    if len(args) not in {1, 2} or (len(args) == 2 and not manager):
        await reply(update, context, t(language, "usage.invite"))
        return
    code = args[0]
    async with services.db.read() as conn:
        federation = await people.federation_by_code(conn, code.upper())
    if federation is None or not federation.active:
        await reply(update, context, t(language, "federation.unknown", code=code[:20]))
        return
    token = await registration.create_invite(
        services, user, federation=federation, manager=manager
    )
    link = registration.invite_link(services.bot_username, token)
    key = "invite.manager" if manager else "invite.contact"
    await reply(
        update, context, t(language, key, link=link, code=federation.code, name=federation.name)
    )


@members(Role.ADMIN)
async def invite_lead(update: Update, context: Context, user: User) -> None:
    """/invitelead <field-code> [...]: a single-use link that registers a lead of those fields."""
    services = get_services(context)
    language = user.language
    codes = [c.lower() for c in context.args or []]
    if not codes:
        await reply(update, context, t(language, "usage.invitelead"))
        return
    async with services.db.read() as conn:
        found = await people.fields_by_codes(conn, codes)
    unknown = [c for c in codes if c not in found]
    if unknown:
        await reply(update, context, t(language, "field.unknown", codes=", ".join(unknown)[:200]))
        return
    fields = list(found.values())
    token = await registration.create_invite(services, user, fields=fields)
    link = registration.invite_link(services.bot_username, token)
    names = ", ".join(f.name(language) for f in fields)
    await reply(update, context, t(language, "invite.lead", link=link, fields=names))


@members(Role.ADMIN)
async def list_invites(update: Update, context: Context, user: User) -> None:
    """/invites: the invites that can still be opened, each with a Cancel button."""
    services = get_services(context)
    language = user.language
    now = services.clock.now()
    async with services.db.read() as conn:
        pending = await repo.pending_invites(conn, now, INVITES_SHOWN)
        total = await repo.count_pending_invites(conn, now)
    if not pending:
        await reply(update, context, t(language, "admin.invites_none"))
        return
    lines: list[str] = [t(language, "admin.invites_title", count=total)]
    for invite in pending:
        kind = "manager" if invite.manager else "contact"
        what = (
            t(language, f"admin.invites_for_{kind}", code=invite.federation_code or "?")
            if invite.role is Role.CONTACT
            else t(language, "admin.invites_for_lead", codes=", ".join(invite.field_codes) or "—")
        )
        lines.append(
            t(
                language,
                "admin.invites_line",
                id=invite.id,
                what=what,
                by=invite.created_by_name or "—",
                expires=render.moment(invite.expires_at, language, services.settings.tz),
            )
        )
    if total > len(pending):
        lines.append(tn(language, "admin.invites_more", total - len(pending)))
    lines.append(t(language, "admin.invites_hint"))
    buttons = [
        [(t(language, "admin.invites_cancel_button", id=i.id), cb.pack(SCOPE, "inv", i.id))]
        for i in pending
    ]
    await reply_lines(update, context, lines, keyboards.keyboard(buttons))


@members(Role.ADMIN)
async def cancel_invite_command(update: Update, context: Context, user: User) -> None:
    """/cancelinvite <number>: cancel a pending invite (its link stops working)."""
    args = context.args or []
    number = args[0].lstrip("#") if len(args) == 1 else ""
    if not number.isdigit() or len(number) > 12:
        await reply(update, context, t(user.language, "admin.invites_usage"))
        return
    await reply(update, context, await _cancel_invite(context, user, int(number)))


async def _cancel_invite(context: Context, user: User, invite_id: int) -> Html:
    services = get_services(context)
    async with services.db.transaction() as conn:
        outcome = await repo.cancel_invite(conn, invite_id, services.clock.now())
    return t(user.language, f"admin.invite_{outcome}", id=invite_id)


async def on_cancel_button(
    update: Update, context: Context, user: User, data: cb.Callback
) -> None:
    """Cancel an invite from the list (`adm:inv:<id>`)."""
    query = update.callback_query
    assert query is not None
    invite_id = data.int_arg(0) if len(data.args) == 1 else None
    if not invite_id:
        await refuse(update, context, t(user.language, "button.stale"))
        return
    text = await _cancel_invite(context, user, invite_id)
    await query.answer()
    await reply(update, context, text)


BUTTONS: dict[str, ButtonHandler] = {"inv": on_cancel_button}
