"""What governance reports read (issue 14): the time logged in a period, by federation and
field, at the entries' rates. The requests received in the period and their targets are read
as /stats reads them (storage.reports.ticket_facts); estimates from storage.estimates.
"""

from __future__ import annotations

from datetime import date

import aiosqlite

from storage.estimates import ENTRY_CENTS
from storage.models import Record


class FieldTime(Record):
    """The time logged on one federation's requests in one field: minutes, cents."""

    federation_id: int
    field_id: int
    minutes: int
    cents: int


async def time_by_field(conn: aiosqlite.Connection, first: date, after: date) -> list[FieldTime]:
    """The time worked from `first` to the day before `after`, by federation then field (the
    entry's field as billed, else its request's), each entry priced at its own rate."""
    async with conn.execute(
        "SELECT t.federation_id, COALESCE(te.field_id, t.field_id) AS field_id,"
        f" SUM(te.minutes) AS minutes, SUM({ENTRY_CENTS}) AS cents"
        " FROM time_entries te JOIN tickets t ON t.id = te.ticket_id"
        " WHERE te.work_date >= ? AND te.work_date < ?"
        " GROUP BY t.federation_id, COALESCE(te.field_id, t.field_id)"
        " ORDER BY t.federation_id, field_id",
        (first.isoformat(), after.isoformat()),
    ) as cur:
        return [FieldTime.model_validate(dict(r)) for r in await cur.fetchall()]
