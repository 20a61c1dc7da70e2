"""The /billing spreadsheet: a month's statement, a summary sheet, one sheet per federation billed
and the time logged without a rate."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from openpyxl import Workbook

from bot.reports.spreadsheets import Sheet, save, spent
from bot.rules.billing import (
    FederationStatement,
    Statement,
    Tally,
    billed_federations,
    federation_code,
)
from bot.rules.durations import format_duration
from bot.rules.money import dollars
from bot.rules.periods import describe
from bot.ui.i18n import Html, plain, t, tn
from storage.models import Estimate, ExpertiseField, Federation


def billing_workbook(
    statement: Statement,
    *,
    fields: Mapping[int, ExpertiseField],
    federations: Mapping[int, Federation],
    language: str,
    estimates: Mapping[int, Estimate] | None = None,
) -> bytes:
    """The statement as a spreadsheet: a summary sheet, one sheet per federation billed, and
    the time logged without a rate (if any) on a sheet of its own. `estimates`: the latest
    approved estimate of the requests that have one, set beside their actual time."""
    book = _Book(
        Workbook(write_only=True),
        fields,
        federations,
        language,
        describe(statement.period, language),
        estimates or {},
    )
    ordered = billed_federations(statement, federations)
    _summary_sheet(book, statement, ordered)
    for part in ordered:
        _federation_sheet(book, part)
    if statement.unrated:
        _unrated_sheet(book, statement)
    return save(book.workbook)


@dataclass(frozen=True)
class _Book:
    """The workbook being written, and what each of its sheets names and says."""

    workbook: Workbook
    fields: Mapping[int, ExpertiseField]
    federations: Mapping[int, Federation]
    language: str
    period: str  # the period in words
    estimates: Mapping[int, Estimate]  # by ticket: the latest approved one

    def text(self, key: str, **values: object) -> str:
        """A `billing.<key>` text, without markup."""
        return plain(t(self.language, f"billing.{key}", **values))

    def columns(self, *names: str) -> list[str]:
        """The headers of these columns (`billing.col_<name>`)."""
        return [self.text(f"col_{name}") for name in names]

    def field_name(self, field_id: int) -> str:
        """A field's name in the statement's language, `?` if it is unknown."""
        known = self.fields.get(field_id)
        return known.name(self.language) if known else "?"


def _summary_sheet(
    book: _Book, statement: Statement, ordered: Sequence[FederationStatement]
) -> None:
    text = book.text
    by_federation = book.columns("code", "federation", "tickets", "hours", "amount")
    by_field = book.columns("code", "field", "tickets", "hours", "amount")
    sheet = Sheet(
        book.workbook,
        text("summary_sheet"),
        book.language,
        widths=[8, 40, 8, 9, 12],
        headers=[by_federation, by_field],
        frozen_rows=1,
    )
    sheet.for_print(title_rows=1)
    sheet.title(text("title", period=book.period))
    sheet.note(text("note"))
    if statement.unrated:
        warning = unrated_warning(statement, book.language, "unrated_summary")
        sheet.note(plain(warning), bold=True)
    sheet.blank()
    sheet.row([text("by_federation")], bold=True)
    sheet.header(by_federation)
    for part in ordered:
        federation = book.federations.get(part.federation_id)
        sheet.row(
            [
                federation.code if federation else "?",
                federation.name if federation else "?",
                len(part.by_ticket),
                spent(part.total.minutes),
                part.total.amount,
            ]
        )
    tickets = sum(len(part.by_ticket) for part in ordered)
    total = [spent(statement.total.minutes), statement.total.amount]
    sheet.row([text("total"), None, tickets, *total], bold=True)
    sheet.blank()
    sheet.row([text("by_field")], bold=True)
    sheet.header(by_field)
    tickets_by_field = _tickets_by_field(ordered)
    for field_id, tally in sorted(statement.by_field.items(), key=_field_order(book.fields)):
        known = book.fields.get(field_id)
        sheet.row(
            [
                known.code if known else "?",
                book.field_name(field_id),
                len(tickets_by_field.get(field_id, ())),
                spent(tally.minutes),
                tally.amount,
            ]
        )
    sheet.row([text("total"), None, tickets, *total], bold=True)


def _tickets_by_field(ordered: Sequence[FederationStatement]) -> dict[int, set[int]]:
    """The requests billed in each field (a request is in one field)."""
    found: dict[int, set[int]] = {}
    for part in ordered:
        for entry, _ in part.entries:
            found.setdefault(entry.field_id, set()).add(entry.ticket_id)
    return found


def _field_order(
    fields: Mapping[int, ExpertiseField],
) -> Callable[[tuple[int, Tally]], tuple[int, int]]:
    return lambda item: (fields[item[0]].position, item[0]) if item[0] in fields else (0, 0)


def unrated_warning(statement: Statement, language: str, key: str, **values: object) -> Html:
    """What a coordinator must see of the time logged without a rate (`billing.<key>`)."""
    return tn(
        language,
        f"billing.{key}",
        len(statement.unrated),
        hours=format_duration(statement.unrated_minutes, language),
        **values,
    )


def _federation_sheet(book: _Book, part: FederationStatement) -> None:
    """A federation's time entries under one frozen header (repeated on each printed page),
    their total, then the amount of each request in the same columns."""
    text = book.text
    detail = book.columns(
        "date", "ticket", "subject", "field", "lead", "note", "minutes", "hours", "rate", "amount"
    )
    estimate, estimated = book.columns("estimate", "estimate_amount")
    by_ticket: list[str | None] = [None, *detail[1:3], None, estimate, None, *detail[6:8]]
    by_ticket += [estimated, detail[9]]
    federation = book.federations.get(part.federation_id)
    code = federation.code if federation else str(part.federation_id)
    sheet = Sheet(
        book.workbook,
        code,
        book.language,
        widths=[10, 15, 36, 28, 22, 30, 7, 8, 10, 12],
        headers=[detail, by_ticket],
        frozen_rows=2,
    )
    sheet.for_print(title_rows=2)
    name = federation.name if federation else code
    sheet.title(f"{text('title', period=book.period)} — {code} — {name}")
    sheet.header(detail)
    for entry, amount in part.entries:
        sheet.row(
            [
                entry.work_date,
                entry.reference,
                entry.subject,
                book.field_name(entry.field_id),
                entry.lead_name,
                entry.note,
                entry.minutes,
                spent(entry.minutes),
                dollars(entry.hourly_rate_cents),
                amount,
            ]
        )
    total = [part.total.minutes, spent(part.total.minutes), None, part.total.amount]
    sheet.row([text("total"), None, None, None, None, None, *total], bold=True)
    sheet.blank()
    sheet.row([text("by_ticket")], bold=True)
    sheet.header(by_ticket)
    subjects = {entry.ticket_id: (entry.reference, entry.subject) for entry, _ in part.entries}
    for ticket_id, tally in sorted(part.by_ticket.items(), key=lambda item: subjects[item[0]][0]):
        reference, subject = subjects[ticket_id]
        approved = book.estimates.get(ticket_id)
        sheet.row(
            [
                None,
                reference,
                subject,
                None,
                _hours_range(approved, book.language) if approved else None,
                None,
                tally.minutes,
                spent(tally.minutes),
                dollars(approved.high_amount_cents) if approved else None,
                tally.amount,
            ]
        )
    sheet.row([text("total"), None, None, None, None, None, *total], bold=True)
    sheet.blank()
    sheet.note(text("note"))


def _hours_range(estimate: Estimate, language: str) -> str:
    """An approved estimate's hours: `6 h`, `4 h à 6 h`."""
    high = format_duration(estimate.high_minutes, language)
    if estimate.low_minutes == estimate.high_minutes:
        return plain(high)
    low = format_duration(estimate.low_minutes, language)
    return plain(t(language, "document.estimate_range", low=low, high=high))


def _unrated_sheet(book: _Book, statement: Statement) -> None:
    """The time logged on fields without a rate: billed to nobody, with what to do about it."""
    text = book.text
    header = book.columns(
        "date", "federation", "ticket", "subject", "field", "lead", "note", "minutes", "hours"
    )
    sheet = Sheet(
        book.workbook,
        text("unrated_sheet"),
        book.language,
        widths=[10, 8, 15, 36, 28, 22, 30, 7, 8],
        headers=[header],
        frozen_rows=4,
    )
    sheet.for_print(title_rows=4)
    sheet.title(text("unrated_title", period=book.period))
    sheet.note(text("unrated_note"), bold=True)
    sheet.note(text("unrated_fix"))
    sheet.header(header)
    federations = book.federations
    for entry in sorted(
        statement.unrated,
        key=lambda e: (federation_code(federations, e.federation_id), e.reference, e.work_date),
    ):
        sheet.row(
            [
                entry.work_date,
                federation_code(federations, entry.federation_id),
                entry.reference,
                entry.subject,
                book.field_name(entry.field_id),
                entry.lead_name,
                entry.note,
                entry.minutes,
                spent(entry.minutes),
            ]
        )
    total = statement.unrated_minutes
    sheet.row([text("total"), *([None] * 6), total, spent(total)], bold=True)
