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


class Delivery(Record):
    """What became of a manager's statement of a month (storage/migrations/0010, 0015)."""

    status: str  # sending, sent, blocked, failed, unsure, retry, given_up
    at: datetime
    tries: int  # the checks at which its send failed for a passing reason


async def delivery(
    conn: aiosqlite.Connection, federation_id: int, month: str, user_id: int
) -> Delivery | None:
    """A manager's statement of a month as recorded; None: not tried yet."""
    async with conn.execute(
        "SELECT status, at, tries FROM statement_deliveries WHERE federation_id = ?"
        " AND month = ? AND user_id = ?",
        (federation_id, month, user_id),
    ) as cur:
        row = await cur.fetchone()
    return Delivery.model_validate(dict(row)) if row else None


async def record_delivery(
    conn: aiosqlite.Connection,
    federation_id: int,
    month: str,
    user_id: int,
    status: str,
    now: datetime,
    *,
    tries: int | None = None,
    was: str | None = None,
) -> bool:
    """Record a manager's statement's state (and with `tries`, its failed checks); with `was`,
    only if it is still in that state (compare-and-set: False if it no longer was)."""
    if was is not None:
        cur = await conn.execute(
            "UPDATE statement_deliveries SET status = ?, at = ?, tries = COALESCE(?, tries)"
            " WHERE federation_id = ? AND month = ? AND user_id = ? AND status = ?",
            (status, utc_text(now), tries, federation_id, month, user_id, was),
        )
        return cur.rowcount == 1
    await conn.execute(
        "INSERT INTO statement_deliveries (federation_id, month, user_id, status, at, tries)"
        " VALUES (?, ?, ?, ?, ?, COALESCE(?, 0)) ON CONFLICT DO UPDATE SET"
        " status = excluded.status, at = excluded.at, tries = COALESCE(?, tries)",
        (federation_id, month, user_id, status, utc_text(now), tries, tries),
    )
    return True
