"""Helpers of the admin, service-level and report tests: a fake Bot API that keeps uploaded
files, the reports handlers, and records written straight to the database (tickets in any
state at any date, time entries) where the lifecycle's own flows would be slow to reach."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from telegram.ext import CommandHandler
from telegram.request import RequestData

import handlers
from bot.emulator import Emulator, FakeBotAPI, Sent
from storage.db import utc_text


@dataclass(frozen=True)
class Upload:
    """A file the bot uploaded: its name and bytes."""

    file_name: str
    content: bytes


class UploadingBotAPI(FakeBotAPI):
    """The fake Bot API, plus uploads: a file sent as bytes (multipart) is kept, by message.

    PTB sends an `InputFile` as a multipart part, not as a parameter, so the plain fake sees
    no `document` / `photo` and answers 400. Here the part becomes a new file id, and its
    bytes are kept for the test to read back.
    """

    def __init__(self) -> None:
        super().__init__()
        self.uploads: dict[tuple[int, int], Upload] = {}
        self._parts: dict[str, Any] = {}

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        # No await between here and the answer: the parts belong to this very request.
        self._parts = dict(request_data.multipart_data) if request_data else {}
        return await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )

    def _send_file(self, params: dict[str, Any], kind: str) -> dict[str, Any]:
        part = self._parts.get(kind)
        if part is None or params.get(kind):
            return super()._send_file(params, kind)
        file_id, _ = self.new_file_id(kind)
        result = super()._send_file({**params, kind: file_id}, kind)
        name, content, _mime = part
        data = content if isinstance(content, bytes) else content.read()
        self.uploads[(int(result["chat"]["id"]), int(result["message_id"]))] = Upload(name, data)
        return result


def upload_of(api: FakeBotAPI, sent: Sent) -> Upload:
    """The file behind a document or photo the bot uploaded (kept on the message by a fake Bot
    API that knows uploads, else by UploadingBotAPI)."""
    content = getattr(sent, "content", None)
    if isinstance(content, bytes):
        return Upload(str(getattr(sent, "file_name", "")), content)
    assert isinstance(api, UploadingBotAPI)
    return api.uploads[(sent.chat_id, sent.message_id)]


def workbook_of(api: FakeBotAPI, sent: Sent) -> Any:
    """The spreadsheet the bot sent, opened with openpyxl (values, not formulas)."""
    return load_workbook(io.BytesIO(upload_of(api, sent).content))


def register_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Add handlers/reports.py to the application, before the catch-alls (once
    handlers/__init__.py registers it, this adds nothing)."""
    from handlers import reports  # noqa: PLC0415

    original = handlers.fallback.register

    def register(app: Any) -> None:
        known = {
            command
            for handler in app.handlers.get(0, [])
            if isinstance(handler, CommandHandler)
            for command in handler.commands
        }
        if "stats" not in known:
            reports.register(app)
        original(app)

    monkeypatch.setattr(handlers.fallback, "register", register)


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
