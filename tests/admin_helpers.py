"""Helpers of the admin, service-level and report tests: a fake Bot API that keeps uploaded
files, the reports handlers, and records written straight to the database (tickets in any
state at any date, time entries) where the lifecycle's own flows would be slow to reach."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from openpyxl import load_workbook

from bot.tools.emulator import Emulator
from bot.tools.fakeapi import FakeBotAPI, Sent, Upload
from storage.db import utc_text


def upload_of(api: FakeBotAPI, sent: Sent) -> Upload:
    """The file behind a document or photo the bot uploaded (the fake Bot API keeps it)."""
    assert sent.content is not None, "not an uploaded file"
    return Upload(sent.file_name or "", sent.content)


def workbook_of(api: FakeBotAPI, sent: Sent) -> Any:
    """The spreadsheet the bot sent, opened with openpyxl (values, not formulas)."""
    return load_workbook(io.BytesIO(upload_of(api, sent).content))


# -- records written directly -----------------------------------------------------------------


async def field_id(bot: Emulator, code: str) -> int:
    """The id of a field of expertise by code."""
    async with bot.services.db.read() as conn:
        rows = list(
            await conn.execute_fetchall("SELECT id FROM expertise_fields WHERE code = ?", (code,))
        )
    return int(rows[0][0])


async def federation_id(bot: Emulator, code: str) -> int:
    """The id of a federation by code."""
    async with bot.services.db.read() as conn:
        rows = list(
            await conn.execute_fetchall("SELECT id FROM federations WHERE code = ?", (code,))
        )
    return int(rows[0][0])


async def insert_ticket(
    bot: Emulator,
    *,
    contact: int,
    created_at: datetime,
    field: str = "legal",
    federation: str = "CQCH",
    urgency: str = "normal",
    status: str = "new",
    assignee: int | None = None,
    first_response_at: datetime | None = None,
    resolved_at: datetime | None = None,
    closed_at: datetime | None = None,
    rating: int | None = None,
    subject: str = "Révision des règlements",
) -> tuple[int, str]:
    """A ticket in any state at any date (id, reference)."""
    fid, fed = await field_id(bot, field), await federation_id(bot, federation)
    async with bot.services.db.transaction() as conn:
        rows = list(await conn.execute_fetchall("SELECT COUNT(*) FROM tickets"))
        reference = f"CREC-{created_at.year}-{rows[0][0] + 1:04d}"
        cursor = await conn.execute(
            "INSERT INTO tickets (reference, contact_id, federation_id, field_id, subject,"
            " description, urgency, status, assignee_id, created_at, updated_at,"
            " first_response_at, resolved_at, closed_at, rating)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                reference,
                contact,
                fed,
                fid,
                subject,
                "Une description assez longue pour un vrai besoin.",
                urgency,
                status,
                assignee,
                utc_text(created_at),
                utc_text(created_at),
                utc_text(first_response_at) if first_response_at else None,
                utc_text(resolved_at) if resolved_at else None,
                utc_text(closed_at) if closed_at else None,
                rating,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid, reference


async def log_time(
    bot: Emulator,
    *,
    ticket: int,
    lead: int,
    work_date: date,
    minutes: int,
    note: str | None = None,
) -> None:
    """A time entry at the field's rate of the moment (as /log records it)."""
    async with bot.services.db.transaction() as conn:
        rows = list(
            await conn.execute_fetchall(
                "SELECT f.id, f.hourly_rate_cents FROM tickets t"
                " JOIN expertise_fields f ON f.id = t.field_id WHERE t.id = ?",
                (ticket,),
            )
        )
        field, rate = rows[0]
        await conn.execute(
            "INSERT INTO time_entries (ticket_id, lead_id, field_id, work_date, minutes,"
            " hourly_rate_cents, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ticket,
                lead,
                field,
                work_date.isoformat(),
                minutes,
                rate,
                note,
                utc_text(bot.services.clock.now()),
            ),
        )


async def rows(bot: Emulator, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """The rows of a query, as tuples."""
    async with bot.services.db.read() as conn:
        return [tuple(r) for r in await conn.execute_fetchall(sql, args)]


async def database_dump(bot: Emulator) -> str:
    """Every row of every table except the outbox (what a refused command must not change)."""
    tables = [
        r[0]
        for r in await rows(bot, "SELECT name FROM sqlite_master WHERE type = 'table'")
        if r[0] != "outbox" and not str(r[0]).startswith("tickets_fts")
    ]
    dump = [str(await rows(bot, f"SELECT * FROM {table}")) for table in tables]
    return "\n".join(dump)
