"""/away and /back: a lead's absence and who covers it (an admin may set it for a lead)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.rules.absences import AwayRequest, covering, read_away, upcoming
from bot.rules.forms import InvalidInput
from bot.services import get_services
from bot.together import absences
from bot.ui import render
from bot.ui.i18n import Html, t
from handlers.admin.shared import user_ref
from handlers.common import PRIVATE, Context, command_args, members, reply
from storage import absences as repo
from storage import admin as admin_repo
from storage import people, tickets
from storage.models import Role, User

SHOWN = 10  # the requests of a covered lead that /away names


async def _named(update: Update, context: Context, user: User, word: str) -> User | None:
    """The person named by @username (or Telegram id), or None after saying so."""
    who = user_ref(word.removeprefix("@"))
    found = None
    if who is not None:
        async with get_services(context).db.read() as conn:
            found = await admin_repo.find_user(conn, who)
    if found is None:
        await reply(update, context, t(user.language, "users.unknown", who=word[:40]))
    return found


async def _person(update: Update, context: Context, user: User, word: str | None) -> User | None:
    """Whose absence it is: the user, or, for an admin, the lead they name; None after saying
    why not (someone else's absence is for the admins; only a lead is away here)."""
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
    if absence is not None and upcoming(absence, today):
        key = "away.now" if absence.starts_on <= today else "away.planned"
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
    if len(args) <= 1 and all(a.startswith("@") for a in args):
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
    person = await _person(update, context, user, request.person and f"@{request.person}")
    if person is None:
        return
    delegate = None
    if request.delegate is not None:
        delegate = await _named(update, context, user, f"@{request.delegate}")
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
    if len(args) > 1 or (args and not args[0].startswith("@")):
        await reply(update, context, t(language, "away.back_usage"))
        return
    person = await _person(update, context, user, args[0] if args else None)
    if person is None:
        return
    ended = await absences.come_back(services, person)
    if ended is None:
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
