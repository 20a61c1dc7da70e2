"""Estimates without Telegram: how leads type them, their price to the cent, the approval
policy, who approves, over-runs, and when a critical request's managers are reminded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.rules.business_time import BusinessCalendar
from bot.rules.estimates import (
    MAX_ESTIMATE_MINUTES,
    BadEstimate,
    amount_cents,
    approvers,
    needs_approval,
    over_run,
    parse_dollars,
    parse_estimate,
    parse_policy,
    quote,
    reminder_cutoff,
    split_estimate,
)
from bot.rules.money import entry_amount
from storage.models import ApprovalKind, ApprovalPolicy, TicketStatus
from tests.flows import ticket_record

MONTREAL = ZoneInfo("America/Montreal")
CALENDAR = BusinessCalendar(MONTREAL)


def local(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MONTREAL)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("6h", (360, 360)),
        ("4-6h", (240, 360)),
        ("4 - 6 h", (240, 360)),
        ("4–6 h", (240, 360)),
        ("4h-6h", (240, 360)),
        ("4 à 6 h", (240, 360)),
        ("4 à 6 heures", (240, 360)),
        ("4 h à 6", (240, 360)),
        ("entre 4 et 6 h", (240, 360)),
        ("4 to 6 hours", (240, 360)),
        ("between 4 and 6 hours", (240, 360)),
        ("1,5 h", (90, 90)),
        ("1.5h", (90, 90)),
        ("90 min", (90, 90)),
        ("90-120 min", (90, 120)),
        ("2h30", (150, 150)),
        ("2h30 - 3h", (150, 180)),
        ("6-6h", (360, 360)),
        ("  6 H ", (360, 360)),
        ("120h", (7200, 7200)),  # longer than the 24 h one time entry may log
        ("1 200 h", (72000, 72000)),
        ("2000h", (MAX_ESTIMATE_MINUTES, MAX_ESTIMATE_MINUTES)),
    ],
)
def test_estimates_as_leads_type_them(typed: str, expected: tuple[int, int]) -> None:
    assert parse_estimate(typed) == expected


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("6", "unreadable"),  # hours or minutes? as /log asks
        ("4-6", "unreadable"),
        ("", "unreadable"),
        ("beaucoup", "unreadable"),
        ("1h75", "unreadable"),
        ("0h", "zero"),
        ("0-6h", "zero"),
        ("-4h", "negative"),
        ("4--6h", "negative"),
        ("6-4h", "reversed"),
        ("3h-2h30", "reversed"),
        ("2001h", "too_long"),
        ("4-3000h", "too_long"),
    ],
)
def test_estimates_refused(typed: str, problem: str) -> None:
    with pytest.raises(BadEstimate) as caught:
        parse_estimate(typed)
    assert caught.value.problem == problem


@given(st.text(max_size=30))
def test_the_estimate_parser_never_crashes(text: str) -> None:
    try:
        low, high = parse_estimate(text)
    except BadEstimate:
        return
    assert 0 < low <= high <= MAX_ESTIMATE_MINUTES


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("6h", (360, 360, None)),
        ("4-6h Deux rencontres et un avis", (240, 360, "Deux rencontres et un avis")),
        ("4 à 6 h Deux rencontres", (240, 360, "Deux rencontres")),
        ("entre 4 et 6 h selon le dossier", (240, 360, "selon le dossier")),
        ("2 h 30 à 3 h", (150, 180, None)),
        ("6h a discuter", (360, 360, "a discuter")),
        ("1,5 h Révision", (90, 90, "Révision")),
    ],
)
def test_an_estimate_then_its_note(typed: str, expected: tuple[int, int, str | None]) -> None:
    assert split_estimate(typed) == expected


@pytest.mark.parametrize(
    ("typed", "problem"),
    [("", "unreadable"), ("six heures", "unreadable"), ("6-4h trop", "reversed"), ("0h", "zero")],
)
def test_an_estimate_then_its_note_refused(typed: str, problem: str) -> None:
    with pytest.raises(BadEstimate) as caught:
        split_estimate(typed)
    assert caught.value.problem == problem


@given(st.integers(1, MAX_ESTIMATE_MINUTES), st.integers(0, 1_000_000))
def test_amounts_are_billed_as_time_entries_are(minutes: int, rate: int) -> None:
    # The same cents as the billing code's Decimal rounding (half up), from integers.
    assert Decimal(amount_cents(minutes, rate)) / 100 == entry_amount(minutes, rate)


def test_an_estimate_is_priced_at_the_rate_of_the_day() -> None:
    priced = quote(240, 370, 9550)  # 4 h to 6 h 10 at 95,50 $
    assert (priced.low_amount_cents, priced.high_amount_cents) == (38200, 58892)  # 588,916…
    assert priced.hourly_rate_cents == 9550
    assert amount_cents(1, 9550) == 159  # 1,591 $ rounds down
    assert amount_cents(1, 9030) == 151  # 1,505 $: half up
    assert quote(60, 60, 0).high_amount_cents == 0  # a field without a rate yet


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("500$", 50000),
        ("500 $", 50000),
        ("500\u00a0$", 50000),
        ("$500", 50000),
        ("15 000 $", 1500000),
        ("15\u202f000 $", 1500000),
        ("1 234,50 $", 123450),
        ("$1,234.50", 123450),
        ("15,000$", 1500000),
        ("95,5 $", 9550),
        ("500", None),  # dollars or hours? the sign says
        ("$500$", None),
        ("-5$", None),
        ("5,123 $ 4", None),
        ("20000000$", None),
        ("cinq $", None),
    ],
)
def test_dollars_as_people_type_them(typed: str, expected: int | None) -> None:
    assert parse_dollars(typed) == expected


@pytest.mark.parametrize(
    ("typed", "kind", "threshold"),
    [
        ("0", ApprovalKind.EVERY, 0),
        ("0h", ApprovalKind.EVERY, 0),
        ("0$", ApprovalKind.EVERY, 0),
        ("toutes", ApprovalKind.EVERY, 0),
        ("5h", ApprovalKind.HOURS, 300),
        ("2h30", ApprovalKind.HOURS, 150),
        ("500$", ApprovalKind.AMOUNT, 50000),
        ("500 $", ApprovalKind.AMOUNT, 50000),
        ("off", ApprovalKind.OFF, 0),
        ("OFF", ApprovalKind.OFF, 0),
        ("aucune", ApprovalKind.OFF, 0),
        ("non", ApprovalKind.OFF, 0),
    ],
)
def test_approval_policies(typed: str, kind: ApprovalKind, threshold: int) -> None:
    assert parse_policy(typed) == ApprovalPolicy(kind=kind, threshold=threshold)


@pytest.mark.parametrize("typed", ["5", "", "cinq heures", "-5h", "5h$", "oui"])
def test_approval_policies_refused(typed: str) -> None:
    assert parse_policy(typed) is None


def test_which_estimates_need_approval() -> None:
    small, large = quote(120, 240, 10000), quote(240, 360, 10000)  # up to 400 $ / 600 $
    every, off = ApprovalPolicy(), ApprovalPolicy(kind=ApprovalKind.OFF)
    assert needs_approval(every, small) and needs_approval(every, large)
    assert not needs_approval(off, large)
    five_hours = ApprovalPolicy(kind=ApprovalKind.HOURS, threshold=300)
    assert not needs_approval(five_hours, small)
    assert needs_approval(five_hours, large)  # judged by the upper bound
    assert not needs_approval(ApprovalPolicy(kind=ApprovalKind.HOURS, threshold=360), large)
    five_hundred = ApprovalPolicy(kind=ApprovalKind.AMOUNT, threshold=50000)
    assert not needs_approval(five_hundred, small)
    assert needs_approval(five_hundred, large)
    assert not needs_approval(ApprovalPolicy(kind=ApprovalKind.AMOUNT, threshold=60000), large)


def test_who_approves() -> None:
    ticket = ticket_record(TicketStatus.IN_PROGRESS)
    assert approvers(ticket, [40, 41]) == {40, 41}
    assert approvers(ticket, []) == {ticket.contact_id}


def test_over_runs() -> None:
    assert not over_run(660, 600)  # 11 h of 10 h: within 10 %
    assert over_run(661, 600)
    assert not over_run(700, 600, tolerance_percent=20)
    assert over_run(601, 600, tolerance_percent=0)
    assert not over_run(10_000, None)  # no approved estimate: nothing to pass


@pytest.mark.parametrize(
    ("now", "cutoff"),
    [
        # Wednesday 10:00: estimates of Tuesday 10:00 or before have waited a business day.
        (local(11, 25, 10), local(11, 24, 10)),
        # Wednesday 8:30, the opening: all of Tuesday and the evening before count from 8:30.
        (local(11, 25, 8, 30), local(11, 24, 8, 30)),
        # Wednesday 20:00, after closing: Wednesday's whole day has passed.
        (local(11, 25, 20), local(11, 25, 8, 30)),
        # Monday 10:00: back to Friday 10:00 over the weekend.
        (local(11, 30, 10), local(11, 27, 10)),
        # Thursday June 25, 10:00: the Saint-Jean (Wednesday) is off.
        (local(6, 25, 10), local(6, 23, 10)),
    ],
)
def test_reminder_cutoff(now: datetime, cutoff: datetime) -> None:
    assert reminder_cutoff(CALENDAR, now) == cutoff
    assert reminder_cutoff(CALENDAR, now).tzinfo is UTC


MOMENTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@given(MOMENTS, MOMENTS)
def test_the_cutoff_is_the_inverse_of_adding_a_business_day(
    start: datetime, now: datetime
) -> None:
    cutoff = reminder_cutoff(CALENDAR, now)
    assert (start <= cutoff) == (CALENDAR.add(start, 510) <= now)


def test_reminder_cutoff_of_two_days() -> None:
    now = local(11, 26, 12)  # Thursday noon
    assert reminder_cutoff(CALENDAR, now, business_days=2) == local(11, 24, 12)
    assert reminder_cutoff(CALENDAR, now, 2) - reminder_cutoff(CALENDAR, now) == -timedelta(1)
