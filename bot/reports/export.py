"""/export's spreadsheet: the tickets received in a period, one row each, with every column an
admin filters on. Statuses read from the staff's side (the reader is an admin); delays and
hours are durations, amounts are dollars, moments are local times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from bot.reports.spreadsheets import Sheet, save, spent
from bot.rules.business_time import BusinessCalendar
from bot.rules.money import entry_amount
from bot.rules.stats import met_target
from bot.ui.i18n import plain, t
from storage.models import ExpertiseField, Federation, SlaTarget, Target, Urgency
from storage.reports import ExportRow

# Each column's key (its header is `export.col_<key>`) and the width its values need.
EXPORT_COLUMNS = (
    ("reference", 15),
    ("created", 16),
    ("field_code", 8),
    ("field", 30),
    ("federation_code", 8),
    ("federation", 30),
    ("contact", 22),
    ("subject", 40),
    ("urgency", 10),
    ("status", 26),
    ("assignee", 22),
    ("desired_date", 10),
    ("first_response", 16),
    ("resolved", 16),
    ("closed", 16),
    ("first_response_hours", 9),
    ("resolution_hours", 9),
    ("first_response_met", 5),
    ("resolution_met", 5),
    ("rating", 5),
    ("hours", 8),
    ("amount", 11),
)


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    """A moment as a naive local time: spreadsheets have no time zones."""
    return moment.astimezone(tz).replace(tzinfo=None) if moment else None


def _elapsed(start: datetime, end: datetime | None) -> timedelta | None:
    return None if end is None else end - start


def export_workbook(
    rows: Sequence[ExportRow],
    time_by_ticket: Mapping[int, Sequence[tuple[int, int]]],
    *,
    fields: Mapping[int, ExpertiseField],
    federations: Mapping[int, Federation],
    targets: Mapping[Urgency, SlaTarget],
    calendar: BusinessCalendar,
    now: datetime,
    language: str,
) -> bytes:
    """The tickets of a period, one row each, with every column an admin filters on (.xlsx)."""
    tz = calendar.tz
    workbook = Workbook(write_only=True)
    headers = [plain(t(language, f"export.col_{name}")) for name, _ in EXPORT_COLUMNS]
    sheet = Sheet(
        workbook,
        plain(t(language, "export.sheet")),
        language,
        widths=[width for _, width in EXPORT_COLUMNS],
        headers=[headers],
        frozen_rows=1,
    )
    sheet.header(headers)
    yes_no = {True: plain(t(language, "export.yes")), False: plain(t(language, "export.no"))}
    for row in rows:
        known_field = fields.get(row.field_id)
        federation = federations.get(row.federation_id)
        entries = time_by_ticket.get(row.id, ())
        met = [met_target(row, which, targets, calendar, now) for which in Target]
        sheet.row(
            [
                row.reference,
                _local(row.created_at, tz),
                known_field.code if known_field else None,
                known_field.name(language) if known_field else None,
                federation.code if federation else None,
                federation.name if federation else None,
                row.contact_name,
                row.subject,
                plain(t(language, f"urgency.{row.urgency.value}")),
                # `status.*` are the staff's words ("Waiting for the contact"): the reader
                # is an admin, not the contact (`status_contact.*`).
                plain(t(language, f"status.{row.status.value}")),
                row.assignee_name,
                row.desired_date,
                _local(row.first_response_at, tz),
                _local(row.resolved_at, tz),
                _local(row.closed_at, tz),
                _elapsed(row.created_at, row.first_response_at),
                _elapsed(row.created_at, row.resolved_at),
                *(yes_no[m] if m is not None else None for m in met),
                row.rating,
                spent(sum(m for m, _ in entries)) if entries else None,
                sum((entry_amount(m, r) for m, r in entries), Decimal("0.00"))
                if entries
                else None,
            ]
        )
    sheet.filter(len(rows))
    return save(workbook)
