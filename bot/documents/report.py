"""Governance reports as PDFs, from plain data (bot.documents.data): for one federation's board
(its requests, time and amounts by field, service targets, ratings, estimates against time
logged, envelopes and a chart) or, without a federation, for the Consortium's own board (the
federations side by side, then the same by field).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from bot.documents.data import Figures, ReportData
from bot.documents.layout import (
    Document,
    Grid,
    amount,
    clean,
    counted,
    duration,
    envelopes,
    labels,
    percent,
    text,
)
from bot.reports.chart import load_chart_library
from bot.rules.periods import describe
from bot.ui.i18n import format_number

LABEL_LIMIT = 48  # characters of a name on the chart


def governance_report_pdf(data: ReportData, language: str) -> bytes:
    """The report of a quarter or a year, for a federation's board or the Consortium's."""
    period = describe(data.period, language)
    who = (
        f"{clean(data.federation.code, 20)} — {clean(data.federation.name, 160)}"
        if data.federation
        else text(language, "document.all_federations")
    )
    title = text(language, "document.report_title")
    short = clean(data.federation.code, 20) if data.federation else who
    document = Document(
        title=text(language, "document.running", title=title, who=short, period=period),
        author=clean(data.consortium, 200),
        language=language,
        produced=data.produced,
    )
    document.title_block(title, f"{who} — {period}")
    board = clean(data.federation.name if data.federation else data.consortium, 160)
    last_day = labels(
        document,
        data.consortium,
        (text(language, "document.board"), text(language, "document.board_of", name=board)),
        data.period,
        data.produced,
        language,
    )
    totals = data.totals
    _glance(document, totals, language)
    if data.federation is None and data.federations:
        document.heading(text(language, "document.by_federation_heading"))
        rows = [
            (f"{clean(row.federation.code, 20)} — {clean(row.federation.name, 120)}", row.figures)
            for row in sorted(data.federations, key=lambda row: row.federation.code)
        ]
        _figures_table(document, text(language, "document.col_federation"), rows, language)
    document.heading(text(language, "document.by_field_heading"))
    fields = [(clean(row.name, 80), row.figures) for row in data.fields]
    if fields:
        _figures_table(document, text(language, "document.col_field"), fields, language)
    else:
        document.note(text(language, "document.no_requests"))
    _chart_section(document, data, language)
    _estimates(document, data, language)
    # « cumul au 2 décembre 2026 » while the period is not over, its last day once it is.
    envelopes(document, data.envelopes, min(last_day, data.produced), language)
    document.note(text(language, "document.report_note"))
    return document.pdf()


def _share(figures: Figures, language: str) -> str:
    if not figures.decided:
        return "—"
    return text(
        language,
        "document.share",
        percent=percent(figures.within_targets, language),
        met=format_number(figures.met_targets, language),
        total=format_number(figures.decided, language),
    )


def _rating(figures: Figures, language: str) -> str:
    rating = figures.average_rating
    if rating is None:
        return "—"
    return counted(
        language,
        "document.rating_value",
        figures.ratings,
        value=format_number(rating, language),
    )


def _glance(document: Document, totals: Figures, language: str) -> None:
    document.heading(text(language, "document.at_a_glance"))
    document.labels(
        [
            (
                text(language, "document.requests_received"),
                format_number(totals.requests, language),
            ),
            (text(language, "document.time"), duration(totals.minutes, language)),
            (text(language, "document.amount"), amount(totals.amount_cents, language)),
            (text(language, "document.within_targets"), _share(totals, language)),
            (text(language, "document.rating"), _rating(totals, language)),
        ]
    )


def _row(name: str, figures: Figures, language: str) -> list[str]:
    rating = figures.average_rating
    return [
        name,
        format_number(figures.requests, language),
        duration(figures.minutes, language),
        amount(figures.amount_cents, language),
        percent(figures.within_targets, language),
        "—" if rating is None else format_number(rating, language),
    ]


def _figures_table(
    document: Document, first: str, rows: Sequence[tuple[str, Figures]], language: str
) -> None:
    """Requests, time, amount, share within targets and rating: one row each, and the total."""
    total = sum((figures for _, figures in rows), Figures())
    document.grid(
        Grid(
            header=[
                first,
                text(language, "document.col_requests"),
                text(language, "document.col_time"),
                text(language, "document.col_amount"),
                text(language, "document.col_targets"),
                text(language, "document.col_rating"),
            ],
            widths=[1, None, None, None, None, None],
            aligns=["LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"],
            rows=[_row(name, figures, language) for name, figures in rows],
            totals=[_row(text(language, "document.total"), total, language)],
        )
    )


def gap(estimated: int, actual: int, language: str) -> str:
    """The time logged against the estimate, as a signed percentage: `+12 %`, `-5 %`."""
    if estimated <= 0:
        return "—"
    share = ((Decimal(actual) - estimated) / estimated).quantize(Decimal("0.01"), ROUND_HALF_UP)
    sign = "+" if share > 0 else "-" if share < 0 else ""
    return sign + percent(abs(share), language)


def _estimates(document: Document, data: ReportData, language: str) -> None:
    """Per field: the approved estimates against the time logged on those requests."""
    document.heading(text(language, "document.estimates_heading"))
    rows = [row for row in data.fields if row.figures.estimated_minutes > 0]
    if not rows:
        document.note(text(language, "document.no_estimates"))
        return
    total = sum((row.figures for row in rows), Figures())

    def line(name: str, figures: Figures) -> list[str]:
        return [
            name,
            duration(figures.estimated_minutes, language),
            duration(figures.actual_minutes, language),
            gap(figures.estimated_minutes, figures.actual_minutes, language),
        ]

    document.grid(
        Grid(
            header=[
                text(language, "document.col_field"),
                text(language, "document.col_estimated"),
                text(language, "document.col_actual"),
                text(language, "document.col_gap"),
            ],
            widths=[1, None, None, None],
            aligns=["LEFT", "RIGHT", "RIGHT", "RIGHT"],
            rows=[line(clean(row.name, 80), row.figures) for row in rows],
            totals=[line(text(language, "document.total"), total)],
        )
    )
    document.note(text(language, "document.estimates_note"))


def _chart_section(document: Document, data: ReportData, language: str) -> None:
    """Hours logged by field (by federation in the Consortium-wide report), as a bar chart."""
    by_federation = data.federation is None and bool(data.federations)
    bars = (
        [(row.federation.code, row.figures.minutes) for row in data.federations]
        if by_federation
        else [(row.name, row.figures.minutes) for row in data.fields]
    )
    if not any(minutes for _, minutes in bars):
        return
    key = "document.chart_by_federation" if by_federation else "document.chart_by_field"
    heading = text(language, key)
    png = hours_chart(bars, language)
    height = document.epw * chart_height(len(bars)) / CHART_WIDTH
    if document.will_page_break(height + 14):
        document.add_page()
    document.heading(heading)
    document.image(io.BytesIO(png), w=document.epw, h=height, alt_text=heading)
    document.ln(2)


CHART_WIDTH = 7.5  # inches, the chart's figure


def chart_height(bars: int) -> float:
    """The figure's height in inches: room for each bar, within a page."""
    return min(7.0, 1.0 + 0.42 * bars)


def hours_chart(bars: Sequence[tuple[str, int]], language: str) -> bytes:
    """A horizontal bar chart of hours (minutes given) by name, each bar labelled with its
    duration, as a PNG: matplotlib on the Agg backend, as the /stats chart."""
    load_chart_library()
    from matplotlib.figure import Figure  # noqa: PLC0415 - imported by load_chart_library
    from matplotlib.ticker import FuncFormatter  # noqa: PLC0415

    figure = Figure(figsize=(CHART_WIDTH, chart_height(len(bars))), dpi=150, layout="constrained")
    axes = figure.subplots()
    # Top to bottom in the order given; `$` would start matplotlib's math text.
    names = [clean(name, LABEL_LIMIT).replace("$", r"\$") for name, _ in reversed(bars)]
    hours = [minutes / 60 for _, minutes in reversed(bars)]
    drawn = axes.barh(range(len(bars)), hours, color="#3b6ea5")
    axes.set_yticks(range(len(bars)), names)
    axes.bar_label(
        drawn,
        labels=[duration(minutes, language) for _, minutes in reversed(bars)],
        padding=3,
        fontsize="small",
    )
    axes.xaxis.set_major_formatter(
        FuncFormatter(lambda value, _: format_number(Decimal(str(round(value, 2))), language))
    )
    axes.set_xlabel(text(language, "document.chart_hours"))
    axes.margins(x=0.18)  # room for the last label
    axes.spines[["top", "right"]].set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
