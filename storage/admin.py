"""What the admin commands read and change: fields and their leads, federations, users, invites.

Complements storage.people (the core's own queries); every function runs inside the caller's
transaction or read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import utc_text
from storage.models import OPEN_STATUSES, ExpertiseField, Record, Role, User

_OPEN = ",".join(f"'{s.value}'" for s in OPEN_STATUSES)  # constants, never user input
ADMIN_FIELD_POSITION = 99  # `other`: the field routed to the admins stays last

# -- fields of expertise ----------------------------------------------------------------------


async def field_by_code(conn: aiosqlite.Connection, code: str) -> ExpertiseField | None:
    """A field of expertise by its code, active or not."""
    async with conn.execute("SELECT * FROM expertise_fields WHERE code = ?", (code,)) as cur:
        row = await cur.fetchone()
    return ExpertiseField.model_validate(dict(row)) if row else None


async def create_field(
    conn: aiosqlite.Connection, code: str, name_fr: str, name_en: str
) -> ExpertiseField | None:
    """A new active field (rate 0), listed before `other`; None if the code is taken."""
    async with conn.execute(
        "SELECT COALESCE(MAX(position), 0) FROM expertise_fields WHERE position < ?",
        (ADMIN_FIELD_POSITION,),
    ) as cur:
        row = await cur.fetchone()
    position = min((row[0] if row else 0) + 1, ADMIN_FIELD_POSITION - 1)
    try:
        await conn.execute(
            "INSERT INTO expertise_fields (code, name_fr, name_en, position) VALUES (?, ?, ?, ?)",
            (code, name_fr, name_en, position),
        )
    except aiosqlite.IntegrityError:
        return None
    return await field_by_code(conn, code)


async def rename_field(
    conn: aiosqlite.Connection, field_id: int, name_fr: str, name_en: str
) -> None:
    """Both names of a field."""
    await conn.execute(
        "UPDATE expertise_fields SET name_fr = ?, name_en = ? WHERE id = ?",
        (name_fr, name_en, field_id),
    )


async def set_field_rate(conn: aiosqlite.Connection, field_id: int, cents: int) -> None:
    """The hourly rate of future time entries (entries keep the rate they were logged at)."""
    await conn.execute(
        "UPDATE expertise_fields SET hourly_rate_cents = ? WHERE id = ?", (cents, field_id)
    )


async def set_field_active(conn: aiosqlite.Connection, field_id: int, active: bool) -> bool:
    """Switch a field on or off; False if it already was."""
    cur = await conn.execute(
        "UPDATE expertise_fields SET active = ? WHERE id = ? AND active <> ?",
        (int(active), field_id, int(active)),
    )
    return cur.rowcount == 1


async def open_ticket_count(conn: aiosqlite.Connection, field_id: int) -> int:
    """Open tickets of a field (through the field/status index)."""
    async with conn.execute(
        f"SELECT COUNT(*) FROM tickets WHERE field_id = ? AND status IN ({_OPEN})", (field_id,)
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def remove_lead(conn: aiosqlite.Connection, field_id: int, user_id: int) -> bool:
    """Take a user off a field's leads; False if they were not one."""
    cur = await conn.execute(
        "DELETE FROM field_leads WHERE field_id = ? AND user_id = ?", (field_id, user_id)
    )
    return cur.rowcount == 1


async def leads_by_field(conn: aiosqlite.Connection) -> dict[int, list[User]]:
    """The active leads of every field, by field id."""
    found: dict[int, list[User]] = {}
    async with conn.execute(
        "SELECT fl.field_id, u.* FROM field_leads fl JOIN users u ON u.id = fl.user_id"
        " WHERE u.active AND u.role = 'lead' ORDER BY fl.field_id, u.full_name COLLATE NAME, u.id"
    ) as cur:
        for row in await cur.fetchall():
            values = dict(row)
            field_id = values.pop("field_id")
            found.setdefault(field_id, []).append(User.model_validate(values))
    return found


async def field_codes_of_leads(
    conn: aiosqlite.Connection, user_ids: Iterable[int]
) -> dict[int, list[str]]:
    """The codes of the fields of each of these users, by user id."""
    wanted = list(user_ids)
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    found: dict[int, list[str]] = {}
    async with conn.execute(
        "SELECT fl.user_id, f.code FROM field_leads fl JOIN expertise_fields f"
        f" ON f.id = fl.field_id WHERE fl.user_id IN ({marks}) ORDER BY f.position, f.id",
        wanted,
    ) as cur:
        for row in await cur.fetchall():
            found.setdefault(row[0], []).append(row[1])
    return found


# -- federations ------------------------------------------------------------------------------


async def rename_federation(conn: aiosqlite.Connection, federation_id: int, name: str) -> None:
    """A federation's name (its code never changes)."""
    await conn.execute("UPDATE federations SET name = ? WHERE id = ?", (name, federation_id))


async def set_federation_active(
    conn: aiosqlite.Connection, federation_id: int, active: bool
) -> bool:
    """Switch a federation on or off; False if it already was."""
    cur = await conn.execute(
        "UPDATE federations SET active = ? WHERE id = ? AND active <> ?",
        (int(active), federation_id, int(active)),
    )
    return cur.rowcount == 1


async def cancel_federation_invites(
    conn: aiosqlite.Connection, federation_id: int, now: datetime
) -> int:
    """Cancel the unused invites of a federation (nobody joins an inactive one)."""
    cur = await conn.execute(
        "UPDATE invites SET revoked_at = ? WHERE federation_id = ? AND revoked_at IS NULL"
        " AND uses < max_uses",
        (utc_text(now), federation_id),
    )
    return cur.rowcount


# -- users ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserFilter:
    """Which users /users lists: all, a role, a federation, the managers, or the revoked ones."""

    role: Role | None = None
    federation_id: int | None = None
    revoked: bool = False
    manager: bool = False  # the federations' managers (contacts with the flag)

    def where(self) -> tuple[str, list[object]]:
        """The WHERE clause and its arguments (no user text in the SQL)."""
        clauses: list[str] = []
        args: list[object] = []
        if self.role is not None:
            clauses.append("role = ?")
            args.append(self.role.value)
        if self.federation_id is not None:
            clauses.append("federation_id = ?")
            args.append(self.federation_id)
        if self.revoked:
            clauses.append("NOT active")
        if self.manager:
            clauses.append("manager = 1 AND role = 'contact'")
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


async def list_users(
    conn: aiosqlite.Connection, which: UserFilter, limit: int, offset: int
) -> list[User]:
    """A page of users, by name."""
    where, args = which.where()
    async with conn.execute(
        f"SELECT * FROM users{where} ORDER BY full_name COLLATE NAME, id LIMIT ? OFFSET ?",
        (*args, limit, offset),
    ) as cur:
        rows = await cur.fetchall()
    return [User.model_validate(dict(r)) for r in rows]


async def count_users(conn: aiosqlite.Connection, which: UserFilter) -> int:
    """How many users the filter lets through."""
    where, args = which.where()
    async with conn.execute(f"SELECT COUNT(*) FROM users{where}", args) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def find_user(conn: aiosqlite.Connection, who: int | str) -> User | None:
    """A user by Telegram id, or by @username (any case)."""
    sql = (
        "SELECT * FROM users WHERE id = ?"
        if isinstance(who, int)
        else "SELECT * FROM users WHERE username = ? COLLATE NOCASE"
    )
    async with conn.execute(sql, (who,)) as cur:
        row = await cur.fetchone()
    return User.model_validate(dict(row)) if row else None


async def set_user_active(conn: aiosqlite.Connection, user_id: int, active: bool) -> bool:
    """Revoke or restore a user; False if they already were."""
    cur = await conn.execute(
        "UPDATE users SET active = ? WHERE id = ? AND active <> ?",
        (int(active), user_id, int(active)),
    )
    return cur.rowcount == 1


async def set_user_role(
    conn: aiosqlite.Connection,
    user_id: int,
    role: Role,
    *,
    federation_id: int | None = None,
    field_ids: Iterable[int] = (),
) -> None:
    """Give a user a role: a contact of one federation, a lead of some fields, or an admin.

    A lead's fields are replaced by `field_ids`; leaving the lead role drops them.
    """
    await conn.execute(
        "UPDATE users SET role = ?, federation_id = ? WHERE id = ?",
        (role.value, federation_id if role is Role.CONTACT else None, user_id),
    )
    await conn.execute("DELETE FROM field_leads WHERE user_id = ?", (user_id,))
    if role is Role.LEAD:
        await conn.executemany(
            "INSERT OR IGNORE INTO field_leads (field_id, user_id) VALUES (?, ?)",
            [(field_id, user_id) for field_id in field_ids],
        )


class OpenTickets(Record):
    """A user's open tickets: those they filed and those they hold (references)."""

    filed: tuple[str, ...] = ()
    held: tuple[str, ...] = ()


async def open_tickets_of(conn: aiosqlite.Connection, user_id: int) -> OpenTickets:
    """References of the open tickets a user filed or holds (indexed by contact, assignee)."""
    found: dict[str, tuple[str, ...]] = {}
    for key, column in (("filed", "contact_id"), ("held", "assignee_id")):
        async with conn.execute(
            f"SELECT reference FROM tickets WHERE {column} = ? AND status IN ({_OPEN})"
            " ORDER BY id",
            (user_id,),
        ) as cur:
            found[key] = tuple(r[0] for r in await cur.fetchall())
    return OpenTickets.model_validate(found)


# -- invites ----------------------------------------------------------------------------------


class PendingInvite(Record):
    """An invite not used, not cancelled, not expired, with what it registers."""

    id: int
    role: Role
    federation_code: str | None
    field_codes: tuple[str, ...]
    created_by_name: str | None
    created_at: datetime
    expires_at: datetime
    manager: bool = False  # registers a manager of the federation


async def pending_invites(
    conn: aiosqlite.Connection, now: datetime, limit: int
) -> list[PendingInvite]:
    """The invites that can still be opened, newest first (through the partial index)."""
    async with conn.execute(
        "SELECT i.id, i.role, i.manager, i.created_at, i.expires_at, f.code AS federation_code,"
        " u.full_name AS created_by_name,"
        " (SELECT group_concat(e.code, ' ') FROM invite_fields x"
        "   JOIN expertise_fields e ON e.id = x.field_id WHERE x.invite_id = i.id) AS codes"
        " FROM invites i LEFT JOIN federations f ON f.id = i.federation_id"
        " LEFT JOIN users u ON u.id = i.created_by"
        " WHERE i.revoked_at IS NULL AND i.uses < i.max_uses AND i.expires_at > ?"
        " ORDER BY i.id DESC LIMIT ?",
        (utc_text(now), limit),
    ) as cur:
        rows = await cur.fetchall()
    return [
        PendingInvite.model_validate({**dict(r), "field_codes": tuple((r["codes"] or "").split())})
        for r in rows
    ]


async def count_pending_invites(conn: aiosqlite.Connection, now: datetime) -> int:
    """How many invites can still be opened."""
    async with conn.execute(
        "SELECT COUNT(*) FROM invites WHERE revoked_at IS NULL AND uses < max_uses"
        " AND expires_at > ?",
        (utc_text(now),),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def cancel_invite(conn: aiosqlite.Connection, invite_id: int, now: datetime) -> str:
    """Cancel a pending invite: `cancelled`, or why not (`unknown`, `used`, `expired`,
    `already`)."""
    async with conn.execute(
        "SELECT uses, max_uses, expires_at, revoked_at FROM invites WHERE id = ?", (invite_id,)
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return "unknown"
    if row["revoked_at"] is not None:
        return "already"
    if row["uses"] >= row["max_uses"]:
        return "used"
    if row["expires_at"] <= utc_text(now):
        return "expired"
    await conn.execute(
        "UPDATE invites SET revoked_at = ? WHERE id = ?", (utc_text(now), invite_id)
    )
    return "cancelled"
