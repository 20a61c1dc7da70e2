"""/domains, /domain add|rename|rate|on|off|addlead|removelead: the fields of expertise, their
rates and their leads."""

from __future__ import annotations

import re
from collections.abc import Sequence

from telegram import Update

from bot.rules.money import dollars, money, parse_rate
from bot.services import get_services
from bot.ui import admin_words as words
from bot.ui import callbacks as cb
from bot.ui import keyboards, render
from bot.ui.i18n import Html, t, tn
from handlers.admin.shared import SCOPE, ButtonHandler, find_user, reply_lines
from handlers.common import Context, drop_buttons, members, refuse, reply
from storage import admin as repo
from storage import people
from storage.models import ExpertiseField, Role, User

FIELD_CODE = re.compile(r"^[a-z][a-z0-9_-]{1,23}$")
FIELD_NAME_MAX = 80


@members(Role.ADMIN)
async def list_domains(update: Update, context: Context, user: User) -> None:
    """/domains: every field with its code, names, hourly rate, leads and state."""
    services = get_services(context)
    language = user.language
    async with services.db.read() as conn:
        fields = await people.list_fields(conn, active_only=False)
        leads = await repo.leads_by_field(conn)
    lines: list[str] = [t(language, "domain.title")]
    if any(f.active and f.hourly_rate_cents == 0 for f in fields):
        lines.append(t(language, "domain.rates_missing"))
    for field in fields:
        names = ", ".join(render.person(lead) for lead in leads.get(field.id, []))
        if field.routes_to_admins:
            who = t(language, "domain.to_admins")
        elif names:
            who = t(language, "domain.leads", names=Html(names))
        else:
            who = t(language, "domain.no_lead")
        lines.append(
            t(
                language,
                "domain.line" if field.active else "domain.line_inactive",
                code=field.code,
                name_fr=field.name_fr,
                name_en=field.name_en,
                rate=hourly_rate(field.hourly_rate_cents, language),
                who=who,
            )
        )
    lines.append(t(language, "domain.hint"))
    await reply_lines(update, context, lines)


def hourly_rate(cents: int, language: str) -> Html:
    """A field's hourly rate as an admin reads it: a field at 0 $ has no rate set yet (the
    default fields ship so), and time logged on it meanwhile is billed 0 $ for good."""
    if cents == 0:
        return t(language, "domain.rate_not_set")
    return t(language, "domain.rate", amount=money(dollars(cents), language))


@members(Role.ADMIN)
async def domain_command(update: Update, context: Context, user: User) -> None:
    """/domain add|rename|rate|on|off|addlead|removelead <code> …: change a field."""
    language = user.language
    args = context.args or []
    action = words.domain_action(args[0]) if args else None
    code = args[1].lower() if len(args) > 1 else ""
    rest = args[2:]
    if action is None:
        await reply(update, context, t(language, "domain.usage"))
        return
    if not FIELD_CODE.match(code):
        await reply(update, context, t(language, f"domain.usage_{action}", max=FIELD_NAME_MAX))
        return
    if action in {"add", "rename"}:
        await _name_field(update, context, user, action, code, rest)
        return
    async with get_services(context).db.read() as conn:
        field = await repo.field_by_code(conn, code)
    if field is None:
        await reply(update, context, t(language, "field.unknown", codes=code))
        return
    if action == "rate":
        await _set_rate(update, context, user, field, rest)
    elif action in {"on", "off"}:
        if rest:
            await reply(update, context, t(language, f"domain.usage_{action}", max=FIELD_NAME_MAX))
        elif action == "on":
            await _activate_field(update, context, user, field)
        else:
            await _deactivate_field(update, context, user, field, confirmed=False)
    else:
        await _change_lead(update, context, user, field, action, rest)


def _two_names(words: Sequence[str]) -> tuple[str, str] | None:
    """`Nom français | English name` → both names, or None."""
    parts = [" ".join(p.split()) for p in " ".join(words).split("|")]
    if len(parts) != 2 or not all(0 < len(p) <= FIELD_NAME_MAX for p in parts):
        return None
    return parts[0], parts[1]


async def _name_field(
    update: Update, context: Context, user: User, action: str, code: str, words: Sequence[str]
) -> None:
    """/domain add <code> <fr> | <en>, /domain rename <code> <fr> | <en>"""
    services = get_services(context)
    language = user.language
    names = _two_names(words)
    if names is None:
        await reply(update, context, t(language, f"domain.usage_{action}", max=FIELD_NAME_MAX))
        return
    name_fr, name_en = names
    async with services.db.transaction() as conn:
        if action == "add":
            created = await repo.create_field(conn, code, name_fr, name_en)
            text = (
                t(language, "domain.added", code=code, name_fr=name_fr, name_en=name_en)
                if created
                else t(language, "domain.exists", code=code)
            )
        else:
            field = await repo.field_by_code(conn, code)
            if field is None:
                text = t(language, "field.unknown", codes=code)
            else:
                await repo.rename_field(conn, field.id, name_fr, name_en)
                text = t(language, "domain.renamed", code=code, name_fr=name_fr, name_en=name_en)
    await reply(update, context, text)


async def _set_rate(
    update: Update, context: Context, user: User, field: ExpertiseField, words: Sequence[str]
) -> None:
    """/domain rate <code> <amount>"""
    services = get_services(context)
    language = user.language
    cents = parse_rate(" ".join(words)) if words else None
    if cents is None:
        await reply(update, context, t(language, "domain.usage_rate"))
        return
    async with services.db.transaction() as conn:
        await repo.set_field_rate(conn, field.id, cents)
    await reply(
        update,
        context,
        t(
            language,
            "domain.rate_set",
            name=field.name(language),
            old=hourly_rate(field.hourly_rate_cents, language),
            rate=hourly_rate(cents, language),
        ),
    )


async def _activate_field(
    update: Update, context: Context, user: User, field: ExpertiseField
) -> None:
    services = get_services(context)
    async with services.db.transaction() as conn:
        changed = await repo.set_field_active(conn, field.id, True)
    key = "domain.activated" if changed else "domain.already_active"
    await reply(update, context, t(user.language, key, name=field.name(user.language)))


async def _deactivate_field(
    update: Update, context: Context, user: User, field: ExpertiseField, *, confirmed: bool
) -> None:
    """Switch a field off: at once if it has no open ticket, after a confirmation otherwise.

    Its tickets stay as they are (open, visible to its leads and the admins); only new
    requests can no longer choose it.
    """
    services = get_services(context)
    language = user.language
    name = field.name(language)
    async with services.db.transaction() as conn:
        current = await people.get_field(conn, field.id)
        if current is None or not current.active:
            text = t(language, "domain.already_inactive", name=name)
            markup = None
        else:
            open_count = await repo.open_ticket_count(conn, field.id)
            if open_count and not confirmed:
                text = tn(language, "domain.confirm_off", open_count, name=name)
                markup = keyboards.keyboard(
                    [
                        [(t(language, "domain.button_off"), cb.pack(SCOPE, "off", field.id))],
                        [(t(language, "domain.button_keep"), cb.pack(SCOPE, "keep", field.id))],
                    ]
                )
            else:
                await repo.set_field_active(conn, field.id, False)
                text = t(language, "domain.deactivated", name=name, count=open_count)
                markup = None
    await reply(update, context, text, markup)


async def _change_lead(
    update: Update,
    context: Context,
    user: User,
    field: ExpertiseField,
    action: str,
    words: Sequence[str],
) -> None:
    """/domain addlead <code> <user>, /domain removelead <code> <user>"""
    services = get_services(context)
    language = user.language
    if len(words) != 1:
        await reply(update, context, t(language, f"domain.usage_{action}", max=FIELD_NAME_MAX))
        return
    person = await find_user(update, context, user, words[0])
    if person is None:
        return
    name = field.name(language)
    async with services.db.transaction() as conn:
        if action == "addlead":
            if person.role is not Role.LEAD or not person.active:
                text = t(language, "domain.not_a_lead", person=render.person(person))
            elif person.id in {u.id for u in await people.leads_of_field(conn, field.id)}:
                text = t(language, "domain.lead_already", person=render.person(person), name=name)
            else:
                await people.add_lead(conn, field.id, person.id)
                text = t(language, "domain.lead_added", person=render.person(person), name=name)
        elif await repo.remove_lead(conn, field.id, person.id):
            left = await people.leads_of_field(conn, field.id)
            key = "domain.lead_removed" if left else "domain.lead_removed_last"
            text = t(language, key, person=render.person(person), name=name)
        else:
            text = t(language, "domain.lead_not", person=render.person(person), name=name)
    await reply(update, context, text)


async def on_field_button(update: Update, context: Context, user: User, data: cb.Callback) -> None:
    """Confirm or keep a field's deactivation (`adm:off:<id>`, `adm:keep:<id>`)."""
    query = update.callback_query
    assert query is not None
    language = user.language
    field_id = data.int_arg(0) if len(data.args) == 1 else None
    async with get_services(context).db.read() as conn:
        field = await people.get_field(conn, field_id) if field_id else None
    if field is None:
        await refuse(update, context, t(language, "button.stale"))
        return
    await query.answer()
    await drop_buttons(update)
    if data.action == "keep":
        await reply(update, context, t(language, "domain.kept", name=field.name(language)))
    else:
        await _deactivate_field(update, context, user, field, confirmed=True)


BUTTONS: dict[str, ButtonHandler] = {"off": on_field_button, "keep": on_field_button}
