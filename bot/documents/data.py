"""What the PDF documents show, as plain data the caller fills from the database: no Telegram,
no SQL. Minutes and cents are integers; names and subjects are already in the reader's
language (a field's name), user text is given as it was typed (the renderers clean it).

A statement holds no amount of its own: each time entry is priced at its own rate and the
statement's lines and totals are the sums of those amounts (bot.documents.statement.totals),
so it always adds up, across a rate change too.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from bot.rules.periods import Period


@dataclass(frozen=True)
class Member:
    """A member federation, as its documents name it."""

    code: str
    name: str


@dataclass(frozen=True)
class Estimate:
    """An approved estimate: hours (a range, or low == high) and the amount approved with it,
    at the field's rate of that day."""

    low_minutes: int
    high_minutes: int
    amount_cents: int


@dataclass(frozen=True)
class RequestLine:
    """A request with time logged in the month (or an estimate approved in it)."""

    reference: str
    subject: str
    field: str  # the field's name in the reader's language
    estimate: Estimate | None = None


@dataclass(frozen=True)
class EntryLine:
    """A time entry of the month, at the hourly rate it was logged with."""

    day: date
    reference: str
    lead: str
    minutes: int
    rate_cents: int
    note: str = ""


@dataclass(frozen=True)
class EnvelopeLine:
    """An envelope of the year: hours (`amount`, `used`, `committed` in minutes) or dollars
    (in cents). Used: time logged at the entries' rates; committed: approved estimates not
    yet logged."""

    label: str
    kind: Literal["hours", "dollars"]
    amount: int
    used: int
    committed: int

    @property
    def remaining(self) -> int:
        """What is left of it once the committed work is done; negative when it is exceeded."""
        return self.amount - self.used - self.committed

    @property
    def share(self) -> Decimal | None:
        """Used and committed, as a fraction of the envelope (None for an empty envelope)."""
        if self.amount <= 0:
            return None
        return Decimal(self.used + self.committed) / Decimal(self.amount)


@dataclass(frozen=True)
class StatementData:
    """A federation's statement of one month.

    `envelopes`: the federation's envelopes of the period's year, used and committed up to the
    end of the period (none: the section is left out).
    """

    consortium: str
    federation: Member
    period: Period
    produced: date
    requests: tuple[RequestLine, ...]
    entries: tuple[EntryLine, ...]
    envelopes: tuple[EnvelopeLine, ...] = ()

    def __post_init__(self) -> None:
        if self.period.kind != "month":
            raise ValueError(f"a statement is for a month, not {self.period.label}")
        known = {line.reference for line in self.requests}
        if len(known) != len(self.requests):
            raise ValueError("a request appears twice in the statement")
        missing = {entry.reference for entry in self.entries} - known
        if missing:
            raise ValueError(f"time entries of requests not in the statement: {sorted(missing)}")


@dataclass(frozen=True)
class Figures:
    """What a report counts for a field or a federation over its period.

    `met_targets` of `decided`: requests whose service targets are decided (met or missed;
    not those still running within them, nor the cancelled ones) and that met them.
    `estimated_minutes`: the approved estimates (upper bound) of the requests that have one;
    `actual_minutes`: the time logged on those same requests, to set against them.
    """

    requests: int = 0
    minutes: int = 0
    amount_cents: int = 0
    met_targets: int = 0
    decided: int = 0
    rating_sum: int = 0
    ratings: int = 0
    estimated_minutes: int = 0
    actual_minutes: int = 0

    def __add__(self, other: Figures) -> Figures:
        # Every field is a count: the figures of two fields (or federations) add up.
        return Figures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def within_targets(self) -> Decimal | None:
        """The share of the decided requests that met their targets (None: none decided)."""
        return Decimal(self.met_targets) / self.decided if self.decided else None

    @property
    def average_rating(self) -> Decimal | None:
        """The average rating out of 5, to a tenth (None: no rating)."""
        if not self.ratings:
            return None
        return (Decimal(self.rating_sum) / self.ratings).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class FieldRow:
    """A field's figures (its name in the reader's language)."""

    name: str
    figures: Figures


@dataclass(frozen=True)
class FederationRow:
    """A federation's figures, for the Consortium-wide report."""

    federation: Member
    figures: Figures


@dataclass(frozen=True)
class ReportData:
    """A governance report for a quarter or a year.

    For one federation's board: `federation` is that federation, `fields` its figures by
    field, `envelopes` its envelopes of the year. The Consortium-wide report for its own
    board: `federation` is None, `federations` holds one row per federation and `fields` the
    figures of all of them by field.
    """

    consortium: str
    period: Period
    produced: date
    fields: tuple[FieldRow, ...]
    federation: Member | None = None
    federations: tuple[FederationRow, ...] = ()
    envelopes: tuple[EnvelopeLine, ...] = ()

    def __post_init__(self) -> None:
        if self.period.kind == "month":
            raise ValueError(f"a report is for a quarter or a year, not {self.period.label}")
        if self.federation is not None and self.federations:
            raise ValueError("a federation's report has no rows of other federations")

    @property
    def totals(self) -> Figures:
        """The figures of the whole report: its federations', or its fields' for one."""
        rows = self.federations if self.federation is None and self.federations else self.fields
        return sum((row.figures for row in rows), Figures())
