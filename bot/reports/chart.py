"""The chart of /stats: the requests received per week, stacked by field, as a PNG."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING

from babel.dates import format_date, format_skeleton

from bot.rules.periods import describe
from bot.rules.stats import Stats
from bot.ui.i18n import LOCALES, plain, t
from storage.models import ExpertiseField

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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
    """The chart's label of each week, its first day inside the period: `1er nov.`, `2 nov.`…
    (`Nov 1` in English); the first of a month is « 1er », as in every date the bot writes."""
    locale = LOCALES.get(language, "fr_CA")
    labels = []
    for week in sorted(stats.weekly):
        if language == "fr" and week.day == 1:
            labels.append(f"1er {format_date(week, 'MMM', locale=locale)}")
        else:
            labels.append(format_skeleton("MMMd", week, locale=locale))
    return labels


# One colour per field, from its id, so that a field is the same colour on every chart,
# whichever fields had requests: Tableau's ten strong colours, then their ten light ones.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip


def field_colour(field_id: int) -> str:
    """A field's colour on the charts; past twenty fields, colours come round again."""
    return PALETTE[(field_id - 1) % len(PALETTE)]


def weekly_figure(stats: Stats, fields: Mapping[int, ExpertiseField], language: str) -> Figure:
    """The bar chart of the requests received per week, stacked by field: one bar per week of
    the period up to today, labelled with the week's first day inside the period."""
    load_chart_library()
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
    for field_id in present:
        heights = [stats.weekly[w].get(field_id, 0) for w in weeks]
        known = fields.get(field_id)
        axes.bar(
            positions,
            heights,
            bottom=bottoms,
            label=known.name(language) if known else str(field_id),
            color=field_colour(field_id),
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
