"""The chart of /stats: the requests received per week, stacked by field, as a PNG."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING

from babel.dates import format_skeleton

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
