"""Report periods: a month, a quarter or a year of whole local days, as admins write them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.ui.i18n import LOCALES, plain, t

FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class Period:
    """Whole local days from `first` to the day before `after`."""

    label: str  # canonical: 2026-11, 2026-Q4, 2026
    kind: Literal["month", "quarter", "year"]
    first: date
    after: date

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as UTC moments [start, end), from local midnights."""
        return (
            datetime.combine(self.first, time(0), tz).astimezone(UTC),
            datetime.combine(self.after, time(0), tz).astimezone(UTC),
        )


def _month(year: int, month: int) -> Period:
    after = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period(f"{year}-{month:02d}", "month", date(year, month, 1), after)


_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{1,2})|[QT]([1-4])))?$", re.IGNORECASE)


def parse_period(text: str | None, today: date) -> Period | None:
    """`2026-11`, `2026-Q4` (or `2026-T4`), `2026`; nothing: this month. None if invalid."""
    if text is None or not text.strip():
        return _month(today.year, today.month)
    match = _PERIOD.match(text.strip())
    if match is None:
        return None
    year = int(match.group(1))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    if match.group(2) is not None:
        month = int(match.group(2))
        return _month(year, month) if 1 <= month <= 12 else None
    if match.group(3) is not None:
        quarter = int(match.group(3))
        start = date(year, 3 * quarter - 2, 1)
        after = _month(year, 3 * quarter).after
        return Period(f"{year}-Q{quarter}", "quarter", start, after)
    return Period(str(year), "year", date(year, 1, 1), date(year + 1, 1, 1))


def parse_month(text: str) -> Period | None:
    """A month written `YYYY-MM`, or None."""
    period = parse_period(text, date.min) if text.strip() else None
    return period if period is not None and period.kind == "month" else None


def describe(period: Period, language: str) -> str:
    """The period in words: `novembre 2026`, `4e trimestre 2026`, `2026`."""
    if period.kind == "month":
        return format_date(period.first, "MMMM y", locale=LOCALES.get(language, "fr_CA"))
    if period.kind == "quarter":
        quarter = (period.first.month - 1) // 3 + 1
        return plain(t(language, "stats.quarter", n=quarter, year=period.first.year))
    return str(period.first.year)
