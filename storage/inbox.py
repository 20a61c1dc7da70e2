"""The inbox of updates: received (committed) before Telegram is told, marked when handled."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import utc_text


async def record(
    conn: aiosqlite.Connection,
    update_id: int,
    chat_id: int | None,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    """Keep an update; False if it was already kept (Telegram sent it again)."""
    cur = await conn.execute(
        "INSERT OR IGNORE INTO inbox (update_id, chat_id, payload, received_at)"
        " VALUES (?, ?, ?, ?)",
        (update_id, chat_id, json.dumps(payload), utc_text(now)),
    )
    return cur.rowcount == 1


async def is_handled(conn: aiosqlite.Connection, update_id: int) -> bool:
    async with conn.execute(
        "SELECT handled_at IS NOT NULL FROM inbox WHERE update_id = ?", (update_id,)
    ) as cur:
        row = await cur.fetchone()
    return bool(row and row[0])


async def mark_handled(conn: aiosqlite.Connection, update_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE inbox SET handled_at = ? WHERE update_id = ? AND handled_at IS NULL",
        (utc_text(now), update_id),
    )


async def pending(conn: aiosqlite.Connection, limit: int) -> list[dict[str, Any]]:
    """Updates received but not handled, oldest first (so each chat's order is kept)."""
    async with conn.execute(
        "SELECT payload FROM inbox WHERE handled_at IS NULL ORDER BY update_id LIMIT ?", (limit,)
    ) as cur:
        return [json.loads(r[0]) for r in await cur.fetchall()]


async def counts(conn: aiosqlite.Connection) -> tuple[int, str | None]:
    """How many updates wait, and since when."""
    async with conn.execute(
        "SELECT COUNT(*), MIN(received_at) FROM inbox WHERE handled_at IS NULL"
    ) as cur:
        row = await cur.fetchone()
    return (int(row[0]), row[1]) if row else (0, None)


async def forget_handled(conn: aiosqlite.Connection, before: datetime) -> int:
    """Drop handled updates older than `before` (they are only kept to spot repeats)."""
    cur = await conn.execute(
        "DELETE FROM inbox WHERE handled_at IS NOT NULL AND handled_at < ?", (utc_text(before),)
    )
    return cur.rowcount
