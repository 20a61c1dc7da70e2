"""Teams' groups and tickets' topics (issue 15): which group works for which fields, and the
topic of each ticket there."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.db import utc_text
from storage.models import ExpertiseField, TeamGroup, TicketEvent, TicketTopic


async def link_group(
    conn: aiosqlite.Connection,
    *,
    chat_id: int,
    title: str,
    language: str,
    user_id: int,
    field_ids: list[int],
    now: datetime,
) -> dict[int, int]:
    """Make the group the workspace of exactly these fields; {field id: group it left}."""
    await conn.execute(
        "INSERT INTO team_groups (chat_id, title, language, linked_by, linked_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title,"
        " language = excluded.language, linked_by = excluded.linked_by,"
        " linked_at = excluded.linked_at",
        (chat_id, title[:255], language, user_id, utc_text(now)),
    )
    marks = ",".join("?" * len(field_ids))
    async with conn.execute(
        f"SELECT field_id, chat_id FROM team_group_fields WHERE field_id IN ({marks})"
        " AND chat_id != ?",
        (*field_ids, chat_id),
    ) as cur:
        moved = {row[0]: row[1] for row in await cur.fetchall()}
    await conn.execute("DELETE FROM team_group_fields WHERE chat_id = ?", (chat_id,))
    await conn.executemany(
        "INSERT INTO team_group_fields (field_id, chat_id) VALUES (?, ?)"
        " ON CONFLICT (field_id) DO UPDATE SET chat_id = excluded.chat_id",
        [(field_id, chat_id) for field_id in field_ids],
    )
    return moved


async def unlink_group(conn: aiosqlite.Connection, chat_id: int) -> list[ExpertiseField]:
    """The group works for no field any more; the fields it worked for."""
    fields = await fields_of_group(conn, chat_id)
    await conn.execute("DELETE FROM team_group_fields WHERE chat_id = ?", (chat_id,))
    await conn.execute("DELETE FROM team_groups WHERE chat_id = ?", (chat_id,))
    return fields


async def get_group(conn: aiosqlite.Connection, chat_id: int) -> TeamGroup | None:
    async with conn.execute("SELECT * FROM team_groups WHERE chat_id = ?", (chat_id,)) as cur:
        row = await cur.fetchone()
    return TeamGroup.model_validate(dict(row)) if row else None


async def fields_of_group(conn: aiosqlite.Connection, chat_id: int) -> list[ExpertiseField]:
    async with conn.execute(
        "SELECT f.* FROM expertise_fields f JOIN team_group_fields g ON g.field_id = f.id"
        " WHERE g.chat_id = ? ORDER BY f.position, f.id",
        (chat_id,),
    ) as cur:
        return [ExpertiseField.model_validate(dict(r)) for r in await cur.fetchall()]


async def group_of_field(conn: aiosqlite.Connection, field_id: int) -> TeamGroup | None:
    """The group a field works in, if any."""
    async with conn.execute(
        "SELECT t.* FROM team_groups t JOIN team_group_fields g ON g.chat_id = t.chat_id"
        " WHERE g.field_id = ?",
        (field_id,),
    ) as cur:
        row = await cur.fetchone()
    return TeamGroup.model_validate(dict(row)) if row else None


# -- topics -----------------------------------------------------------------------------------


def _topic(row: aiosqlite.Row | None) -> TicketTopic | None:
    return TicketTopic.model_validate(dict(row)) if row else None


async def add_topic(
    conn: aiosqlite.Connection, ticket_id: int, chat_id: int, now: datetime
) -> TicketTopic:
    """The intent of a ticket's topic (the live one if there is already one)."""
    await conn.execute(
        "INSERT INTO ticket_topics (ticket_id, chat_id, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (ticket_id, chat_id, utc_text(now)),
    )
    topic = await live_topic(conn, ticket_id, chat_id)
    assert topic is not None
    return topic


async def get_topic(conn: aiosqlite.Connection, topic_id: int) -> TicketTopic | None:
    async with conn.execute("SELECT * FROM ticket_topics WHERE id = ?", (topic_id,)) as cur:
        return _topic(await cur.fetchone())


async def live_topic(
    conn: aiosqlite.Connection, ticket_id: int, chat_id: int
) -> TicketTopic | None:
    async with conn.execute(
        "SELECT * FROM ticket_topics WHERE ticket_id = ? AND chat_id = ? AND deleted_at IS NULL",
        (ticket_id, chat_id),
    ) as cur:
        return _topic(await cur.fetchone())


async def topics_of_ticket(conn: aiosqlite.Connection, ticket_id: int) -> list[TicketTopic]:
    """Every topic a ticket has had, oldest first."""
    async with conn.execute(
        "SELECT * FROM ticket_topics WHERE ticket_id = ? ORDER BY id", (ticket_id,)
    ) as cur:
        return [TicketTopic.model_validate(dict(r)) for r in await cur.fetchall()]


async def topic_by_thread(
    conn: aiosqlite.Connection, chat_id: int, thread_id: int
) -> TicketTopic | None:
    async with conn.execute(
        "SELECT * FROM ticket_topics WHERE chat_id = ? AND thread_id = ? AND deleted_at IS NULL",
        (chat_id, thread_id),
    ) as cur:
        return _topic(await cur.fetchone())


async def mark_attempt(conn: aiosqlite.Connection, topic_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE ticket_topics SET attempted_at = ? WHERE id = ?", (utc_text(now), topic_id)
    )


async def record_thread(conn: aiosqlite.Connection, topic_id: int, thread_id: int) -> bool:
    """Record the topic's thread, unless one is recorded already (False then)."""
    cur = await conn.execute(
        "UPDATE ticket_topics SET thread_id = ? WHERE id = ? AND thread_id IS NULL",
        (thread_id, topic_id),
    )
    return cur.rowcount == 1


async def mark_deleted(conn: aiosqlite.Connection, topic_id: int, now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE ticket_topics SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
        (utc_text(now), topic_id),
    )
    return cur.rowcount == 1


async def set_shown(
    conn: aiosqlite.Connection,
    topic_id: int,
    *,
    state: str | None = None,
    closed: bool | None = None,
) -> None:
    if state is not None:
        await conn.execute(
            "UPDATE ticket_topics SET shown_state = ? WHERE id = ?", (state, topic_id)
        )
    if closed is not None:
        await conn.execute(
            "UPDATE ticket_topics SET closed = ? WHERE id = ?", (int(closed), topic_id)
        )


async def events_after(
    conn: aiosqlite.Connection, ticket_id: int, after_id: int
) -> list[TicketEvent]:
    """The ticket's events newer than `after_id`, oldest first."""
    async with conn.execute(
        "SELECT * FROM ticket_events WHERE ticket_id = ? AND id > ? ORDER BY id",
        (ticket_id, after_id),
    ) as cur:
        return [TicketEvent.model_validate(dict(r)) for r in await cur.fetchall()]


async def set_last_event(conn: aiosqlite.Connection, topic_id: int, event_id: int) -> None:
    await conn.execute(
        "UPDATE ticket_topics SET last_event_id = MAX(last_event_id, ?) WHERE id = ?",
        (event_id, topic_id),
    )


# -- where leads are told ---------------------------------------------------------------------


async def notify_mode(conn: aiosqlite.Connection, user_id: int) -> str | None:
    async with conn.execute("SELECT mode FROM lead_notify WHERE user_id = ?", (user_id,)) as cur:
        row = await cur.fetchone()
    return str(row[0]) if row else None


async def set_notify_mode(conn: aiosqlite.Connection, user_id: int, mode: str) -> None:
    await conn.execute(
        "INSERT INTO lead_notify (user_id, mode) VALUES (?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET mode = excluded.mode",
        (user_id, mode),
    )


# -- what the team writes in a topic ----------------------------------------------------------


async def relayed_at(
    conn: aiosqlite.Connection, chat_id: int, message_id: int
) -> tuple[int, int] | None:
    """The (ticket, author) of the relayed message the bot posted at (chat, message)."""
    async with conn.execute(
        "SELECT m.ticket_id, m.author_id FROM outbox o JOIN ticket_messages m"
        " ON m.id = o.ticket_message_id WHERE o.chat_id = ? AND o.message_id = ?",
        (chat_id, message_id),
    ) as cur:
        row = await cur.fetchone()
    return (int(row[0]), int(row[1])) if row else None


async def expect_write(
    conn: aiosqlite.Connection, user_id: int, chat_id: int, ticket_id: int, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO topic_inputs (user_id, chat_id, ticket_id, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (user_id, chat_id) DO UPDATE SET ticket_id = excluded.ticket_id,"
        " created_at = excluded.created_at",
        (user_id, chat_id, ticket_id, utc_text(now)),
    )


async def take_write(conn: aiosqlite.Connection, user_id: int, chat_id: int) -> int | None:
    """The ticket whose contact `user_id` asked to write to in this group (then forgotten)."""
    async with conn.execute(
        "DELETE FROM topic_inputs WHERE user_id = ? AND chat_id = ? RETURNING ticket_id",
        (user_id, chat_id),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else None
