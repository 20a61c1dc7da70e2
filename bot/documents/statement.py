"""A federation's monthly juste-coût statement as a PDF, from plain data (bot.documents.data).

The amounts are those of billing (bot.reports): each time entry costs minutes × its own
hourly rate ÷ 60, rounded to the cent half up; a request's amount and the month's total are
the sums of those rounded amounts, so every column adds up, across a rate change too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from babel.dates import format_skeleton

from bot.documents.data import EntryLine, Estimate, RequestLine, StatementData
from bot.documents.layout import (
    Document,
    Grid,
    amount,
    clean,
    counted,
    duration,
    envelopes,
    labels,
    text,
)
from bot.rules.billing import Tally
from bot.rules.money import entry_amount
from bot.rules.periods import describe
from bot.ui.i18n import LOCALES

SUBJECT_LIMIT = 140  # characters of a subject; a longer one is cut with …
NOTE_LIMIT = 120
NAME_LIMIT = 60


@dataclass(frozen=True)
class StatementTotals:
    """The amounts of a statement: each entry's (in the order given), each request's, the
    month's."""

    entries: tuple[Decimal, ...]
    by_request: Mapping[str, Tally]
    total: Tally


def totals(entries: Sequence[EntryLine]) -> StatementTotals:
    """Price every entry at its own rate (to the cent, half up) and add them up per request
    and for the month."""
    amounts: list[Decimal] = []
    by_request: dict[str, Tally] = {}
    total = Tally()
    for entry in entries:
        cost = entry_amount(entry.minutes, entry.rate_cents)
        amounts.append(cost)
        by_request[entry.reference] = by_request.get(entry.reference, Tally()).plus(
            entry.minutes, cost
        )
        total = total.plus(entry.minutes, cost)
    return StatementTotals(tuple(amounts), by_request, total)


def statement_pdf(data: StatementData, language: str) -> bytes:
    """The statement of one federation for one month, in the reader's language."""
    period = describe(data.period, language)
    title = text(language, "document.statement_title")
    document = Document(
        title=text(
            language,
            "document.running",
            title=title,
            who=clean(data.federation.code, 20),
            period=period,
        ),
        author=clean(data.consortium, 200),
        language=language,
        produced=data.produced,
    )
    document.title_block(title, period)
    last_day = labels(
        document,
        data.consortium,
        (text(language, "document.to"), _federation(data)),
        data.period,
        data.produced,
        language,
    )
    sums = totals(data.entries)
    _summary(document, data, sums, language)
    if data.entries or data.requests:
        _requests(document, data.requests, sums, language)
        _entries(document, data.entries, sums, language)
    else:
        document.note(text(language, "document.no_time", period=period))
    envelopes(document, data.envelopes, last_day, language)
    document.note(text(language, "document.statement_note"))
    return document.pdf()


def _federation(data: StatementData) -> str:
    return f"{clean(data.federation.code, 20)} — {clean(data.federation.name, 160)}"


def _summary(
    document: Document, data: StatementData, sums: StatementTotals, language: str
) -> None:
    document.heading(
        text(language, "document.statement_total", amount=amount(sums.total.amount, language))
    )
    document.labels(
        [
            (
                text(language, "document.requests"),
                counted(language, "document.request_count", len(data.requests)),
            ),
            (
                text(language, "document.time"),
                counted(
                    language,
                    "document.entry_count",
                    len(data.entries),
                    hours=duration(sums.total.minutes, language),
                ),
            ),
        ]
    )


def estimate(value: Estimate | None, language: str) -> str:
    """An approved estimate in a cell: `4 h à 6 h`, its amount under it; a dash for none."""
    if value is None:
        return "—"
    low = duration(value.low_minutes, language)
    high = duration(value.high_minutes, language)
    hours = (
        low
        if value.low_minutes == value.high_minutes
        else text(language, "document.estimate_range", low=low, high=high)
    )
    return f"{hours}\n{amount(value.amount_cents, language)}"


def _requests(
    document: Document, requests: Sequence[RequestLine], sums: StatementTotals, language: str
) -> None:
    document.heading(text(language, "document.requests_heading"))
    rows = []
    for line in sorted(requests, key=lambda line: line.reference):
        spent = sums.by_request.get(line.reference, Tally())
        rows.append(
            [
                clean(line.reference, 30),
                clean(line.subject, SUBJECT_LIMIT),
                clean(line.field, NAME_LIMIT),
                estimate(line.estimate, language),
                duration(spent.minutes, language),
                amount(spent.amount, language),
            ]
        )
    document.grid(
        Grid(
            header=[
                text(language, "document.col_reference"),
                text(language, "document.col_subject"),
                text(language, "document.col_field"),
                text(language, "document.col_estimate"),
                text(language, "document.col_time"),
                text(language, "document.col_amount"),
            ],
            widths=[None, 3, 2, None, None, None],
            aligns=["LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"],
            rows=rows,
            totals=[
                [
                    text(language, "document.total"),
                    "",
                    "",
                    "",
                    duration(sums.total.minutes, language),
                    amount(sums.total.amount, language),
                ]
            ],
        )
    )


def _entries(
    document: Document, entries: Sequence[EntryLine], sums: StatementTotals, language: str
) -> None:
    document.heading(text(language, "document.entries_heading"))
    locale = LOCALES.get(language, "fr_CA")
    priced = sorted(
        zip(entries, sums.entries, strict=True),
        key=lambda pair: (pair[0].day, pair[0].reference),
    )
    rows = [
        [
            format_skeleton("MMMd", entry.day, locale=locale),
            clean(entry.reference, 30),
            clean(entry.lead, NAME_LIMIT),
            duration(entry.minutes, language),
            amount(entry.rate_cents, language),
            amount(cost, language),
            clean(entry.note, NOTE_LIMIT),
        ]
        for entry, cost in priced
    ]
    document.grid(
        Grid(
            header=[
                text(language, "document.col_date"),
                text(language, "document.col_reference"),
                text(language, "document.col_lead"),
                text(language, "document.col_time"),
                text(language, "document.col_rate"),
                text(language, "document.col_amount"),
                text(language, "document.col_note"),
            ],
            widths=[None, None, 2, None, None, None, 3],
            aligns=["LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "LEFT"],
            rows=rows,
            totals=[
                [
                    text(language, "document.total"),
                    "",
                    "",
                    duration(sums.total.minutes, language),
                    "",
                    amount(sums.total.amount, language),
                    "",
                ]
            ],
        )
    )
