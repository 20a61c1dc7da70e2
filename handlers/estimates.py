"""Estimates and their approval from Telegram: `/estimate`, the card's *Estimate* button (the
hours it then waits for), the approvers' *Approve*, *Refuse* (a reason) and *Ask a question*,
`/approvals` (what awaits their decision), and the lead's answer to a question and *Cancel the
request* after a refusal (a note) (use cases: bot/estimates.py, bot/lifecycle.py; rules:
bot/rules/estimates.py, bot/rules/workflow.py)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.estimates import (
    Done,
    approval_card,
    approver_ids,
    decide_on,
    may_decide,
    send_estimate,
    summary,
)
from bot.federation.questions import Answer, answer_approver, ask_lead, may_answer
from bot.lifecycle import Outcome, drop
from bot.rules.estimates import BadEstimate, split_estimate
from bot.rules.forms import has_visible_text
from bot.rules.workflow import Refusal, decide_drop
from bot.services import Services, get_services
from bot.tickets import relation_to, visible_ticket
from bot.ui import callbacks as cb
from bot.ui import keyboards, render
from bot.ui.i18n import Html, t, tn
from handlers.common import PRIVATE, Context, current_member, drop_buttons, members, refuse, reply
from handlers.workflow import NOTE_MAX, explain
from storage import conversation, people, tickets
from storage import estimates as repo
from storage.db import Connection
from storage.models import Estimate, EstimateStatus, Role, Ticket, User

# pending input `refuse:<estimate id>:<card's message id>`: the reason of a refusal (the card
# is then edited to say it)
REFUSE = "refuse"
QUESTION = "eask"  # pending input `eask:<estimate id>`: an approver's question to the lead
ESTIMATE = "estimate"  # pending input of the card's Estimate button: the hours
DROP = "drop"  # pending input of « Annuler la demande » after a refusal: the note
ANSWER = "eans"  # pending input `eans:<question message id>`: the lead's answer to an approver
LEADS = {"drop", "ans"}  # the lead's buttons of this scope: e:drop:<estimate>, e:ans:<question>
MAX_LISTED = 20  # /approvals shows the oldest this many cards, and says how many more wait


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


def _decision(services: Services, user: User, estimate: Estimate, decider: User | None) -> Html:
    """« ✅ Approuvée par vous le … » under a decided estimate's card (`estimate.decided_*`)."""
    mine = decider is not None and decider.id == user.id
    assert estimate.decided_at is not None
    return t(
        user.language,
        f"estimate.decided_{estimate.status.value}" + ("_you" if mine else ""),
        who=render.person(decider),
        when=render.moment(estimate.decided_at, user.language, services.settings.tz),
    )


async def _decided_card(services: Services, user: User, estimate_id: int) -> Html | None:
    """A decided estimate's card as its approver now reads it: the decision, who and when, in
    place of the buttons; None while it is undecided (or unknown)."""
    async with services.db.read() as conn:
        estimate = await repo.get_estimate(conn, estimate_id)
        ticket = await tickets.get_ticket(conn, estimate.ticket_id) if estimate else None
        if ticket is None or estimate is None or estimate.decided_at is None:
            return None
        if estimate.status not in {EstimateStatus.APPROVED, EstimateStatus.REFUSED}:
            return None  # superseded: the newer estimate's card is the one to decide from
        card = await approval_card(conn, services, ticket, estimate, user.language, decided=True)
        decider = await people.get_user(conn, estimate.decided_by) if estimate.decided_by else None
    return Html(f"{card}\n\n{_decision(services, user, estimate, decider)}")


async def _edit_card(
    update: Update, context: Context, user: User, estimate_id: int, message_id: int | None
) -> None:
    """Write the decision in the approval card (the pressed one, or `message_id` in the
    approver's chat) and take its buttons off; gone or too old: only the buttons go."""
    text = await _decided_card(get_services(context), user, estimate_id)
    try:
        if text is None:
            await drop_buttons(update)
        elif message_id is not None:
            await context.bot.edit_message_text(text, chat_id=user.id, message_id=message_id)
        elif update.callback_query is not None:
            await update.callback_query.edit_message_text(text)
    except BadRequest:
        await drop_buttons(update)


async def _explain_decision(update: Update, context: Context, user: User, done: Done) -> None:
    """Why a press on an approval button did nothing."""
    if done.refusal == "decided" and done.estimate is not None and done.ticket is not None:
        estimate = done.estimate
        mine = done.decider is not None and done.decider.id == user.id
        decided = estimate.decided_at is not None
        key = f"estimate.already_{estimate.status.value}" + ("_you" if mine and decided else "")
        when = (
            render.moment(estimate.decided_at, user.language, get_services(context).settings.tz)
            if estimate.decided_at
            else ""
        )
        text = t(
            user.language,
            key,
            reference=done.ticket.reference,
            who=render.person(done.decider),
            when=when,
        )
        await refuse(update, context, text)
        await _edit_card(update, context, user, estimate.id, None)
        return
    await explain(update, context, user, Outcome(done.ticket, done.refusal))


async def _explain_lead(
    update: Update, context: Context, user: User, ticket: Ticket | None, refusal: str | None
) -> None:
    """Why the lead's Cancel the request, or their answer to a question, did nothing."""
    if ticket is not None and refusal in {"not_refused", "closed"}:
        ref = ticket.reference
        await refuse(update, context, t(user.language, f"estimate.{refusal}", reference=ref))
        return
    await explain(update, context, user, Outcome(ticket, refusal))


async def _lead_button(
    update: Update, context: Context, user: User, action: str, arg: int
) -> None:
    """« Annuler la demande » under a refused estimate, or « Répondre à … » under an approver's
    question: checked now, then the note or the answer is awaited (and checked again)."""
    services = get_services(context)
    language = user.language
    asker: User | None = None
    async with services.db.transaction() as conn:
        if action == "drop":
            ticket, refusal = await _may_drop(conn, user, arg)
            kind = f"{DROP}:{arg}"
        else:
            found = await may_answer(conn, user, arg)
            ticket, refusal, asker = found.ticket, found.refusal, found.asker
            kind = f"{ANSWER}:{arg}"
        if refusal is None and ticket is not None:
            await conversation.expect_input(conn, user.id, kind, ticket.id, services.clock.now())
    if refusal is not None or ticket is None:
        await _explain_lead(update, context, user, ticket, refusal)
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await reply(update, context, _ask(language, action, ticket, asker))


def _ask(language: str, action: str, ticket: Ticket, asker: User | None) -> Html:
    if action == "drop":
        return t(language, "estimate.drop_ask", reference=ticket.reference)
    return t(language, "estimate.answer_ask", reference=ticket.reference, who=render.person(asker))


async def _may_drop(
    conn: Connection, user: User, estimate_id: int
) -> tuple[Ticket | None, str | None]:
    """The ticket of the refused estimate `estimate_id`, and why `user` may not cancel it."""
    estimate = await repo.get_estimate(conn, estimate_id)
    ticket = await tickets.get_ticket(conn, estimate.ticket_id) if estimate else None
    if ticket is None:
        return None, "unknown"
    try:
        latest = await repo.latest_estimate(conn, ticket.id)
        decide_drop(ticket, await relation_to(conn, user, ticket), latest)
    except Refusal as refusal:
        return ticket, refusal.reason
    return ticket, None


@members()
async def on_approval_button(update: Update, context: Context, user: User) -> None:
    """Approve, Refuse, Ask a question: parsed here once, re-checked on the server."""
    query = update.callback_query
    assert query is not None
    data = cb.unpack(query.data)
    estimate_id = data.int_arg(0) if data else None
    language = user.language
    if data is None or estimate_id is None or data.action not in {"ok", "no", "ask", *LEADS}:
        await refuse(update, context, t(language, "button.stale"))
        return
    if data.action in LEADS:
        await _lead_button(update, context, user, data.action, estimate_id)
        return
    services = get_services(context)
    if data.action == "ok":
        done = await decide_on(services, user, estimate_id, approve=True)
        if not done.ok or done.ticket is None:
            await _explain_decision(update, context, user, done)
            return
        await query.answer(t(language, "estimate.done_approve", reference=done.ticket.reference))
        await _edit_card(update, context, user, estimate_id, None)
        return
    # Refuse and Ask wait for a message: the reason, or the question. Checked now and again then.
    async with services.db.transaction() as conn:
        estimate = await repo.get_estimate(conn, estimate_id)
        ticket = await tickets.get_ticket(conn, estimate.ticket_id) if estimate else None
        done = Done(ticket, estimate, refusal="unknown" if ticket is None else None)
        if ticket is not None and estimate is not None:
            done = await may_decide(conn, user, ticket, estimate)
        if done.ok and ticket is not None:
            kind = f"{QUESTION}:{estimate_id}"
            if data.action == "no" and query.message is not None:
                kind = f"{REFUSE}:{estimate_id}:{query.message.message_id}"
            elif data.action == "no":
                kind = f"{REFUSE}:{estimate_id}"
            now = services.clock.now()
            await conversation.expect_input(conn, user.id, kind, ticket.id, now)
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
    if kind not in {ESTIMATE, REFUSE, QUESTION, DROP, ANSWER}:
        return
    language = user.language
    text = (message.text or "").strip()
    if not has_visible_text(text):
        async with services.db.read() as conn:
            ticket = await tickets.get_ticket(conn, pending.ticket_id)
        reference = ticket.reference if ticket else ""
        key = {
            ESTIMATE: "input.estimate",
            REFUSE: "estimate.ask_reason",
            DROP: "estimate.drop_ask",
            ANSWER: "estimate.answer_again",
        }.get(kind, "estimate.ask_question")
        await reply(update, context, t(language, key, reference=reference))
        raise ApplicationHandlerStop
    if kind != ESTIMATE and len(text) > NOTE_MAX:
        await reply(update, context, t(language, "input.too_long", max=NOTE_MAX))
        raise ApplicationHandlerStop
    finished = True
    if kind == ESTIMATE:
        finished = await _send(update, context, user, pending.ticket_id, text)
    elif kind == REFUSE:
        estimate_arg, _, card = arg.partition(":")
        estimate_id = int(estimate_arg or 0)
        done = await decide_on(services, user, estimate_id, approve=False, reason=text)
        if done.ok and done.ticket is not None:
            ref = done.ticket.reference
            await reply(update, context, t(language, "estimate.done_refuse", reference=ref))
            # The card says it was refused, by whom and when, as an approved one does.
            await _edit_card(update, context, user, estimate_id, int(card) if card else None)
        else:
            await _explain_decision(update, context, user, done)
    elif kind == DROP:
        await _drop(update, context, user, pending.ticket_id, text)
    elif kind == ANSWER:
        await answer(update, context, user, int(arg or 0), text)
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


async def _drop(update: Update, context: Context, user: User, ticket_id: int, note: str) -> None:
    """The lead's note after « Annuler la demande »: the request is cancelled, if it still may."""
    outcome = await drop(get_services(context), user, ticket_id, note)
    if not outcome.ok or outcome.ticket is None:
        await _explain_lead(update, context, user, outcome.ticket, outcome.refusal)
        return
    ref = outcome.ticket.reference
    await reply(update, context, t(user.language, "estimate.dropped", reference=ref))


async def answer(
    update: Update, context: Context, user: User, question_id: int, text: str
) -> None:
    """The lead's answer to an approver's question (after « Répondre à … », or a Telegram reply
    to the question): to who asked, and the lead is told to whom it went."""
    message = update.effective_message
    assert message is not None
    if len(text) > NOTE_MAX:
        await reply(update, context, t(user.language, "input.too_long", max=NOTE_MAX))
        return
    services = get_services(context)
    sent: Answer = await answer_approver(
        services, user, question_id, text, message.chat_id, message.id
    )
    if sent.refusal or sent.ticket is None or sent.asker is None:
        await _explain_lead(update, context, user, sent.ticket, sent.refusal)
        return
    ref, who = sent.ticket.reference, render.person(sent.asker)
    await reply(update, context, t(user.language, "estimate.answer_sent", reference=ref, who=who))


# -- /approvals --------------------------------------------------------------------------------


async def _awaiting(conn: Connection, user: User) -> list[Estimate] | None:
    """The estimates awaiting `user`'s decision (an admin: everyone's, to follow); None if they
    approve nothing (a lead; a contact whose federation's managers approve)."""
    if user.role is Role.ADMIN:
        return await repo.all_pending_estimates(conn)
    if user.role is not Role.CONTACT or user.federation_id is None:
        return None
    if not user.manager and await people.has_managers(conn, user.federation_id):
        return None
    found = []
    for estimate in await repo.pending_estimates(conn, user.federation_id):
        ticket = await tickets.get_ticket(conn, estimate.ticket_id)
        if ticket is not None and user.id in await approver_ids(conn, ticket):
            found.append(estimate)
    return found


async def _card(
    conn: Connection, services: Services, user: User, estimate: Estimate
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """An estimate's approval card as it was sent, with its buttons; an admin's says who
    decides instead (they do not)."""
    ticket = await tickets.get_ticket(conn, estimate.ticket_id)
    assert ticket is not None
    card = await approval_card(conn, services, ticket, estimate, user.language)
    if user.role is not Role.ADMIN:
        return card, keyboards.approval(estimate.id, user.language)
    deciders = [await people.get_user(conn, i) for i in sorted(await approver_ids(conn, ticket))]
    names = Html(", ".join(render.person(p) for p in deciders))
    return Html(f"{card}\n{t(user.language, 'approvals.deciders', names=names)}"), None


@members()
async def approvals_command(update: Update, context: Context, user: User) -> None:
    """/approvals: the estimates awaiting this person's decision, each with its card."""
    services = get_services(context)
    language = user.language
    async with services.db.read() as conn:
        awaiting = await _awaiting(conn, user)
        cards = [await _card(conn, services, user, e) for e in (awaiting or [])[:MAX_LISTED]]
    if awaiting is None:
        key = "approvals.not_lead" if user.role is Role.LEAD else "approvals.not_contact"
        await reply(update, context, t(language, key))
        return
    if not awaiting:
        await reply(update, context, t(language, "approvals.none"))
        return
    key = "approvals.title_admin" if user.role is Role.ADMIN else "approvals.title"
    title = tn(language, key, len(awaiting))
    if len(awaiting) > MAX_LISTED:
        title = Html(f"{title}\n{tn(language, 'approvals.oldest', MAX_LISTED)}")
    await reply(update, context, title)
    for text, markup in cards:
        await reply(update, context, text, markup)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /estimate, the approval buttons (`e:`) and the messages they wait for (group -1:
    before the messages for a ticket and the form's answers)."""
    app.add_handler(CommandHandler("estimate", estimate_command, filters=PRIVATE))
    app.add_handler(CommandHandler("approvals", approvals_command, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(on_approval_button, pattern=rf"^{cb.APPROVAL}:"))
    app.add_handler(MessageHandler(PRIVATE & ~filters.COMMAND, on_pending), group=-1)
