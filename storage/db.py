"""The SQLite connection, its pragmas, the one write path and the migrations."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
import unicodedata
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
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
    # In WAL mode: every commit is safe from a crash of the process; what must survive a
    # power cut waits for an fsync of the log (Database.durable, WalSync).
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA wal_autocheckpoint=0",  # checkpoints run in the thread: Database._wrote
)


def utc_text(moment: datetime) -> str:
    """A timestamp as stored: ISO 8601 in UTC, so that text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@functools.lru_cache(maxsize=4096)  # a sort compares each name about log2(n) times
def name_key(text: str) -> str:
    """How people's names are ordered: by their letters, accents and case aside, as a French
    reader expects (Émilie among the Es, not after Zoé, as binary or NOCASE order puts her)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _by_name(left: str, right: str) -> int:
    """SQLite collation `NAME` (`ORDER BY full_name COLLATE NAME`): `name_key` order, the text
    itself between names equal but for accents or case, so that the order is always the same.

    Python compares, so a sort costs more than NOCASE: a page of 10,000 users takes 60 ms
    instead of 2 here; the Consortium has hundreds (federations' contacts and 50 leads)."""
    a, b = (name_key(left), left), (name_key(right), right)
    return (a > b) - (a < b)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.create_collation("NAME", _by_name)  # in queries only: the schema never names it
    return conn


CHECKPOINT_EVERY = 200  # write transactions between two WAL checkpoints (in the thread)


class _FetchedCursor(aiosqlite.Cursor):
    """A cursor whose rows came with its statement: reading them costs nothing more."""

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
        return None  # closed with its statement


def _run(
    conn: sqlite3.Connection, sql: str, parameters: Sequence[Any] | Mapping[str, Any]
) -> tuple[sqlite3.Cursor, list[sqlite3.Row]]:
    cursor = conn.execute(sql, parameters)
    rows = cursor.fetchall()
    cursor.close()
    return cursor, rows


class _Connection(aiosqlite.Connection):
    """aiosqlite's connection, running each statement where it costs least.

    aiosqlite runs every call in its own thread and wakes the event loop with each result. On
    a small VM that trip costs about 0.2 ms, while the bot's queries (indexed, a few rows)
    take 0.002 to 0.05 ms: with a dozen statements per update, the trips were half of the
    bot's time (bench/, README "Performance"). So a statement runs here, in one call that
    returns all its rows, and only what can take long goes to the thread (`offloaded`):
    checkpoints and migrations. Waiting for the disk happens in a thread too (`WalSync`), and
    long reports use a connection of their own (`Database.report`). The `Database` lock keeps
    one user of the connection at a time, whichever thread runs it.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(lambda: _connect(path), 64)
        self._offloaded = 0

    @contextmanager
    def offloaded(self) -> Iterator[None]:
        """Statements inside run in aiosqlite's thread (the event loop goes on meanwhile)."""
        self._offloaded += 1
        try:
            yield
        finally:
            self._offloaded -= 1

    async def _statement(
        self, sql: str, parameters: Iterable[Any] | None
    ) -> tuple[sqlite3.Cursor, list[sqlite3.Row]]:
        if parameters is not None and not isinstance(parameters, Sequence | Mapping):
            parameters = tuple(parameters)
        if self._offloaded:
            result: tuple[sqlite3.Cursor, list[sqlite3.Row]] = await self._execute(  # type: ignore[no-untyped-call]
                _run, self._conn, sql, parameters or ()
            )
            return result
        return _run(self._conn, sql, parameters or ())

    @aiosqlite.context.contextmanager
    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> aiosqlite.Cursor:
        cursor, rows = await self._statement(sql, parameters)
        return _FetchedCursor(self, cursor, rows)

    @aiosqlite.context.contextmanager
    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> Iterable[sqlite3.Row]:
        return (await self._statement(sql, parameters))[1]


def _datasync(fd: int) -> None:
    getattr(os, "fdatasync", os.fsync)(fd)  # fsync where there is no fdatasync (macOS)


class WalSync:
    """Puts the write-ahead log on disk, one fsync for everyone waiting (a group commit).

    Commits are `synchronous=NORMAL`: the write-ahead log has them, safe from a crash of the
    process, but the disk may not have them yet, so a power cut can undo the last ones. What
    must survive a power cut (an update's receipt, before Telegram is told) waits for an
    fsync of the log, which is what `synchronous=FULL` does inside each commit. Here it runs
    in a thread, without the database lock: the bot goes on meanwhile, and every receipt
    committed before the fsync began shares it. (After a checkpoint the frames are in the
    database file, which SQLite syncs at the end of each checkpoint.)

    Nothing else needs to wait. The log keeps commits in order and an fsync puts every earlier
    commit on disk too, so what a power cut can undo is the work of updates received before it
    and not yet marked handled (the mark is written after the work): they are replayed from
    the inbox at the next start, and handlers are idempotent.
    """

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self._wanted = 0  # syncs asked for
        self._done = 0  # of those, how many a finished fsync covers
        self._running: asyncio.Future[None] | None = None

    async def sync(self) -> None:
        """Return once everything committed before this call is on disk."""
        self._wanted += 1
        mine = self._wanted
        while self._done < mine:
            if self._running is None:
                self._running = asyncio.ensure_future(self._fsync(self._wanted))
            await asyncio.shield(self._running)

    async def _fsync(self, covers: int) -> None:
        try:
            await asyncio.to_thread(_datasync, self.fd)
            self._done = max(self._done, covers)
        finally:
            self._running = None

    def close(self) -> None:
        os.close(self.fd)


class Database:
    """The bot's SQLite connection; every transaction and read goes through one lock.

    A single connection keeps the bot simple and makes writes serial (as SQLite makes them
    anyway). Reads take the lock too, so that nobody sees another task's uncommitted work.
    Long reports read on a second, read-only connection (`report`), without the lock.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: _Connection | None = None
        self._lock = asyncio.Lock()
        self._reports: aiosqlite.Connection | None = None
        self._reports_lock = asyncio.Lock()
        self._writes = 0
        self._wal: WalSync | None = None

    async def open(self) -> None:
        """Open the file (creating its folder), set the pragmas and run the migrations."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = _Connection(self.path)
        await conn  # starts its thread and connects
        conn.row_factory = aiosqlite.Row
        for pragma in PRAGMAS:
            await conn.execute(pragma)
        self._conn = conn
        with conn.offloaded():
            await migrate(conn)
        self._wal = WalSync(self.path.with_name(self.path.name + "-wal"))  # there from now on

    async def close(self) -> None:
        """Close the connections (safe to call twice)."""
        if self._reports is not None:
            await self._reports.close()
            self._reports = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        if self._wal is not None:
            self._wal.close()
            self._wal = None

    @property
    def conn(self) -> _Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    @property
    def wal(self) -> WalSync:
        if self._wal is None:
            raise RuntimeError("database is not open")
        return self._wal

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
            await self._wrote()

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[aiosqlite.Connection]:
        """For one-statement writes: each statement is its own transaction, committed as it
        runs (no BEGIN IMMEDIATE, no COMMIT). Several statements here are several transactions."""
        async with self._lock:
            yield self.conn
            await self._wrote()

    @asynccontextmanager
    async def durable(self) -> AsyncIterator[aiosqlite.Connection]:
        """One-statement writes (as `autocommit`) that are on disk when the block is left: for
        what must survive a power cut before the bot tells anyone, an update's receipt before
        Telegram is told. See `WalSync` for how, and why the other commits need not wait.
        """
        async with self._lock:
            yield self.conn
            await self._wrote()
        await self.wal.sync()

    async def _wrote(self) -> None:
        """Count a write; now and then, move the write-ahead log into the database file.

        SQLite would do it itself inside a commit (`wal_autocheckpoint`), on the event loop and
        waiting for the disk; here it runs in the thread, under the lock already held.
        """
        self._writes += 1
        if self._writes >= CHECKPOINT_EVERY:
            self._writes = 0
            with self.conn.offloaded():
                await self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """A consistent read: its queries see one state of the database.

        No transaction is needed for that: this connection is the only writer (other processes,
        such as `intake-bot backup`, only read) and writes take the same lock, so nothing can
        commit between the queries of a read.
        """
        async with self._lock:
            yield self.conn

    @asynccontextmanager
    async def report(self) -> AsyncIterator[aiosqlite.Connection]:
        """A long read (a month of tickets for /stats, /export, /billing): one snapshot, on a
        second, read-only connection in its own thread, so that the bot's own reads and writes
        go on meanwhile (the write-ahead log lets readers and the writer work at once)."""
        async with self._reports_lock:
            if self._reports is None:
                reports = aiosqlite.Connection(lambda: _connect(self.path), 64)
                await reports  # starts its thread and connects
                reports.row_factory = aiosqlite.Row
                await reports.execute("PRAGMA query_only=ON")
                await reports.execute("PRAGMA busy_timeout=5000")
                self._reports = reports
            conn = self._reports
            await conn.execute("BEGIN")
            try:
                yield conn
            finally:
                await conn.execute("ROLLBACK")


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
