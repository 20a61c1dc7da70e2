"""Everyone: /start (with or without an invite), /help, /language."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import registration
from bot.services import get_services
from bot.ui import callbacks as cb
from bot.ui import keyboards
from bot.ui.commands import CARD_BUTTONS, EVERYONE, GUIDE_LINES, HELP_SECTIONS, commands_for
from bot.ui.i18n import Html, escape, t
from handlers.common import (
    PRIVATE,
    Context,
    current_member,
    display_name,
    edit_pressed,
    members,
    reply,
    telegram_language,
)
from storage import people
from storage.db import Connection
from storage.models import Role, User


@dataclass(frozen=True)
class Setup:
    """How far the coordination has set the service up (the admin's first steps)."""

    federations: bool  # at least one federation
    unpriced: list[str]  # codes of the active fields whose hourly rate is not set
    people: bool  # at least one lead and one contact registered

    @classmethod
    async def read(cls, conn: Connection) -> Setup:
        federations = await people.list_federations(conn)
        fields = await people.list_fields(conn, active_only=True)
        return cls(
            federations=bool(federations),
            unpriced=[f.code for f in fields if f.hourly_rate_cents == 0],
            people=bool(await people.lead_counts(conn)) and any(n for _, n in federations),
        )

    def rates_missing(self, language: str) -> Html:
        codes = ", ".join(f"<code>{escape(code)}</code>" for code in self.unpriced)
        return t(language, "guide.rates_missing", codes=Html(codes))


async def welcome(conn: Connection, user: User, *, again: bool = False) -> Html:
    """The greeting of a registered person: who they are here and what they can do (`again`:
    they were registered before this /start, so they are not told they now are)."""
    extra = ""
    if user.role is Role.CONTACT and user.federation_id is not None:
        federation = await people.federation_by_id(conn, user.federation_id)
        extra = f"{federation.code} — {federation.name}" if federation else ""
    elif user.role is Role.LEAD:
        mine = await people.field_ids_of_lead(conn, user.id)
        fields = await people.list_fields(conn, active_only=False)
        extra = ", ".join(f.name(user.language) for f in fields if f.id in mine)
    kind = "manager" if user.manager and user.role is Role.CONTACT else user.role.value
    key = f"welcome.{kind}" + ("_again" if again and user.role is Role.CONTACT else "")
    text = t(user.language, key, name=user.full_name, extra=extra)
    if user.role is Role.ADMIN:
        setup = await Setup.read(conn)
        if setup.unpriced:  # time logged meanwhile would be billed 0 $ for good
            text = Html(f"{text}\n\n{setup.rates_missing(user.language)}")
    return text


async def start(update: Update, context: Context) -> None:
    """/start [token]: register with an invite, or say hello again, or explain how to get in."""
    services = get_services(context)
    token = (context.args or [""])[0]
    user = await current_member(update, context)
    if user is not None:
        if not user.active:  # revoked: no welcome, and no button that would refuse them
            await reply(update, context, t(user.language, "access.revoked"))
            return
        if token:
            await reply(update, context, t(user.language, "register.already"))
        async with services.db.read() as conn:
            text = await welcome(conn, user, again=True)
        await reply(update, context, text, _welcome_keyboard(user))
        return
    language = telegram_language(update, services)
    if not token:
        await reply(update, context, t(language, "start.stranger"))
        return
    name, username = display_name(update)
    assert update.effective_user is not None
    outcome = await registration.register(
        services,
        user_id=update.effective_user.id,
        full_name=name,
        username=username,
        language=language,
        token=token,
    )
    if outcome.user is None:
        await reply(update, context, t(language, f"register.{outcome.problem}"))
        return
    async with services.db.read() as conn:
        text = await welcome(conn, outcome.user)
    await reply(update, context, text, _welcome_keyboard(outcome.user))


def _welcome_keyboard(user: User) -> InlineKeyboardMarkup | None:
    return keyboards.new_request(user.language) if user.role is Role.CONTACT else None


@members()
async def help_command(update: Update, context: Context, user: User) -> None:
    """/help: what this person's role may do; for an admin, how to set the service up first."""
    language = user.language
    manager = user.manager and user.role is Role.CONTACT
    lines: list[str] = [t(language, "help.title")]
    sections = HELP_SECTIONS.get(user.role)
    if sections is None:
        lines += [t(language, f"help.{name}") for name in commands_for(user.role, manager=manager)]
        if user.role is Role.CONTACT and not manager and user.federation_id is not None:
            async with get_services(context).db.read() as conn:  # no manager: they approve
                if not await people.has_managers(conn, user.federation_id):
                    lines.insert(-len(EVERYONE), t(language, "help.approvals"))
        if manager:  # what a manager sees beyond their own requests
            lines += ["", t(language, "guide.section_manager"), t(language, "guide.manager_sees")]
        await reply(update, context, Html("\n".join(lines)))
        return
    setup = None
    if user.role is Role.ADMIN:
        async with get_services(context).db.read() as conn:
            setup = await Setup.read(conn)
    for section, entries in sections:
        lines += ["", t(language, f"guide.section_{section}")]
        lines += [_help_line(language, entry, setup) for entry in entries]
        if section == "first_steps" and setup is not None and setup.unpriced:
            lines.append(setup.rates_missing(language))
    await reply(update, context, Html("\n".join(lines)))


def _help_line(language: str, entry: str, setup: Setup | None) -> Html:
    """One line of a sectioned /help: a command's, or one of the guide's own."""
    if entry not in GUIDE_LINES:
        return t(language, f"help.{entry}")
    if entry == "buttons":
        names = ", ".join(t(language, f"button.{b}") for b in CARD_BUTTONS)
        return t(language, "guide.buttons", buttons=Html(names))
    done = {
        "step_federation": setup is not None and setup.federations,
        "step_rates": setup is not None and not setup.unpriced,
        "step_invites": setup is not None and setup.people,
    }.get(entry, False)
    mark = t(language, "guide.done" if done else "guide.todo")
    # Once every rate is set, the rates step says how to change one rather than warn.
    key = f"guide.{entry}_done" if done and entry == "step_rates" else f"guide.{entry}"
    return t(language, key, mark=mark)


@members()
async def language_command(update: Update, context: Context, user: User) -> None:
    """/language: offer French or English."""
    await reply(update, context, t(user.language, "language.choose"), keyboards.languages())


@members()
async def language_chosen(update: Update, context: Context, user: User) -> None:
    """A language button: switch, and re-set the command menu in that language."""
    query = update.callback_query
    assert query is not None
    data = cb.unpack(query.data)
    language = data.args[0] if data and data.args else ""
    if language not in {"fr", "en"}:
        await query.answer(t(user.language, "button.stale"), show_alert=True)
        return
    services = get_services(context)
    async with services.db.transaction() as conn:
        await people.set_language(conn, user.id, language)
        updated = await people.get_user(conn, user.id)
        assert updated is not None
        await registration.queue_menu(conn, services, updated)
    services.wake_outbox()
    await query.answer()
    await edit_pressed(update, context, t(language, "language.set"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("start", start, filters=PRIVATE))
    app.add_handler(CommandHandler("help", help_command, filters=PRIVATE))
    app.add_handler(CommandHandler("language", language_command, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(language_chosen, pattern=rf"^{cb.LANGUAGE}:"))
