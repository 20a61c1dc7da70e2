"""Tickets, their per-year references, attachments and audit events."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.db import utc_text
from storage.models import Attachment, Draft, Ticket, TicketEvent, TicketStatus


async def next_reference(conn: aiosqlite.Connection, prefix: str, year: int) -> str:
    """The next reference of the year, e.g. CREC-2026-0042 (inside the caller's transaction)."""
    async with conn.execute(
        "INSERT INTO ticket_sequences (year, last) VALUES (?, 1)"
        " ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
        (year,),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    return f"{prefix}-{year}-{row[0]:04d}"


async def insert_ticket(
    conn: aiosqlite.Connection,
    *,
    reference: str,
    draft: Draft,
    federation_id: int,
    now: datetime,
) -> Ticket:
    """Create the ticket of a complete draft, with its attachments."""
    assert draft.field_id is not None and draft.subject and draft.description and draft.urgency
    stamp = utc_text(now)
    cur = await conn.execute(
        "INSERT INTO tickets (reference, draft_id, contact_id, federation_id, field_id, subject,"
        " description, urgency, desired_date, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            reference,
            draft.id,
            draft.user_id,
            federation_id,
            draft.field_id,
            draft.subject,
            draft.description,
            draft.urgency.value,
            draft.desired_date.isoformat() if draft.desired_date else None,
            stamp,
            stamp,
        ),
    )
    ticket_id = cur.lastrowid
    assert ticket_id is not None
    await conn.executemany(
        "INSERT INTO attachments (ticket_id, kind, file_id, file_unique_id, file_name, mime_type,"
        " file_size, uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                ticket_id,
                a.kind,
                a.file_id,
                a.file_unique_id,
                a.file_name,
                a.mime_type,
                a.file_size,
                draft.user_id,
                stamp,
            )
            for a in draft.attachments
        ],
    )
    ticket = await get_ticket(conn, ticket_id)
    assert ticket is not None
    return ticket


async def get_ticket(conn: aiosqlite.Connection, ticket_id: int) -> Ticket | None:
    async with conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)) as cur:
        row = await cur.fetchone()
    return Ticket.model_validate(dict(row)) if row else None


async def ticket_by_reference(conn: aiosqlite.Connection, reference: str) -> Ticket | None:
    async with conn.execute(
        "SELECT * FROM tickets WHERE reference = ?", (reference.upper(),)
    ) as cur:
        row = await cur.fetchone()
    return Ticket.model_validate(dict(row)) if row else None


async def ticket_by_draft(conn: aiosqlite.Connection, draft_id: int) -> Ticket | None:
    async with conn.execute("SELECT * FROM tickets WHERE draft_id = ?", (draft_id,)) as cur:
        row = await cur.fetchone()
    return Ticket.model_validate(dict(row)) if row else None


async def contact_tickets(
    conn: aiosqlite.Connection, contact_id: int, limit: int, offset: int = 0
) -> list[Ticket]:
    """A contact's tickets, newest first."""
    async with conn.execute(
        "SELECT * FROM tickets WHERE contact_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
        (contact_id, limit, offset),
    ) as cur:
        rows = await cur.fetchall()
    return [Ticket.model_validate(dict(r)) for r in rows]


async def count_contact_tickets(conn: aiosqlite.Connection, contact_id: int) -> int:
    async with conn.execute(
        "SELECT COUNT(*) FROM tickets WHERE contact_id = ?", (contact_id,)
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def ticket_attachments(conn: aiosqlite.Connection, ticket_id: int) -> list[Attachment]:
    async with conn.execute(
        "SELECT kind, file_id, file_unique_id, file_name, mime_type, file_size"
        " FROM attachments WHERE ticket_id = ? ORDER BY id",
        (ticket_id,),
    ) as cur:
        return [Attachment.model_validate(dict(r)) for r in await cur.fetchall()]


async def set_status(
    conn: aiosqlite.Connection,
    ticket: Ticket,
    to_status: TicketStatus,
    now: datetime,
    *,
    assignee_id: int | None = None,
) -> bool:
    """Move a ticket on, only if it is still in the state the caller saw (compare-and-set)."""
    stamp = utc_text(now)
    cur = await conn.execute(
        "UPDATE tickets SET status = ?, assignee_id = COALESCE(?, assignee_id), updated_at = ?,"
        " first_response_at = CASE WHEN ? = 'assigned' THEN COALESCE(first_response_at, ?)"
        " ELSE first_response_at END"
        " WHERE id = ? AND status = ?",
        (
            to_status.value,
            assignee_id,
            stamp,
            to_status.value,
            stamp,
            ticket.id,
            ticket.status.value,
        ),
    )
    return cur.rowcount == 1


async def add_event(
    conn: aiosqlite.Connection,
    *,
    ticket_id: int,
    actor_id: int | None,
    kind: str,
    now: datetime,
    from_status: TicketStatus | None = None,
    to_status: TicketStatus | None = None,
    note: str | None = None,
) -> None:
    """Write one audit event (always inside the transaction of the change it records)."""
    await conn.execute(
        "INSERT INTO ticket_events (ticket_id, actor_id, kind, from_status, to_status, note,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            ticket_id,
            actor_id,
            kind,
            from_status.value if from_status else None,
            to_status.value if to_status else None,
            note,
            utc_text(now),
        ),
    )


async def ticket_events(conn: aiosqlite.Connection, ticket_id: int) -> list[TicketEvent]:
    async with conn.execute(
        "SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id", (ticket_id,)
    ) as cur:
        return [TicketEvent.model_validate(dict(r)) for r in await cur.fetchall()]
