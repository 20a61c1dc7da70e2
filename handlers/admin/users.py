"""/users, /revoke, /reinstate, /role, /promote: the people of the bot and their roles."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardMarkup, Update

from bot import registration
from bot.services import get_services
from bot.tickets import message_payload
from bot.together import absences
from bot.ui import admin_words as words
from bot.ui import callbacks as cb
from bot.ui import keyboards, render
from bot.ui.commands import menu
from bot.ui.i18n import Html, escape, format_number, t, tn
from handlers.admin.shared import SCOPE, ButtonHandler, find_user, only_argument, reply_lines
from handlers.common import Context, members, refuse, reply
from storage import absences as absences_repo
from storage import admin as repo
from storage import outbox, people
from storage.db import Connection
from storage.models import ExpertiseField, Federation, Role, User

USERS_PAGE = 15


async def _user_filter(conn: Connection, word: str) -> repo.UserFilter | None:
    """`contact`, `lead`, `admin`, `manager`, `revoked`, or a federation code."""
    if words.means_everyone(word):
        return repo.UserFilter()
    if words.means_manager(word):
        return repo.UserFilter(manager=True)
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
    if which.manager:
        return "manager"
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
        fields = {f.code: f for f in await people.list_fields(conn, active_only=False)}
        away = await absences_repo.upcoming_of(conn, [u.id for u in found], services.today())
    federation = federations.get(which.federation_id) if which.federation_id else None
    if which.role is not None:
        described = t(language, f"users.role_{which.role.value}")
    elif which.revoked:
        described = t(language, "users.filter_revoked")
    elif which.manager:
        described = t(language, "users.filter_manager")
    elif federation is not None:
        described = Html(escape(federation.code))
    else:
        described = t(language, "users.filter_all")
    if not found:
        return t(language, "users.none", filter=described), None
    if which.role is not None:  # "responsables : 6", "responsable : 1": agrees with the count
        counted = tn(language, f"users.count_{which.role.value}", total)
    else:
        count = format_number(total, language)
        counted = t(language, "users.count_other", filter=described, count=count)
    lines: list[str] = [t(language, "users.title", counted=counted, page=page, pages=pages)]
    for person in found:
        details = [str(_role_name(person, language))]
        if person.role is Role.CONTACT and person.federation_id in federations:
            details.append(escape(federations[person.federation_id].code))
        if person.role is Role.LEAD:
            names = [  # the field's name, not its code: « Services juridiques »
                fields[code].name(language) if code in fields else code
                for code in lead_fields.get(person.id, [])
            ]
            details.append(escape(", ".join(names) or "—"))
        if not person.active:
            details.append(str(t(language, "users.flag_revoked")))
        if person.blocked_at is not None:
            details.append(str(t(language, "users.flag_blocked")))
        if person.id in away:  # under way or to come: « absence jusqu'au 5 janvier 2027 »
            details.append(str(absences.away_flag(away[person.id], language, services.today())))
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


async def _person_to_change(
    update: Update, context: Context, admin: User, who: str | None, self_refusal: str
) -> User | None:
    """The person an admin named, if the admin may change them: not themselves (the text
    `self_refusal` says so), not an admin from ADMIN_IDS. None after saying why (or for None)."""
    person = await find_user(update, context, admin, who) if who is not None else None
    if person is None:
        return None
    if person.id == admin.id:
        await reply(update, context, t(admin.language, self_refusal))
        return None
    # Admins from ADMIN_IDS hold their rights from the settings, not from the bot.
    if person.id in get_services(context).settings.admin_ids:
        await reply(
            update,
            context,
            t(admin.language, "admin.settings_admin", person=render.person(person)),
        )
        return None
    return person


@members(Role.ADMIN)
async def revoke(update: Update, context: Context, user: User) -> None:
    """/revoke <user>: the person can do nothing more; their tickets stay where they are."""
    services = get_services(context)
    language = user.language
    who = await only_argument(update, context, user, "admin.revoke_usage")
    person = await _person_to_change(update, context, user, who, "admin.revoke_self")
    if person is None:
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
    who = await only_argument(update, context, user, "admin.reinstate_usage")
    person = await find_user(update, context, user, who) if who is not None else None
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
    """/role <user> contact <CODE> | manager <CODE> | lead <field-code> […] | admin"""
    args = context.args or []
    manager = len(args) > 1 and words.means_manager(args[1])
    role = Role.CONTACT if manager else words.role(args[1]) if len(args) > 1 else None
    if role is None:
        await reply(update, context, t(user.language, "admin.role_usage"))
        return
    await _set_role(update, context, user, args[0], role, args[2:], manager=manager)


@members(Role.ADMIN)
async def promote(update: Update, context: Context, user: User) -> None:
    """/promote <user>: make someone an admin."""
    who = await only_argument(update, context, user, "admin.promote_usage")
    if who is not None:
        await _set_role(update, context, user, who, Role.ADMIN, [])


async def _set_role(
    update: Update,
    context: Context,
    admin: User,
    who: str,
    role: Role,
    extra: Sequence[str],
    *,
    manager: bool = False,
) -> None:
    """Give `who` the role (`manager`: a contact who manages the federation `extra` names);
    any role given, a manager's included, first clears the manager's flag (see migration
    0007), so that a later `/role <user> contact <CODE>` makes a plain contact again."""
    services = get_services(context)
    language = admin.language
    person = await _person_to_change(update, context, admin, who, "admin.role_self")
    if person is None:
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
        if manager:
            await people.set_manager(conn, person.id, True)
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
                        role=_role_name(updated, updated.language),
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
            role=_role_name(updated, language),
            where=f" ({where})" if where else "",
        )
    ]
    if tickets.filed and role is not Role.CONTACT:
        lines.append(t(language, "admin.role_filed", references=", ".join(tickets.filed)))
    if tickets.held and role is Role.CONTACT:
        lines.append(t(language, "admin.revoke_held", references=", ".join(tickets.held)))
    await reply_lines(update, context, lines)


def _role_name(person: User, language: str) -> Html:
    """A person's role in words: a federation's manager is named so, not "contact"."""
    if person.manager and person.role is Role.CONTACT:
        return t(language, "users.manager")
    return t(language, f"users.role_{person.role.value}")


async def on_page_button(update: Update, context: Context, user: User, data: cb.Callback) -> None:
    """Another page of /users (`adm:users:<filter>:<page>`)."""
    query = update.callback_query
    assert query is not None
    if len(data.args) != 2:
        await refuse(update, context, t(user.language, "button.stale"))
        return
    page = data.int_arg(1)
    async with get_services(context).db.read() as conn:
        which = await _user_filter(conn, data.args[0])
    if which is None or page is None or page < 1:
        await refuse(update, context, t(user.language, "button.stale"))
        return
    text, markup = await _users_page(context, user, which, page)
    await query.answer()
    await query.edit_message_text(text, reply_markup=markup)


BUTTONS: dict[str, ButtonHandler] = {"users": on_page_button}
