"""What a federation's monthly statement is read from (issue 14): the month's time entries on
its requests, each with its rate, its lead, and its request's reference, subject and field;
and the time of its envelopes used up to the end of the month.

Dates are the entries' local work dates, as /billing reads them; amounts are per-entry cents,
half up (storage.estimates.ENTRY_CENTS).
"""

from __future__ import annotations

from datetime import date, datetime

import aiosqlite

from storage.db import utc_text
from storage.estimates import ENTRY_CENTS
from storage.models import Envelope, Record


class StatementEntry(Record):
    """One time entry of the month, with what the statement shows of its request."""

    ticket_id: int
    reference: str
    subject: str
    ticket_field_id: int
    work_date: date
    lead_name: str
    minutes: int
    hourly_rate_cents: int
    note: str | None


async def month_entries(
    conn: aiosqlite.Connection, federation_id: int, first: date, after: date
) -> list[StatementEntry]:
    """The time entries of a federation's requests from `first` to the day before `after`, by
    request reference, then day, then entry."""
    async with conn.execute(
        "SELECT te.ticket_id, t.reference, t.subject, t.field_id AS ticket_field_id,"
        " te.work_date, u.full_name AS lead_name, te.minutes, te.hourly_rate_cents, te.note"
        " FROM time_entries te JOIN tickets t ON t.id = te.ticket_id"
        " JOIN users u ON u.id = te.lead_id"
        " WHERE t.federation_id = ? AND te.work_date >= ? AND te.work_date < ?"
        " ORDER BY t.reference, te.work_date, te.id",
        (federation_id, first.isoformat(), after.isoformat()),
    ) as cur:
        return [StatementEntry.model_validate(dict(r)) for r in await cur.fetchall()]


async def used_before(
    conn: aiosqlite.Connection, envelope: Envelope, after: date
) -> tuple[int, int]:
    """An envelope's use from the start of its year to the day before `after`: minutes, and
    cents at each entry's rate (of its field if it has one, the entry's field as billed)."""
    field = " AND te.field_id = ?" if envelope.field_id is not None else ""
    args: list[object] = [envelope.federation_id, f"{envelope.year:04d}-01-01", after.isoformat()]
    if envelope.field_id is not None:
        args.append(envelope.field_id)
    async with conn.execute(
        f"SELECT COALESCE(SUM(te.minutes), 0), COALESCE(SUM({ENTRY_CENTS}), 0)"
        " FROM time_entries te JOIN tickets t ON t.id = te.ticket_id"
        f" WHERE t.federation_id = ? AND te.work_date >= ? AND te.work_date < ?{field}",
        args,
    ) as cur:
        row = await cur.fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def federations_with_time(conn: aiosqlite.Connection, first: date, after: date) -> list[int]:
    """The federations with time logged on their requests in a period, by id."""
    async with conn.execute(
        "SELECT DISTINCT t.federation_id FROM time_entries te"
        " JOIN tickets t ON t.id = te.ticket_id"
        " WHERE te.work_date >= ? AND te.work_date < ? ORDER BY t.federation_id",
        (first.isoformat(), after.isoformat()),
    ) as cur:
        return [int(r[0]) for r in await cur.fetchall()]


async def delivery_status(
    conn: aiosqlite.Connection, federation_id: int, month: str, user_id: int
) -> str | None:
    """What became of a manager's statement of a month: None (not tried, or to try again),
    'sending' (interrupted), 'sent', 'blocked' or 'failed'."""
    async with conn.execute(
        "SELECT status FROM statement_deliveries WHERE federation_id = ? AND month = ?"
        " AND user_id = ?",
        (federation_id, month, user_id),
    ) as cur:
        row = await cur.fetchone()
    return str(row[0]) if row else None


async def record_delivery(
    conn: aiosqlite.Connection,
    federation_id: int,
    month: str,
    user_id: int,
    status: str | None,
    now: datetime,
) -> None:
    """Record a manager's statement's state (None: forget it, to try it again)."""
    if status is None:
        await conn.execute(
            "DELETE FROM statement_deliveries WHERE federation_id = ? AND month = ?"
            " AND user_id = ?",
            (federation_id, month, user_id),
        )
        return
    await conn.execute(
        "INSERT INTO statement_deliveries (federation_id, month, user_id, status, at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET status = excluded.status,"
        " at = excluded.at",
        (federation_id, month, user_id, status, utc_text(now)),
    )
