"""Admin commands of the core: federations, invites, the fields of expertise."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot import registration
from bot.i18n import Html, t
from bot.services import get_services
from handlers.common import PRIVATE, Context, members, reply
from storage import people
from storage.models import Role, User

FEDERATION_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,15}$")
NAME_MAX = 120


@members(Role.ADMIN)
async def add_federation(update: Update, context: Context, user: User) -> None:
    """/addfederation <CODE> <name>"""
    services = get_services(context)
    language = user.language
    args = context.args or []
    code = args[0].upper() if args else ""
    name = " ".join(" ".join(args[1:]).split())
    if not FEDERATION_CODE.match(code) or not name or len(name) > NAME_MAX:
        await reply(update, context, t(language, "usage.addfederation", max=NAME_MAX))
        return
    async with services.db.transaction() as conn:
        federation = await people.create_federation(conn, code, name, services.clock.now())
    if federation is None:
        await reply(update, context, t(language, "federation.exists", code=code))
        return
    await reply(update, context, t(language, "federation.added", code=code, name=name))


@members(Role.ADMIN)
async def list_federations(update: Update, context: Context, user: User) -> None:
    """/federations"""
    services = get_services(context)
    language = user.language
    async with services.db.read() as conn:
        found = await people.list_federations(conn)
    if not found:
        await reply(update, context, t(language, "federations.none"))
        return
    lines = [t(language, "federations.title")]
    lines += [
        t(language, "federations.line", code=f.code, name=f.name, contacts=count)
        for f, count in found
    ]
    await reply(update, context, Html("\n".join(lines)))


@members(Role.ADMIN)
async def invite_contact(update: Update, context: Context, user: User) -> None:
    """/invite <CODE>: a single-use link that registers a contact of that federation."""
    services = get_services(context)
    language = user.language
    args = context.args or []
    if len(args) != 1:
        await reply(update, context, t(language, "usage.invite"))
        return
    async with services.db.read() as conn:
        federation = await people.federation_by_code(conn, args[0].upper())
    if federation is None or not federation.active:
        await reply(update, context, t(language, "federation.unknown", code=args[0][:20]))
        return
    token = await registration.create_invite(services, user, federation=federation)
    link = registration.invite_link(services.bot_username, token)
    await reply(
        update,
        context,
        t(language, "invite.contact", link=link, code=federation.code, name=federation.name),
    )


@members(Role.ADMIN)
async def invite_lead(update: Update, context: Context, user: User) -> None:
    """/invitelead <field-code> [...]: a single-use link that registers a lead of those fields."""
    services = get_services(context)
    language = user.language
    codes = [c.lower() for c in context.args or []]
    if not codes:
        await reply(update, context, t(language, "usage.invitelead"))
        return
    async with services.db.read() as conn:
        found = await people.fields_by_codes(conn, codes)
    unknown = [c for c in codes if c not in found]
    if unknown:
        await reply(update, context, t(language, "field.unknown", codes=", ".join(unknown)[:200]))
        return
    fields = list(found.values())
    token = await registration.create_invite(services, user, fields=fields)
    link = registration.invite_link(services.bot_username, token)
    names = ", ".join(f.name(language) for f in fields)
    await reply(update, context, t(language, "invite.lead", link=link, fields=names))


@members(Role.ADMIN)
async def list_domains(update: Update, context: Context, user: User) -> None:
    """/domains: the fields of expertise, with their codes and number of leads."""
    services = get_services(context)
    language = user.language
    async with services.db.read() as conn:
        fields = await people.list_fields(conn, active_only=False)
        leads = await people.lead_counts(conn)
    lines = [t(language, "domains.title")]
    for field in fields:
        key = "domains.line" if field.active else "domains.line_inactive"
        lines.append(
            t(
                language,
                key,
                code=field.code,
                name=field.name(language),
                leads=leads.get(field.id, 0),
            )
        )
    await reply(update, context, Html("\n".join(lines)))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("addfederation", add_federation, filters=PRIVATE))
    app.add_handler(CommandHandler("federations", list_federations, filters=PRIVATE))
    app.add_handler(CommandHandler("invite", invite_contact, filters=PRIVATE))
    app.add_handler(CommandHandler("invitelead", invite_lead, filters=PRIVATE))
    app.add_handler(CommandHandler("domains", list_domains, filters=PRIVATE))
