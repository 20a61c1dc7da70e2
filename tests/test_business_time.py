"""Business time: weekends, Québec holidays and daylight-saving changes; critical counts every
hour. Pure rules, no Telegram."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules.business_time import BUSINESS_DAY_MINUTES, BusinessCalendar
from bot.rules.service_levels import deadline, format_target, parse_duration
from storage.models import Urgency

MONTREAL = ZoneInfo("America/Montreal")
CALENDAR = BusinessCalendar(MONTREAL)
DAY = BUSINESS_DAY_MINUTES


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MONTREAL)


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # Tuesday 8:30 + one business day ends the same day at closing, not the next morning.
        (local(2026, 11, 24, 8, 30), DAY, local(2026, 11, 24, 17, 0)),
        (local(2026, 11, 24, 10, 0), DAY, local(2026, 11, 25, 10, 0)),
        # Before opening and after closing: counting starts at the next opening.
        (local(2026, 11, 24, 6, 0), 60, local(2026, 11, 24, 9, 30)),
        (local(2026, 11, 24, 17, 0), 60, local(2026, 11, 25, 9, 30)),
        # A weekend: Friday 16:00 + 1 business day = Monday 16:00; Saturday counts from Monday.
        (local(2026, 11, 27, 16, 0), DAY, local(2026, 11, 30, 16, 0)),
        (local(2026, 11, 28, 10, 0), DAY, local(2026, 11, 30, 17, 0)),
        # Saint-Jean-Baptiste (Wednesday June 24, 2026) is off.
        (local(2026, 6, 23, 10, 0), DAY, local(2026, 6, 25, 10, 0)),
        # Good Friday (April 3, 2026) is off; Easter Monday is worked.
        (local(2026, 4, 2, 12, 0), DAY, local(2026, 4, 6, 12, 0)),
        # Christmas 2027 falls on a Saturday: Monday the 27th is the day off.
        (local(2027, 12, 24, 12, 0), DAY, local(2027, 12, 28, 12, 0)),
        # Daylight saving ends Sunday Nov 1, 2026: a business day is still 8 h 30.
        (local(2026, 10, 30, 12, 0), 3 * DAY, local(2026, 11, 4, 12, 0)),
        # Daylight saving starts Sunday March 8, 2026.
        (local(2026, 3, 6, 12, 0), DAY, local(2026, 3, 9, 12, 0)),
    ],
)
def test_adding_business_minutes(start: datetime, minutes: int, expected: datetime) -> None:
    assert CALENDAR.add(start, minutes) == expected


def test_daylight_saving_changes_the_utc_offset_not_the_business_day() -> None:
    start = local(2026, 10, 30, 12, 0)  # EDT, UTC-4
    end = CALENDAR.add(start, 3 * DAY)  # EST, UTC-5
    assert start.astimezone(UTC).hour == 16 and end.astimezone(UTC).hour == 17
    assert end - start == timedelta(days=5, hours=1)


def test_critical_counts_every_hour_across_the_weekend_and_dst() -> None:
    saturday_night = local(2026, 10, 31, 23, 0)  # the night the clocks go back
    due = deadline(CALENDAR, Urgency.CRITICAL, saturday_night, 4 * 60)
    assert due - saturday_night == timedelta(hours=4)  # four real hours…
    assert due.astimezone(MONTREAL).hour == 2  # …which the wall clock shows as 2:00 EST
    assert deadline(CALENDAR, Urgency.URGENT, saturday_night, 4 * 60) == local(2026, 11, 2, 12, 30)


def test_holidays_and_weekends_are_not_business_days() -> None:
    assert not CALENDAR.is_business_day(local(2026, 6, 24).date())  # Fête nationale
    assert not CALENDAR.is_business_day(local(2026, 5, 18).date())  # Journée des patriotes
    assert not CALENDAR.is_business_day(local(2026, 11, 28).date())  # a Saturday
    assert CALENDAR.is_business_day(local(2026, 11, 11).date())  # Remembrance Day: worked in QC
    assert CALENDAR.window(local(2026, 11, 24).date()) == (
        local(2026, 11, 24, 8, 30).astimezone(UTC),
        local(2026, 11, 24, 17, 0).astimezone(UTC),
    )


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)),
    first=st.integers(min_value=1, max_value=20 * DAY),
    second=st.integers(min_value=1, max_value=20 * DAY),
)
def test_adding_in_two_steps_is_adding_once(start: datetime, first: int, second: int) -> None:
    begin = start.replace(tzinfo=MONTREAL)
    once = CALENDAR.add(begin, first + second)
    assert CALENDAR.add(CALENDAR.add(begin, first), second) == once
    assert once > begin
    opening, closing = CALENDAR.window(once.astimezone(MONTREAL).date()) or (None, None)
    assert opening is not None and closing is not None and opening < once <= closing


@pytest.mark.parametrize(
    ("text", "urgency", "minutes"),
    [
        ("4h", Urgency.CRITICAL, 240),
        ("2j", Urgency.CRITICAL, 2880),
        ("2d", Urgency.CRITICAL, 2880),
        ("1j", Urgency.URGENT, DAY),
        ("5J", Urgency.URGENT, 5 * DAY),
        ("2h30", Urgency.NORMAL, 150),
        ("1j 4h", Urgency.NORMAL, DAY + 240),
        ("45min", Urgency.NORMAL, 45),
        ("90m", Urgency.NORMAL, 90),
        ("", Urgency.NORMAL, None),
        ("abc", Urgency.NORMAL, None),
        ("-4h", Urgency.NORMAL, None),
        ("0h", Urgency.NORMAL, None),
        ("10min", Urgency.NORMAL, None),  # under 15 minutes
        ("61j", Urgency.NORMAL, None),  # over 60 days
        ("4", Urgency.NORMAL, None),  # a unit is needed
        ("4h30x", Urgency.NORMAL, None),
        ("h4", Urgency.NORMAL, None),
        ("1,5j", Urgency.NORMAL, None),
    ],
)
def test_target_durations(text: str, urgency: Urgency, minutes: int | None) -> None:
    assert parse_duration(text, urgency) == minutes


def test_targets_read_as_people_say_them() -> None:
    assert format_target(240, Urgency.CRITICAL, "fr") == "4 h"
    assert format_target(2880, Urgency.CRITICAL, "fr") == "2 jours"
    assert format_target(DAY, Urgency.URGENT, "fr") == "1 jour ouvrable"
    assert format_target(15 * DAY, Urgency.NORMAL, "en") == "15 business days"
    assert format_target(150, Urgency.NORMAL, "fr") == "2 h 30 ouvrables"
    assert format_target(150, Urgency.NORMAL, "en") == "2.5 hours of business time"
    assert format_target(240, Urgency.CRITICAL, "en") == "4 hours"
    assert format_target(1440, Urgency.CRITICAL, "en") == "1 day"
