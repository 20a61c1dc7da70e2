"""Seeing tickets: /mytickets, /ticket <ref> (or words: a search), /queue, a ticket's history."""

from __future__ import annotations

import re

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.lifecycle import lead_view
from bot.rules.workflow import Relation, can_view
from bot.services import Services, get_services
from bot.tickets import actor_for, dropped_status, relation_to, visible_ticket
from bot.together import linked
from bot.ui import callbacks as cb
from bot.ui import keyboards, render
from bot.ui.i18n import Html, t
from handlers.common import PRIVATE, Context, edit_pressed, members, refuse, reply
from storage import conversation, estimates, people, tickets
from storage.db import Connection
from storage.models import Role, Ticket, User

STAFF_ONLY = frozenset({"note"})  # events of a ticket's history its contact does not see

PAGE = 20
QUEUE_PAGE = 10
HISTORY_PAGE = 10
SEARCH_LIMIT = 10
REFERENCE = re.compile(r"^[A-Za-z0-9]{2,10}-\d{4}-\d{4,}$")


@members(Role.CONTACT)
async def my_tickets(update: Update, context: Context, user: User) -> None:
    """/mytickets: the contact's requests, newest first, with their state and last activity."""
    services = get_services(context)
    language = user.language
    async with services.db.read() as conn:
        # A request across several fields reads as one, its parts under it.
        text = await linked.my_requests(conn, user, services.settings.tz, PAGE)
    # A manager's list offers their whole federation's, below their own.
    federation = keyboards.whole_federation(language) if _manages(user) else None
    await reply(update, context, text or t(language, "mytickets.none"), federation)


def _manages(user: User) -> bool:
    """Whether `user` is a manager of their federation (a contact with the flag)."""
    return user.manager and user.role is Role.CONTACT and user.federation_id is not None


async def _federation_page(
    services: Services, user: User, page: int
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """One page of every request of the manager's federation, with who filed each."""
    language = user.language
    assert user.federation_id is not None
    async with services.db.read() as conn:
        found = await tickets.federation_tickets(conn, user.federation_id, PAGE, page * PAGE)
        total = await tickets.count_federation_tickets(conn, user.federation_id)
        names: dict[int, Html] = {}
        for contact_id in {tk.contact_id for tk in found}:
            names[contact_id] = render.person(await people.get_user(conn, contact_id))
    if not found:
        key = "mytickets.federation_none" if page == 0 else "queue.no_more"
        return t(language, key), None
    pages = (total + PAGE - 1) // PAGE
    lines = [t(language, "mytickets.federation_title", count=total, page=page + 1, pages=pages)]
    lines += [
        t(
            language,
            "mytickets.federation_line",
            reference=tk.reference,
            subject=tk.subject,
            status=render.status(
                tk.status, language, for_contact=tk.contact_id == user.id, approver=True
            ),
            urgency=render.URGENCY_MARK[tk.urgency],
            activity=render.moment(tk.updated_at, language, services.settings.tz),
            contact=names[tk.contact_id],
        )
        for tk in found
    ]
    lines.append(t(language, "mytickets.hint"))
    more = (page + 1) * PAGE < total
    row = keyboards.pages(page, more, language, lambda p: cb.pack(cb.MENU, "fed", p))
    return Html("\n".join(lines)), keyboards.keyboard([row]) if row else None


@members(Role.CONTACT)
async def federation_tickets(update: Update, context: Context, user: User) -> None:
    """*Toute la fédération* (and its pages): every request of the manager's federation. The
    flag is read from the database at each press: a contact, or a former manager, is refused."""
    query = update.callback_query
    assert query is not None
    data = cb.unpack(query.data)
    page = data.int_arg(0) if data else None
    if not _manages(user):
        await refuse(update, context, t(user.language, "access.not_allowed"))
        return
    if page is None or page > 10_000:
        await refuse(update, context, t(user.language, "button.stale"))
        return
    text, markup = await _federation_page(get_services(context), user, page)
    await query.answer()
    if page == 0:
        await reply(update, context, text, markup)
    else:
        await edit_pressed(update, context, text, markup)


async def card_for(
    conn: Connection, services: Services, user: User, ticket: Ticket
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """A ticket as `user` sees it, with the buttons of their rights in its state (who approves
    its estimates: their approval buttons too, while one awaits their decision)."""
    language = user.language
    who = await relation_to(conn, user, ticket, services.today())
    approver = Relation.APPROVER in who
    state = await dropped_status(conn, ticket, user, language)
    if user.id == ticket.contact_id:
        field = await people.get_field(conn, ticket.field_id)
        assignee = await people.get_user(conn, ticket.assignee_id) if ticket.assignee_id else None
        assert field is not None
        text = render.ticket_for_contact(
            ticket,
            field=field,
            assignee=assignee,
            language=language,
            tz=services.settings.tz,
            approver=approver,
            status_text=state,
        )
        text = Html(text + await linked.card_block(conn, ticket, language, for_contact=True))
        markup = keyboards.contact_actions(ticket, language)
        return text, await _with_approval(conn, ticket, approver, markup, language)
    if Relation.MANAGER in who:  # someone else's request of their federation: read only
        text = await _manager_card(conn, services, ticket, language, approver, state)
        markup = keyboards.manager_actions(ticket, who, language)
        return text, await _with_approval(conn, ticket, approver, markup, language)
    return await lead_view(conn, services, user, ticket, who)


async def _with_approval(
    conn: Connection,
    ticket: Ticket,
    approver: bool,
    markup: InlineKeyboardMarkup,
    language: str,
) -> InlineKeyboardMarkup:
    """`markup` with, above it, the approval buttons of the ticket's estimate awaiting the
    decision of `approver` (the same as its approval card's)."""
    pending = await estimates.pending_estimate(conn, ticket.id) if approver else None
    if pending is None:
        return markup
    buttons = keyboards.approval(pending.id, language)
    return InlineKeyboardMarkup([*buttons.inline_keyboard, *markup.inline_keyboard])


async def _manager_card(
    conn: Connection,
    services: Services,
    ticket: Ticket,
    language: str,
    approver: bool,
    state: Html | None,
) -> Html:
    """Someone else's request of their federation as a manager reads it, with who filed it."""
    field = await people.get_field(conn, ticket.field_id)
    assignee = await people.get_user(conn, ticket.assignee_id) if ticket.assignee_id else None
    assert field is not None
    text = render.ticket_for_manager(
        ticket,
        field=field,
        contact=await people.get_user(conn, ticket.contact_id),
        assignee=assignee,
        language=language,
        tz=services.settings.tz,
        approver=approver,
        status_text=state,
    )
    return Html(text + await linked.card_block(conn, ticket, language, for_contact=False))


@members(Role.CONTACT, Role.LEAD, Role.ADMIN)
async def show_ticket(update: Update, context: Context, user: User) -> None:
    """/ticket <ref>: one ticket, to those who may see it; /ticket <words>: search (leads,
    admins, and a manager within their federation)."""
    services = get_services(context)
    language = user.language
    args = context.args or []
    searches = user.role is not Role.CONTACT or _manages(user)  # by words too
    usage = "usage.ticket" if searches else "usage.ticket_contact"
    if not args:
        await reply(update, context, t(language, usage))
        return
    if len(args) == 1 and REFERENCE.match(args[0]):
        async with services.db.read() as conn:
            ticket = await visible_ticket(conn, user, args[0], services.today())
            if ticket is not None:
                text, markup = await card_for(conn, services, user, ticket)
        if ticket is None:
            await reply(update, context, t(language, "ticket.unknown", reference=args[0][:40]))
            return
        await reply(update, context, text, markup)
        return
    if not searches:  # words from a contact: the usage, not « Aucune demande bail »
        await reply(update, context, t(language, usage))
        return
    await _search(update, context, user, args)


async def _search(update: Update, context: Context, user: User, words: list[str]) -> None:
    services = get_services(context)
    language = user.language
    terms = [w for w in (re.sub(r"[^\w'-]", "", w) for w in words) if len(w) >= 2][:8]
    if not terms:
        await reply(update, context, t(language, "search.usage"))
        return
    async with services.db.read() as conn:
        actor = await actor_for(conn, user)
        found = await tickets.search(
            conn,
            terms,
            lead_id=user.id,
            field_ids=actor.field_ids,
            everything=user.role is Role.ADMIN,
            limit=SEARCH_LIMIT,
            federation_id=user.federation_id if _manages(user) else None,
        )
    if not found:
        await reply(update, context, t(language, "search.none", words=" ".join(terms)))
        return
    lines = [t(language, "search.title", words=" ".join(terms), count=len(found))]
    lines += [_line(tk, language) for tk in found]
    await reply(update, context, Html("\n".join(lines)))


def _line(ticket: Ticket, language: str, covered: dict[int, User | None] | None = None) -> Html:
    line = t(
        language,
        "queue.line",
        urgency=render.URGENCY_MARK[ticket.urgency],
        reference=ticket.reference,
        status=render.status(ticket.status, language, for_contact=False),
        subject=ticket.subject,
    )
    if covered and ticket.assignee_id in covered:  # held by an absent lead one covers
        relay = t(language, "away.queue_relay", lead=render.person(covered[ticket.assignee_id]))
        line = Html(f"{line} · {relay}")
    return line


async def _queue_page(
    services: Services, user: User, page: int
) -> tuple[Html, InlineKeyboardMarkup | None]:
    language = user.language
    async with services.db.read() as conn:
        actor = await actor_for(conn, user, services.today())
        found, total = await tickets.lead_queue(
            conn,
            lead_id=user.id,
            field_ids=actor.field_ids,
            everything=user.role is Role.ADMIN,
            limit=QUEUE_PAGE,
            offset=page * QUEUE_PAGE,
            covering=actor.covering,
        )
        covered = {p: await people.get_user(conn, p) for p in actor.covering}
    if not found:
        return t(language, "queue.empty" if page == 0 else "queue.no_more"), None
    lines = [
        t(
            language,
            "queue.title",
            count=total,
            page=page + 1,
            pages=(total + QUEUE_PAGE - 1) // QUEUE_PAGE,
        )
    ]
    lines += [_line(tk, language, covered) for tk in found]
    lines.append(t(language, "queue.hint"))
    more = (page + 1) * QUEUE_PAGE < total
    row = keyboards.pages(page, more, language, lambda p: cb.pack(cb.QUEUE, "page", p))
    return Html("\n".join(lines)), keyboards.keyboard([row]) if row else None


@members(Role.LEAD, Role.ADMIN)
async def queue(update: Update, context: Context, user: User) -> None:
    """/queue: the lead's open tickets and the unassigned ones of their fields, urgent first."""
    text, markup = await _queue_page(get_services(context), user, 0)
    await reply(update, context, text, markup)


@members(Role.LEAD, Role.ADMIN)
async def queue_page(update: Update, context: Context, user: User) -> None:
    """The queue's next or previous page (the message is edited in place)."""
    query = update.callback_query
    assert query is not None
    data = cb.unpack(query.data)
    page = data.int_arg(0) if data else None
    if page is None or page > 10_000:
        await refuse(update, context, t(user.language, "button.stale"))
        return
    text, markup = await _queue_page(get_services(context), user, page)
    await query.answer()
    await edit_pressed(update, context, text, markup)


async def history_page(
    services: Services, user: User, ticket_id: int, page: int
) -> tuple[Html, InlineKeyboardMarkup | None] | None:
    """One page of a ticket's history (audit trail and conversation, in order); None if the
    ticket is not one `user` may see."""
    language = user.language
    tz = services.settings.tz
    async with services.db.read() as conn:
        ticket = await tickets.get_ticket(conn, ticket_id)
        if ticket is None or not can_view(await relation_to(conn, user, ticket, services.today())):
            return None
        events = await tickets.ticket_events(conn, ticket_id)
        messages = await conversation.ticket_messages(conn, ticket_id)
        names: dict[int, str] = {}
        for person_id in {e.actor_id for e in events if e.actor_id} | {
            m.author_id for m in messages
        }:
            person = await people.get_user(conn, person_id)
            names[person_id] = person.full_name if person else str(person_id)
    entries: list[tuple[object, Html]] = []
    for event in events:
        if event.kind in STAFF_ONLY and user.role is Role.CONTACT:
            continue  # the team's internal notes (issue 15) are never shown to the contact
        who = names.get(event.actor_id, "") if event.actor_id else t(language, "history.system")
        line = t(
            language,
            "history.event",
            when=render.moment(event.created_at, language, tz),
            who=who,
            what=render.event(event, language, for_contact=user.id == ticket.contact_id),
        )
        entries.append((event.created_at, line))
    for message in messages:
        body = (message.body or "")[:300] + ("…" if len(message.body or "") > 300 else "")
        if message.kind != "text":
            body = f"📎 {message.file_name or message.kind} {body}".strip()
        line = t(
            language,
            "history.message",
            when=render.moment(message.created_at, language, tz),
            who=names.get(message.author_id, ""),
            body=body,
        )
        entries.append((message.created_at, line))
    entries.sort(key=lambda entry: entry[0])  # type: ignore[arg-type, return-value]
    chunk = entries[page * HISTORY_PAGE : (page + 1) * HISTORY_PAGE]
    pages = max(1, (len(entries) + HISTORY_PAGE - 1) // HISTORY_PAGE)
    lines = [t(language, "history.title", reference=ticket.reference, page=page + 1, pages=pages)]
    lines += [line for _, line in chunk]
    more = (page + 1) * HISTORY_PAGE < len(entries)
    row = keyboards.pages(page, more, language, lambda p: cb.pack(cb.TICKET, "hist", ticket_id, p))
    return Html("\n".join(lines)), keyboards.keyboard([row]) if row else None


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("mytickets", my_tickets, filters=PRIVATE))
    app.add_handler(CommandHandler("ticket", show_ticket, filters=PRIVATE))
    app.add_handler(CommandHandler("queue", queue, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(queue_page, pattern=rf"^{cb.QUEUE}:page:"))
    app.add_handler(CallbackQueryHandler(federation_tickets, pattern=rf"^{cb.MENU}:fed:"))
