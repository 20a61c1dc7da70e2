"""Admin commands: federations, invites, fields of expertise and their leads, users, service
levels. Every command answers a wrong call with its usage line; every button re-checks the
admin's rights and the record's state in the database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import registration
from bot.rules.money import dollars, money, parse_rate
from bot.rules.service_levels import every_hour_counts, format_target, parse_duration
from bot.services import Services, get_services
from bot.tickets import message_payload
from bot.ui import admin_words as words
from bot.ui import callbacks as cb
from bot.ui import keyboards, render
from bot.ui.commands import menu
from bot.ui.i18n import Html, escape, t, tn
from handlers.common import PRIVATE, Context, drop_buttons, members, refuse, reply
from storage import admin as repo
from storage import outbox, people
from storage import sla as sla_repo
from storage.db import Connection
from storage.models import ExpertiseField, Federation, Role, Target, Urgency, User

FEDERATION_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,15}$")
FIELD_CODE = re.compile(r"^[a-z][a-z0-9_-]{1,23}$")
USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{0,31})$")
NAME_MAX = 120
FIELD_NAME_MAX = 80
USERS_PAGE = 15
INVITES_SHOWN = 20
TEXT_BUDGET = 3800  # under Telegram's 4096, with room for a closing line
SCOPE = "adm"  # callback data of this module: adm:<action>:<args>


async def reply_lines(
    update: Update,
    context: Context,
    lines: Sequence[str],
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Send lines as one message, or several when they would not fit in one."""
    chunks: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if chunks[-1] and size + len(line) + 1 > TEXT_BUDGET:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line) + 1
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        await reply(update, context, Html("\n".join(chunk)), markup if last else None)


def user_ref(text: str) -> int | str | None:
    """A Telegram user id (digits) or a username (with or without @); None otherwise."""
    if text.isdigit() and len(text) <= 20:
        return int(text)
    match = USERNAME.match(text)
    return match.group(1) if match else None


async def _find_user(update: Update, context: Context, admin: User, text: str) -> User | None:
    """The user an admin named, or None after saying so."""
    who = user_ref(text)
    found = None
    if who is not None:
        async with get_services(context).db.read() as conn:
            found = await repo.find_user(conn, who)
    if found is None:
        await reply(update, context, t(admin.language, "users.unknown", who=text[:40]))
    return found


def _settings_admin(services: Services, user: User) -> bool:
    """Admins from ADMIN_IDS hold their rights from the settings, not from the bot."""
    return user.id in services.settings.admin_ids


# -- federations ------------------------------------------------------------------------------


@members(Role.ADMIN)
async def add_federation(update: Update, context: Context, user: User) -> None:
    """/addfederation <CODE> <name>"""
    services = get_services(context)
    language = user.language
    args = context.args or []
    code = args[0].upper() if args else ""
    name = " ".join(" ".join(args[1:]).split())
    if not FEDERATION_CODE.match(code) or not name or len(name) > NAME_MAX:
        await reply(update, context, t(language, "usage.addfederation", max=NAME_MAX))
        return
    async with services.db.transaction() as conn:
        federation = await people.create_federation(conn, code, name, services.clock.now())
    if federation is None:
        await reply(update, context, t(language, "federation.exists", code=code))
        return
    await reply(update, context, t(language, "federation.added", code=code, name=name))


@members(Role.ADMIN)
async def list_federations(update: Update, context: Context, user: User) -> None:
    """/federations: every federation with its number of contacts; inactive ones marked."""
    services = get_services(context)
    language = user.language
    async with services.db.read() as conn:
        found = await people.list_federations(conn)
    if not found:
        await reply(update, context, t(language, "federations.none"))
        return
    lines: list[str] = [t(language, "federations.title")]
    for federation, count in found:
        line = tn(language, "federations.line", count, code=federation.code, name=federation.name)
        lines.append(line if federation.active else f"{line} {t(language, 'admin.inactive')}")
    lines.append(t(language, "admin.federation_hint"))
    await reply_lines(update, context, lines)


@members(Role.ADMIN)
async def federation_command(update: Update, context: Context, user: User) -> None:
    """/federation rename <CODE> <name> | off <CODE> | on <CODE>"""
    services = get_services(context)
    language = user.language
    args = context.args or []
    action = words.federation_action(args[0]) if args else None
    code = args[1].upper() if len(args) > 1 else ""
    name = " ".join(" ".join(args[2:]).split())
    valid = FEDERATION_CODE.match(code) and (
        (action == "rename" and name and len(name) <= NAME_MAX)
        or (action in {"on", "off"} and len(args) == 2)
    )
    if not valid:
        await reply(update, context, t(language, "admin.federation_usage", max=NAME_MAX))
        return
    now = services.clock.now()
    async with services.db.transaction() as conn:
        federation = await people.federation_by_code(conn, code)
        if federation is None:
            await reply(update, context, t(language, "admin.federation_none", code=code))
            return
        if action == "rename":
            await repo.rename_federation(conn, federation.id, name)
            text = t(
                language, "admin.federation_renamed", code=code, old=federation.name, name=name
            )
        elif action == "off":
            if await repo.set_federation_active(conn, federation.id, False):
                cancelled = await repo.cancel_federation_invites(conn, federation.id, now)
                text = tn(language, "admin.federation_off", cancelled, code=code)
            else:
                text = t(language, "admin.federation_already_off", code=code)
        elif await repo.set_federation_active(conn, federation.id, True):
            text = t(language, "admin.federation_on", code=code)
        else:
            text = t(language, "admin.federation_already_on", code=code)
    await reply(update, context, text)


# -- invites ----------------------------------------------------------------------------------


@members(Role.ADMIN)
async def invite_contact(update: Update, context: Context, user: User) -> None:
    """/invite <CODE>: a single-use link that registers a contact of that federation."""
    services = get_services(context)
    language = user.language
    args = context.args or []
    if len(args) != 1:
        await reply(update, context, t(language, "usage.invite"))
        return
    async with services.db.read() as conn:
        federation = await people.federation_by_code(conn, args[0].upper())
    if federation is None or not federation.active:
        await reply(update, context, t(language, "federation.unknown", code=args[0][:20]))
        return
    token = await registration.create_invite(services, user, federation=federation)
    link = registration.invite_link(services.bot_username, token)
    await reply(
        update,
        context,
        t(language, "invite.contact", link=link, code=federation.code, name=federation.name),
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
        what = (
            t(language, "admin.invites_for_contact", code=invite.federation_code or "?")
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


# -- fields of expertise ----------------------------------------------------------------------


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
    person = await _find_user(update, context, user, words[0])
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


# -- users ------------------------------------------------------------------------------------


async def _user_filter(conn: Connection, word: str) -> repo.UserFilter | None:
    """`contact`, `lead`, `admin`, `revoked`, or a federation code."""
    if words.means_everyone(word):
        return repo.UserFilter()
    if (role := words.role(word)) is not None:
        return repo.UserFilter(role=role)
    if words.means_revoked(word):
        return repo.UserFilter(revoked=True)
    federation = await people.federation_by_code(conn, word.upper())
    return repo.UserFilter(federation_id=federation.id) if federation else None


def _filter_token(which: repo.UserFilter, federation: Federation | None) -> str:
    """The filter as callback data (the page buttons carry it)."""
    if which.role is not None:
        return which.role.value
    if which.revoked:
        return "revoked"
    return federation.code if federation else "all"


@members(Role.ADMIN)
async def list_users(update: Update, context: Context, user: User) -> None:
    """/users [role | CODE | revoked] [page]"""
    args = list(context.args or [])
    page = 1
    if args and args[-1].isdigit() and len(args[-1]) <= 6:
        page = max(1, int(args.pop()))
    if len(args) > 1:
        await reply(update, context, t(user.language, "users.usage"))
        return
    async with get_services(context).db.read() as conn:
        which = await _user_filter(conn, args[0]) if args else repo.UserFilter()
    if which is None:
        await reply(update, context, t(user.language, "users.bad_filter", word=args[0][:20]))
        return
    text, markup = await _users_page(context, user, which, page)
    await reply(update, context, text, markup)


async def _users_page(
    context: Context, admin: User, which: repo.UserFilter, page: int
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """One page of /users, with previous / next buttons."""
    services = get_services(context)
    language = admin.language
    async with services.db.read() as conn:
        total = await repo.count_users(conn, which)
        pages = max(1, -(-total // USERS_PAGE))
        page = min(page, pages)
        found = await repo.list_users(conn, which, USERS_PAGE, (page - 1) * USERS_PAGE)
        lead_fields = await repo.field_codes_of_leads(
            conn, [u.id for u in found if u.role is Role.LEAD]
        )
        federations = {f.id: f for f, _ in await people.list_federations(conn)}
    federation = federations.get(which.federation_id) if which.federation_id else None
    if which.role is not None:
        described = t(language, f"users.role_{which.role.value}")
    elif which.revoked:
        described = t(language, "users.filter_revoked")
    elif federation is not None:
        described = Html(escape(federation.code))
    else:
        described = t(language, "users.filter_all")
    if not found:
        return t(language, "users.none", filter=described), None
    lines: list[str] = [
        t(language, "users.title", filter=described, total=total, page=page, pages=pages)
    ]
    for person in found:
        details = [str(t(language, f"users.role_{person.role.value}"))]
        if person.role is Role.CONTACT and person.federation_id in federations:
            details.append(escape(federations[person.federation_id].code))
        if person.role is Role.LEAD:
            details.append(escape(", ".join(lead_fields.get(person.id, [])) or "—"))
        if not person.active:
            details.append(str(t(language, "users.flag_revoked")))
        if person.blocked_at is not None:
            details.append(str(t(language, "users.flag_blocked")))
        lines.append(
            t(
                language,
                "users.line",
                person=render.person(person),
                id=person.id,
                details=Html(" · ".join(details)),
            )
        )
    lines.append(t(language, "users.hint"))
    token = _filter_token(which, federation)
    row = []
    if page > 1:
        row.append((t(language, "users.previous"), cb.pack(SCOPE, "users", token, page - 1)))
    if page < pages:
        row.append((t(language, "users.next"), cb.pack(SCOPE, "users", token, page + 1)))
    return Html("\n".join(lines)), keyboards.keyboard([row]) if row else None


@members(Role.ADMIN)
async def revoke(update: Update, context: Context, user: User) -> None:
    """/revoke <user>: the person can do nothing more; their tickets stay where they are."""
    services = get_services(context)
    language = user.language
    args = context.args or []
    if len(args) != 1:
        await reply(update, context, t(language, "admin.revoke_usage"))
        return
    person = await _find_user(update, context, user, args[0])
    if person is None:
        return
    if person.id == user.id:
        await reply(update, context, t(language, "admin.revoke_self"))
        return
    if _settings_admin(services, person):
        await reply(
            update, context, t(language, "admin.settings_admin", person=render.person(person))
        )
        return
    async with services.db.transaction() as conn:
        if not await repo.set_user_active(conn, person.id, False):
            await reply(
                update, context, t(language, "admin.revoke_already", person=render.person(person))
            )
            return
        tickets = await repo.open_tickets_of(conn, person.id)
        # Their menu goes back to a stranger's: nothing there works for them any more.
        await outbox.enqueue(
            conn,
            chat_id=person.id,
            method="set_my_commands",
            payload={"commands": menu(None, person.language)},
            purpose="menu",
            now=services.clock.now(),
        )
    services.wake_outbox()
    lines: list[str] = [t(language, "admin.revoke_done", person=render.person(person))]
    if tickets.filed:
        lines.append(t(language, "admin.revoke_filed", references=", ".join(tickets.filed)))
    if tickets.held:
        lines.append(t(language, "admin.revoke_held", references=", ".join(tickets.held)))
    lines.append(t(language, "admin.revoke_undo", id=person.id))
    await reply_lines(update, context, lines)


@members(Role.ADMIN)
async def reinstate(update: Update, context: Context, user: User) -> None:
    """/reinstate <user>: give a revoked person their access back, with the same role."""
    services = get_services(context)
    language = user.language
    args = context.args or []
    if len(args) != 1:
        await reply(update, context, t(language, "admin.reinstate_usage"))
        return
    person = await _find_user(update, context, user, args[0])
    if person is None:
        return
    async with services.db.transaction() as conn:
        changed = await repo.set_user_active(conn, person.id, True)
        if changed:
            restored = await people.get_user(conn, person.id)
            assert restored is not None
            await registration.queue_menu(conn, services, restored)
    services.wake_outbox()
    key = "admin.reinstate_done" if changed else "admin.reinstate_already"
    await reply(update, context, t(language, key, person=render.person(person)))


@members(Role.ADMIN)
async def change_role(update: Update, context: Context, user: User) -> None:
    """/role <user> contact <CODE> | lead <field-code> […] | admin"""
    args = context.args or []
    role = words.role(args[1]) if len(args) > 1 else None
    if role is None:
        await reply(update, context, t(user.language, "admin.role_usage"))
        return
    await _set_role(update, context, user, args[0], role, args[2:])


@members(Role.ADMIN)
async def promote(update: Update, context: Context, user: User) -> None:
    """/promote <user>: make someone an admin."""
    args = context.args or []
    if len(args) != 1:
        await reply(update, context, t(user.language, "admin.promote_usage"))
        return
    await _set_role(update, context, user, args[0], Role.ADMIN, [])


async def _set_role(
    update: Update, context: Context, admin: User, who: str, role: Role, extra: Sequence[str]
) -> None:
    services = get_services(context)
    language = admin.language
    person = await _find_user(update, context, admin, who)
    if person is None:
        return
    if person.id == admin.id:
        await reply(update, context, t(language, "admin.role_self"))
        return
    if _settings_admin(services, person):
        await reply(
            update, context, t(language, "admin.settings_admin", person=render.person(person))
        )
        return
    federation: Federation | None = None
    fields: list[ExpertiseField] = []
    async with services.db.read() as conn:
        if role is Role.CONTACT:
            if len(extra) != 1:
                await reply(update, context, t(language, "admin.role_need_federation"))
                return
            federation = await people.federation_by_code(conn, extra[0].upper())
            if federation is None or not federation.active:
                await reply(update, context, t(language, "federation.unknown", code=extra[0][:20]))
                return
        elif role is Role.LEAD:
            codes = [c.lower() for c in extra]
            if not codes:
                await reply(update, context, t(language, "admin.role_need_fields"))
                return
            found = await people.fields_by_codes(conn, codes)
            unknown = [c for c in codes if c not in found]
            if unknown:
                await reply(
                    update, context, t(language, "field.unknown", codes=", ".join(unknown)[:200])
                )
                return
            fields = sorted(found.values(), key=lambda f: (f.position, f.id))
        elif extra:
            await reply(update, context, t(language, "admin.role_usage"))
            return
    async with services.db.transaction() as conn:
        await repo.set_user_role(
            conn,
            person.id,
            role,
            federation_id=federation.id if federation else None,
            field_ids=[f.id for f in fields],
        )
        updated = await people.get_user(conn, person.id)
        assert updated is not None
        tickets = await repo.open_tickets_of(conn, person.id)
        if updated.active:
            await registration.queue_menu(conn, services, updated)
            await outbox.enqueue(
                conn,
                chat_id=updated.id,
                method="send_message",
                payload=message_payload(
                    t(
                        updated.language,
                        "admin.role_changed",
                        role=t(updated.language, f"users.role_{role.value}"),
                    )
                ),
                purpose="role_changed",
                now=services.clock.now(),
            )
    services.wake_outbox()
    where = (
        federation.code
        if federation
        else ", ".join(f.name(language) for f in fields)
        if fields
        else ""
    )
    lines: list[str] = [
        t(
            language,
            "admin.role_done",
            person=render.person(updated),
            role=t(language, f"users.role_{role.value}"),
            where=f" ({where})" if where else "",
        )
    ]
    if tickets.filed and role is not Role.CONTACT:
        lines.append(t(language, "admin.role_filed", references=", ".join(tickets.filed)))
    if tickets.held and role is Role.CONTACT:
        lines.append(t(language, "admin.revoke_held", references=", ".join(tickets.held)))
    await reply_lines(update, context, lines)


# -- service levels ---------------------------------------------------------------------------


@members(Role.ADMIN)
async def service_levels(update: Update, context: Context, user: User) -> None:
    """/sla: the targets; /sla <urgency> <first|resolution> <duration>: change one."""
    services = get_services(context)
    language = user.language
    args = context.args or []
    if args:
        urgency = words.urgency(args[0])
        target, duration = words.target(list(args[1:]))
        if urgency is None or target is None or not duration:
            await reply(update, context, t(language, "sla.usage"))
            return
        minutes = parse_duration("".join(duration), urgency)
        if minutes is None:
            await reply(update, context, t(language, "sla.bad_duration"))
            return
        async with services.db.transaction() as conn:
            current = (await sla_repo.targets(conn))[urgency]
            first = minutes if target is Target.FIRST_RESPONSE else current.first_response_minutes
            resolution = minutes if target is Target.RESOLUTION else current.resolution_minutes
            if first > resolution:
                await reply(update, context, t(language, "sla.first_after_resolution"))
                return
            await sla_repo.set_target(
                conn, urgency, target, minutes, user.id, services.clock.now()
            )
        await reply(
            update,
            context,
            t(
                language,
                "sla.set",
                urgency=render.urgency(urgency, language),
                target=t(language, f"sla.target_{target.value}"),
                value=format_target(minutes, urgency, language),
            ),
        )
        return
    async with services.db.read() as conn:
        targets = await sla_repo.targets(conn)
    lines: list[str] = [t(language, "sla.title")]
    for urgency in (Urgency.CRITICAL, Urgency.URGENT, Urgency.NORMAL):
        target_of = targets[urgency]
        lines.append(
            t(
                language,
                "sla.line",
                urgency=render.urgency(urgency, language),
                first=format_target(target_of.first_response_minutes, urgency, language),
                resolution=format_target(target_of.resolution_minutes, urgency, language),
                clock=t(language, "sla.every_hour") if every_hour_counts(urgency) else "",
            )
        )
    lines.append(t(language, "sla.business_hours", timezone=services.settings.timezone))
    lines.append(t(language, "sla.hint"))
    await reply_lines(update, context, lines)


# -- buttons ----------------------------------------------------------------------------------


@members(Role.ADMIN)
async def on_button(update: Update, context: Context, user: User) -> None:
    """An admin button: confirm or keep a field's deactivation, a page of users, cancel an
    invite. The data is parsed here and everything re-checked from the database."""
    query = update.callback_query
    assert query is not None
    language = user.language
    data = cb.unpack(query.data)
    services = get_services(context)
    if data is None or data.scope != SCOPE:
        await refuse(update, context, t(language, "button.stale"))
        return
    if data.action in {"off", "keep"} and len(data.args) == 1:
        field_id = data.int_arg(0)
        async with services.db.read() as conn:
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
        return
    if data.action == "users" and len(data.args) == 2:
        page = data.int_arg(1)
        async with services.db.read() as conn:
            which = await _user_filter(conn, data.args[0])
        if which is None or page is None or page < 1:
            await refuse(update, context, t(language, "button.stale"))
            return
        text, markup = await _users_page(context, user, which, page)
        await query.answer()
        await query.edit_message_text(text, reply_markup=markup)
        return
    if data.action == "inv" and len(data.args) == 1 and data.int_arg(0):
        invite_id = data.int_arg(0)
        assert invite_id is not None
        text = await _cancel_invite(context, user, invite_id)
        await query.answer()
        await reply(update, context, text)
        return
    await refuse(update, context, t(language, "button.stale"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the admin commands and the admin buttons (callback data `adm:`)."""
    for name, callback in (
        ("addfederation", add_federation),
        ("federations", list_federations),
        ("federation", federation_command),
        ("invite", invite_contact),
        ("invitelead", invite_lead),
        ("invites", list_invites),
        ("cancelinvite", cancel_invite_command),
        ("domains", list_domains),
        ("domain", domain_command),
        ("users", list_users),
        ("revoke", revoke),
        ("reinstate", reinstate),
        ("role", change_role),
        ("promote", promote),
        ("sla", service_levels),
    ):
        app.add_handler(CommandHandler(name, callback, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{SCOPE}:"))
