"""Requests across several fields: the parts of a request, the fields picked at the review, a
lead's part being written, and a contact's message waiting to be told which part it is for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import utc_text
from storage.models import Ticket

# Parts a contact may still write to and expect an answer on.
_OPEN = "'new', 'assigned', 'in_progress', 'waiting', 'awaiting_approval'"


# -- the form's other fields ------------------------------------------------------------------


async def draft_fields(conn: aiosqlite.Connection, draft_id: int) -> list[int]:
    """The other fields picked for a draft, in the order of the fields' list."""
    async with conn.execute(
        "SELECT d.field_id FROM draft_fields d JOIN expertise_fields f ON f.id = d.field_id"
        " WHERE d.draft_id = ? ORDER BY f.position, f.id",
        (draft_id,),
    ) as cur:
        return [int(r[0]) for r in await cur.fetchall()]


async def toggle_draft_field(conn: aiosqlite.Connection, draft_id: int, field_id: int) -> bool:
    """Pick the field for the draft, or unpick it if it was; whether it is picked now."""
    cur = await conn.execute(
        "DELETE FROM draft_fields WHERE draft_id = ? AND field_id = ?", (draft_id, field_id)
    )
    if cur.rowcount:
        return False
    await conn.execute(
        "INSERT INTO draft_fields (draft_id, field_id) VALUES (?, ?)", (draft_id, field_id)
    )
    return True


# -- the parts of a request -------------------------------------------------------------------


async def link(
    conn: aiosqlite.Connection,
    request: Ticket,
    part: Ticket,
    now: datetime,
    added_by: int | None = None,
) -> None:
    """Make `part` a part of the request `request` is the first part of (both recorded)."""
    stamp = utc_text(now)
    await conn.execute(
        "INSERT OR IGNORE INTO ticket_parts (ticket_id, request_id, field_id, created_at)"
        " VALUES (?, ?, ?, ?)",
        (request.id, request.id, request.field_id, stamp),
    )
    await conn.execute(
        "INSERT INTO ticket_parts (ticket_id, request_id, field_id, added_by, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (part.id, request.id, part.field_id, added_by, stamp),
    )


async def request_of(conn: aiosqlite.Connection, ticket_id: int) -> int:
    """The request a ticket is a part of: its first part's id (the ticket's own, if alone)."""
    async with conn.execute(
        "SELECT request_id FROM ticket_parts WHERE ticket_id = ?", (ticket_id,)
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else ticket_id


@dataclass(frozen=True)
class PartOrigin:
    """Who added a part from a ticket's card (None for the parts the contact filed)."""

    added_by: int | None
    request_id: int


async def origin(conn: aiosqlite.Connection, ticket_id: int) -> PartOrigin | None:
    async with conn.execute(
        "SELECT added_by, request_id FROM ticket_parts WHERE ticket_id = ?", (ticket_id,)
    ) as cur:
        row = await cur.fetchone()
    return PartOrigin(row[0], int(row[1])) if row else None


async def parts_of(conn: aiosqlite.Connection, ticket_id: int) -> list[Ticket]:
    """Every part of the ticket's request, first part first; [] for a ticket on its own."""
    async with conn.execute(
        "SELECT t.* FROM ticket_parts p JOIN tickets t ON t.id = p.ticket_id"
        " WHERE p.request_id = (SELECT request_id FROM ticket_parts WHERE ticket_id = ?)"
        " ORDER BY t.id",
        (ticket_id,),
    ) as cur:
        return [Ticket.model_validate(dict(r)) for r in await cur.fetchall()]


async def parts_of_requests(
    conn: aiosqlite.Connection, request_ids: Iterable[int]
) -> dict[int, list[Ticket]]:
    """The parts of several requests (by first part), for those that have more than one."""
    ids = sorted(set(request_ids))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    async with conn.execute(
        "SELECT p.request_id AS request_id, t.* FROM ticket_parts p"
        f" JOIN tickets t ON t.id = p.ticket_id WHERE p.request_id IN ({marks}) ORDER BY t.id",
        ids,
    ) as cur:
        rows = await cur.fetchall()
    found: dict[int, list[Ticket]] = {}
    for row in rows:
        found.setdefault(int(row["request_id"]), []).append(Ticket.model_validate(dict(row)))
    return found


async def contact_requests(
    conn: aiosqlite.Connection, contact_id: int, limit: int
) -> tuple[list[Ticket], int]:
    """A contact's requests by their first part, newest first (a page, and how many)."""
    first = (
        "contact_id = ? AND NOT EXISTS (SELECT 1 FROM ticket_parts p"
        " WHERE p.ticket_id = tickets.id AND p.request_id <> p.ticket_id)"
    )
    async with conn.execute(
        f"SELECT * FROM tickets WHERE {first} ORDER BY id DESC LIMIT ?", (contact_id, limit)
    ) as cur:
        page = [Ticket.model_validate(dict(r)) for r in await cur.fetchall()]
    async with conn.execute(f"SELECT COUNT(*) FROM tickets WHERE {first}", (contact_id,)) as cur:
        row = await cur.fetchone()
    return page, int(row[0]) if row else 0


async def open_parts_of_contact(conn: aiosqlite.Connection, contact_id: int) -> list[Ticket]:
    """The contact's parts still being worked on, in requests that have several of them."""
    async with conn.execute(
        "SELECT t.* FROM ticket_parts p JOIN tickets t ON t.id = p.ticket_id"
        f" WHERE t.contact_id = ? AND t.status IN ({_OPEN})"
        " ORDER BY p.request_id DESC, t.id",
        (contact_id,),
    ) as cur:
        return [Ticket.model_validate(dict(r)) for r in await cur.fetchall()]


# -- a lead's new part, while its note is written ---------------------------------------------


async def choose_field(
    conn: aiosqlite.Connection, user_id: int, ticket_id: int, field_id: int, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO part_choices (user_id, ticket_id, field_id, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET ticket_id = excluded.ticket_id,"
        " field_id = excluded.field_id, created_at = excluded.created_at",
        (user_id, ticket_id, field_id, utc_text(now)),
    )


async def chosen_field(conn: aiosqlite.Connection, user_id: int, ticket_id: int) -> int | None:
    """The field the lead picked for a new part of this ticket, if they did."""
    async with conn.execute(
        "SELECT field_id FROM part_choices WHERE user_id = ? AND ticket_id = ?",
        (user_id, ticket_id),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else None


async def clear_choice(conn: aiosqlite.Connection, user_id: int) -> None:
    await conn.execute("DELETE FROM part_choices WHERE user_id = ?", (user_id,))


# -- a contact's message, until they say which part it is for ---------------------------------


@dataclass(frozen=True)
class HeldMessage:
    chat_id: int
    message_id: int
    body: str


async def hold_message(
    conn: aiosqlite.Connection, user_id: int, held: HeldMessage, now: datetime
) -> None:
    """Keep the message (the latest one only: a newer message replaces it)."""
    await conn.execute(
        "INSERT INTO part_questions (user_id, chat_id, message_id, body, created_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET chat_id = excluded.chat_id,"
        " message_id = excluded.message_id, body = excluded.body,"
        " created_at = excluded.created_at",
        (user_id, held.chat_id, held.message_id, held.body, utc_text(now)),
    )


async def held_message(conn: aiosqlite.Connection, user_id: int) -> HeldMessage | None:
    async with conn.execute(
        "SELECT chat_id, message_id, body FROM part_questions WHERE user_id = ?", (user_id,)
    ) as cur:
        row = await cur.fetchone()
    return HeldMessage(int(row[0]), int(row[1]), str(row[2])) if row else None


async def release_message(conn: aiosqlite.Connection, user_id: int, message_id: int) -> bool:
    """Forget the held message once sent; False if it was not held any more (pressed twice)."""
    cur = await conn.execute(
        "DELETE FROM part_questions WHERE user_id = ? AND message_id = ?", (user_id, message_id)
    )
    return cur.rowcount == 1
