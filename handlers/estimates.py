"""Estimates and their approval from Telegram: `/estimate`, the card's *Estimate* button (the
hours it then waits for), and the approvers' *Approve*, *Refuse* (a reason) and *Ask a question*
(use cases: bot/estimates.py; rules: bot/rules/estimates.py, bot/rules/workflow.py)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.estimates import Done, ask_lead, decide_on, may_decide, send_estimate, summary
from bot.lifecycle import Outcome
from bot.rules.estimates import BadEstimate, split_estimate
from bot.rules.forms import has_visible_text
from bot.services import get_services
from bot.tickets import visible_ticket
from bot.ui import callbacks as cb
from bot.ui import render
from bot.ui.i18n import t
from handlers.common import PRIVATE, Context, current_member, drop_buttons, members, refuse, reply
from handlers.workflow import NOTE_MAX, explain
from storage import conversation, tickets
from storage import estimates as repo
from storage.models import Role, User

REFUSE = "refuse"  # pending input `refuse:<estimate id>`: the reason of a refusal
QUESTION = "eask"  # pending input `eask:<estimate id>`: an approver's question to the lead
ESTIMATE = "estimate"  # pending input of the card's Estimate button: the hours


async def _send(update: Update, context: Context, user: User, ticket_id: int, text: str) -> bool:
    """Read `text` as an estimate (hours, then an optional note) and send it; False if it could
    not be read (the person was told how to write it)."""
    language = user.language
    try:
        low, high, note = split_estimate(text)
    except BadEstimate as bad:
        await reply(update, context, t(language, f"estimate.problem_{bad.problem}"))
        return False
    if note is not None and len(note) > NOTE_MAX:
        await reply(update, context, t(language, "input.too_long", max=NOTE_MAX))
        return False
    done = await send_estimate(get_services(context), user, ticket_id, low, high, note)
    if not done.ok or done.ticket is None or done.estimate is None:
        await explain(update, context, user, Outcome(done.ticket, done.refusal))
        return True
    key = "estimate.sent" if done.approval_needed else "estimate.approved_by_policy"
    words = summary(done.estimate, language)
    await reply(update, context, t(language, key, reference=done.ticket.reference, estimate=words))
    return True


@members(Role.LEAD, Role.ADMIN)
async def estimate_command(update: Update, context: Context, user: User) -> None:
    """/estimate <ref> <hours> [note]"""
    args = context.args or []
    if len(args) < 2:
        await reply(update, context, t(user.language, "usage.estimate"))
        return
    services = get_services(context)
    async with services.db.read() as conn:
        ticket = await visible_ticket(conn, user, args[0], services.today())
    if ticket is None:
        await reply(update, context, t(user.language, "ticket.unknown", reference=args[0][:40]))
        return
    await _send(update, context, user, ticket.id, " ".join(args[1:]))


async def _explain_decision(update: Update, context: Context, user: User, done: Done) -> None:
    """Why a press on an approval button did nothing."""
    if done.refusal == "decided" and done.estimate is not None and done.ticket is not None:
        status = done.estimate.status.value
        await refuse(
            update,
            context,
            t(
                user.language,
                f"estimate.already_{status}",
                reference=done.ticket.reference,
                who=render.person(done.decider),
            ),
        )
        await drop_buttons(update)
        return
    await explain(update, context, user, Outcome(done.ticket, done.refusal))


@members()
async def on_approval_button(update: Update, context: Context, user: User) -> None:
    """Approve, Refuse, Ask a question: parsed here once, re-checked on the server."""
    query = update.callback_query
    assert query is not None
    data = cb.unpack(query.data)
    estimate_id = data.int_arg(0) if data else None
    language = user.language
    if data is None or estimate_id is None or data.action not in {"ok", "no", "ask"}:
        await refuse(update, context, t(language, "button.stale"))
        return
    services = get_services(context)
    if data.action == "ok":
        done = await decide_on(services, user, estimate_id, approve=True)
        if not done.ok or done.ticket is None:
            await _explain_decision(update, context, user, done)
            return
        await query.answer(t(language, "estimate.done_approve", reference=done.ticket.reference))
        await drop_buttons(update)
        return
    # Refuse and Ask wait for a message: the reason, or the question. Checked now and again then.
    async with services.db.transaction() as conn:
        estimate = await repo.get_estimate(conn, estimate_id)
        ticket = await tickets.get_ticket(conn, estimate.ticket_id) if estimate else None
        done = Done(ticket, estimate, refusal="unknown" if ticket is None else None)
        if ticket is not None and estimate is not None:
            done = await may_decide(conn, user, ticket, estimate)
        if done.ok and ticket is not None:
            kind = REFUSE if data.action == "no" else QUESTION
            now = services.clock.now()
            await conversation.expect_input(conn, user.id, f"{kind}:{estimate_id}", ticket.id, now)
    if not done.ok or ticket is None:
        await _explain_decision(update, context, user, done)
        return
    await query.answer()
    key = "estimate.ask_reason" if data.action == "no" else "estimate.ask_question"
    await reply(update, context, t(language, key, reference=ticket.reference))


async def on_pending(update: Update, context: Context) -> None:
    """The message an estimate's button asked for: the hours, a refusal's reason, a question."""
    user = await current_member(update, context)
    message = update.effective_message
    if user is None or not user.active or message is None:
        return
    services = get_services(context)
    async with services.db.read() as conn:
        pending = await conversation.pending_input(conn, user.id)
    if pending is None:
        return
    kind, _, arg = pending.kind.partition(":")
    if kind not in {ESTIMATE, REFUSE, QUESTION}:
        return
    language = user.language
    text = (message.text or "").strip()
    if not has_visible_text(text):
        async with services.db.read() as conn:
            ticket = await tickets.get_ticket(conn, pending.ticket_id)
        reference = ticket.reference if ticket else ""
        key = {ESTIMATE: "input.estimate", REFUSE: "estimate.ask_reason"}.get(
            kind, "estimate.ask_question"
        )
        await reply(update, context, t(language, key, reference=reference))
        raise ApplicationHandlerStop
    if kind != ESTIMATE and len(text) > NOTE_MAX:
        await reply(update, context, t(language, "input.too_long", max=NOTE_MAX))
        raise ApplicationHandlerStop
    finished = True
    if kind == ESTIMATE:
        finished = await _send(update, context, user, pending.ticket_id, text)
    elif kind == REFUSE:
        done = await decide_on(services, user, int(arg or 0), approve=False, reason=text)
        if done.ok and done.ticket is not None:
            ref = done.ticket.reference
            await reply(update, context, t(language, "estimate.done_refuse", reference=ref))
        else:
            await _explain_decision(update, context, user, done)
    else:
        done = await ask_lead(services, user, int(arg or 0), text, message.chat_id, message.id)
        if done.ok and done.ticket is not None:
            ref = done.ticket.reference
            await reply(update, context, t(language, "estimate.question_sent", reference=ref))
        else:
            await _explain_decision(update, context, user, done)
    if finished:
        async with services.db.transaction() as conn:
            await conversation.clear_input(conn, user.id)
    raise ApplicationHandlerStop


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /estimate, the approval buttons (`e:`) and the messages they wait for (group -1:
    before the messages for a ticket and the form's answers)."""
    app.add_handler(CommandHandler("estimate", estimate_command, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(on_approval_button, pattern=rf"^{cb.APPROVAL}:"))
    app.add_handler(MessageHandler(PRIVATE & ~filters.COMMAND, on_pending), group=-1)
