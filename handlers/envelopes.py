"""/envelope (issue 14): an admin sets a federation's envelope of a year (`120h`, `15000$`,
optionally for one field) or shows one federation's; a manager sees their own federation's.
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.federation.envelopes import label, quantity, show, usages
from bot.rules.envelopes import parse_envelope
from bot.rules.periods import FIRST_YEAR, LAST_YEAR
from bot.services import get_services
from bot.ui.i18n import t
from handlers.admin.shared import reply_lines
from handlers.common import PRIVATE, Context, command_args, members, refuse, reply
from storage import envelopes as repo
from storage import people
from storage.models import EnvelopeKind, ExpertiseField, Role, User

_YEAR = re.compile(r"^\d{4}$")


def _year(text: str) -> int | None:
    year = int(text) if _YEAR.match(text) else None
    return year if year is not None and FIRST_YEAR <= year <= LAST_YEAR else None


def _amount_and_field(words: list[str]) -> tuple[tuple[EnvelopeKind, int], str | None] | None:
    """The amount (`120h`, `120 h`, `15 000 $`) and the field code after it, if any."""
    whole = parse_envelope(" ".join(words))
    if whole is not None:
        return whole, None
    if len(words) >= 2:
        amount = parse_envelope(" ".join(words[:-1]))
        if amount is not None:
            return amount, words[-1].lower()
    return None


@members(Role.ADMIN, Role.CONTACT)
async def envelope_command(update: Update, context: Context, user: User) -> None:
    """/envelope <CODE> <YEAR> <amount> [field-code] | /envelope <CODE> [YEAR] (admin);
    /envelope [YEAR] (a manager, their own federation)."""
    language = user.language
    args = command_args(context)
    if user.role is Role.CONTACT:
        if not user.manager or user.federation_id is None:
            await refuse(update, context, t(language, "access.not_allowed"))
            return
        year = _year(args[0]) if len(args) == 1 else None
        if len(args) > 1 or (args and year is None):
            await reply(update, context, t(language, "envelope.usage_manager"))
            return
        await _show(update, context, user, user.federation_id, year)
        return
    if not args:
        await reply(update, context, t(language, "envelope.usage"))
        return
    services = get_services(context)
    async with services.db.read() as conn:
        federation = await people.federation_by_code(conn, args[0].upper())
    if federation is None:
        await reply(update, context, t(language, "envelope.unknown_federation", code=args[0][:40]))
        return
    year = _year(args[1]) if len(args) >= 2 else None
    if len(args) >= 2 and year is None:
        await reply(update, context, t(language, "envelope.usage"))
        return
    if len(args) <= 2:
        await _show(update, context, user, federation.id, year)
        return
    assert year is not None
    parsed = _amount_and_field(args[2:])
    if parsed is None:
        await reply(
            update, context, t(language, "envelope.bad_amount", amount=" ".join(args[2:])[:40])
        )
        return
    (kind, amount), code = parsed
    field: ExpertiseField | None = None
    async with services.db.transaction() as conn:
        if code is not None:
            field = (await people.fields_by_codes(conn, [code])).get(code)
            if field is None:
                await reply(update, context, t(language, "envelope.unknown_field", code=code))
                return
        envelope = await repo.set_envelope(
            conn,
            federation_id=federation.id,
            year=year,
            field_id=field.id if field else None,
            kind=kind,
            amount=amount,
            created_by=user.id,
            now=services.clock.now(),
        )
    fields = {field.id: field} if field else {}
    await reply(
        update,
        context,
        t(
            language,
            "envelope.set",
            code=federation.code,
            year=year,
            label=label(envelope, fields, language),
            amount=quantity(kind, amount, language),
        ),
    )


async def _show(
    update: Update, context: Context, user: User, federation_id: int, year: int | None
) -> None:
    services = get_services(context)
    async with services.db.read() as conn:
        federation = await people.federation_by_id(conn, federation_id)
        uses = await usages(conn, services, federation_id, year)
        fields = {f.id: f for f in await people.list_fields(conn, active_only=False)}
    assert federation is not None
    await reply_lines(update, context, show(federation, uses, fields, user.language, year))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /envelope."""
    app.add_handler(CommandHandler("envelope", envelope_command, filters=PRIVATE))
