"""The /stats message: a period's stats in words."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from babel.numbers import format_decimal, format_percent

from bot.rules.periods import describe
from bot.rules.stats import Counts, Share, Stats
from bot.ui.i18n import LOCALES, Html, t, tn
from storage.models import ExpertiseField, Federation


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
