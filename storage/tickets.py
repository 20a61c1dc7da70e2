"""Tickets, their per-year references, attachments and audit events."""

from __future__ import annotations

from collections.abc import Iterable
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
    field_id: int | None = None,
) -> Ticket:
    """Create the ticket of a complete draft, with its attachments; with `field_id`, another
    part of the draft's request, in that field (only the first part records the draft)."""
    assert draft.field_id is not None and draft.subject and draft.description and draft.urgency
    stamp = utc_text(now)
    cur = await conn.execute(
        "INSERT INTO tickets (reference, draft_id, contact_id, federation_id, field_id, subject,"
        " description, urgency, desired_date, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            reference,
            draft.id if field_id is None else None,
            draft.user_id,
            federation_id,
            field_id or draft.field_id,
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


async def count_contact_tickets(conn: aiosqlite.Connection, contact_id: int) -> int:
    async with conn.execute(
        "SELECT COUNT(*) FROM tickets WHERE contact_id = ?", (contact_id,)
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def federation_tickets(
    conn: aiosqlite.Connection, federation_id: int, limit: int, offset: int = 0
) -> list[Ticket]:
    """Every ticket of a federation (what its managers see), newest first."""
    async with conn.execute(
        "SELECT * FROM tickets WHERE federation_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
        (federation_id, limit, offset),
    ) as cur:
        rows = await cur.fetchall()
    return [Ticket.model_validate(dict(r)) for r in rows]


async def count_federation_tickets(conn: aiosqlite.Connection, federation_id: int) -> int:
    async with conn.execute(
        "SELECT COUNT(*) FROM tickets WHERE federation_id = ?", (federation_id,)
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
    resolution_note: str | None = None,
) -> bool:
    """Move a ticket on, only if it is still in the state the caller saw (compare-and-set).

    Keeps the clocks of service levels: the first assignment is the first response; resolving
    stamps resolved_at (a reopening clears it); closing or cancelling stamps closed_at.
    """
    stamp = utc_text(now)
    target = to_status.value
    cur = await conn.execute(
        "UPDATE tickets SET status = ?, assignee_id = COALESCE(?, assignee_id), updated_at = ?,"
        " first_response_at = CASE WHEN ? = 'assigned' THEN COALESCE(first_response_at, ?)"
        "   ELSE first_response_at END,"
        " resolved_at = CASE WHEN ? = 'resolved' THEN ? WHEN ? = 'in_progress' AND status ="
        "   'resolved' THEN NULL ELSE resolved_at END,"
        " closed_at = CASE WHEN ? IN ('closed', 'cancelled') THEN ? ELSE closed_at END,"
        " resolution_note = COALESCE(?, resolution_note)"
        " WHERE id = ? AND status = ?",
        (
            target,
            assignee_id,
            stamp,
            target,
            stamp,
            target,
            stamp,
            target,
            target,
            stamp,
            resolution_note,
            ticket.id,
            ticket.status.value,
        ),
    )
    return cur.rowcount == 1


async def touch(conn: aiosqlite.Connection, ticket_id: int, now: datetime) -> None:
    """Something happened on the ticket (a message): its last activity is now."""
    await conn.execute(
        "UPDATE tickets SET updated_at = ? WHERE id = ?", (utc_text(now), ticket_id)
    )


async def set_rating(
    conn: aiosqlite.Connection, ticket_id: int, rating: int, now: datetime
) -> bool:
    """Record the contact's rating once (a closed ticket without one)."""
    cur = await conn.execute(
        "UPDATE tickets SET rating = ?, updated_at = ? WHERE id = ? AND rating IS NULL"
        " AND status = 'closed'",
        (rating, utc_text(now), ticket_id),
    )
    return cur.rowcount == 1


async def set_rating_comment(conn: aiosqlite.Connection, ticket_id: int, comment: str) -> None:
    await conn.execute(
        "UPDATE tickets SET rating_comment = ? WHERE id = ? AND rating IS NOT NULL",
        (comment, ticket_id),
    )


# The states of a ticket someone holds and still works on (its estimate awaiting approval too).
_HELD = "'assigned', 'in_progress', 'waiting', 'awaiting_approval'"
URGENCY_ORDER = "CASE urgency WHEN 'critical' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END"


async def lead_queue(
    conn: aiosqlite.Connection,
    *,
    lead_id: int,
    field_ids: Iterable[int],
    everything: bool,
    limit: int,
    offset: int,
    covering: Iterable[int] = (),
) -> tuple[list[Ticket], int]:
    """Open tickets for a lead: theirs, those of the absent people they cover, and the
    unassigned ones of their fields (admins: all).

    Most urgent first, then oldest. Returns a page and the total.
    """
    fields = sorted(set(field_ids))
    if everything:
        where, args = f"status IN ('new', {_HELD})", []
    else:
        holders = [lead_id, *sorted(set(covering) - {lead_id})]
        marks = ",".join("?" * len(fields)) or "NULL"
        where = (
            f"(assignee_id IN ({','.join('?' * len(holders))}) AND status IN ({_HELD}))"
            f" OR (status = 'new' AND field_id IN ({marks}))"
        )
        args = [*holders, *fields]
    async with conn.execute(
        f"SELECT * FROM tickets WHERE {where} ORDER BY {URGENCY_ORDER}, id LIMIT ? OFFSET ?",
        (*args, limit, offset),
    ) as cur:
        rows = [Ticket.model_validate(dict(r)) for r in await cur.fetchall()]
    async with conn.execute(f"SELECT COUNT(*) FROM tickets WHERE {where}", args) as cur:
        row = await cur.fetchone()
    return rows, int(row[0]) if row else 0


async def search(
    conn: aiosqlite.Connection,
    words: list[str],
    *,
    lead_id: int,
    field_ids: Iterable[int],
    everything: bool,
    limit: int,
    federation_id: int | None = None,
) -> list[Ticket]:
    """Tickets whose subject or description contains every word, that the person may see (a
    manager: `federation_id`, their federation's)."""
    query = " ".join('"' + w.replace('"', '""') + '"' for w in words)
    fields = sorted(set(field_ids))
    visible = ""
    args: list[object] = [query]
    if federation_id is not None:
        visible = " AND t.federation_id = ?"
        args.append(federation_id)
    elif not everything:
        marks = ",".join("?" * len(fields)) or "NULL"
        visible = f" AND (t.assignee_id = ? OR t.field_id IN ({marks}))"
        args += [lead_id, *fields]
    # Newest first in the full-text index's own order (rowid = ticket id): SQLite then reads
    # matches from the newest and stops at `limit`, instead of sorting every match.
    async with conn.execute(
        "SELECT t.* FROM tickets_fts JOIN tickets t ON t.id = tickets_fts.rowid"
        f" WHERE tickets_fts MATCH ?{visible} ORDER BY tickets_fts.rowid DESC LIMIT ?",
        (*args, limit),
    ) as cur:
        return [Ticket.model_validate(dict(r)) for r in await cur.fetchall()]


async def resolved_before(conn: aiosqlite.Connection, moment: datetime) -> list[Ticket]:
    """Resolved tickets whose resolution is older than `moment` (to close them)."""
    async with conn.execute(
        "SELECT * FROM tickets WHERE status = 'resolved' AND resolved_at <= ? ORDER BY id",
        (utc_text(moment),),
    ) as cur:
        return [Ticket.model_validate(dict(r)) for r in await cur.fetchall()]


async def ticket_of_message(
    conn: aiosqlite.Connection, chat_id: int, message_id: int
) -> int | None:
    """The ticket a bot message in a chat was about (to route a Telegram reply to it)."""
    async with conn.execute(
        "SELECT ticket_id FROM outbox WHERE chat_id = ? AND message_id = ?"
        " AND ticket_id IS NOT NULL ORDER BY id DESC LIMIT 1",
        (chat_id, message_id),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else None


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


async def count_filed_since(conn: aiosqlite.Connection, contact_id: int, since: datetime) -> int:
    """How many requests a contact filed since a moment (for the daily limit): the other parts
    of a request across several fields are not counted."""
    async with conn.execute(
        "SELECT COUNT(*) FROM tickets WHERE contact_id = ? AND created_at > ? AND NOT EXISTS"
        " (SELECT 1 FROM ticket_parts p WHERE p.ticket_id = tickets.id"
        " AND p.request_id <> p.ticket_id)",
        (contact_id, utc_text(since)),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0
