"""Tickets from Telegram: /mytickets, /ticket <ref>, and the lead's Take button."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callbacks as cb
from bot import keyboards, render
from bot.i18n import Html, t
from bot.services import get_services
from bot.tickets import claim_ticket, lead_card, visible_ticket
from handlers.common import PRIVATE, Context, members, refuse, reply
from storage import people, tickets
from storage.models import Role, TicketStatus, User

PAGE = 20


@members(Role.CONTACT)
async def my_tickets(update: Update, context: Context, user: User) -> None:
    """/mytickets: the contact's requests, newest first."""
    services = get_services(context)
    language = user.language
    async with services.db.read() as conn:
        mine = await tickets.contact_tickets(conn, user.id, PAGE)
        total = await tickets.count_contact_tickets(conn, user.id)
    if not mine:
        await reply(update, context, t(language, "mytickets.none"))
        return
    lines = [t(language, "mytickets.title", count=total)]
    lines += [
        t(
            language,
            "mytickets.line",
            reference=tk.reference,
            subject=tk.subject,
            status=render.status(tk.status, language),
            urgency=render.URGENCY_MARK[tk.urgency],
        )
        for tk in mine
    ]
    if total > len(mine):
        lines.append(t(language, "mytickets.more", shown=len(mine), total=total))
    lines.append(t(language, "mytickets.hint"))
    await reply(update, context, Html("\n".join(lines)))


@members(Role.CONTACT, Role.LEAD, Role.ADMIN)
async def show_ticket(update: Update, context: Context, user: User) -> None:
    """/ticket <ref>: one ticket, to those who may see it (its contact, its leads, admins)."""
    services = get_services(context)
    language = user.language
    args = context.args or []
    if len(args) != 1:
        await reply(update, context, t(language, "usage.ticket"))
        return
    async with services.db.read() as conn:
        ticket = await visible_ticket(conn, user, args[0].strip())
        if ticket is None:
            await reply(update, context, t(language, "ticket.unknown", reference=args[0][:40]))
            return
        if user.role is not Role.CONTACT:
            text = await lead_card(conn, ticket, language)
        else:
            field = await people.get_field(conn, ticket.field_id)
            assignee = (
                await people.get_user(conn, ticket.assignee_id) if ticket.assignee_id else None
            )
            assert field is not None
            text = render.ticket_for_contact(
                ticket, field=field, assignee=assignee, language=language, tz=services.settings.tz
            )
    offer_take = user.role is not Role.CONTACT and ticket.status is TicketStatus.NEW
    await reply(update, context, text, keyboards.take(ticket.id, language) if offer_take else None)


@members(Role.LEAD, Role.ADMIN)
async def take(update: Update, context: Context, user: User) -> None:
    """Take: the first of the field's leads to press gets the ticket."""
    query = update.callback_query
    assert query is not None
    services = get_services(context)
    language = user.language
    data = cb.unpack(query.data)
    ticket_id = data.int_arg(0) if data else None
    if ticket_id is None:
        await refuse(update, context, t(language, "button.stale"))
        return
    claim = await claim_ticket(services, user, ticket_id)
    if claim.ticket is None or claim.refusal == "not_allowed":
        await refuse(update, context, t(language, "access.not_allowed"))
        return
    reference = claim.ticket.reference
    if claim.won:
        await query.answer(t(language, "take.done", reference=reference))
        async with services.db.read() as conn:
            card = await lead_card(conn, claim.ticket, language)
        await query.edit_message_text(card)
        return
    if claim.holder is not None:
        who = render.person(claim.holder)
        await refuse(update, context, t(language, "take.already", reference=reference, lead=who))
        return
    await refuse(update, context, t(language, "take.closed", reference=reference))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("mytickets", my_tickets, filters=PRIVATE))
    app.add_handler(CommandHandler("ticket", show_ticket, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(take, pattern=rf"^{cb.TICKET}:take:"))
