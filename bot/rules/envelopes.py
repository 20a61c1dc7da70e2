"""Envelopes (issue 14): a federation's bank of hours or of dollars for a year, for all its
fields or for one. Reading an amount, what is used, committed and left, which alerts (80 %,
100 %) are newly due, and whether an estimate would go past. Plain functions of data: no
Telegram, no database (storage.envelopes gathers the facts).

Every quantity is in the envelope's unit: minutes for hours, cents for dollars.

- *used*: the time logged in the year on the federation's requests (of the envelope's field),
  in minutes, or in cents at each entry's own rate;
- *committed*: what approved estimates still promise: for each open request, its latest
  approved estimate's upper bound less the time already logged on it, never below zero;
- *remaining*: the amount less both (negative once the envelope is past).

A field-less envelope covers every field, including those with an envelope of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from bot.rules.durations import BadDuration, parse_duration
from bot.rules.estimates import normalise, parse_dollars
from storage.models import (
    Commitment,
    Envelope,
    EnvelopeFacts,
    EnvelopeHistory,
    EnvelopeKind,
    TicketStatus,
)

ENDED = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.CANCELLED})
THRESHOLDS = (80, 100)  # percent of the envelope, used + committed
MAX_ENVELOPE_MINUTES = 50_000 * 60  # 50,000 hours: more than the whole Consortium works in a year


def parse_envelope(text: str) -> tuple[EnvelopeKind, int] | None:
    """An envelope's amount as an admin types it: `120h`, `120 h`, `1 200 h` (minutes of
    hours), `15000$`, `15 000 $`, `$15,000` (cents). None if unreadable, zero or absurd."""
    cleaned = normalise(text)
    if "$" in cleaned:
        cents = parse_dollars(cleaned)
        return (EnvelopeKind.DOLLARS, cents) if cents else None
    try:
        minutes = parse_duration(cleaned, MAX_ENVELOPE_MINUTES)
    except BadDuration:
        return None
    return EnvelopeKind.HOURS, minutes


def covers(envelope: Envelope, federation_id: int, year: int, field_id: int) -> bool:
    """Whether work of that federation, year and field counts in `envelope`."""
    return (
        envelope.federation_id == federation_id
        and envelope.year == year
        and envelope.field_id in {None, field_id}
    )


def envelopes_for(
    envelopes: Iterable[Envelope], federation_id: int, year: int, field_id: int
) -> list[Envelope]:
    """The envelopes a request's work counts in: the federation's envelope of the year for all
    fields and the one of its field, the field-less one first."""
    found = [e for e in envelopes if covers(e, federation_id, year, field_id)]
    return sorted(found, key=lambda e: (e.field_id is not None, e.id))


def _high(kind: EnvelopeKind, commitment: Commitment) -> int:
    return commitment.high_minutes if kind is EnvelopeKind.HOURS else commitment.high_amount_cents


def _logged(kind: EnvelopeKind, commitment: Commitment) -> int:
    return commitment.logged_minutes if kind is EnvelopeKind.HOURS else commitment.logged_cents


def still_committed(kind: EnvelopeKind, commitment: Commitment) -> int:
    """What one request's approved estimate still promises, in the envelope's unit."""
    return max(0, _high(kind, commitment) - _logged(kind, commitment))


@dataclass(frozen=True)
class Usage:
    """An envelope's use, in its unit (minutes or cents), with the commitments behind it."""

    envelope: Envelope
    used: int
    commitments: tuple[Commitment, ...] = ()

    @property
    def committed(self) -> int:
        """What approved estimates of open requests still promise."""
        return sum(still_committed(self.envelope.kind, c) for c in self.commitments)

    @property
    def remaining(self) -> int:
        """What is left once the committed work is done; negative once past the envelope."""
        return self.envelope.amount - self.used - self.committed

    @property
    def percent(self) -> Decimal:
        """Used + committed as a percentage of the envelope, to the unit (half up)."""
        share = Decimal(100 * (self.used + self.committed)) / Decimal(self.envelope.amount)
        return share.quantize(Decimal(1), ROUND_HALF_UP)

    @property
    def spent(self) -> bool:
        """Nothing is left (what a contact is told at the review of a new request)."""
        return self.remaining <= 0


def usage(envelope: Envelope, facts: EnvelopeFacts) -> Usage:
    """Used, committed and remaining of `envelope`, from the facts storage gathered for it."""
    used = facts.used_minutes if envelope.kind is EnvelopeKind.HOURS else facts.used_cents
    return Usage(envelope, used, facts.commitments)


def reached(use: Usage) -> tuple[int, ...]:
    """The thresholds (80, 100) that used + committed has reached."""
    total = use.used + use.committed
    return tuple(t for t in THRESHOLDS if total * 100 >= t * use.envelope.amount)


def new_alerts(use: Usage, sent: Iterable[int]) -> tuple[int, ...]:
    """The thresholds newly reached: reached and not told yet, lowest first. All of them are
    to be recorded as told; one message for the highest is enough (a jump from 70 % to 105 %
    says 100 %, not 80 % then 100 %)."""
    told = set(sent)
    return tuple(t for t in reached(use) if t not in told)


def with_estimate(use: Usage, proposed: Commitment) -> Usage:
    """The envelope's use if `proposed` (a request's new estimate, with the time logged on it)
    were approved: it replaces whatever that request's approved estimate promised."""
    others = tuple(c for c in use.commitments if c.ticket_id != proposed.ticket_id)
    return Usage(use.envelope, use.used, (*others, proposed))


def would_exceed(use: Usage, proposed: Commitment) -> bool:
    """Whether approving `proposed` would take used + committed past the envelope (what the
    approval card says)."""
    return with_estimate(use, proposed).remaining < 0


def commitments_at(history: EnvelopeHistory, end: datetime, after: date) -> tuple[Commitment, ...]:
    """The commitments as they stood at `end` (a past statement's or report's period end,
    aware), `after` being the local day it begins: for each request still open then (its
    latest status change before `end` is not resolved, closed or cancelled), its latest
    estimate approved before `end` beside the time logged on it on days before `after`.
    Refusals, revisions and approvals after `end` count for nothing, nor does later time."""
    status: dict[int, tuple[tuple[datetime, int], TicketStatus]] = {}
    for change in history.changes:
        key = (change.at, change.event_id)
        if change.at < end and (
            change.ticket_id not in status or status[change.ticket_id][0] < key
        ):
            status[change.ticket_id] = (key, change.status)
    latest: dict[int, tuple[tuple[datetime, int], int, int]] = {}
    for a in history.approvals:
        key = (a.decided_at, a.estimate_id)
        if a.decided_at < end and (a.ticket_id not in latest or latest[a.ticket_id][0] < key):
            latest[a.ticket_id] = (key, a.high_minutes, a.high_amount_cents)
    minutes: dict[int, int] = {}
    cents: dict[int, int] = {}
    for day in history.logged:
        if day.work_date < after:
            minutes[day.ticket_id] = minutes.get(day.ticket_id, 0) + day.minutes
            cents[day.ticket_id] = cents.get(day.ticket_id, 0) + day.cents
    return tuple(
        Commitment(
            ticket_id=ticket_id,
            high_minutes=high_minutes,
            high_amount_cents=high_cents,
            logged_minutes=minutes.get(ticket_id, 0),
            logged_cents=cents.get(ticket_id, 0),
        )
        for ticket_id, (_, high_minutes, high_cents) in sorted(latest.items())
        if ticket_id not in status or status[ticket_id][1] not in ENDED
    )
