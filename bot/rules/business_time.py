"""Business time: Monday to Friday, 8:30 to 17:00 in the configured time zone, Québec statutory
holidays off. Knows nothing of Telegram or of the database.

Durations are counted on real (UTC) time inside each day's opening hours, so a change of
daylight-saving time neither adds nor removes business minutes: a day is always 8 h 30.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

OPENING = time(8, 30)
CLOSING = time(17, 0)
BUSINESS_DAY_MINUTES = 510  # 8:30 to 17:00
SATURDAY = 5
# A year of nothing but holidays cannot happen; this only stops a bad calendar from looping.
MAX_DAYS_SEARCHED = 3660


def quebec_holidays() -> Container[date]:
    """Québec's statutory holidays (Canada, subdivision QC), any year, observed days included."""
    return holidays.country_holidays("CA", subdiv="QC")


class BusinessCalendar:
    """Opening hours in one time zone, with days off; adds business minutes to a moment."""

    def __init__(self, tz: ZoneInfo, days_off: Container[date] | None = None) -> None:
        self.tz = tz
        self.days_off = quebec_holidays() if days_off is None else days_off
        self._windows: dict[date, tuple[datetime, datetime] | None] = {}

    def is_business_day(self, day: date) -> bool:
        """Monday to Friday and not a holiday."""
        return day.weekday() < SATURDAY and day not in self.days_off

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The opening and closing moments of `day` (in UTC), or None on a day off."""
        if day not in self._windows:
            self._windows[day] = (
                (
                    datetime.combine(day, OPENING, self.tz).astimezone(UTC),
                    datetime.combine(day, CLOSING, self.tz).astimezone(UTC),
                )
                if self.is_business_day(day)
                else None
            )
        return self._windows[day]

    def add(self, start: datetime, minutes: float) -> datetime:
        """The moment (in UTC) `minutes` business minutes after `start` (aware).

        Starting outside opening hours counts from the next opening. A target that ends
        exactly at closing time ends then, not at the next opening.
        """
        remaining = timedelta(minutes=minutes)
        day = start.astimezone(self.tz).date()
        cursor = start.astimezone(UTC)
        for _ in range(MAX_DAYS_SEARCHED):
            hours = self.window(day)
            if hours is not None:
                opening, closing = hours
                begin = max(cursor, opening)
                if begin < closing:
                    available = closing - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += timedelta(days=1)
        raise ValueError("no business day found; is every day a holiday?")
