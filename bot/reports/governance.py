"""Governance reports (issue 14): a quarter's or a year's figures for a federation's board, or
for the Consortium's own with the federations side by side, read from the database and
rendered as a PDF (bot/documents/report.py) in a worker thread.

The figures of a field or a federation: the requests received in the period, their share
within service targets (both the first response and the resolution decided, as /stats decides
each with bot.rules.stats.met_target) and their average rating; the time logged in the period
at each entry's rate; the approved estimates (upper bound) of the requests received in the
period set against the time logged on those requests, both as they stood at the period's end
(the estimate approved last before it, the time of the days before it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from telegram import Bot

from bot.documents.data import EnvelopeLine, FederationRow, FieldRow, Figures, Member, ReportData
from bot.documents.report import governance_report_pdf
from bot.federation.envelopes import envelope_lines
from bot.rules.business_time import BusinessCalendar
from bot.rules.periods import Period, describe
from bot.rules.service_levels import calendar_for
from bot.rules.stats import met_target
from bot.services import Services
from bot.ui.i18n import plain, t
from storage import estimates, people, reports, sla
from storage import governance as repo
from storage.db import Connection
from storage.models import (
    ExpertiseField,
    Federation,
    SlaTarget,
    Target,
    TicketFacts,
    Urgency,
)

Key = tuple[int, int]  # (federation id, field id)


@dataclass(frozen=True)
class _Targets:
    targets: Mapping[Urgency, SlaTarget]
    calendar: BusinessCalendar
    now: datetime

    def outcome(self, ticket: TicketFacts) -> bool | None:
        """Met both targets (True), missed one (False), or not decided yet (None)."""
        met = [
            met_target(ticket, which, self.targets, self.calendar, self.now)
            for which in (Target.FIRST_RESPONSE, Target.RESOLUTION)
        ]
        if False in met:
            return False
        return True if all(m is True for m in met) else None


def _figures(
    tickets: Iterable[TicketFacts],
    time: tuple[int, int],
    judge: _Targets,
    approved: Mapping[int, int],
    logged: Mapping[int, int],
) -> Figures:
    requests = met = decided = rating_sum = ratings = estimated = actual = 0
    for ticket in tickets:
        requests += 1
        outcome = judge.outcome(ticket)
        if outcome is not None:
            decided += 1
            met += outcome
        if ticket.rating is not None:
            rating_sum += ticket.rating
            ratings += 1
        if ticket.id in approved:
            estimated += approved[ticket.id]
            actual += logged.get(ticket.id, 0)
    return Figures(
        requests=requests,
        minutes=time[0],
        amount_cents=time[1],
        met_targets=met,
        decided=decided,
        rating_sum=rating_sum,
        ratings=ratings,
        estimated_minutes=estimated,
        actual_minutes=actual,
    )


async def report_data(
    conn: Connection,
    services: Services,
    period: Period,
    language: str,
    federation: Federation | None = None,
) -> ReportData:
    """The report of one federation for its board, or (None) the Consortium-wide one."""
    tz = services.settings.tz
    start, end = period.bounds(tz)
    facts = [
        f
        for f in await reports.ticket_facts(conn, start, end)
        if federation is None or f.federation_id == federation.id
    ]
    time: dict[Key, tuple[int, int]] = {
        (row.federation_id, row.field_id): (row.minutes, row.cents)
        for row in await repo.time_by_field(conn, period.first, period.after)
        if federation is None or row.federation_id == federation.id
    }
    ids = [f.id for f in facts]
    # Estimates against actuals as they stood at the period's end (a past quarter's report
    # does not change with a later revision, or with time logged after it).
    approved = {
        i: e.high_minutes
        for i, e in (await estimates.approved_estimates(conn, ids, before=end)).items()
    }
    logged = {
        i: spent.minutes
        for i, spent in (
            await estimates.time_logged_by_ticket(conn, list(approved), before=period.after)
        ).items()
    }
    judge = _Targets(await sla.targets(conn), calendar_for(tz), services.clock.now())
    fields = {f.id: f for f in await people.list_fields(conn, active_only=False)}

    def figures(keep: set[Key]) -> Figures:
        spent = [time[k] for k in keep if k in time]
        return _figures(
            (f for f in facts if (f.federation_id, f.field_id) in keep),
            (sum(m for m, _ in spent), sum(c for _, c in spent)),
            judge,
            approved,
            logged,
        )

    keys = {(f.federation_id, f.field_id) for f in facts} | set(time)
    field_rows = tuple(
        FieldRow(
            _field_name(fields, field_id, language), figures({k for k in keys if k[1] == field_id})
        )
        for field_id in sorted(
            {k[1] for k in keys}, key=lambda i: _field_name(fields, i, language)
        )
    )
    consortium = plain(t(language, "report.consortium"))
    if federation is not None:
        return ReportData(
            consortium,
            period,
            services.today(),
            field_rows,
            federation=Member(federation.code, federation.name),
            envelopes=await envelope_lines(conn, services, federation, period, fields, language),
        )
    rows = []
    envelopes: list[EnvelopeLine] = []  # the federations' side by side, « CQCH — 2026, … »
    for member, _ in await people.list_federations(conn):
        own = {k for k in keys if k[0] == member.id}
        if member.active or own:
            rows.append(FederationRow(Member(member.code, member.name), figures(own)))
            envelopes.extend(
                replace(line, label=f"{member.code} — {line.label}")
                for line in await envelope_lines(conn, services, member, period, fields, language)
            )
    return ReportData(
        consortium,
        period,
        services.today(),
        field_rows,
        federations=tuple(rows),
        envelopes=tuple(envelopes),
    )


def _field_name(fields: Mapping[int, ExpertiseField], field_id: int, language: str) -> str:
    field = fields.get(field_id)
    return field.name(language) if field else "—"


def period_label(period: Period, language: str) -> str:
    """The period as typed and in a file name: 2026-T4 in French, 2026-Q4 in English."""
    letter = plain(t(language, "report.quarter_letter"))
    return period.label.replace("-Q", f"-{letter}")


async def send_report(bot: Bot, chat_id: int, data: ReportData, language: str) -> None:
    """Send a report as a PDF to one chat (raises what the Bot API raised)."""
    pdf = await asyncio.to_thread(governance_report_pdf, data, language)
    code = data.federation.code if data.federation else plain(t(language, "report.everyone"))
    period = describe(data.period, language)
    await bot.send_document(
        chat_id,
        document=pdf,
        filename=plain(
            t(language, "report.file", code=code, period=period_label(data.period, language))
        ),
        caption=t(language, "report.caption", code=code, period=period)
        if data.federation
        else t(language, "report.caption_all", period=period),
    )
