"""The SQLite connection, its pragmas, the one write path and the migrations."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite
import aiosqlite.context

log = logging.getLogger(__name__)

Connection = aiosqlite.Connection

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


def utc_text(moment: datetime) -> str:
    """A timestamp as stored: ISO 8601 in UTC, so that text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class _FetchedCursor(aiosqlite.Cursor):
    """A cursor whose rows came back with its statement: reading them costs no trip."""

    def __init__(
        self, conn: aiosqlite.Connection, cursor: sqlite3.Cursor, rows: list[sqlite3.Row]
    ) -> None:
        super().__init__(conn, cursor)
        self._rows = rows
        self._next = 0

    async def fetchone(self) -> sqlite3.Row | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchmany(self, size: int | None = None) -> list[sqlite3.Row]:
        end = self._next + (size or self._cursor.arraysize)
        rows, self._next = self._rows[self._next : end], min(end, len(self._rows))
        return rows

    async def fetchall(self) -> list[sqlite3.Row]:
        rows, self._next = self._rows[self._next :], len(self._rows)
        return rows

    async def close(self) -> None:
        return None  # closed in the database thread, with its statement


def _run(
    conn: sqlite3.Connection, sql: str, parameters: Sequence[Any] | Mapping[str, Any]
) -> tuple[sqlite3.Cursor, list[sqlite3.Row]]:
    cursor = conn.execute(sql, parameters)
    rows = cursor.fetchall()
    cursor.close()
    return cursor, rows


class _Connection(aiosqlite.Connection):
    """aiosqlite's connection, with `execute` in one trip to the database thread.

    aiosqlite runs every call in its thread and wakes the event loop for each result: the
    statement, then each fetch, then closing the cursor are three trips (about 0.2 ms each on a
    small VM, where a query itself takes 0.02 ms). Here the statement, all its rows and the
    cursor's closing are one trip. Every query of storage/ reads all its rows anyway.
    """

    @aiosqlite.context.contextmanager
    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> aiosqlite.Cursor:
        if parameters is not None and not isinstance(parameters, Sequence | Mapping):
            parameters = tuple(parameters)
        cursor, rows = await self._execute(  # type: ignore[no-untyped-call]
            _run, self._conn, sql, parameters or ()
        )
        return _FetchedCursor(self, cursor, rows)


def _connect(path: Path) -> aiosqlite.Connection:
    return _Connection(lambda: sqlite3.connect(path, isolation_level=None), 64)


class Database:
    """One aiosqlite connection; every transaction and read goes through one lock.

    A single connection keeps the bot simple and makes writes serial (as SQLite makes them
    anyway). Reads take the lock too, so that nobody sees another task's uncommitted work.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        """Open the file (creating its folder), set the pragmas and run the migrations."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = await _connect(self.path)
        conn.row_factory = aiosqlite.Row
        for pragma in PRAGMAS:
            await conn.execute(pragma)
        self._conn = conn
        await migrate(conn)

    async def close(self) -> None:
        """Close the connection (safe to call twice)."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The write path: `BEGIN IMMEDIATE`, commit on success, roll back on any error."""
        async with self._lock:
            conn = self.conn
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[aiosqlite.Connection]:
        """For one-statement writes: each statement is its own transaction, committed (with the
        same durability) as it runs, in one trip to the database thread instead of three (no
        BEGIN IMMEDIATE, no COMMIT). Several statements here are several transactions."""
        async with self._lock:
            yield self.conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """A consistent read: its queries see one state of the database.

        No transaction is needed for that: this connection is the only writer (other processes,
        such as `intake-bot backup`, only read) and writes take the same lock, so nothing can
        commit between the queries of a read. (A BEGIN and a ROLLBACK would cost two trips to
        the database thread per read.)
        """
        async with self._lock:
            yield self.conn


def _migration_files() -> list[tuple[int, str, str]]:
    folder = resources.files("storage") / "migrations"
    found = []
    for item in folder.iterdir():
        name = item.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, item.read_text(encoding="utf-8")))
    return sorted(found)


async def migrate(conn: aiosqlite.Connection) -> list[str]:
    """Apply the numbered migrations not yet recorded; each in its own transaction."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    async with conn.execute("SELECT version FROM schema_migrations") as cur:
        done = {row[0] for row in await cur.fetchall()}
    applied = []
    for version, name, sql in _migration_files():
        if version in done:
            continue
        now = utc_text(datetime.now(UTC))
        record = (
            "INSERT INTO schema_migrations (version, name, applied_at) "
            f"VALUES ({version}, '{name}', '{now}');"
        )
        try:
            await conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\n{record}\nCOMMIT;")
        except Exception:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
        log.info("applied migration %s", name)
        applied.append(name)
    return applied
