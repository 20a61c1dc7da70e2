"""The notification outbox: a message is a row before it is a Telegram call."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import utc_text
from storage.models import OutboxMessage, OutboxStatus


def _model(row: aiosqlite.Row) -> OutboxMessage:
    return OutboxMessage.model_validate({**dict(row), "payload": json.loads(row["payload"])})


async def enqueue(
    conn: aiosqlite.Connection,
    *,
    chat_id: int,
    method: str,
    payload: dict[str, Any],
    purpose: str,
    now: datetime,
    ticket_id: int | None = None,
    edit_of: int | None = None,
    ticket_message_id: int | None = None,
) -> int:
    """Queue one Bot API call (inside the transaction of the change it announces)."""
    stamp = utc_text(now)
    cur = await conn.execute(
        "INSERT INTO outbox (chat_id, method, payload, purpose, ticket_id, edit_of,"
        " ticket_message_id, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            chat_id,
            method,
            json.dumps(payload),
            purpose,
            ticket_id,
            edit_of,
            ticket_message_id,
            stamp,
            stamp,
        ),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


async def due(conn: aiosqlite.Connection, now: datetime, limit: int) -> list[OutboxMessage]:
    """Pending rows whose time has come, oldest first."""
    async with conn.execute(
        "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
        " ORDER BY next_attempt_at, id LIMIT ?",
        (utc_text(now), limit),
    ) as cur:
        return [_model(r) for r in await cur.fetchall()]


async def get(conn: aiosqlite.Connection, outbox_id: int) -> OutboxMessage | None:
    async with conn.execute("SELECT * FROM outbox WHERE id = ?", (outbox_id,)) as cur:
        row = await cur.fetchone()
    return _model(row) if row else None


async def mark_sent(
    conn: aiosqlite.Connection, outbox_id: int, message_id: int | None, now: datetime
) -> None:
    await conn.execute(
        "UPDATE outbox SET status = 'sent', message_id = ?, sent_at = ?, attempts = attempts + 1"
        " WHERE id = ?",
        (message_id, utc_text(now), outbox_id),
    )


async def retry_later(
    conn: aiosqlite.Connection, outbox_id: int, when: datetime, error: str
) -> None:
    await conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
        " WHERE id = ? AND status = 'pending'",
        (utc_text(when), error[:500], outbox_id),
    )


async def hold_chat(conn: aiosqlite.Connection, chat_id: int, until: datetime) -> int:
    """Postpone every pending row of one chat due before `until` to `until` (a 429 on it):
    they come due together, and `due` gives them back in the order they were queued."""
    cur = await conn.execute(
        "UPDATE outbox SET next_attempt_at = ?"
        " WHERE chat_id = ? AND status = 'pending' AND next_attempt_at < ?",
        (utc_text(until), chat_id, utc_text(until)),
    )
    return cur.rowcount


async def give_up(
    conn: aiosqlite.Connection, outbox_id: int, status: OutboxStatus, error: str
) -> None:
    """End a row without sending it (failed, blocked or cancelled), keeping the reason."""
    await conn.execute(
        "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
        (status.value, error[:500], outbox_id),
    )


async def for_ticket(
    conn: aiosqlite.Connection, ticket_id: int, purpose: str
) -> list[OutboxMessage]:
    async with conn.execute(
        "SELECT * FROM outbox WHERE ticket_id = ? AND purpose = ? ORDER BY id",
        (ticket_id, purpose),
    ) as cur:
        return [_model(r) for r in await cur.fetchall()]


async def cancel_pending(
    conn: aiosqlite.Connection, ticket_id: int, purpose: str, reason: str
) -> int:
    """Cancel the not-yet-sent rows of a ticket for a purpose (e.g. offers of a taken ticket)."""
    cur = await conn.execute(
        "UPDATE outbox SET status = 'cancelled', last_error = ?"
        " WHERE ticket_id = ? AND purpose = ? AND status = 'pending'",
        (reason, ticket_id, purpose),
    )
    return cur.rowcount


async def oldest_pending(conn: aiosqlite.Connection) -> datetime | None:
    async with conn.execute("SELECT MIN(created_at) FROM outbox WHERE status = 'pending'") as cur:
        row = await cur.fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None
