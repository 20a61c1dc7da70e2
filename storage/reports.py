"""What stats, exports and billing read. Each query is bounded by a period through an index:
tickets by `created_at` (tickets_created), time entries by `work_date` (time_entries_date) or
by ticket (time_entries_ticket); never a scan of the whole table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TypeVar

import aiosqlite

from storage.db import utc_text
from storage.models import Record, TicketFacts, TimeEntryLine

_COHORT = "SELECT id FROM tickets WHERE created_at >= ? AND created_at < ?"
R = TypeVar("R", bound=Record)


class ExportRow(TicketFacts):
    """One ticket of an export, with the names an admin filters on."""

    reference: str
    subject: str
    desired_date: date | None
    closed_at: datetime | None
    contact_name: str | None
    assignee_name: str | None


async def ticket_facts(
    conn: aiosqlite.Connection, start: datetime, end: datetime
) -> list[TicketFacts]:
    """The tickets created in [start, end), oldest first."""
    return await _records(
        conn,
        TicketFacts,
        "SELECT id, created_at, urgency, status, field_id, federation_id, first_response_at,"
        " resolved_at, rating FROM tickets WHERE created_at >= ? AND created_at < ?"
        " ORDER BY created_at, id",
        (utc_text(start), utc_text(end)),
    )


async def export_rows(
    conn: aiosqlite.Connection, start: datetime, end: datetime
) -> list[ExportRow]:
    """The tickets created in [start, end) with their people, oldest first."""
    return await _records(
        conn,
        ExportRow,
        "SELECT t.id, t.reference, t.subject, t.created_at, t.urgency, t.status, t.field_id,"
        " t.federation_id, t.first_response_at, t.resolved_at, t.closed_at, t.rating,"
        " t.desired_date, c.full_name AS contact_name, a.full_name AS assignee_name"
        " FROM tickets t LEFT JOIN users c ON c.id = t.contact_id"
        " LEFT JOIN users a ON a.id = t.assignee_id"
        " WHERE t.created_at >= ? AND t.created_at < ? ORDER BY t.created_at, t.id",
        (utc_text(start), utc_text(end)),
    )


async def time_of_tickets_created(
    conn: aiosqlite.Connection, start: datetime, end: datetime
) -> dict[int, list[tuple[int, int]]]:
    """(minutes, hourly rate in cents) of every time entry of the tickets created in [start, end),
    by ticket id."""
    found: dict[int, list[tuple[int, int]]] = {}
    async with conn.execute(
        "SELECT ticket_id, minutes, hourly_rate_cents FROM time_entries"
        f" WHERE ticket_id IN ({_COHORT}) ORDER BY id",
        (utc_text(start), utc_text(end)),
    ) as cur:
        for row in await cur.fetchall():
            found.setdefault(row[0], []).append((row[1], row[2]))
    return found


async def time_entries_between(
    conn: aiosqlite.Connection, first: date, after: date
) -> list[TimeEntryLine]:
    """The time entries worked from `first` to the day before `after`, by ticket then date."""
    return await _records(
        conn,
        TimeEntryLine,
        "SELECT te.id, te.work_date, te.minutes, te.hourly_rate_cents, te.note, te.field_id,"
        " u.full_name AS lead_name, t.id AS ticket_id, t.reference, t.subject, t.federation_id"
        " FROM time_entries te JOIN tickets t ON t.id = te.ticket_id"
        " LEFT JOIN users u ON u.id = te.lead_id"
        " WHERE te.work_date >= ? AND te.work_date < ?"
        " ORDER BY t.federation_id, t.reference, te.work_date, te.id",
        (first.isoformat(), after.isoformat()),
    )


async def _records(
    conn: aiosqlite.Connection, model: type[R], sql: str, parameters: Sequence[object]
) -> list[R]:
    """The rows of one query, as `model` records."""
    async with conn.execute(sql, parameters) as cur:
        return [model.model_validate(dict(r)) for r in await cur.fetchall()]
