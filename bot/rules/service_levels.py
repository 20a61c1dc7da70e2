"""Service levels as rules: which clock an urgency runs on, deadlines, the alerts a ticket calls
for, and the targets as admins write and read them. No Telegram, no database.

A target counts business time (bot.rules.business_time), except for critical requests, where
every hour counts. The lead is reminded at 75 % of a target; the admins are told when a target
has passed (for a first response: that nobody has taken the request).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.rules.business_time import BUSINESS_DAY_MINUTES, BusinessCalendar
from bot.rules.durations import format_duration
from bot.ui.i18n import Html, t, tn
from storage.models import AlertKind, SlaTarget, Target, Urgency, WatchedTicket

REMINDER_SHARE = 0.75

# What an admin may set: at least 15 minutes (the job runs every 5), at most 60 days.
MIN_TARGET_MINUTES = 15
MAX_TARGET_DAYS = 60
_DURATION_PART = re.compile(r"(\d{1,4})\s*(j|d|h|min|m)?", re.IGNORECASE)


def every_hour_counts(urgency: Urgency) -> bool:
    """Critical requests count every hour; the others count business hours only."""
    return urgency is Urgency.CRITICAL


def day_minutes(urgency: Urgency) -> int:
    """How many minutes 'one day' is on the urgency's clock."""
    return 24 * 60 if every_hour_counts(urgency) else BUSINESS_DAY_MINUTES


@functools.cache
def calendar_for(tz: ZoneInfo) -> BusinessCalendar:
    """The business calendar of a time zone (one per process: it caches its days)."""
    return BusinessCalendar(tz)


def deadline(
    calendar: BusinessCalendar, urgency: Urgency, start: datetime, minutes: float
) -> datetime:
    """When `minutes` of the urgency's clock have run from `start`."""
    if every_hour_counts(urgency):
        return start.astimezone(UTC) + timedelta(minutes=minutes)
    return calendar.add(start, minutes)


def parse_duration(text: str, urgency: Urgency) -> int | None:
    """Minutes from `4h`, `30min`, `2h30`, `1j` / `1d` (a day of the urgency's clock), `1j4h`.

    None if unreadable or outside 15 minutes to 60 days.
    """
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned:
        return None
    total, position, previous = 0, 0, ""
    for match in _DURATION_PART.finditer(cleaned):
        if match.start() != position:
            return None
        number, unit = int(match.group(1)), (match.group(2) or "").lower()
        if not unit:  # `2h30`: bare minutes, only right after hours
            if previous != "h" or match.end() != len(cleaned):
                return None
            unit = "min"
        total += number * {"j": day_minutes(urgency), "d": day_minutes(urgency), "h": 60}.get(
            unit, 1
        )
        position, previous = match.end(), unit
    if position != len(cleaned):
        return None
    if not MIN_TARGET_MINUTES <= total <= MAX_TARGET_DAYS * day_minutes(urgency):
        return None
    return total


def format_target(minutes: int, urgency: Urgency, language: str) -> Html:
    """A target as people say it: `4 h`, `2 jours`, `1 jour ouvrable`, `6 h 30 ouvrables`."""
    per_day = day_minutes(urgency)
    business = "" if every_hour_counts(urgency) else "_business"
    if minutes % per_day == 0:
        return tn(language, f"sla.days{business}", minutes // per_day)
    return t(language, f"sla.hours{business}", duration=format_duration(minutes, language))


@dataclass(frozen=True)
class Due:
    """An alert whose time has come for a ticket."""

    target: Target
    kind: AlertKind
    deadline: datetime


def alerts_due(
    ticket: WatchedTicket, target: SlaTarget, calendar: BusinessCalendar, now: datetime
) -> list[Due]:
    """The alerts the ticket calls for now (before removing those already sent).

    A target already missed calls for the admins' alert only: reminding the lead that 75 %
    has passed would say less, too late.
    """
    found = []
    for which in Target:
        if which is Target.FIRST_RESPONSE and ticket.first_response_at is not None:
            continue
        minutes = target.minutes(which)
        missed_at = deadline(calendar, ticket.urgency, ticket.created_at, minutes)
        if now >= missed_at:
            found.append(Due(which, AlertKind.MISSED, missed_at))
        elif now >= deadline(
            calendar, ticket.urgency, ticket.created_at, minutes * REMINDER_SHARE
        ):
            found.append(Due(which, AlertKind.REMINDER, missed_at))
    return found
