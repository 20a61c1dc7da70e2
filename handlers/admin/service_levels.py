"""/sla: the service-level targets of each urgency, shown and changed."""

from __future__ import annotations

from telegram import Update

from bot.rules.service_levels import every_hour_counts, format_target, parse_duration
from bot.services import get_services
from bot.ui import admin_words as words
from bot.ui import render
from bot.ui.i18n import t
from handlers.admin.shared import reply_lines
from handlers.common import Context, members, reply
from storage import sla as sla_repo
from storage.models import Role, Target, Urgency, User


@members(Role.ADMIN)
async def service_levels(update: Update, context: Context, user: User) -> None:
    """/sla: the targets; /sla <urgency> <first|resolution> <duration>: change one."""
    services = get_services(context)
    language = user.language
    args = context.args or []
    if args:
        urgency = words.urgency(args[0])
        target, duration = words.target(list(args[1:]))
        if urgency is None or target is None or not duration:
            await reply(update, context, t(language, "sla.usage"))
            return
        minutes = parse_duration("".join(duration), urgency)
        if minutes is None:
            await reply(update, context, t(language, "sla.bad_duration"))
            return
        async with services.db.transaction() as conn:
            current = (await sla_repo.targets(conn))[urgency]
            first = minutes if target is Target.FIRST_RESPONSE else current.first_response_minutes
            resolution = minutes if target is Target.RESOLUTION else current.resolution_minutes
            if first > resolution:
                await reply(update, context, t(language, "sla.first_after_resolution"))
                return
            await sla_repo.set_target(
                conn, urgency, target, minutes, user.id, services.clock.now()
            )
        await reply(
            update,
            context,
            t(
                language,
                "sla.set",
                urgency=render.urgency(urgency, language),
                target=t(language, f"sla.target_{target.value}"),
                value=format_target(minutes, urgency, language),
            ),
        )
        return
    async with services.db.read() as conn:
        targets = await sla_repo.targets(conn)
    lines: list[str] = [t(language, "sla.title")]
    for urgency in (Urgency.CRITICAL, Urgency.URGENT, Urgency.NORMAL):
        target_of = targets[urgency]
        lines.append(
            t(
                language,
                "sla.line",
                urgency=render.urgency(urgency, language),
                first=format_target(target_of.first_response_minutes, urgency, language),
                resolution=format_target(target_of.resolution_minutes, urgency, language),
                clock=t(language, "sla.every_hour") if every_hour_counts(urgency) else "",
            )
        )
    lines.append(t(language, "sla.business_hours", timezone=services.settings.timezone))
    lines.append(t(language, "sla.hint"))
    await reply_lines(update, context, lines)
