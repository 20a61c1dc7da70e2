"""The stats of the tickets received in a period: counts, medians, shares within target, ratings
and weekly counts by field."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from bot.rules.business_time import BusinessCalendar
from bot.rules.periods import Period
from bot.rules.service_levels import deadline
from storage.models import OPEN_STATUSES, SlaTarget, Target, TicketFacts, TicketStatus, Urgency

RESOLVED = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})
OPEN = frozenset(OPEN_STATUSES)


@dataclass
class Counts:
    """Tickets received in a period, by what became of them."""

    opened: int = 0
    resolved: int = 0
    open: int = 0
    cancelled: int = 0

    def add(self, status: TicketStatus) -> None:
        """Count one more ticket in this state."""
        self.opened += 1
        if status in RESOLVED:
            self.resolved += 1
        elif status in OPEN:
            self.open += 1
        elif status is TicketStatus.CANCELLED:
            self.cancelled += 1


@dataclass(frozen=True)
class Share:
    """How many of the decided tickets met a target."""

    met: int
    decided: int


@dataclass
class Stats:
    """The stats of the tickets received in a period (in their state of `now`)."""

    period: Period
    totals: Counts = field(default_factory=Counts)
    by_field: dict[int, Counts] = field(default_factory=dict)
    by_federation: dict[int, Counts] = field(default_factory=dict)
    median_first_response: timedelta | None = None
    median_resolution: timedelta | None = None
    first_response: Share = Share(0, 0)
    resolution: Share = Share(0, 0)
    average_rating: Decimal | None = None
    ratings: int = 0
    # The first day of each week inside the period, up to today → field → count.
    weekly: dict[date, dict[int, int]] = field(default_factory=dict)


def met_target(
    ticket: TicketFacts,
    which: Target,
    targets: Mapping[Urgency, SlaTarget],
    calendar: BusinessCalendar,
    now: datetime,
) -> bool | None:
    """Whether a ticket met a target; None while undecided (or for a cancelled ticket)."""
    done = ticket.first_response_at if which is Target.FIRST_RESPONSE else None
    if which is Target.RESOLUTION and ticket.status in RESOLVED:
        done = ticket.resolved_at
    due = deadline(
        calendar, ticket.urgency, ticket.created_at, targets[ticket.urgency].minutes(which)
    )
    if done is not None:
        return done <= due
    if ticket.status is TicketStatus.CANCELLED:
        return None
    return False if now >= due else None


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def monday(day: date) -> date:
    """The Monday of the week of `day`."""
    return day - timedelta(days=day.weekday())


def week_start(day: date, period: Period) -> date:
    """The first day of the week of `day` inside the period (weeks begin on Monday): the week
    of Sunday November 1 starts on November 1 in November's stats, not on October 26."""
    return max(monday(day), period.first)


def compute_stats(
    period: Period,
    facts: Sequence[TicketFacts],
    targets: Mapping[Urgency, SlaTarget],
    calendar: BusinessCalendar,
    now: datetime,
) -> Stats:
    """Counts, medians, shares within target, average rating and weekly counts by field."""
    stats = Stats(period)
    first_times, resolution_times, ratings = [], [], []
    shares: dict[Target, list[bool]] = {Target.FIRST_RESPONSE: [], Target.RESOLUTION: []}
    today = now.astimezone(calendar.tz).date()
    week = period.first
    # Every week of the period up to this one, even those without a request; none to come.
    while week < period.after and week <= today:
        stats.weekly[week] = {}
        week = monday(week) + timedelta(days=7)
    for ticket in facts:
        stats.totals.add(ticket.status)
        stats.by_field.setdefault(ticket.field_id, Counts()).add(ticket.status)
        stats.by_federation.setdefault(ticket.federation_id, Counts()).add(ticket.status)
        if ticket.first_response_at is not None:
            first_times.append(ticket.first_response_at - ticket.created_at)
        if ticket.status in RESOLVED and ticket.resolved_at is not None:
            resolution_times.append(ticket.resolved_at - ticket.created_at)
        if ticket.rating is not None:
            ratings.append(ticket.rating)
        for which, outcomes in shares.items():
            met = met_target(ticket, which, targets, calendar, now)
            if met is not None:
                outcomes.append(met)
        local_day = ticket.created_at.astimezone(calendar.tz).date()
        counts = stats.weekly.get(week_start(local_day, period))
        if counts is not None:  # none for a week to come, were a clock to put a request there
            counts[ticket.field_id] = counts.get(ticket.field_id, 0) + 1
    stats.median_first_response = _median(first_times)
    stats.median_resolution = _median(resolution_times)
    stats.first_response = Share(
        sum(shares[Target.FIRST_RESPONSE]), len(shares[Target.FIRST_RESPONSE])
    )
    stats.resolution = Share(sum(shares[Target.RESOLUTION]), len(shares[Target.RESOLUTION]))
    if ratings:
        stats.ratings = len(ratings)
        stats.average_rating = (Decimal(sum(ratings)) / len(ratings)).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )
    return stats
