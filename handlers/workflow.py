"""Working a ticket from Telegram: the buttons of the cards and /log (what people then write to
the ticket, and their edits: handlers/relay.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.estimates import announce_over_run
from bot.federation.envelopes import check_envelopes
from bot.lifecycle import Outcome, act, log_block
from bot.rules.durations import BadDuration, format_duration, parse_duration
from bot.rules.workflow import Action, LogBlock, Refusal, Relation, can_view, decide
from bot.services import get_services
from bot.tickets import relation_to, visible_ticket
from bot.together import absences
from bot.ui import callbacks as cb
from bot.ui import keyboards, render
from bot.ui.i18n import Html, t
from bot.worklog import LOGGABLE, log_time, rate
from handlers.common import (
    PRIVATE,
    Context,
    drop_buttons,
    edit_pressed,
    members,
    refuse,
    reply,
)
from handlers.tickets import card_for, history_page
from storage import admin as admin_repo
from storage import conversation, people, tickets
from storage.db import Connection
from storage.models import Role, Ticket, TicketStatus, User

NOTE_MAX = 1000

# -- the card's buttons -----------------------------------------------------------------------

ButtonHandler = Callable[[Update, Context, User, int, cb.Callback], Awaitable[None]]


async def _refresh_card(update: Update, context: Context, user: User, ticket_id: int) -> None:
    """Show the pressed card as the ticket now stands, with the buttons that now apply."""
    query = update.callback_query
    assert query is not None
    if query.message is not None and query.message.chat.type != "private":
        return  # a team's topic: its card is the team's, kept by bot/together/teams.py
    services = get_services(context)
    async with services.db.read() as conn:
        ticket = await tickets.get_ticket(conn, ticket_id)
        if ticket is None:
            return
        text, markup = await card_for(conn, services, user, ticket)
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest:  # a document's caption, or unchanged: send the card anew
        await reply(update, context, text, markup)


async def _may_see(context: Context, user: User, ticket: Ticket) -> bool:
    services = get_services(context)
    async with services.db.read() as conn:
        return can_view(await relation_to(conn, user, ticket, services.today()))


async def explain(update: Update, context: Context, user: User, outcome: Outcome) -> None:
    """Say why an action did not happen, in the person's words. To someone who may not see the
    ticket, the same words as for a ticket that does not exist: they learn nothing of it."""
    language = user.language
    if (
        outcome.ticket is None
        or outcome.refusal == "unknown"
        or not await _may_see(context, user, outcome.ticket)
    ):
        await refuse(update, context, t(language, "button.stale"))
    elif outcome.refusal == "not_allowed":
        await refuse(update, context, t(language, "access.not_allowed"))
    elif outcome.refusal in set(LogBlock):  # bot.rules.workflow.LogBlock
        ref = outcome.ticket.reference
        await refuse(
            update, context, t(language, f"estimate.log_{outcome.refusal}", reference=ref)
        )
    else:
        ticket = outcome.ticket
        status = render.status(ticket.status, language, for_contact=ticket.contact_id == user.id)
        ref = ticket.reference
        await refuse(
            update, context, t(language, "ticket.wrong_state", reference=ref, status=status)
        )


async def _transition(
    update: Update, context: Context, user: User, ticket_id: int, data: cb.Callback
) -> None:
    action = {
        "start": Action.START,
        "confirm": Action.CONFIRM,
        "reopen": Action.REOPEN,
        "cancelok": Action.CANCEL,
    }[data.action]
    services = get_services(context)
    outcome = await act(services, user, ticket_id, action)
    if not outcome.ok:
        await explain(update, context, user, outcome)
        return
    assert outcome.ticket is not None and update.callback_query is not None
    language = user.language
    ref = outcome.ticket.reference
    await update.callback_query.answer(t(language, f"done.{action.value}", reference=ref))
    if action in {Action.CONFIRM, Action.REOPEN} and keyboards.NOTICE in data.args[1:]:
        await _answer_notice(update, context, user, outcome.ticket, action)
    else:
        await _refresh_card(update, context, user, ticket_id)
    if action is Action.CONFIRM:
        await reply(
            update, context, t(language, "rating.ask", reference=ref), keyboards.rating(ticket_id)
        )
    elif action is Action.REOPEN:
        await _ask_what_is_left(update, context, user, outcome.ticket)


async def _ask_what_is_left(update: Update, context: Context, user: User, ticket: Ticket) -> None:
    """After « Pas réglé »: the contact may say what is left to do. What they write next is a
    message on the ticket, so it reaches the lead (and stays in its history); *Passer* skips."""
    services = get_services(context)
    async with services.db.transaction() as conn:
        await conversation.expect_input(conn, user.id, "reply", ticket.id, services.clock.now())
    await reply(
        update,
        context,
        t(user.language, "reopen.ask_what_is_left", reference=ticket.reference),
        keyboards.skip_reason(ticket.id, user.language),
    )


async def _answer_notice(
    update: Update, context: Context, user: User, ticket: Ticket, action: Action
) -> None:
    """The contact answered under the resolution message: it keeps the resolution (who, the
    note) and says what they answered, in place of the question."""
    query = update.callback_query
    assert query is not None
    language = user.language
    async with get_services(context).db.read() as conn:
        resolves = [e for e in await tickets.ticket_events(conn, ticket.id) if e.kind == "resolve"]
        actor_id = resolves[-1].actor_id if resolves else ticket.assignee_id
        resolver = await people.get_user(conn, actor_id) if actor_id else None
    answer = "resolution.confirmed" if action is Action.CONFIRM else "resolution.reopened"
    text = t(
        language,
        "notify.resolved_answered",
        reference=ticket.reference,
        lead=render.person(resolver),
        note=ticket.resolution_note or "",
        answer=t(language, answer),
    )
    markup = keyboards.reply(ticket.id, language) if action is Action.REOPEN else None
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest:  # the message can no longer be edited: say it anew
        await reply(update, context, text, markup)


async def _take(
    update: Update, context: Context, user: User, ticket_id: int, data: cb.Callback
) -> None:
    services = get_services(context)
    outcome = await act(services, user, ticket_id, Action.TAKE)
    query = update.callback_query
    assert query is not None
    language = user.language
    if outcome.ok and outcome.ticket is not None:
        await query.answer(t(language, "take.done", reference=outcome.ticket.reference))
        await _refresh_card(update, context, user, ticket_id)
        return
    ticket = outcome.ticket
    if outcome.refusal == "wrong_state" and ticket is not None and ticket.assignee_id:
        async with services.db.read() as conn:
            holder = await people.get_user(conn, ticket.assignee_id)
        who = render.person(holder)
        await refuse(
            update, context, t(language, "take.already", reference=ticket.reference, lead=who)
        )
        await _refresh_card(update, context, user, ticket_id)
        return
    await explain(update, context, user, outcome)


def may_write(kind: str, ticket: Ticket, who: frozenset[Relation]) -> str | None:
    """Why `who` may not give the input `kind` on `ticket` now (None: they may)."""
    action = {"ask": Action.ASK, "resolve": Action.RESOLVE, "estimate": Action.ESTIMATE}.get(kind)
    if action is not None:
        try:
            decide(action, ticket, who)
        except Refusal as refusal:
            return refusal.reason
        return None
    allowed = {Relation.ASSIGNEE, Relation.ADMIN}
    if kind == "reply":
        allowed.add(Relation.OWNER)
    if not who & allowed:
        return "not_allowed"
    closed = {TicketStatus.CLOSED, TicketStatus.CANCELLED}
    if (kind == "reply" and ticket.status in closed) or (
        kind == "time" and ticket.status not in LOGGABLE
    ):
        return "wrong_state"
    return None


async def _await_input(
    update: Update, context: Context, user: User, ticket_id: int, data: cb.Callback
) -> None:
    """Ask, Resolve, Log time, Reply: the next message the person writes is for this."""
    kind = data.action
    services = get_services(context)
    async with services.db.transaction() as conn:
        ticket = await visible_ticket(conn, user, ticket_id, services.today())
        outcome = Outcome(ticket, "unknown" if ticket is None else None)
        if ticket is not None:
            outcome = Outcome(
                ticket,
                may_write(kind, ticket, await relation_to(conn, user, ticket, services.today())),
            )
        if outcome.ok and ticket is not None and kind == "time":
            # A card sent before a refusal or an over-run: told now, not after the duration.
            block = await log_block(conn, services, ticket)
            outcome = Outcome(ticket, block.value if block else None)
        if outcome.ok:
            await conversation.expect_input(conn, user.id, kind, ticket_id, services.clock.now())
    if not outcome.ok:
        await explain(update, context, user, outcome)
        return
    assert ticket is not None
    assert update.callback_query is not None
    await update.callback_query.answer()
    await reply(update, context, t(user.language, f"input.{kind}", reference=ticket.reference))


async def _reassign(
    update: Update, context: Context, user: User, ticket_id: int, data: cb.Callback
) -> None:
    """Reassign: pick another lead (of any field), then give them the ticket."""
    services = get_services(context)
    language = user.language
    query = update.callback_query
    assert query is not None
    if data.action == "reassign":
        async with services.db.read() as conn:
            ticket = await visible_ticket(conn, user, ticket_id, services.today())
            who = (
                await relation_to(conn, user, ticket, services.today()) if ticket else frozenset()
            )
            leads = await people.active_leads(conn)
            fields = await _fields_of_leads(conn, language)
            away = await absences.flags_of(conn, [u.id for u in leads], language, services.today())
        if ticket is None:
            await refuse(update, context, t(language, "button.stale"))
            return
        if not who & {Relation.ASSIGNEE, Relation.ADMIN}:  # a manager reads; they do not pick
            await refuse(update, context, t(language, "access.not_allowed"))
            return
        others = [lead for lead in leads if lead.id != ticket.assignee_id]
        if not others:
            await refuse(update, context, t(language, "reassign.nobody"))
            return
        await query.answer()
        await query.edit_message_reply_markup(
            keyboards.reassign_to(ticket_id, others, fields, language, away)
        )
        return
    target_id = data.int_arg(1)
    async with services.db.read() as conn:
        target = await people.get_user(conn, target_id) if target_id else None
    if target is None or target.role is not Role.LEAD or not target.active:
        await refuse(update, context, t(language, "button.stale"))
        return
    outcome = await act(services, user, ticket_id, Action.REASSIGN, assignee=target)
    if not outcome.ok:
        await explain(update, context, user, outcome)
        return
    assert outcome.ticket is not None
    await query.answer(
        t(language, "done.reassign", reference=outcome.ticket.reference, lead=target.full_name)
    )
    await _refresh_card(update, context, user, ticket_id)


async def _fields_of_leads(conn: Connection, language: str) -> dict[int, list[str]]:
    """The names of the fields each active lead handles, by lead id, in the fields' order."""
    found: dict[int, list[str]] = {}
    by_field = await admin_repo.leads_by_field(conn)
    for field in await people.list_fields(conn, active_only=False):
        for lead in by_field.get(field.id, []):
            found.setdefault(lead.id, []).append(field.name(language))
    return found


async def _history(
    update: Update, context: Context, user: User, ticket_id: int, data: cb.Callback
) -> None:
    query = update.callback_query
    assert query is not None
    page = data.int_arg(1) or 0
    found = await history_page(get_services(context), user, ticket_id, min(page, 10_000))
    if found is None:
        await refuse(update, context, t(user.language, "button.stale"))
        return
    await query.answer()
    text, markup = found
    if page == 0:
        await reply(update, context, text, markup)
    else:
        await edit_pressed(update, context, text, markup)


async def _card(
    update: Update, context: Context, user: User, ticket_id: int, data: cb.Callback
) -> None:
    """Back to the card (from the reassign list or the cancel confirmation)."""
    services = get_services(context)
    async with services.db.read() as conn:
        ticket = await visible_ticket(conn, user, ticket_id, services.today())
    if ticket is None:
        await refuse(update, context, t(user.language, "button.stale"))
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _refresh_card(update, context, user, ticket_id)


async def _cancel(
    update: Update, context: Context, user: User, ticket_id: int, data: cb.Callback
) -> None:
    """The contact's Cancel: ask to confirm first."""
    services = get_services(context)
    async with services.db.read() as conn:
        ticket = await visible_ticket(conn, user, ticket_id)
    if ticket is None or ticket.contact_id != user.id:
        key = "button.stale" if ticket is None else "access.not_allowed"
        await refuse(update, context, t(user.language, key))
        return
    query = update.callback_query
    assert query is not None
    await query.answer()
    await reply(
        update,
        context,
        t(user.language, "cancel.confirm", reference=ticket.reference),
        keyboards.confirm_cancel(ticket_id, user.language),
    )


async def _rate(
    update: Update, context: Context, user: User, ticket_id: int, data: cb.Callback
) -> None:
    stars = data.int_arg(1)
    services = get_services(context)
    outcome = await rate(services, user, ticket_id, stars or 0)
    query = update.callback_query
    assert query is not None
    if not outcome.ok:
        key = "rating.not_now" if outcome.refusal == "not_rateable" else "button.stale"
        await refuse(update, context, t(user.language, key))
        return
    await query.answer()
    thanks = t(user.language, "rating.thanks", stars="⭐" * (stars or 0))
    await edit_pressed(update, context, thanks, keyboards.skip_comment(ticket_id, user.language))


# What a "no, thanks" button stops waiting for: a rating's comment, what is left to do.
SKIPPED = {"nocomment": "comment", "noreason": "reply"}


async def _skip(
    update: Update, context: Context, user: User, ticket_id: int, data: cb.Callback
) -> None:
    """Pas de commentaire, Passer: the bot no longer waits for that message."""
    services = get_services(context)
    async with services.db.transaction() as conn:
        pending = await conversation.pending_input(conn, user.id)
        if pending and pending.kind == SKIPPED[data.action] and pending.ticket_id == ticket_id:
            await conversation.clear_input(conn, user.id)
    assert update.callback_query is not None
    await update.callback_query.answer()
    await drop_buttons(update)  # pressed twice: already gone, not an error


BUTTONS: dict[str, ButtonHandler] = {
    "take": _take,
    "start": _transition,
    "confirm": _transition,
    "reopen": _transition,
    "cancelok": _transition,
    "ask": _await_input,
    "resolve": _await_input,
    "time": _await_input,
    "estimate": _await_input,  # the estimate itself: handlers/estimates.py
    "reply": _await_input,
    "reassign": _reassign,
    "to": _reassign,
    "hist": _history,
    "card": _card,
    "cancel": _cancel,
    "rate": _rate,
    "nocomment": _skip,
    "noreason": _skip,
}


@members()
async def on_ticket_button(update: Update, context: Context, user: User) -> None:
    """Every button of a ticket: parsed here once; each action re-checks rights itself."""
    query = update.callback_query
    assert query is not None
    data = cb.unpack(query.data)
    ticket_id = data.int_arg(0) if data else None
    handler = BUTTONS.get(data.action) if data else None
    if data is None or ticket_id is None or handler is None:
        await refuse(update, context, t(user.language, "button.stale"))
        return
    await handler(update, context, user, ticket_id, data)


# -- /log -------------------------------------------------------------------------------------


async def log_time_from_text(
    update: Update,
    context: Context,
    user: User,
    ticket_id: int,
    text: str,
    *,
    awaited: Ticket | None = None,
) -> bool:
    """Log `text` (a duration, then an optional note) on a ticket, and say what was logged.

    False if the duration could not be read (the person was told how to write it). `awaited`:
    the bot asked for it (⏱ Log time) and still waits, so the answer recalls for which ticket,
    and /cancel, as the question did.
    """
    services = get_services(context)
    language = user.language
    words = text.split()
    problem = "unreadable"
    # The duration may take a few words ("1 h 30", "2 heures"); the rest is the note.
    for cut in range(min(len(words), 4), 0, -1):
        try:
            minutes = parse_duration(" ".join(words[:cut]))
        except BadDuration as bad:
            problem = bad.problem
            continue
        note = " ".join(words[cut:])[:NOTE_MAX] or None
        break
    else:
        answer = t(language, f"time.{problem}")
        if awaited is not None:
            again = t(language, "time.again", reference=awaited.reference)
            answer = Html(f"{answer}\n{again}")
        await reply(update, context, answer)
        return False
    outcome = await log_time(services, user, ticket_id, minutes, note)
    if not outcome.ok or outcome.ticket is None:
        await explain(update, context, user, outcome)
        return True
    await check_envelopes(services)  # an envelope alert due now is told now, not in 5 min
    text = t(
        language,
        "time.logged",
        duration=format_duration(minutes, language),
        reference=outcome.ticket.reference,
    )
    if outcome.unpriced:  # recorded, but at 0 $: whoever can set the rate should know now
        async with services.db.read() as conn:
            field = await people.get_field(conn, outcome.ticket.field_id)
        assert field is not None
        key = "time.no_rate_admin" if user.role is Role.ADMIN else "time.no_rate"
        warning = t(language, key, field=field.name(language), code=field.code)
        text = Html(f"{text}\n\n{warning}")
    await reply(update, context, text)
    if outcome.over_run:  # past the approved estimate: a revised one is due
        await announce_over_run(services, outcome.ticket.id)
    return True


@members(Role.LEAD, Role.ADMIN)
async def log_command(update: Update, context: Context, user: User) -> None:
    """/log <ref> <duration> [note]"""
    args = context.args or []
    services = get_services(context)
    if len(args) < 2:
        await reply(update, context, t(user.language, "usage.log"))
        return
    async with services.db.read() as conn:
        ticket = await visible_ticket(conn, user, args[0], services.today())
    if ticket is None:
        await reply(update, context, t(user.language, "ticket.unknown", reference=args[0][:40]))
        return
    await log_time_from_text(update, context, user, ticket.id, " ".join(args[1:]))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /log and the buttons of the ticket cards (callback data `t:`)."""
    app.add_handler(CommandHandler("log", log_command, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(on_ticket_button, pattern=rf"^{cb.TICKET}:"))
