"""What is said on a ticket (relayed messages), time logged on it, and pending inputs."""

from __future__ import annotations

from datetime import date, datetime

import aiosqlite

from storage.db import utc_text
from storage.models import Record

# -- messages ---------------------------------------------------------------------------------


class TicketMessage(Record):
    id: int
    ticket_id: int
    author_id: int
    kind: str
    body: str | None
    file_id: str | None
    file_unique_id: str | None
    file_name: str | None
    source_chat_id: int
    source_message_id: int
    created_at: datetime
    edited_at: datetime | None


async def add_message(
    conn: aiosqlite.Connection,
    *,
    ticket_id: int,
    author_id: int,
    kind: str,
    body: str | None,
    source_chat_id: int,
    source_message_id: int,
    now: datetime,
    file_id: str | None = None,
    file_unique_id: str | None = None,
    file_name: str | None = None,
) -> int | None:
    """Keep a message on the ticket; None if this very message was already kept (a redelivery)."""
    cur = await conn.execute(
        "INSERT OR IGNORE INTO ticket_messages (ticket_id, author_id, kind, body, file_id,"
        " file_unique_id, file_name, source_chat_id, source_message_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ticket_id,
            author_id,
            kind,
            body,
            file_id,
            file_unique_id,
            file_name,
            source_chat_id,
            source_message_id,
            utc_text(now),
        ),
    )
    return cur.lastrowid if cur.rowcount == 1 else None


async def message_by_source(
    conn: aiosqlite.Connection, chat_id: int, message_id: int
) -> TicketMessage | None:
    async with conn.execute(
        "SELECT * FROM ticket_messages WHERE source_chat_id = ? AND source_message_id = ?",
        (chat_id, message_id),
    ) as cur:
        row = await cur.fetchone()
    return TicketMessage.model_validate(dict(row)) if row else None


async def last_message_from(
    conn: aiosqlite.Connection, chat_id: int, author_id: int
) -> TicketMessage | None:
    """The last message `author_id` wrote from `chat_id` that was kept on a ticket."""
    async with conn.execute(
        "SELECT * FROM ticket_messages WHERE source_chat_id = ? AND author_id = ?"
        " ORDER BY source_message_id DESC LIMIT 1",
        (chat_id, author_id),
    ) as cur:
        row = await cur.fetchone()
    return TicketMessage.model_validate(dict(row)) if row else None


async def edit_message(
    conn: aiosqlite.Connection, message_id: int, body: str, now: datetime
) -> None:
    await conn.execute(
        "UPDATE ticket_messages SET body = ?, edited_at = ? WHERE id = ?",
        (body, utc_text(now), message_id),
    )


async def ticket_messages(conn: aiosqlite.Connection, ticket_id: int) -> list[TicketMessage]:
    async with conn.execute(
        "SELECT * FROM ticket_messages WHERE ticket_id = ? ORDER BY id", (ticket_id,)
    ) as cur:
        return [TicketMessage.model_validate(dict(r)) for r in await cur.fetchall()]


async def relays_of(conn: aiosqlite.Connection, ticket_message_id: int) -> list[tuple[int, str]]:
    """The outbox rows (id, method) that carried a message to the other side."""
    async with conn.execute(
        "SELECT id, method FROM outbox WHERE ticket_message_id = ? AND edit_of IS NULL",
        (ticket_message_id,),
    ) as cur:
        return [(r[0], r[1]) for r in await cur.fetchall()]


# -- time -------------------------------------------------------------------------------------


class TimeEntry(Record):
    id: int
    ticket_id: int
    lead_id: int
    field_id: int
    work_date: date
    minutes: int
    hourly_rate_cents: int
    note: str | None
    created_at: datetime


async def add_time(
    conn: aiosqlite.Connection,
    *,
    ticket_id: int,
    lead_id: int,
    field_id: int,
    work_date: date,
    minutes: int,
    hourly_rate_cents: int,
    note: str | None,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO time_entries (ticket_id, lead_id, field_id, work_date, minutes,"
        " hourly_rate_cents, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ticket_id,
            lead_id,
            field_id,
            work_date.isoformat(),
            minutes,
            hourly_rate_cents,
            note,
            utc_text(now),
        ),
    )


async def time_entries(conn: aiosqlite.Connection, ticket_id: int) -> list[TimeEntry]:
    async with conn.execute(
        "SELECT * FROM time_entries WHERE ticket_id = ? ORDER BY id", (ticket_id,)
    ) as cur:
        return [TimeEntry.model_validate(dict(r)) for r in await cur.fetchall()]


# -- pending inputs ---------------------------------------------------------------------------


class PendingInput(Record):
    user_id: int
    kind: str
    ticket_id: int
    created_at: datetime


async def expect_input(
    conn: aiosqlite.Connection, user_id: int, kind: str, ticket_id: int, now: datetime
) -> None:
    """The person's next message is for `kind` on this ticket (replacing any earlier wait)."""
    await conn.execute(
        "INSERT INTO pending_inputs (user_id, kind, ticket_id, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET kind = excluded.kind,"
        " ticket_id = excluded.ticket_id, created_at = excluded.created_at",
        (user_id, kind, ticket_id, utc_text(now)),
    )


async def pending_input(conn: aiosqlite.Connection, user_id: int) -> PendingInput | None:
    async with conn.execute("SELECT * FROM pending_inputs WHERE user_id = ?", (user_id,)) as cur:
        row = await cur.fetchone()
    return PendingInput.model_validate(dict(row)) if row else None


async def clear_input(conn: aiosqlite.Connection, user_id: int) -> bool:
    cur = await conn.execute("DELETE FROM pending_inputs WHERE user_id = ?", (user_id,))
    return cur.rowcount == 1
