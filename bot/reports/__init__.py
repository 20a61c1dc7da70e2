"""Stats and juste-coût billing: periods, money, the /stats text and chart, the statement and
its spreadsheet. Plain functions of data: no Telegram, no database. Beside it: the export's
spreadsheet (bot/reports/export.py), the cells of every spreadsheet (bot/reports/spreadsheets.py)
and the /billing message (bot/reports/billing_message.py).

Money is `Decimal` dollars from integer cents, never float. A time entry costs
minutes × its own hourly rate ÷ 60, rounded to the cent (half up); every total is the sum of
those rounded amounts, so a statement always adds up.
"""

from __future__ import annotations

import html
import io
import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton
from babel.numbers import format_currency, format_decimal, format_percent
from openpyxl import Workbook

from bot.reports.spreadsheets import Sheet, save, spent
from bot.rules.business_time import BusinessCalendar
from bot.rules.durations import format_duration
from bot.rules.service_levels import deadline
from bot.ui.i18n import Html, t, tn
from bot.ui.render import LOCALES
from storage.models import (
    OPEN_STATUSES,
    ExpertiseField,
    Federation,
    SlaTarget,
    Target,
    TicketFacts,
    TicketStatus,
    TimeEntryLine,
    Urgency,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CENT = Decimal("0.01")
MAX_RATE_CENTS = 1_000_000  # $10,000 an hour: anything above is a typo
FIRST_YEAR, LAST_YEAR = 2000, 2100
RESOLVED = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})
OPEN = frozenset(OPEN_STATUSES)

# -- money ------------------------------------------------------------------------------------


def dollars(cents: int) -> Decimal:
    """Cents as exact dollars."""
    return (Decimal(cents) / 100).quantize(CENT)


def entry_amount(minutes: int, rate_cents: int) -> Decimal:
    """What a time entry costs: minutes × hourly rate ÷ 60, to the cent (half up)."""
    return (Decimal(minutes) * Decimal(rate_cents) / Decimal(6000)).quantize(CENT, ROUND_HALF_UP)


def hours(minutes: int) -> Decimal:
    """Minutes as hours, to the hundredth (for display; amounts use the exact minutes)."""
    return (Decimal(minutes) / 60).quantize(CENT, ROUND_HALF_UP)


_RATE = re.compile(r"^\$?\s*(\d{1,6})(?:[.,](\d{1,2}))?\s*\$?(?:/h)?$", re.IGNORECASE)


def parse_rate(text: str) -> int | None:
    """Cents from an hourly rate as people type it: `95`, `95.50`, `95,50 $`, `$95`.

    None for anything else (negative, not a number, more than two decimals, over $10,000).
    """
    match = _RATE.match(text.strip().replace("\u00a0", " "))
    if match is None:
        return None
    try:
        amount = Decimal(f"{match.group(1)}.{match.group(2) or '0'}")
    except InvalidOperation:
        return None
    cents = int((amount * 100).to_integral_value())
    return cents if 0 <= cents <= MAX_RATE_CENTS else None


def money(amount: Decimal, language: str) -> str:
    """An amount in Canadian dollars: `1 234,50 $` / `$1,234.50`."""
    return format_currency(amount, "CAD", locale=LOCALES.get(language, "fr_CA"))


# -- periods ----------------------------------------------------------------------------------


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


def plain(text: Html) -> str:
    """A catalogue text for a spreadsheet or a chart (no markup there)."""
    return html.unescape(str(text))


# -- stats ------------------------------------------------------------------------------------


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


def duration(value: timedelta, language: str) -> str:
    """A duration in its two largest units: `3 j 4 h`, `2 h 15 min`, `5 min`."""
    minutes = round(value.total_seconds() / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours_, minutes_ = divmod(rest, 60)
    parts = [
        str(t(language, f"stats.{unit}", n=amount))
        for unit, amount in (("days", days), ("hours", hours_), ("minutes", minutes_))
        if amount
    ]
    return " ".join(parts[:2]) if parts else str(t(language, "stats.minutes", n=0))


def _share(share: Share, language: str) -> str:
    if not share.decided:
        return "—"
    percent = format_percent(share.met / share.decided, locale=LOCALES.get(language, "fr_CA"))
    return str(t(language, "stats.share", percent=percent, met=share.met, total=share.decided))


def render_stats(
    stats: Stats,
    language: str,
    fields: Mapping[int, ExpertiseField],
    federations: Mapping[int, Federation],
) -> Html:
    """The /stats message."""
    period = describe(stats.period, language)
    if not stats.totals.opened:
        return t(language, "stats.empty", period=period)
    totals = stats.totals
    lines = [
        t(language, "stats.title", period=period),
        t(
            language,
            "stats.totals",
            opened=totals.opened,
            resolved=totals.resolved,
            open=totals.open,
            cancelled=totals.cancelled,
        ),
        t(
            language,
            "stats.median_first_response",
            value=duration(stats.median_first_response, language)
            if stats.median_first_response is not None
            else "—",
        ),
        t(
            language,
            "stats.median_resolution",
            value=duration(stats.median_resolution, language)
            if stats.median_resolution is not None
            else "—",
        ),
        t(
            language,
            "stats.within",
            first=_share(stats.first_response, language),
            resolution=_share(stats.resolution, language),
        ),
        tn(
            language,
            "stats.rating",
            stats.ratings,
            value=format_decimal(
                stats.average_rating, format="0.0", locale=LOCALES.get(language, "fr_CA")
            ),
        )
        if stats.average_rating is not None
        else t(language, "stats.no_rating"),
        "",
        t(language, "stats.by_field"),
    ]
    ordered_fields = sorted(
        stats.by_field.items(),
        key=lambda item: (fields[item[0]].position, item[0]) if item[0] in fields else (0, 0),
    )
    for field_id, counts in ordered_fields:
        known = fields.get(field_id)
        lines.append(_line(language, known.name(language) if known else "?", counts))
    lines += ["", t(language, "stats.by_federation")]
    ordered_federations = sorted(
        stats.by_federation.items(),
        key=lambda item: federations[item[0]].code if item[0] in federations else "",
    )
    for federation_id, counts in ordered_federations:
        federation = federations.get(federation_id)
        lines.append(_line(language, federation.code if federation else "?", counts))
    lines += ["", t(language, "stats.note")]
    return Html("\n".join(lines))


def _line(language: str, name: str, counts: Counts) -> Html:
    return t(
        language,
        "stats.line",
        name=name,
        opened=counts.opened,
        resolved=counts.resolved,
        open=counts.open,
    )


def load_chart_library() -> None:
    """Import matplotlib, for the charts of /stats.

    It is slow to import (0.4 s and some 40,000 objects here), so the tests, the sandbox and
    the CLI's other commands import it only for a chart; `intake-bot run` imports it as it
    starts (bot.runner.start_up_frozen), so that the first /stats does not stall the bot and
    matplotlib's objects are left out of garbage collections with the rest of the start-up.
    """
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.figure  # noqa: PLC0415
    import matplotlib.ticker  # noqa: PLC0415


def week_labels(stats: Stats, language: str) -> list[str]:
    """The chart's label of each week, its first day inside the period: `1 nov.`, `2 nov.`…"""
    locale = LOCALES.get(language, "fr_CA")
    return [format_skeleton("MMMd", week, locale=locale) for week in sorted(stats.weekly)]


def weekly_figure(stats: Stats, fields: Mapping[int, ExpertiseField], language: str) -> Figure:
    """The bar chart of the requests received per week, stacked by field: one bar per week of
    the period up to today, labelled with the week's first day inside the period."""
    load_chart_library()
    import matplotlib  # noqa: PLC0415 - imported by load_chart_library
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    weeks = sorted(stats.weekly)
    present = sorted(
        {f for counts in stats.weekly.values() for f in counts},
        key=lambda f: (fields[f].position, f) if f in fields else (0, f),
    )
    figure = Figure(figsize=(10, 5.5), dpi=100, layout="constrained")
    axes = figure.subplots()
    positions = list(range(len(weeks)))
    bottoms = [0] * len(weeks)
    colours = matplotlib.colormaps["tab20"]
    for index, field_id in enumerate(present):
        heights = [stats.weekly[w].get(field_id, 0) for w in weeks]
        known = fields.get(field_id)
        axes.bar(
            positions,
            heights,
            bottom=bottoms,
            label=known.name(language) if known else str(field_id),
            color=colours(index % 20),
        )
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    step = -(-len(weeks) // 13)  # at most 13 labels, whatever the period
    labels = week_labels(stats, language)
    crowded = len(weeks) > 8
    axes.set_xticks(
        positions[::step],
        labels[::step],
        rotation=45 if crowded else 0,
        ha="right" if crowded else "center",
    )
    axes.margins(y=0.08)  # the highest bar never touches the frame
    axes.set_xlabel(plain(t(language, "stats.chart_x")))
    axes.set_ylabel(plain(t(language, "stats.chart_y")))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(
        plain(t(language, "stats.chart_title", period=describe(stats.period, language)))
    )
    if present:
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    return figure


def weekly_chart(stats: Stats, fields: Mapping[int, ExpertiseField], language: str) -> bytes:
    """The weekly chart as a PNG."""
    buffer = io.BytesIO()
    weekly_figure(stats, fields, language).savefig(buffer, format="png")
    return buffer.getvalue()


# -- billing ----------------------------------------------------------------------------------


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


def billing_workbook(
    statement: Statement,
    *,
    fields: Mapping[int, ExpertiseField],
    federations: Mapping[int, Federation],
    language: str,
) -> bytes:
    """The statement as a spreadsheet: a summary sheet, one sheet per federation billed, and
    the time logged without a rate (if any) on a sheet of its own."""
    workbook = Workbook(write_only=True)
    period = describe(statement.period, language)
    ordered = billed_federations(statement, federations)
    _summary_sheet(workbook, statement, ordered, fields, federations, language, period)
    for part in ordered:
        _federation_sheet(workbook, part, fields, federations, language, period)
    if statement.unrated:
        _unrated_sheet(workbook, statement, fields, federations, language, period)
    return save(workbook)


def _words(language: str) -> Callable[..., str]:
    def text(key: str, **values: object) -> str:
        return plain(t(language, f"billing.{key}", **values))

    return text


def _summary_sheet(
    workbook: Workbook,
    statement: Statement,
    ordered: Sequence[FederationStatement],
    fields: Mapping[int, ExpertiseField],
    federations: Mapping[int, Federation],
    language: str,
    period: str,
) -> None:
    text = _words(language)
    by_federation = [
        text(f"col_{name}") for name in ("code", "federation", "tickets", "hours", "amount")
    ]
    by_field = [text("col_code"), text("col_field"), None, text("col_hours"), text("col_amount")]
    sheet = Sheet(
        workbook,
        text("summary_sheet"),
        language,
        widths=[8, 40, 8, 9, 12],
        headers=[by_federation, by_field],
        frozen_rows=1,
    )
    sheet.for_print(title_rows=1)
    sheet.title(text("title", period=period))
    sheet.note(text("note"))
    if statement.unrated:
        sheet.note(plain(unrated_warning(statement, language, "unrated_summary")), bold=True)
    sheet.blank()
    sheet.row([text("by_federation")], bold=True)
    sheet.header(by_federation)
    for part in ordered:
        federation = federations.get(part.federation_id)
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
    for field_id, tally in sorted(statement.by_field.items(), key=_field_order(fields)):
        known = fields.get(field_id)
        sheet.row(
            [
                known.code if known else "?",
                known.name(language) if known else "?",
                None,
                spent(tally.minutes),
                tally.amount,
            ]
        )
    sheet.row([text("total"), None, None, *total], bold=True)


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


def _federation_sheet(
    workbook: Workbook,
    part: FederationStatement,
    fields: Mapping[int, ExpertiseField],
    federations: Mapping[int, Federation],
    language: str,
    period: str,
) -> None:
    """A federation's time entries under one frozen header (repeated on each printed page),
    their total, then the amount of each request in the same columns."""
    text = _words(language)
    detail = [
        text(f"col_{name}")
        for name in (
            "date",
            "ticket",
            "subject",
            "field",
            "lead",
            "note",
            "minutes",
            "hours",
            "rate",
            "amount",
        )
    ]
    by_ticket: list[str | None] = [None, *detail[1:3], None, None, None, *detail[6:8], None]
    by_ticket.append(detail[9])
    federation = federations.get(part.federation_id)
    code = federation.code if federation else str(part.federation_id)
    sheet = Sheet(
        workbook,
        code,
        language,
        widths=[10, 15, 36, 28, 22, 30, 7, 8, 10, 12],
        headers=[detail, by_ticket],
        frozen_rows=2,
    )
    sheet.for_print(title_rows=2)
    name = federation.name if federation else code
    sheet.title(f"{text('title', period=period)} — {code} — {name}")
    sheet.header(detail)
    for entry, amount in part.entries:
        known = fields.get(entry.field_id)
        sheet.row(
            [
                entry.work_date,
                entry.reference,
                entry.subject,
                known.name(language) if known else "?",
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
        sheet.row(
            [
                None,
                reference,
                subject,
                None,
                None,
                None,
                tally.minutes,
                spent(tally.minutes),
                None,
                tally.amount,
            ]
        )
    sheet.row([text("total"), None, None, None, None, None, *total], bold=True)
    sheet.blank()
    sheet.note(text("note"))


def _unrated_sheet(
    workbook: Workbook,
    statement: Statement,
    fields: Mapping[int, ExpertiseField],
    federations: Mapping[int, Federation],
    language: str,
    period: str,
) -> None:
    """The time logged on fields without a rate: billed to nobody, with what to do about it."""
    text = _words(language)
    header = [
        text(f"col_{name}")
        for name in (
            "date",
            "federation",
            "ticket",
            "subject",
            "field",
            "lead",
            "note",
            "minutes",
            "hours",
        )
    ]
    sheet = Sheet(
        workbook,
        text("unrated_sheet"),
        language,
        widths=[10, 8, 15, 36, 28, 22, 30, 7, 8],
        headers=[header],
        frozen_rows=4,
    )
    sheet.for_print(title_rows=4)
    sheet.title(text("unrated_title", period=period))
    sheet.note(text("unrated_note"), bold=True)
    sheet.note(text("unrated_fix"))
    sheet.header(header)
    for entry in sorted(
        statement.unrated,
        key=lambda e: (federation_code(federations, e.federation_id), e.reference, e.work_date),
    ):
        known = fields.get(entry.field_id)
        sheet.row(
            [
                entry.work_date,
                federation_code(federations, entry.federation_id),
                entry.reference,
                entry.subject,
                known.name(language) if known else "?",
                entry.lead_name,
                entry.note,
                entry.minutes,
                spent(entry.minutes),
            ]
        )
    total = statement.unrated_minutes
    sheet.row([text("total"), *([None] * 6), total, spent(total)], bold=True)
