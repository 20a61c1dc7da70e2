"""Request-form drafts: saved at every step, so a restart resumes where the person was."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeAlias

import aiosqlite

from storage.db import utc_text
from storage.models import Attachment, Draft, DraftStatus, FormStep, Urgency

# The columns a form step may write (never built from user input).
_EDITABLE = frozenset(
    {
        "step",
        "editing",
        "field_id",
        "subject",
        "description",
        "urgency",
        "desired_date",
        "last_message_id",
    }
)

DraftValue: TypeAlias = str | int | bool | date | None


async def _attachments(conn: aiosqlite.Connection, draft_id: int) -> tuple[Attachment, ...]:
    async with conn.execute(
        "SELECT kind, file_id, file_unique_id, file_name, mime_type, file_size"
        " FROM draft_attachments WHERE draft_id = ? ORDER BY id",
        (draft_id,),
    ) as cur:
        return tuple(Attachment.model_validate(dict(r)) for r in await cur.fetchall())


async def _load(conn: aiosqlite.Connection, where: str, arg: int) -> Draft | None:
    async with conn.execute(f"SELECT * FROM drafts WHERE {where}", (arg,)) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    return Draft.model_validate({**dict(row), "attachments": await _attachments(conn, row["id"])})


async def open_draft(conn: aiosqlite.Connection, user_id: int) -> Draft | None:
    """The person's draft in progress, if any."""
    return await _load(conn, "user_id = ? AND status = 'open'", user_id)


async def get_draft(conn: aiosqlite.Connection, draft_id: int) -> Draft | None:
    return await _load(conn, "id = ?", draft_id)


async def start_draft(conn: aiosqlite.Connection, user_id: int, now: datetime) -> Draft:
    """A new draft at the first step (the caller checked there is no open one)."""
    stamp = utc_text(now)
    await conn.execute(
        "INSERT INTO drafts (user_id, step, created_at, updated_at) VALUES (?, ?, ?, ?)",
        (user_id, FormStep.FIELD.value, stamp, stamp),
    )
    draft = await open_draft(conn, user_id)
    assert draft is not None
    return draft


async def update_draft(
    conn: aiosqlite.Connection, draft_id: int, now: datetime, **values: DraftValue
) -> None:
    """Write some columns of an open draft."""
    unknown = set(values) - _EDITABLE
    if unknown:
        raise ValueError(f"not draft columns: {sorted(unknown)}")
    converted = [
        v.value
        if isinstance(v, FormStep | Urgency)
        else v.isoformat()
        if isinstance(v, date)
        else v
        for v in values.values()
    ]
    assignments = "".join(f"{name} = ?, " for name in values)
    await conn.execute(
        f"UPDATE drafts SET {assignments}updated_at = ? WHERE id = ? AND status = 'open'",
        (*converted, utc_text(now), draft_id),
    )


async def close_draft(conn: aiosqlite.Connection, draft_id: int, status: DraftStatus) -> bool:
    """Mark an open draft submitted or cancelled; False if it was not open any more."""
    cur = await conn.execute(
        "UPDATE drafts SET status = ? WHERE id = ? AND status = 'open'", (status.value, draft_id)
    )
    return cur.rowcount == 1


async def add_draft_attachment(
    conn: aiosqlite.Connection, draft_id: int, attachment: Attachment
) -> bool:
    """Attach a file; False if this very file is already attached."""
    cur = await conn.execute(
        "INSERT OR IGNORE INTO draft_attachments (draft_id, kind, file_id, file_unique_id,"
        " file_name, mime_type, file_size) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            draft_id,
            attachment.kind,
            attachment.file_id,
            attachment.file_unique_id,
            attachment.file_name,
            attachment.mime_type,
            attachment.file_size,
        ),
    )
    return cur.rowcount == 1


async def clear_draft_attachments(conn: aiosqlite.Connection, draft_id: int) -> None:
    await conn.execute("DELETE FROM draft_attachments WHERE draft_id = ?", (draft_id,))
