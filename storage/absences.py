"""Absences of leads and who covers them (migration 0014), and the contacts told of a cover."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import aiosqlite

from storage.db import utc_text
from storage.models import Absence


def _absence(row: aiosqlite.Row) -> Absence:
    return Absence.model_validate(dict(row))


async def standing_absence(conn: aiosqlite.Connection, user_id: int) -> Absence | None:
    """The person's absence that has not ended (under way, to come, or past its last day)."""
    async with conn.execute(
        "SELECT * FROM absences WHERE user_id = ? AND ended_at IS NULL", (user_id,)
    ) as cur:
        row = await cur.fetchone()
    return _absence(row) if row else None


async def absences_on(conn: aiosqlite.Connection, day: date) -> list[Absence]:
    """Every absence that covers `day` (not ended early), by person."""
    async with conn.execute(
        "SELECT * FROM absences WHERE ended_at IS NULL AND starts_on <= ? AND ends_on >= ?"
        " ORDER BY user_id",
        (day.isoformat(), day.isoformat()),
    ) as cur:
        return [_absence(r) for r in await cur.fetchall()]


async def upcoming_of(
    conn: aiosqlite.Connection, user_ids: Iterable[int], day: date
) -> dict[int, Absence]:
    """The absences under way or to come of these people (as `/users` shows them), by person."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    async with conn.execute(
        f"SELECT * FROM absences WHERE ended_at IS NULL AND ends_on >= ? AND user_id IN ({marks})",
        [day.isoformat(), *wanted],
    ) as cur:
        return {r["user_id"]: _absence(r) for r in await cur.fetchall()}


async def end_absence(conn: aiosqlite.Connection, absence_id: int, now: datetime) -> bool:
    """End an absence early, or set it aside for a newer one; False if it had ended."""
    cur = await conn.execute(
        "UPDATE absences SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
        (utc_text(now), absence_id),
    )
    return cur.rowcount == 1


async def add_absence(
    conn: aiosqlite.Connection,
    *,
    user_id: int,
    starts_on: date,
    ends_on: date,
    delegate_id: int | None,
    created_by: int,
    now: datetime,
) -> Absence:
    """Record an absence; the person's standing one, if any, ends (it is replaced)."""
    await conn.execute(
        "UPDATE absences SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
        (utc_text(now), user_id),
    )
    cur = await conn.execute(
        "INSERT INTO absences (user_id, starts_on, ends_on, delegate_id, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            user_id,
            starts_on.isoformat(),
            ends_on.isoformat(),
            delegate_id,
            created_by,
            utc_text(now),
        ),
    )
    async with conn.execute("SELECT * FROM absences WHERE id = ?", (cur.lastrowid,)) as found:
        row = await found.fetchone()
    assert row is not None
    return _absence(row)


async def mark_told(
    conn: aiosqlite.Connection, absence_id: int, contact_id: int, now: datetime
) -> bool:
    """Record that a contact was told of this absence's cover; False if they already were."""
    cur = await conn.execute(
        "INSERT OR IGNORE INTO absence_notices (absence_id, contact_id, told_at) VALUES (?, ?, ?)",
        (absence_id, contact_id, utc_text(now)),
    )
    return cur.rowcount == 1
