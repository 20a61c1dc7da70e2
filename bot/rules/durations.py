"""Durations as leads type them: 1h30, 45m, 2h, 1,5 h, 1.25h, 1 h 30 min, 0h45."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from bot.ui.i18n import Html, tn

MAX_MINUTES = 24 * 60
_DAY = 24 * 60

_HOURS_MINUTES = re.compile(
    r"^(?:(?P<h>\d+(?:[.,]\d+)?)\s*(?:h|hr|hrs|hre|hres|heures?|hours?))?"
    r"\s*(?:(?P<m>\d+)\s*(?:m|min|mins|minutes?)?)?$"
)


class BadDuration(ValueError):
    """Not a duration a person can log; `problem`: unreadable, zero, negative, too_long."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def parse_duration(text: str, max_minutes: int = MAX_MINUTES) -> int:
    """Minutes in `text`; BadDuration if unreadable, zero, negative or over `max_minutes` (24 h:
    one time entry; estimates and envelopes read longer ones)."""
    cleaned = " ".join(text.lower().split())
    if cleaned.startswith("-"):
        raise BadDuration("negative")
    match = _HOURS_MINUTES.match(cleaned)
    if not cleaned or match is None or not (match["h"] or match["m"]):
        raise BadDuration("unreadable")
    if match["m"] and not match["h"] and not re.search(r"[a-z]", cleaned):
        # A bare number: hours or minutes? Ask again; but zero is zero in either.
        raise BadDuration("zero" if int(match["m"]) == 0 else "unreadable")
    if match["h"] and match["m"] and int(match["m"]) >= 60:
        raise BadDuration("unreadable")  # 1h75: a typo, not 2h15
    try:
        hours = Decimal(match["h"].replace(",", ".")) if match["h"] else Decimal(0)
    except InvalidOperation:
        raise BadDuration("unreadable") from None
    minutes = hours * 60 + (int(match["m"]) if match["m"] else 0)
    if minutes != minutes.to_integral_value():
        minutes = minutes.quantize(Decimal(1))
    total = int(minutes)
    if total <= 0:
        raise BadDuration("zero")
    if total > max_minutes:
        raise BadDuration("too_long")
    return total


def format_duration(minutes: int, language: str) -> Html:
    """A duration as the reader's language writes it, for every message that shows one.

    French (Québec usage): `2 h 15`, `2 h`, `45 min`. English: decimal hours with a real
    plural, `2.25 hours`, `1 hour`, `8.5 hours`, and `45 minutes` under an hour. Nothing at
    all reads in hours, as a total does: `0 h`, `0 hours`.
    """
    if minutes == 0:
        return tn(language, "duration.hours", 0)
    if minutes < 60:
        return tn(language, "duration.minutes", minutes)
    if language == "en":
        hours = (Decimal(minutes) / 60).quantize(Decimal("0.01"), ROUND_HALF_UP)
        return tn(language, "duration.hours", hours)
    hours_, rest = divmod(minutes, 60)
    whole = tn(language, "duration.hours", hours_)
    return Html(f"{whole} {rest:02d}") if rest else whole


def format_delay(value: timedelta, language: str) -> Html:
    """A delay (to a first response, to a resolution) as format_duration writes a duration, in
    days beyond a day: `9 h 25`, `45 min`, `6 j 23 h` / `9.4 hours`, `45 minutes`, `6.9 days`.

    A median delay reads at a glance, so English keeps one decimal and French days round to
    the hour.
    """
    minutes = max(0, round(value.total_seconds() / 60))
    if language == "en":
        if minutes < 60:
            return format_duration(minutes, language)
        if minutes < _DAY:
            return tn(language, "duration.hours", _one_decimal(minutes, 60))
        return tn(language, "duration.days", _one_decimal(minutes, _DAY))
    if minutes < _DAY:
        return format_duration(minutes, language)
    days, hours = divmod((minutes + 30) // 60, 24)  # to the nearest hour
    whole = tn(language, "duration.days", days)
    rest = tn(language, "duration.hours", hours)
    return Html(f"{whole} {rest}") if hours else whole


def _one_decimal(minutes: int, per: int) -> Decimal:
    return (Decimal(minutes) / per).quantize(Decimal("0.1"), ROUND_HALF_UP)
