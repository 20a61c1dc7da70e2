"""The conversation on a ticket: what the contact and the lead write reaches the other side,
attachments included, with the reference on every message, and is kept on the ticket."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from bot.lifecycle import apply
from bot.rules.limits import MAX_FILE_BYTES, MAX_FILE_MB
from bot.rules.workflow import Action, Relation
from bot.services import Services
from bot.tickets import message_payload, recipients, relation_to
from bot.together import absences
from bot.ui import keyboards, render
from bot.ui.i18n import Html, escape, t, visible_length
from storage import conversation, drafts, outbox, people, tickets
from storage.db import Connection
from storage.models import FormStep, Role, Ticket, TicketStatus, User

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CLOSED = frozenset({TicketStatus.CLOSED, TicketStatus.CANCELLED})
WRITERS = frozenset({Relation.OWNER, Relation.ASSIGNEE, Relation.ADMIN})  # who may write on it


@dataclass(frozen=True)
class Incoming:
    """A message someone wrote to the bot, to relay."""

    kind: str  # text, document, photo
    text: str | None  # the text, or the caption
    chat_id: int
    message_id: int
    file_id: str | None = None
    file_unique_id: str | None = None
    file_name: str | None = None
    file_size: int | None = None


# Who else sees a relayed message, in its transaction: the ticket's topic in the team's group
# (bot/together/topics.py), given the author, the message and its id on the ticket.
MessageHook = Callable[[Connection, Services, Ticket, User, Incoming, int], Awaitable[None]]
MESSAGE_HOOKS: list[MessageHook] = []


@dataclass(frozen=True)
class Relayed:
    ticket: Ticket | None
    refusal: str | None = None  # unknown, not_allowed, closed, too_long, file_too_big, duplicate
    limit: int = 0  # with too_long: the most characters that fit


def _header(language: str, ticket: Ticket, author: User, question: bool, edited: bool) -> Html:
    key = "relay.question" if question else "relay.header"
    text = t(language, key, reference=ticket.reference, name=author.full_name)
    return Html(f"{text} {t(language, 'relay.edited')}") if edited else text


async def _headers(
    conn: Connection,
    ticket: Ticket,
    author: User,
    readers: list[tuple[int, str]],
    question: bool,
    edited: bool,
) -> list[Html]:
    """One header per reader; who reads the contact's message for an absent lead is told, in
    a first line, whose request it is."""
    lead = None
    held = author.id == ticket.contact_id and ticket.assignee_id is not None
    if held and any(reader != ticket.assignee_id for reader, _ in readers):
        assert ticket.assignee_id is not None
        lead = await people.get_user(conn, ticket.assignee_id)
    headers = []
    for reader, language in readers:
        header = _header(language, ticket, author, question, edited)
        if lead is not None and reader != lead.id:
            cover = t(language, "away.relay_for", lead=render.person(lead))
            header = Html(f"{cover}\n{header}")
        headers.append(header)
    return headers


def _compose(header: Html, body: str | None) -> Html:
    return Html(f"{header}\n{escape(body)}") if body else header


async def _readers(
    conn: Connection, services: Services, ticket: Ticket, author: User
) -> list[tuple[int, str]]:
    """Who receives what `author` writes on `ticket` (id, language)."""
    if author.id == ticket.contact_id:
        if ticket.assignee_id is not None:  # its lead, or who covers them while they are away
            return await absences.readers_for(conn, services, ticket.assignee_id)
        return await recipients(conn, services, ticket.field_id)
    contact = await people.get_user(conn, ticket.contact_id)
    return [(contact.id, contact.language)] if contact else []


def _room(incoming_kind: str, headers: list[Html]) -> int:
    """How many characters of the author's text fit under the longest header."""
    limit = TEXT_LIMIT if incoming_kind == "text" else CAPTION_LIMIT
    return limit - max((visible_length(h) for h in headers), default=0) - 1


async def _relay(
    services: Services, author: User, ticket_id: int, incoming: Incoming, *, question: bool = False
) -> Relayed:
    """Relay a message on a ticket to the other side, and keep it on the ticket.

    The contact's answer to a question puts the ticket back in progress; a lead's question puts
    it in waiting. Nothing of the ticket reaches anyone outside it.
    """
    now = services.clock.now()
    async with services.db.transaction() as conn:
        ticket = await tickets.get_ticket(conn, ticket_id)
        if ticket is None:
            return Relayed(None, "unknown")
        who = await relation_to(conn, author, ticket, services.today())
        if not who & WRITERS:
            return Relayed(ticket, "not_allowed")
        if ticket.status in CLOSED:
            return Relayed(ticket, "closed")
        if (incoming.file_size or 0) > MAX_FILE_BYTES:
            return Relayed(ticket, "file_too_big", limit=MAX_FILE_MB)
        from_contact = Relation.OWNER in who
        question = question and not from_contact
        readers = await _readers(conn, services, ticket, author)
        headers = await _headers(conn, ticket, author, readers, question, False)
        room = _room(incoming.kind, headers)
        if len(incoming.text or "") > room:
            return Relayed(ticket, "too_long", limit=room)
        message_id = await conversation.add_message(
            conn,
            ticket_id=ticket.id,
            author_id=author.id,
            kind=incoming.kind,
            body=incoming.text,
            source_chat_id=incoming.chat_id,
            source_message_id=incoming.message_id,
            now=now,
            file_id=incoming.file_id,
            file_unique_id=incoming.file_unique_id,
            file_name=incoming.file_name,
        )
        if message_id is None:  # the same message again (a redelivered update)
            return Relayed(ticket, "duplicate")
        if question:
            outcome = await apply(conn, services, author, ticket, Action.ASK)
            if outcome.refusal:
                raise _Abort(Relayed(ticket, outcome.refusal))
        elif from_contact and ticket.status is TicketStatus.WAITING:
            await apply(conn, services, author, ticket, Action.ANSWER)
        if from_contact:
            await absences.tell_contact_once(conn, services, ticket, author)
        await tickets.touch(conn, ticket.id, now)
        for (chat_id, language), header in zip(readers, headers, strict=True):
            await _send(conn, services, ticket, chat_id, language, header, incoming, message_id)
        for hook in MESSAGE_HOOKS:
            await hook(conn, services, ticket, author, incoming, message_id)
        current = await tickets.get_ticket(conn, ticket.id)
    services.wake_outbox()
    return Relayed(current)


async def relay(
    services: Services, author: User, ticket_id: int, incoming: Incoming, *, question: bool = False
) -> Relayed:
    """Relay a message on a ticket to the other side, and keep it on the ticket.

    A refusal found mid-way rolls the whole transaction back.
    """
    try:
        return await _relay(services, author, ticket_id, incoming, question=question)
    except _Abort as abort:
        return abort.result


class _Abort(Exception):
    """Roll the relay back (raised inside the transaction) and answer `result`."""

    def __init__(self, result: Relayed) -> None:
        super().__init__(result.refusal)
        self.result = result


async def _send(
    conn: Connection,
    services: Services,
    ticket: Ticket,
    chat_id: int,
    language: str,
    header: Html,
    incoming: Incoming,
    ticket_message_id: int,
) -> None:
    reader = await people.get_user(conn, chat_id)
    markup = keyboards.reply(ticket.id, language)
    text = _compose(header, incoming.text)
    if incoming.kind == "text":
        method, payload = "send_message", message_payload(text, markup)
    else:
        method = "send_photo" if incoming.kind == "photo" else "send_document"
        payload = {
            incoming.kind: incoming.file_id,
            "caption": str(text),
            "parse_mode": "HTML",
            "reply_markup": markup.to_dict(),
        }
    await outbox.enqueue(
        conn,
        chat_id=chat_id,
        method=method,
        payload=payload,
        purpose="relay" if reader is None or reader.role is not Role.CONTACT else "relay_contact",
        now=services.clock.now(),
        ticket_id=ticket.id,
        ticket_message_id=ticket_message_id,
    )


async def replied_ticket(conn: Connection, chat_id: int, quoted_id: int) -> int | None:
    """The ticket of a message someone replies to in their chat: a message the bot sent them
    about it, or one they wrote on it."""
    ticket_id = await tickets.ticket_of_message(conn, chat_id, quoted_id)
    if ticket_id is None:
        kept = await conversation.message_by_source(conn, chat_id, quoted_id)
        ticket_id = kept.ticket_id if kept is not None else None
    return ticket_id


async def ticket_written_to(
    conn: Connection, author: User, chat_id: int, today: date | None = None
) -> int | None:
    """Where a file goes that is neither awaited nor a reply: the ticket the person last wrote
    on, while it is open and theirs to write on, unless they have been filling in the request
    form since (a file is an answer to the form there)."""
    last = await conversation.last_message_from(conn, chat_id, author.id)
    if last is None:
        return None
    if author.role is Role.CONTACT:
        draft = await drafts.open_draft(conn, author.id)
        if draft is not None and (
            draft.step is FormStep.ATTACHMENTS or draft.updated_at > last.created_at
        ):
            return None
    ticket = await tickets.get_ticket(conn, last.ticket_id)
    if ticket is None or ticket.status in CLOSED:
        return None
    if not await relation_to(conn, author, ticket, today) & WRITERS:
        return None
    return ticket.id


async def relay_edit(
    services: Services, author: User, chat_id: int, message_id: int, text: str
) -> Relayed | None:
    """The author edited a relayed message: edit every copy. None: not a relayed message."""
    now = services.clock.now()
    async with services.db.transaction() as conn:
        kept = await conversation.message_by_source(conn, chat_id, message_id)
        if kept is None or kept.author_id != author.id:
            return None
        ticket = await tickets.get_ticket(conn, kept.ticket_id)
        assert ticket is not None
        readers = await _readers(conn, services, ticket, author)
        headers = await _headers(conn, ticket, author, readers, False, True)
        room = _room(kept.kind, headers)
        if len(text) > room:
            return Relayed(ticket, "too_long", limit=room)
        await conversation.edit_message(conn, kept.id, text, now)
        languages = dict(readers)
        by_reader = {reader: header for (reader, _), header in zip(readers, headers, strict=True)}
        for relay_id, method in await conversation.relays_of(conn, kept.id):
            original = await outbox.get(conn, relay_id)
            assert original is not None
            language = languages.get(original.chat_id, services.settings.default_language)
            header = by_reader.get(original.chat_id) or _header(
                language, ticket, author, False, True
            )
            body = _compose(header, text)
            edit = "edit_message_text" if method == "send_message" else "edit_message_caption"
            key = "text" if edit == "edit_message_text" else "caption"
            await outbox.enqueue(
                conn,
                chat_id=original.chat_id,
                method=edit,
                payload={
                    key: str(body),
                    "parse_mode": "HTML",
                    "reply_markup": keyboards.reply(ticket.id, language).to_dict(),
                },
                purpose="relay_edit",
                now=now,
                ticket_id=ticket.id,
                edit_of=relay_id,
            )
    services.wake_outbox()
    return Relayed(ticket)
