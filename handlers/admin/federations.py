"""/addfederation, /federations, /federation rename|off|on: the member federations."""

from __future__ import annotations

import re

from telegram import Update

from bot.rules.durations import format_duration
from bot.rules.estimates import parse_policy
from bot.rules.money import dollars, money
from bot.services import get_services
from bot.ui import admin_words as words
from bot.ui import render
from bot.ui.i18n import t, tn
from handlers.admin.shared import reply_lines
from handlers.common import Context, members, reply
from storage import admin as repo
from storage import estimates, people
from storage.models import Role, User

FEDERATION_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,15}$")
NAME_MAX = 120
APPROVAL_WORDS = frozenset({"approval", "approbation"})  # /federation approval CODE threshold


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
    """/federations: every federation with its number of contacts; inactive ones marked."""
    services = get_services(context)
    language = user.language
    async with services.db.read() as conn:
        found = await people.list_federations(conn)
    if not found:
        await reply(update, context, t(language, "federations.none"))
        return
    lines: list[str] = [t(language, "federations.title")]
    for federation, count in found:
        line = tn(language, "federations.line", count, code=federation.code, name=federation.name)
        lines.append(line if federation.active else f"{line} {t(language, 'admin.inactive')}")
    lines.append(t(language, "admin.federation_hint"))
    await reply_lines(update, context, lines)


@members(Role.ADMIN)
async def federation_command(update: Update, context: Context, user: User) -> None:
    """/federation <CODE> | rename <CODE> <name> | off <CODE> | on <CODE>"""
    services = get_services(context)
    language = user.language
    args = context.args or []
    if args and words.plain_word(args[0]) in APPROVAL_WORDS:
        await _approval(update, context, user, args[1:])
        return
    action = words.federation_action(args[0]) if args else None
    if action is None and len(args) == 1:
        await _show_federation(update, context, user, args[0].upper())
        return
    code = args[1].upper() if len(args) > 1 else ""
    name = " ".join(" ".join(args[2:]).split())
    valid = FEDERATION_CODE.match(code) and (
        (action == "rename" and name and len(name) <= NAME_MAX)
        or (action in {"on", "off"} and len(args) == 2)
    )
    if not valid:
        await reply(update, context, t(language, "admin.federation_usage", max=NAME_MAX))
        return
    now = services.clock.now()
    async with services.db.transaction() as conn:
        federation = await people.federation_by_code(conn, code)
        if federation is None:
            await reply(update, context, t(language, "admin.federation_none", code=code))
            return
        if action == "rename":
            await repo.rename_federation(conn, federation.id, name)
            text = t(
                language, "admin.federation_renamed", code=code, old=federation.name, name=name
            )
        elif action == "off":
            if await repo.set_federation_active(conn, federation.id, False):
                cancelled = await repo.cancel_federation_invites(conn, federation.id, now)
                text = tn(language, "admin.federation_off", cancelled, code=code)
            else:
                text = t(language, "admin.federation_already_off", code=code)
        elif await repo.set_federation_active(conn, federation.id, True):
            text = t(language, "admin.federation_on", code=code)
        else:
            text = t(language, "admin.federation_already_on", code=code)
    await reply(update, context, text)


async def _show_federation(update: Update, context: Context, user: User, code: str) -> None:
    """/federation <CODE>: the federation, its number of contacts and its managers."""
    language = user.language
    async with get_services(context).db.read() as conn:
        federation = await people.federation_by_code(conn, code)
        if federation is None:
            await reply(update, context, t(language, "admin.federation_none", code=code[:20]))
            return
        counts = dict((f.id, n) for f, n in await people.list_federations(conn))
        managers = await people.managers_of(conn, federation.id)
    lines: list[str] = [
        t(language, "federation.card_title", code=federation.code, name=federation.name),
        tn(language, "federation.card_contact_count", counts.get(federation.id, 0)),
    ]
    if not federation.active:
        lines.append(t(language, "admin.inactive"))
    if managers:
        lines.append(tn(language, "federation.card_manager_count", len(managers)))
        lines += [
            t(language, "federation.card_manager", person=render.person(m), id=m.id)
            for m in managers
        ]
    else:
        lines.append(t(language, "federation.card_no_manager", code=federation.code))
    await reply_lines(update, context, lines)


async def _approval(update: Update, context: Context, user: User, args: list[str]) -> None:
    """/federation approval <CODE> <threshold>: which estimates the federation approves."""
    language = user.language
    code = args[0].upper() if args else ""
    policy = parse_policy(" ".join(args[1:])) if len(args) > 1 else None
    if not FEDERATION_CODE.match(code) or policy is None:
        await reply(update, context, t(language, "admin.approval_usage"))
        return
    async with get_services(context).db.transaction() as conn:
        federation = await people.federation_by_code(conn, code)
        if federation is not None:
            await estimates.set_approval_policy(conn, federation.id, policy)
    if federation is None:
        await reply(update, context, t(language, "admin.federation_none", code=code[:20]))
        return
    threshold = policy.threshold
    await reply(
        update,
        context,
        t(
            language,
            f"admin.approval_{policy.kind.value}",
            code=code,
            hours=format_duration(threshold, language),
            amount=money(dollars(threshold), language),
        ),
    )
