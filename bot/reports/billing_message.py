"""The /billing message: the month's total and each federation's, hours as the reader says
them ("2 h 15", "2.25 hours"), and the time logged without a rate set apart, with what to do."""

from __future__ import annotations

from collections.abc import Mapping

from bot.reports.billing import unrated_warning
from bot.rules.billing import Statement, billed_federations, federation_code
from bot.rules.durations import format_duration
from bot.rules.money import money
from bot.rules.periods import describe
from bot.ui.i18n import Html, t, tn
from storage.models import ExpertiseField, Federation


def render_billing(
    statement: Statement,
    fields: Mapping[int, ExpertiseField],
    federations: Mapping[int, Federation],
    language: str,
) -> list[Html]:
    """The lines of the /billing message (the spreadsheet follows it)."""
    period = describe(statement.period, language)
    if not statement.federations:
        lines = [t(language, "billing.nothing_billed", period=period)]
    else:
        lines = [
            tn(
                language,
                "billing.summary",
                len(statement.federations),
                period=period,
                hours=format_duration(statement.total.minutes, language),
                amount=money(statement.total.amount, language),
            )
        ]
    for part in billed_federations(statement, federations):
        lines.append(
            t(
                language,
                "billing.summary_line",
                code=federation_code(federations, part.federation_id),
                hours=format_duration(part.total.minutes, language),
                amount=money(part.total.amount, language),
            )
        )
    if statement.unrated:
        unrated = sorted(
            {entry.field_id for entry in statement.unrated},
            key=lambda f: (fields[f].position, f) if f in fields else (0, f),
        )
        names = ", ".join(fields[f].name(language) if f in fields else "?" for f in unrated)
        lines += [Html(""), unrated_warning(statement, language, "unrated", fields=names)]
    return lines
