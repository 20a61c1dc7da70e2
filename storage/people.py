"""Federations, users, fields of expertise and their leads, invites."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import aiosqlite

from storage.db import utc_text
from storage.models import ExpertiseField, Federation, Invite, Role, User

# -- federations ------------------------------------------------------------------------------


async def create_federation(
    conn: aiosqlite.Connection, code: str, name: str, now: datetime
) -> Federation | None:
    """A new federation, or None if the code is taken."""
    try:
        await conn.execute(
            "INSERT INTO federations (code, name, created_at) VALUES (?, ?, ?)",
            (code, name, utc_text(now)),
        )
    except aiosqlite.IntegrityError:
        return None
    return await federation_by_code(conn, code)


async def federation_by_code(conn: aiosqlite.Connection, code: str) -> Federation | None:
    async with conn.execute("SELECT * FROM federations WHERE code = ?", (code,)) as cur:
        row = await cur.fetchone()
    return Federation.model_validate(dict(row)) if row else None


async def federation_by_id(conn: aiosqlite.Connection, federation_id: int) -> Federation | None:
    async with conn.execute("SELECT * FROM federations WHERE id = ?", (federation_id,)) as cur:
        row = await cur.fetchone()
    return Federation.model_validate(dict(row)) if row else None


async def list_federations(conn: aiosqlite.Connection) -> list[tuple[Federation, int]]:
    """Every federation with its number of active contacts, by code."""
    sql = (
        "SELECT f.*, (SELECT COUNT(*) FROM users u WHERE u.federation_id = f.id"
        " AND u.role = 'contact' AND u.active) AS contacts FROM federations f ORDER BY f.code"
    )
    async with conn.execute(sql) as cur:
        rows = await cur.fetchall()
    return [(Federation.model_validate(dict(r)), r["contacts"]) for r in rows]


# -- users ------------------------------------------------------------------------------------


async def get_user(conn: aiosqlite.Connection, user_id: int) -> User | None:
    async with conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)) as cur:
        row = await cur.fetchone()
    return User.model_validate(dict(row)) if row else None


async def create_user(
    conn: aiosqlite.Connection,
    *,
    user_id: int,
    role: Role,
    full_name: str,
    username: str | None,
    language: str,
    now: datetime,
    federation_id: int | None = None,
) -> User:
    """Register a person (the id is their Telegram user id)."""
    await conn.execute(
        "INSERT INTO users (id, role, federation_id, full_name, username, language, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (user_id, role.value, federation_id, full_name, username, language, utc_text(now)),
    )
    user = await get_user(conn, user_id)
    assert user is not None
    return user


async def set_language(conn: aiosqlite.Connection, user_id: int, language: str) -> None:
    await conn.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))


async def mark_blocked(conn: aiosqlite.Connection, user_id: int, now: datetime) -> None:
    """Record that the person blocked the bot (Telegram answered 403)."""
    await conn.execute(
        "UPDATE users SET blocked_at = ? WHERE id = ? AND blocked_at IS NULL",
        (utc_text(now), user_id),
    )


async def clear_blocked(conn: aiosqlite.Connection, user_id: int) -> None:
    await conn.execute("UPDATE users SET blocked_at = NULL WHERE id = ?", (user_id,))


async def list_admins(conn: aiosqlite.Connection) -> list[User]:
    async with conn.execute(
        "SELECT * FROM users WHERE role = 'admin' AND active ORDER BY id"
    ) as cur:
        rows = await cur.fetchall()
    return [User.model_validate(dict(r)) for r in rows]


async def admins_to_tell(
    conn: aiosqlite.Connection, admin_ids: Iterable[int], default_language: str
) -> list[tuple[int, str]]:
    """Who hears what is for the admins: the active admins and those of ADMIN_IDS, even before
    they first wrote to the bot (id, language), by id."""
    admins = {a.id: a.language for a in await list_admins(conn)}
    for admin_id in admin_ids:
        admins.setdefault(admin_id, default_language)
    return sorted(admins.items())


# -- federation managers ----------------------------------------------------------------------


async def set_manager(conn: aiosqlite.Connection, user_id: int, manager: bool) -> bool:
    """Make a contact a manager of their federation, or a plain contact again; False if they
    already were, or are not a contact. (Giving a role clears it: make the manager after.)"""
    cur = await conn.execute(
        "UPDATE users SET manager = ? WHERE id = ? AND role = 'contact' AND manager <> ?",
        (int(manager), user_id, int(manager)),
    )
    return cur.rowcount == 1


async def managers_of(conn: aiosqlite.Connection, federation_id: int) -> list[User]:
    """The active managers of a federation, by name (those who approve and are told)."""
    async with conn.execute(
        "SELECT * FROM users WHERE federation_id = ? AND manager = 1 AND role = 'contact'"
        " AND active ORDER BY full_name COLLATE NAME, id",
        (federation_id,),
    ) as cur:
        return [User.model_validate(dict(r)) for r in await cur.fetchall()]


async def has_managers(conn: aiosqlite.Connection, federation_id: int) -> bool:
    """Whether a federation has an active manager (else the contact who filed approves)."""
    async with conn.execute(
        "SELECT 1 FROM users WHERE federation_id = ? AND manager = 1 AND role = 'contact'"
        " AND active LIMIT 1",
        (federation_id,),
    ) as cur:
        return await cur.fetchone() is not None


async def list_managers(conn: aiosqlite.Connection) -> list[User]:
    """Every active manager, by federation then name."""
    async with conn.execute(
        "SELECT u.* FROM users u JOIN federations f ON f.id = u.federation_id"
        " WHERE u.manager = 1 AND u.role = 'contact' AND u.active"
        " ORDER BY f.code, u.full_name COLLATE NAME, u.id"
    ) as cur:
        return [User.model_validate(dict(r)) for r in await cur.fetchall()]


# -- fields of expertise ----------------------------------------------------------------------


async def list_fields(conn: aiosqlite.Connection, *, active_only: bool) -> list[ExpertiseField]:
    sql = "SELECT * FROM expertise_fields"
    if active_only:
        sql += " WHERE active"
    async with conn.execute(sql + " ORDER BY position, id") as cur:
        rows = await cur.fetchall()
    return [ExpertiseField.model_validate(dict(r)) for r in rows]


async def get_field(conn: aiosqlite.Connection, field_id: int) -> ExpertiseField | None:
    async with conn.execute("SELECT * FROM expertise_fields WHERE id = ?", (field_id,)) as cur:
        row = await cur.fetchone()
    return ExpertiseField.model_validate(dict(row)) if row else None


async def fields_by_codes(
    conn: aiosqlite.Connection, codes: Iterable[str]
) -> dict[str, ExpertiseField]:
    """The fields named by these codes (unknown codes are simply absent)."""
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    async with conn.execute(
        f"SELECT * FROM expertise_fields WHERE code IN ({marks})", wanted
    ) as cur:
        rows = await cur.fetchall()
    return {r["code"]: ExpertiseField.model_validate(dict(r)) for r in rows}


async def add_lead(conn: aiosqlite.Connection, field_id: int, user_id: int) -> None:
    await conn.execute(
        "INSERT OR IGNORE INTO field_leads (field_id, user_id) VALUES (?, ?)", (field_id, user_id)
    )


async def leads_of_field(conn: aiosqlite.Connection, field_id: int) -> list[User]:
    """The active leads of a field."""
    async with conn.execute(
        "SELECT u.* FROM users u JOIN field_leads fl ON fl.user_id = u.id"
        " WHERE fl.field_id = ? AND u.active AND u.role = 'lead' ORDER BY u.id",
        (field_id,),
    ) as cur:
        rows = await cur.fetchall()
    return [User.model_validate(dict(r)) for r in rows]


async def active_leads(conn: aiosqlite.Connection) -> list[User]:
    """Every active lead, by name."""
    async with conn.execute(
        "SELECT * FROM users WHERE role = 'lead' AND active ORDER BY full_name COLLATE NAME, id"
    ) as cur:
        return [User.model_validate(dict(r)) for r in await cur.fetchall()]


async def field_ids_of_lead(conn: aiosqlite.Connection, user_id: int) -> set[int]:
    async with conn.execute("SELECT field_id FROM field_leads WHERE user_id = ?", (user_id,)) as c:
        return {r[0] for r in await c.fetchall()}


async def lead_counts(conn: aiosqlite.Connection) -> dict[int, int]:
    """Number of active leads per field id."""
    async with conn.execute(
        "SELECT fl.field_id, COUNT(*) FROM field_leads fl JOIN users u ON u.id = fl.user_id"
        " WHERE u.active AND u.role = 'lead' GROUP BY fl.field_id"
    ) as cur:
        return {r[0]: r[1] for r in await cur.fetchall()}


# -- invites ----------------------------------------------------------------------------------


async def create_invite(
    conn: aiosqlite.Connection,
    *,
    token_hash: str,
    role: Role,
    created_by: int,
    now: datetime,
    expires_at: datetime,
    federation_id: int | None = None,
    field_ids: Iterable[int] = (),
    manager: bool = False,
) -> int:
    """A new invite; `manager`: it registers a manager of the federation (contacts only)."""
    cur = await conn.execute(
        "INSERT INTO invites (token_hash, role, federation_id, created_by, created_at,"
        " expires_at, manager) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            token_hash,
            role.value,
            federation_id,
            created_by,
            utc_text(now),
            utc_text(expires_at),
            int(manager),
        ),
    )
    invite_id = cur.lastrowid
    assert invite_id is not None
    await conn.executemany(
        "INSERT INTO invite_fields (invite_id, field_id) VALUES (?, ?)",
        [(invite_id, f) for f in field_ids],
    )
    return invite_id


async def invite_by_hash(conn: aiosqlite.Connection, token_hash: str) -> Invite | None:
    async with conn.execute("SELECT * FROM invites WHERE token_hash = ?", (token_hash,)) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    async with conn.execute(
        "SELECT field_id FROM invite_fields WHERE invite_id = ? ORDER BY field_id", (row["id"],)
    ) as cur:
        field_ids = tuple(r[0] for r in await cur.fetchall())
    return Invite.model_validate({**dict(row), "field_ids": field_ids})


async def consume_invite(
    conn: aiosqlite.Connection, invite_id: int, user_id: int, now: datetime
) -> bool:
    """Use the invite once; False if it is used up, revoked or expired (checked atomically)."""
    cur = await conn.execute(
        "UPDATE invites SET uses = uses + 1, used_by = ?, used_at = ?"
        " WHERE id = ? AND uses < max_uses AND revoked_at IS NULL AND expires_at > ?",
        (user_id, utc_text(now), invite_id, utc_text(now)),
    )
    return cur.rowcount == 1


async def record_invite_failure(conn: aiosqlite.Connection, user_id: int, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO invite_failures (user_id, at) VALUES (?, ?)", (user_id, utc_text(now))
    )


async def invite_failures_since(conn: aiosqlite.Connection, user_id: int, since: datetime) -> int:
    async with conn.execute(
        "SELECT COUNT(*) FROM invite_failures WHERE user_id = ? AND at >= ?",
        (user_id, utc_text(since)),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0
