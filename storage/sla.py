"""Service levels: the targets per urgency and the reminders already sent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import aiosqlite

from storage.db import utc_text
from storage.models import (
    OPEN_STATUSES,
    AlertKind,
    SlaTarget,
    Target,
    Urgency,
    WatchedTicket,
)

CHUNK = 500  # ids per `IN (...)`: well under SQLite's limit on parameters


async def targets(conn: aiosqlite.Connection) -> dict[Urgency, SlaTarget]:
    """The current targets, by urgency."""
    async with conn.execute(
        "SELECT urgency, first_response_minutes, resolution_minutes FROM sla_targets"
    ) as cur:
        rows = await cur.fetchall()
    found = [SlaTarget.model_validate(dict(r)) for r in rows]
    return {t.urgency: t for t in found}


async def set_target(
    conn: aiosqlite.Connection,
    urgency: Urgency,
    target: Target,
    minutes: int,
    admin_id: int,
    now: datetime,
) -> None:
    """Change one target (the column name comes from the enum, never from user input)."""
    column = f"{target.value}_minutes"
    await conn.execute(
        f"UPDATE sla_targets SET {column} = ?, updated_by = ?, updated_at = ? WHERE urgency = ?",
        (minutes, admin_id, utc_text(now), urgency.value),
    )


async def watched_tickets(conn: aiosqlite.Connection) -> list[WatchedTicket]:
    """Every open ticket that still has an alert to send (through the status index)."""
    marks = ",".join("?" * len(OPEN_STATUSES))
    sql = (
        "SELECT t.id, t.reference, t.subject, t.urgency, t.status, t.field_id, t.federation_id,"
        " t.assignee_id, t.created_at, t.first_response_at,"
        " (SELECT group_concat(a.target || ':' || a.kind) FROM sla_alerts a"
        "   WHERE a.ticket_id = t.id) AS sent"
        f" FROM tickets t WHERE t.status IN ({marks}) ORDER BY t.id"
    )
    async with conn.execute(sql, [s.value for s in OPEN_STATUSES]) as cur:
        rows = await cur.fetchall()
    found = []
    for row in rows:
        sent = frozenset(
            (Target(pair.split(":")[0]), AlertKind(pair.split(":")[1]))
            for pair in (row["sent"] or "").split(",")
            if pair
        )
        if len(sent) == len(Target) * len(AlertKind):
            continue
        found.append(WatchedTicket.model_validate({**dict(row), "sent": sent}))
    return found


async def watched_tickets_by_id(
    conn: aiosqlite.Connection, ticket_ids: Sequence[int]
) -> list[WatchedTicket]:
    """These tickets as `watched_tickets` sees them, those still open only, by id."""
    found: list[WatchedTicket] = []
    statuses = [s.value for s in OPEN_STATUSES]
    for start in range(0, len(ticket_ids), CHUNK):
        chunk = list(ticket_ids[start : start + CHUNK])
        async with conn.execute(
            "SELECT id, reference, subject, urgency, status, field_id, federation_id,"
            " assignee_id, created_at, first_response_at FROM tickets"
            f" WHERE id IN ({','.join('?' * len(chunk))})"
            f" AND status IN ({','.join('?' * len(statuses))}) ORDER BY id",
            [*chunk, *statuses],
        ) as cur:
            found += [WatchedTicket.model_validate(dict(r)) for r in await cur.fetchall()]
    return found


async def sent_alerts(
    conn: aiosqlite.Connection, ticket_ids: Sequence[int]
) -> set[tuple[int, Target, AlertKind]]:
    """The alerts already recorded for these tickets."""
    found: set[tuple[int, Target, AlertKind]] = set()
    for start in range(0, len(ticket_ids), CHUNK):
        chunk = list(ticket_ids[start : start + CHUNK])
        async with conn.execute(
            "SELECT ticket_id, target, kind FROM sla_alerts"
            f" WHERE ticket_id IN ({','.join('?' * len(chunk))})",
            chunk,
        ) as cur:
            found |= {(r[0], Target(r[1]), AlertKind(r[2])) for r in await cur.fetchall()}
    return found


async def record_alerts(
    conn: aiosqlite.Connection,
    alerts: Iterable[tuple[int, Target, AlertKind]],
    now: datetime,
) -> None:
    """Note that these alerts are sent (in the transaction that queues their messages)."""
    await conn.executemany(
        "INSERT OR IGNORE INTO sla_alerts (ticket_id, target, kind, sent_at) VALUES (?, ?, ?, ?)",
        [
            (ticket_id, target.value, kind.value, utc_text(now))
            for ticket_id, target, kind in alerts
        ],
    )
