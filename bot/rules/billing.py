"""Juste-coût billing: a month's time entries priced at their own rates and added up per
federation, per request and per field; time logged without a rate set apart."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from bot.rules.money import entry_amount
from bot.rules.periods import Period
from storage.models import Federation, TimeEntryLine


@dataclass(frozen=True)
class Tally:
    """Minutes and amount of some time entries."""

    minutes: int = 0
    amount: Decimal = Decimal("0.00")

    def plus(self, minutes: int, amount: Decimal) -> Tally:
        """This tally and one more entry."""
        return Tally(self.minutes + minutes, self.amount + amount)


@dataclass
class FederationStatement:
    """One federation's time entries of the month, with their amounts."""

    federation_id: int
    entries: list[tuple[TimeEntryLine, Decimal]] = field(default_factory=list)
    total: Tally = Tally()
    by_ticket: dict[int, Tally] = field(default_factory=dict)


@dataclass
class Statement:
    """The juste-coût statement of a month: per federation, per field, and the total.

    Time logged on a field with no rate yet (at 0 $) is set apart in `unrated`: it is billed
    to nobody, and a coordinator must see it rather than find it in a total at 0 $.
    """

    period: Period
    federations: dict[int, FederationStatement] = field(default_factory=dict)
    by_field: dict[int, Tally] = field(default_factory=dict)
    total: Tally = Tally()
    unrated: list[TimeEntryLine] = field(default_factory=list)
    unrated_minutes: int = 0


def billing_statement(period: Period, entries: Iterable[TimeEntryLine]) -> Statement:
    """Price every time entry at its own rate and add them up per federation and per field;
    entries logged without a rate go apart."""
    statement = Statement(period)
    for entry in entries:
        if not entry.hourly_rate_cents:
            statement.unrated.append(entry)
            statement.unrated_minutes += entry.minutes
            continue
        amount = entry_amount(entry.minutes, entry.hourly_rate_cents)
        part = statement.federations.setdefault(
            entry.federation_id, FederationStatement(entry.federation_id)
        )
        part.entries.append((entry, amount))
        part.total = part.total.plus(entry.minutes, amount)
        part.by_ticket[entry.ticket_id] = part.by_ticket.get(entry.ticket_id, Tally()).plus(
            entry.minutes, amount
        )
        statement.by_field[entry.field_id] = statement.by_field.get(entry.field_id, Tally()).plus(
            entry.minutes, amount
        )
        statement.total = statement.total.plus(entry.minutes, amount)
    return statement


def federation_code(federations: Mapping[int, Federation], federation_id: int) -> str:
    """A federation's code, `?` if it is unknown."""
    federation = federations.get(federation_id)
    return federation.code if federation else "?"


def billed_federations(
    statement: Statement, federations: Mapping[int, Federation]
) -> list[FederationStatement]:
    """The federations billed in a statement, by code."""
    return sorted(
        statement.federations.values(),
        key=lambda part: federation_code(federations, part.federation_id),
    )
