"""A small world for the member federation's repositories, written straight to a real database:
two federations, their contacts and managers, a lead, requests and time entries."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import aiosqlite

from storage import conversation, people, tickets
from storage.db import Database, utc_text
from storage.models import Role, Ticket, TicketStatus, Urgency

NOW = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)  # a Tuesday afternoon in Montréal
CQCH, FCAQ = 1, 2
MARIE, PAUL, GISELE, ROGER = 10, 11, 12, 13  # contacts of CQCH, GISELE manages it; ROGER FCAQ
JEAN, ADMIN = 20, 30
LEGAL, HR = 1, 2  # default fields of expertise
LEGAL_RATE = 9550  # 95,50 $ an hour

_references = itertools.count(1)


@asynccontextmanager
async def world(folder: Path) -> AsyncIterator[Database]:
    """A database with the two federations and their people (each test's `db` fixture)."""
    opened = Database(folder / "intake.db")
    await opened.open()
    try:
        async with opened.transaction() as conn:
            await _people(conn)
        yield opened
    finally:
        await opened.close()


async def _people(conn: aiosqlite.Connection) -> None:
    await people.create_federation(conn, "CQCH", "Confédération québécoise", NOW)
    await people.create_federation(conn, "FCAQ", "Fédération des coopératives", NOW)
    for user_id, name, federation in [
        (MARIE, "Marie", CQCH),
        (PAUL, "Paul", CQCH),
        (GISELE, "Gisèle", CQCH),
        (ROGER, "Roger", FCAQ),
    ]:
        await people.create_user(
            conn,
            user_id=user_id,
            role=Role.CONTACT,
            full_name=name,
            username=None,
            language="fr",
            now=NOW,
            federation_id=federation,
        )
    for user_id, name, role in [(JEAN, "Jean", Role.LEAD), (ADMIN, "Claire", Role.ADMIN)]:
        await people.create_user(
            conn, user_id=user_id, role=role, full_name=name, username=None, language="fr", now=NOW
        )
    await people.add_lead(conn, LEGAL, JEAN)
    await conn.execute(
        "UPDATE expertise_fields SET hourly_rate_cents = ? WHERE id = ?", (LEGAL_RATE, LEGAL)
    )
    await people.set_manager(conn, GISELE, True)
    await people.set_manager(conn, ROGER, True)


async def request(
    conn: aiosqlite.Connection,
    *,
    status: TicketStatus = TicketStatus.IN_PROGRESS,
    urgency: Urgency = Urgency.NORMAL,
    federation_id: int = CQCH,
    contact_id: int = MARIE,
    field_id: int = LEGAL,
    created_at: datetime = NOW,
) -> Ticket:
    """A request as it stands after some work (held by Jean)."""
    number = next(_references)
    stamp = utc_text(created_at)
    cur = await conn.execute(
        "INSERT INTO tickets (reference, contact_id, federation_id, field_id, subject,"
        " description, urgency, status, assignee_id, created_at, updated_at, first_response_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            f"CREC-2026-{number:04d}",
            contact_id,
            federation_id,
            field_id,
            f"Demande {number}",
            "Une description assez longue.",
            urgency.value,
            status.value,
            None if status is TicketStatus.NEW else JEAN,
            stamp,
            stamp,
            None if status is TicketStatus.NEW else stamp,
        ),
    )
    assert cur.lastrowid is not None
    ticket = await tickets.get_ticket(conn, cur.lastrowid)
    assert ticket is not None
    return ticket


async def log(
    conn: aiosqlite.Connection,
    ticket: Ticket,
    minutes: int,
    *,
    rate: int = LEGAL_RATE,
    day: date = date(2026, 11, 24),
    field_id: int | None = None,
) -> None:
    """Jean logs time on a request, at `rate`."""
    await conversation.add_time(
        conn,
        ticket_id=ticket.id,
        lead_id=JEAN,
        field_id=field_id or ticket.field_id,
        work_date=day,
        minutes=minutes,
        hourly_rate_cents=rate,
        note=None,
        now=NOW,
    )
