"""Envelopes, the facts their use is computed from, and what a federation is told once: the
envelope alerts (80 %, 100 %) and the monthly statements (issue 14).

Each "sent once" row is written with `ON CONFLICT DO NOTHING` rather than `INSERT OR IGNORE`,
which would also swallow a CHECK that fails (a threshold of 90 %) and call it "already sent".

`envelope_facts` reads the year's time entries through their date index and the approved
estimates of the federation's open requests; bot.rules.envelopes turns them into used,
committed and remaining. Amounts are per-entry cents, half up, as in storage.estimates.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import aiosqlite

from storage.db import utc_text
from storage.estimates import CHUNK, ENTRY_CENTS
from storage.models import (
    Approval,
    Commitment,
    Envelope,
    EnvelopeFacts,
    EnvelopeHistory,
    EnvelopeKind,
    LoggedDay,
    StatusChange,
)

# -- envelopes --------------------------------------------------------------------------------

_SAME = "federation_id = ? AND year = ? AND COALESCE(field_id, 0) = COALESCE(?, 0)"


async def get_envelope(conn: aiosqlite.Connection, envelope_id: int) -> Envelope | None:
    async with conn.execute("SELECT * FROM envelopes WHERE id = ?", (envelope_id,)) as cur:
        row = await cur.fetchone()
    return Envelope.model_validate(dict(row)) if row else None


async def envelope_of(
    conn: aiosqlite.Connection, federation_id: int, year: int, field_id: int | None = None
) -> Envelope | None:
    """A federation's envelope of a year, for all its fields (None) or for one."""
    async with conn.execute(
        f"SELECT * FROM envelopes WHERE {_SAME}", (federation_id, year, field_id)
    ) as cur:
        row = await cur.fetchone()
    return Envelope.model_validate(dict(row)) if row else None


async def set_envelope(
    conn: aiosqlite.Connection,
    *,
    federation_id: int,
    year: int,
    field_id: int | None,
    kind: EnvelopeKind,
    amount: int,
    created_by: int,
    now: datetime,
) -> Envelope:
    """Create or change a federation's envelope of a year (and field): `amount` in minutes
    for hours, in cents for dollars. A new amount or kind is a new budget: the alerts told for
    the old one are forgotten, to be told again when the new one is reached."""
    existing = await envelope_of(conn, federation_id, year, field_id)
    if existing is None:
        await conn.execute(
            "INSERT INTO envelopes (federation_id, year, field_id, kind, amount, created_by,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (federation_id, year, field_id, kind.value, amount, created_by, utc_text(now)),
        )
    elif (existing.kind, existing.amount) != (kind, amount):
        await conn.execute(
            "UPDATE envelopes SET kind = ?, amount = ?, created_by = ?, created_at = ?"
            " WHERE id = ?",
            (kind.value, amount, created_by, utc_text(now), existing.id),
        )
        await conn.execute("DELETE FROM envelope_alerts WHERE envelope_id = ?", (existing.id,))
    envelope = await envelope_of(conn, federation_id, year, field_id)
    assert envelope is not None
    return envelope


async def remove_envelope(conn: aiosqlite.Connection, envelope_id: int) -> bool:
    """Remove an envelope and its alerts; False if there was none."""
    await conn.execute("DELETE FROM envelope_alerts WHERE envelope_id = ?", (envelope_id,))
    cur = await conn.execute("DELETE FROM envelopes WHERE id = ?", (envelope_id,))
    return cur.rowcount == 1


_BY_YEAR = "year, field_id IS NOT NULL, field_id"  # the field-less envelope first


async def federation_envelopes(
    conn: aiosqlite.Connection, federation_id: int, year: int | None = None
) -> list[Envelope]:
    """A federation's envelopes (of one year, or all), by year, the field-less one first."""
    sql, args = "SELECT * FROM envelopes WHERE federation_id = ?", [federation_id]
    if year is not None:
        sql, args = sql + " AND year = ?", [federation_id, year]
    async with conn.execute(f"{sql} ORDER BY {_BY_YEAR}", args) as cur:
        return [Envelope.model_validate(dict(r)) for r in await cur.fetchall()]


async def envelopes_of_year(conn: aiosqlite.Connection, year: int) -> list[Envelope]:
    """Every federation's envelopes of a year (for the alerts' check), by federation."""
    async with conn.execute(
        f"SELECT * FROM envelopes WHERE year = ? ORDER BY federation_id, {_BY_YEAR}", (year,)
    ) as cur:
        return [Envelope.model_validate(dict(r)) for r in await cur.fetchall()]


# -- what an envelope's use is computed from --------------------------------------------------


def year_bounds(year: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The first moment of a local year and of the next (aware)."""
    return (
        datetime.combine(date(year, 1, 1), time(), tz),
        datetime.combine(date(year + 1, 1, 1), time(), tz),
    )


async def envelope_facts(
    conn: aiosqlite.Connection, envelope: Envelope, tz: ZoneInfo
) -> EnvelopeFacts:
    """The facts of an envelope's use (bot.rules.envelopes.usage).

    Used: the time entries of the year (their local work date) on the federation's requests,
    of the envelope's field if it has one (the entry's field, as billed). Committed: for each
    of the federation's open requests (of that field) whose latest approved estimate was
    approved in the year (local time), that estimate's upper bound and all the time logged on
    the request. A request resolved, closed or cancelled commits nothing more.
    """
    field = " AND te.field_id = ?" if envelope.field_id is not None else ""
    field_args = [envelope.field_id] if envelope.field_id is not None else []
    federation_args = [envelope.federation_id, *field_args]
    async with conn.execute(
        f"SELECT COALESCE(SUM(te.minutes), 0), COALESCE(SUM({ENTRY_CENTS}), 0)"
        " FROM time_entries te JOIN tickets t ON t.id = te.ticket_id"
        f" WHERE te.work_date >= ? AND te.work_date < ? AND t.federation_id = ?{field}",
        [f"{envelope.year:04d}-01-01", f"{envelope.year + 1:04d}-01-01", *federation_args],
    ) as cur:
        row = await cur.fetchone()
    used_minutes, used_cents = (int(row[0]), int(row[1])) if row else (0, 0)
    start, end = year_bounds(envelope.year, tz)
    field = " AND t.field_id = ?" if envelope.field_id is not None else ""
    async with conn.execute(
        "SELECT e.ticket_id, e.high_minutes, e.high_amount_cents,"
        " COALESCE(SUM(te.minutes), 0) AS logged_minutes,"
        f" COALESCE(SUM({ENTRY_CENTS}), 0) AS logged_cents"
        " FROM tickets t JOIN estimates e ON e.id = (SELECT MAX(id) FROM estimates"
        "   WHERE ticket_id = t.id AND status = 'approved')"
        " LEFT JOIN time_entries te ON te.ticket_id = t.id"
        " WHERE t.federation_id = ? AND t.status NOT IN ('resolved', 'closed', 'cancelled')"
        f"{field} AND e.decided_at >= ? AND e.decided_at < ?"
        " GROUP BY t.id ORDER BY t.id",
        [*federation_args, utc_text(start), utc_text(end)],
    ) as cur:
        commitments = tuple(Commitment.model_validate(dict(r)) for r in await cur.fetchall())
    return EnvelopeFacts(used_minutes=used_minutes, used_cents=used_cents, commitments=commitments)


async def envelope_history(
    conn: aiosqlite.Connection, envelope: Envelope, tz: ZoneInfo
) -> EnvelopeHistory:
    """The history an envelope's commitments as of a past moment are computed from
    (bot.rules.envelopes.commitments_at): the approvals decided in the year (local time) on
    the federation's requests (of the envelope's field), and of those requests every status
    change of their audit trail and the time logged on them, by day. Estimates keep their
    decision's time and an approved one is never changed afterwards; later refusals,
    revisions and approvals are later rows, which the rule leaves out by their time."""
    start, end = year_bounds(envelope.year, tz)
    field = " AND t.field_id = ?" if envelope.field_id is not None else ""
    args: list[object] = [envelope.federation_id]
    args += [envelope.field_id] if envelope.field_id is not None else []
    args += [utc_text(start), utc_text(end)]
    async with conn.execute(
        "SELECT e.ticket_id, e.id AS estimate_id, e.decided_at, e.high_minutes,"
        " e.high_amount_cents FROM estimates e JOIN tickets t ON t.id = e.ticket_id"
        f" WHERE t.federation_id = ?{field} AND e.status = 'approved'"
        " AND e.decided_at >= ? AND e.decided_at < ? ORDER BY e.ticket_id, e.id",
        args,
    ) as cur:
        approvals = tuple(Approval.model_validate(dict(r)) for r in await cur.fetchall())
    ids = sorted({a.ticket_id for a in approvals})
    changes: list[StatusChange] = []
    logged: list[LoggedDay] = []
    for first in range(0, len(ids), CHUNK):
        chunk = ids[first : first + CHUNK]
        marks = ",".join("?" * len(chunk))
        async with conn.execute(
            "SELECT ticket_id, id AS event_id, to_status AS status, created_at AS at"
            f" FROM ticket_events WHERE ticket_id IN ({marks}) AND to_status IS NOT NULL"
            " ORDER BY ticket_id, id",
            chunk,
        ) as cur:
            changes += [StatusChange.model_validate(dict(r)) for r in await cur.fetchall()]
        async with conn.execute(
            "SELECT te.ticket_id, te.work_date, SUM(te.minutes) AS minutes,"
            f" SUM({ENTRY_CENTS}) AS cents FROM time_entries te"
            f" WHERE te.ticket_id IN ({marks}) GROUP BY te.ticket_id, te.work_date"
            " ORDER BY te.ticket_id, te.work_date",
            chunk,
        ) as cur:
            logged += [LoggedDay.model_validate(dict(r)) for r in await cur.fetchall()]
    return EnvelopeHistory(approvals=approvals, changes=tuple(changes), logged=tuple(logged))


# -- alerts -----------------------------------------------------------------------------------


async def alerts_sent(conn: aiosqlite.Connection, envelope_id: int) -> frozenset[int]:
    """The thresholds (80, 100) already told for an envelope."""
    async with conn.execute(
        "SELECT threshold FROM envelope_alerts WHERE envelope_id = ?", (envelope_id,)
    ) as cur:
        return frozenset(r[0] for r in await cur.fetchall())


async def mark_alert_sent(
    conn: aiosqlite.Connection, envelope_id: int, threshold: int, now: datetime
) -> bool:
    """Note that a threshold was told (in the transaction that queues the message); False if
    it already was, so that each is told once, whatever the runs or restarts."""
    cur = await conn.execute(
        "INSERT INTO envelope_alerts (envelope_id, threshold, sent_at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (envelope_id, threshold, utc_text(now)),
    )
    return cur.rowcount == 1


async def mark_alerts_sent(
    conn: aiosqlite.Connection, envelope_id: int, thresholds: Iterable[int], now: datetime
) -> frozenset[int]:
    """`mark_alert_sent` for several thresholds (a jump past both); those newly noted."""
    noted = set()
    for threshold in thresholds:
        if await mark_alert_sent(conn, envelope_id, threshold, now):
            noted.add(threshold)
    return frozenset(noted)


# -- monthly statements -----------------------------------------------------------------------


async def statement_sent(conn: aiosqlite.Connection, federation_id: int, month: str) -> bool:
    """Whether a federation's statement of a month (`YYYY-MM`) was sent to its managers."""
    async with conn.execute(
        "SELECT 1 FROM statements_sent WHERE federation_id = ? AND month = ?",
        (federation_id, month),
    ) as cur:
        return await cur.fetchone() is not None


async def statements_sent(conn: aiosqlite.Connection, month: str) -> frozenset[int]:
    """The federations whose statement of a month was sent."""
    async with conn.execute(
        "SELECT federation_id FROM statements_sent WHERE month = ?", (month,)
    ) as cur:
        return frozenset(r[0] for r in await cur.fetchall())


async def mark_statement_sent(
    conn: aiosqlite.Connection, federation_id: int, month: str, now: datetime
) -> bool:
    """Note that a statement was sent (in the transaction that queues it); False if it already
    was, so that each federation gets each month's once, across restarts."""
    cur = await conn.execute(
        "INSERT INTO statements_sent (federation_id, month, sent_at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (federation_id, month, utc_text(now)),
    )
    return cur.rowcount == 1
