"""An approver's question on an estimate, to the lead, and the lead's answer, to who asked
(issue 14): each kept on the ticket as a message, in one transaction with the outbox rows that
carry it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.estimates import Done, may_decide
from bot.lifecycle import notify
from bot.rules.workflow import Relation
from bot.services import Services
from bot.tickets import relation_to
from bot.ui import callbacks as cb
from bot.ui import keyboards, render
from bot.ui.i18n import Html, escape, t
from storage import conversation, people, tickets
from storage import estimates as repo
from storage.db import Connection
from storage.models import Ticket, TicketStatus, User


async def ask_lead(
    services: Services, user: User, estimate_id: int, text: str, chat_id: int, message_id: int
) -> Done:
    """An approver's question on an estimate, to the lead: kept on the ticket as a message."""
    now = services.clock.now()
    async with services.db.transaction() as conn:
        estimate = await repo.get_estimate(conn, estimate_id)
        ticket = await tickets.get_ticket(conn, estimate.ticket_id) if estimate else None
        if estimate is None or ticket is None:
            return Done(None, refusal="unknown")
        allowed = await may_decide(conn, user, ticket, estimate)  # who may decide may ask
        if not allowed.ok:
            return allowed
        lead_id = ticket.assignee_id or estimate.created_by
        added = await _keep(conn, ticket, user, text, (chat_id, message_id), now)
        if added is not None:
            author, ref, asked = render.person(user), ticket.reference, added
            await notify(
                conn,
                services,
                lead_id,
                ticket,
                "estimate_question",
                lambda lang: Html(
                    f"{t(lang, 'estimate.question_header', reference=ref, who=author)}"
                    f"\n{render.quote(text)}"
                ),
                lambda lang: keyboards.question(asked, ticket.id, user.full_name[:40], lang),
            )
    services.wake_outbox()
    return Done(ticket, estimate)


@dataclass(frozen=True)
class Answer:
    """The lead's answer to an approver's question: to whom it went, or why not (unknown,
    not_allowed, closed)."""

    ticket: Ticket | None
    asker: User | None = None
    refusal: str | None = None


async def may_answer(conn: Connection, user: User, question_id: int) -> Answer:
    """Whether `user` may answer the approver's question `question_id` (a message kept on the
    ticket): they hold the ticket, or are an admin; it is not over; who asked may still
    read it (a manager since revoked is not sent the answer)."""
    question = await repo.question(conn, question_id)
    ticket = await tickets.get_ticket(conn, question.ticket_id) if question else None
    if question is None or ticket is None:
        return Answer(None, refusal="unknown")
    if not await relation_to(conn, user, ticket) & {Relation.ASSIGNEE, Relation.ADMIN}:
        return Answer(ticket, refusal="not_allowed")
    asker = await people.get_user(conn, question.author_id)
    asked = await relation_to(conn, asker, ticket) if asker and asker.active else frozenset()
    if not asked & {Relation.APPROVER, Relation.MANAGER}:
        return Answer(ticket, refusal="unknown")
    if ticket.status in {TicketStatus.CLOSED, TicketStatus.CANCELLED}:
        return Answer(ticket, refusal="closed")
    return Answer(ticket, asker)


async def question_replied(conn: Connection, chat_id: int, message_id: int) -> int | None:
    """The approver's question (its message id) that the bot's message `message_id` carried to
    the lead, read from its Reply button; None if it carried none (a Telegram reply to it then
    goes where any reply goes)."""
    payload = await repo.question_notice(conn, chat_id, message_id)
    rows = (payload or {}).get("reply_markup", {}).get("inline_keyboard", [])
    for button in (b for row in rows for b in row):
        data = cb.unpack(button.get("callback_data"))
        if data is not None and data.scope == cb.APPROVAL and data.action == "ans":
            return data.int_arg(0)
    return None


async def answer_approver(
    services: Services, user: User, question_id: int, text: str, chat_id: int, message_id: int
) -> Answer:
    """The lead's answer to an approver's question: to who asked (not to the contact), kept on
    the ticket's history as a message."""
    now = services.clock.now()
    async with services.db.transaction() as conn:
        found = await may_answer(conn, user, question_id)
        question = await repo.question(conn, question_id)
        if found.refusal or found.ticket is None or found.asker is None or question is None:
            return found
        ticket, asker = found.ticket, found.asker
        added = await _keep(conn, ticket, user, text, (chat_id, message_id), now)
        if added is not None:
            author, ref, asked = render.person(user), ticket.reference, question.body or ""
            await tickets.touch(conn, ticket.id, now)
            # Still to decide: the approver decides from the answer, with the card's buttons.
            pending = await repo.pending_estimate(conn, ticket.id)
            decides = Relation.APPROVER in await relation_to(conn, asker, ticket)
            await notify(
                conn,
                services,
                asker.id,
                ticket,
                "estimate_answer",
                lambda lang: Html(
                    f"{t(lang, 'estimate.answer_header', reference=ref, who=author)}"
                    f"\n{render.quote(asked)}\n{escape(text)}"
                ),
                (lambda lang: keyboards.approval(pending.id, lang))
                if pending is not None and decides
                else None,
            )
    services.wake_outbox()
    return found


async def _keep(
    conn: Connection,
    ticket: Ticket,
    author: User,
    text: str,
    source: tuple[int, int],
    now: datetime,
) -> int | None:
    """`text` kept on the ticket as `author`'s message (its chat and message id); None if that
    message was kept already (an update handled twice)."""
    return await conversation.add_message(
        conn,
        ticket_id=ticket.id,
        author_id=author.id,
        kind="text",
        body=text,
        source_chat_id=source[0],
        source_message_id=source[1],
        now=now,
    )
