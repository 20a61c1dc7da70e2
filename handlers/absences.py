"""/away and /back: a lead's absence and who covers it (an admin may set it for a lead)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.rules.absences import AwayRequest, covering, handle, read_away, upcoming
from bot.rules.forms import InvalidInput
from bot.services import get_services
from bot.together import absences
from bot.ui import render
from bot.ui.i18n import Html, escape, t
from handlers.admin.shared import user_ref
from handlers.common import PRIVATE, Context, command_args, members, reply
from storage import absences as repo
from storage import admin as admin_repo
from storage import people, tickets
from storage.models import Role, User

SHOWN = 10  # the requests of a covered lead that /away names


async def _named(update: Update, context: Context, user: User, word: str) -> User | None:
    """The person named by @username or Telegram number, or None after saying so."""
    who = user_ref(word.removeprefix("@"))
    found = None
    if who is not None:
        async with get_services(context).db.read() as conn:
            found = await admin_repo.find_user(conn, who)
    if found is None:
        await reply(update, context, t(user.language, "users.unknown", who=word[:40]))
    return found


def _how_to_name(person: User) -> Html:
    """« Luc Roy : <code>@luc</code> », or by number when they have no @username."""
    handle_ = f"@{person.username}" if person.username else str(person.id)
    return Html(f"• {escape(person.full_name)} : <code>{escape(handle_)}</code>")


async def _delegate(
    update: Update, context: Context, user: User, person: User, typed: str
) -> User | None:
    """The delegate named by @username, Telegram number or name (as /users shows it, when only
    one lead or admin has it); None after saying so, with the people who may be named: the
    other leads of the person's fields and the admins."""
    services = get_services(context)
    async with services.db.read() as conn:
        who = user_ref(typed.removeprefix("@")) if handle(typed) else None
        if who is not None:
            found = await admin_repo.find_user(conn, who)
            if found is not None:
                return found
            staff: list[User] = []
        else:
            staff = await people.active_leads(conn) + await people.list_admins(conn)
            wanted = " ".join(typed.casefold().split())
            same = [p for p in staff if " ".join(p.full_name.casefold().split()) == wanted]
            if not same:  # « Luc » for Luc Roy, when he is the only one
                same = [p for p in staff if p.full_name.casefold().startswith(wanted + " ")]
            if len(same) == 1:
                return same[0]
        choices: dict[int, User] = {}
        for field_id in sorted(await people.field_ids_of_lead(conn, person.id)):
            for lead in await people.leads_of_field(conn, field_id):
                choices.setdefault(lead.id, lead)
        for admin in await people.list_admins(conn):
            choices.setdefault(admin.id, admin)
    named = [p for p in choices.values() if p.id != person.id]
    key = (
        "away.delegate_ambiguous"
        if len(same if who is None else []) > 1
        else "away.delegate_unknown"
    )
    listed = (
        Html("\n".join(_how_to_name(p) for p in named))
        if named
        else t(user.language, "away.nobody")
    )
    await reply(update, context, t(user.language, key, who=typed[:40], people=listed))
    return None


async def _person(update: Update, context: Context, user: User, word: str | None) -> User | None:
    """Whose absence it is: the user, or, for an admin, the lead they name; None after saying
    why not (someone else's absence is for the admins; only a lead is away here)."""
    if word is None and user.role is Role.ADMIN:  # an admin is never away here: a lead is
        await reply(update, context, t(user.language, "away.admin_usage"))
        return None
    if word is None:
        person = user
    elif user.role is not Role.ADMIN:
        await reply(update, context, t(user.language, "away.others_admin_only"))
        return None
    else:
        found = await _named(update, context, user, word)
        if found is None:
            return None
        person = found
    if person.role is not Role.LEAD or not person.active:
        await reply(
            update, context, t(user.language, "away.not_lead", person=render.person(person))
        )
        return None
    return person


async def _show(update: Update, context: Context, user: User, person: User) -> None:
    """The person's absence under way or to come, and whom the user covers today."""
    services = get_services(context)
    language = user.language
    today = services.today()
    async with services.db.read() as conn:
        absence = await repo.standing_absence(conn, person.id)
        away = await absences.away_on(conn, today)
        covered: list[str] = []
        for absent in (p for p in away if p != user.id and covering(p, away) == user.id):
            held, total = await tickets.lead_queue(
                conn, lead_id=absent, field_ids=(), everything=False, limit=SHOWN, offset=0
            )
            refs = ", ".join(ticket.reference for ticket in held) + (" …" if total > SHOWN else "")
            name = render.person(await people.get_user(conn, absent))
            covered.append(f"{name} ({refs})" if refs else name)
        delegate = (
            await people.get_user(conn, absence.delegate_id)
            if absence and absence.delegate_id
            else None
        )
    lines: list[str] = []
    yours = person.id == user.id
    if absence is not None and upcoming(absence, today):
        key = "away.now" if absence.starts_on <= today else "away.planned"
        key += "_yours" if yours else ""
        lines.append(
            t(
                language,
                key,
                person=render.person(person),
                period=absences.period(absence, language),
                delegate=render.person(delegate) if delegate else t(language, "away.nobody"),
            )
        )
    else:
        if yours:
            lines.append(t(language, "away.none_yours"))
        else:
            lines.append(t(language, "away.none", person=render.person(person)))
        lines.append(t(language, "away.usage"))
    if covered:
        lines.append(t(language, "away.covering", people=Html("; ".join(covered))))
    await reply(update, context, Html("\n\n".join(lines)))


@members(Role.LEAD, Role.ADMIN)
async def away(update: Update, context: Context, user: User) -> None:
    """/away [@lead] <from> <to> [@delegate]; /away alone: the absence under way or to come."""
    services = get_services(context)
    language = user.language
    args = command_args(context)
    if len(args) <= 1 and all(handle(a) for a in args):
        person = await _person(update, context, user, args[0] if args else None)
        if person is not None:
            await _show(update, context, user, person)
        return
    try:
        request: AwayRequest = read_away(args, services.today())
    except InvalidInput as refused:
        problem = t(language, f"away.bad_{refused.problem}")
        await reply(update, context, Html(f"{problem}\n{t(language, 'away.usage')}"))
        return
    person = await _person(update, context, user, request.person)
    if person is None:
        return
    delegate = None
    if request.delegate is not None:
        delegate = await _delegate(update, context, user, person, request.delegate)
        if delegate is None:
            return
        if delegate.id == person.id:
            await reply(update, context, t(language, "away.self_delegate"))
            return
        if not absences.is_staff(delegate):
            named = render.person(delegate)
            await reply(update, context, t(language, "away.delegate_not_staff", person=named))
            return
    absence, replaced = await absences.set_away(services, user, person, request, delegate)
    text = t(
        language,
        "away.saved" if person.id == user.id else "away.saved_for",
        person=render.person(person),
        period=absences.period(absence, language),
        delegate=render.person(delegate) if delegate else t(language, "away.nobody"),
    )
    if replaced is not None and upcoming(replaced, services.today()):
        text = Html(
            f"{text}\n{t(language, 'away.replaced', period=absences.period(replaced, language))}"
        )
    await reply(update, context, text)


@members(Role.LEAD, Role.ADMIN)
async def back(update: Update, context: Context, user: User) -> None:
    """/back [@lead]: the absence ends now (or, still to come, is called off)."""
    services = get_services(context)
    language = user.language
    args = command_args(context)
    if len(args) > 1 or (args and not handle(args[0])):
        await reply(update, context, t(language, "away.back_usage"))
        return
    person = await _person(update, context, user, args[0] if args else None)
    if person is None:
        return
    ended = await absences.come_back(services, person)
    if ended is None:
        if person.id == user.id:
            await reply(update, context, t(language, "away.none_yours"))
        else:
            await reply(update, context, t(language, "away.none", person=render.person(person)))
        return
    started = ended.starts_on <= services.today()
    if person.id == user.id:
        key = "away.back" if started else "away.called_off"
    else:
        key = "away.back_for" if started else "away.called_off_for"
    period = absences.period(ended, language)
    await reply(update, context, t(language, key, person=render.person(person), period=period))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /away and /back (private chats)."""
    app.add_handler(CommandHandler("away", away, filters=PRIVATE))
    app.add_handler(CommandHandler("back", back, filters=PRIVATE))
