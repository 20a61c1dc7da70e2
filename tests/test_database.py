"""storage/db.py: where statements run, what waits for the disk, reports beside the bot's own
reads and writes, and checkpoints."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import db as database
from storage.db import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    opened = Database(tmp_path / "intake.db")
    await opened.open()
    yield opened
    await opened.close()


def _thread_probe(db: Database) -> list[int]:
    """A SQL function `probe()` recording the thread that runs each statement calling it."""
    seen: list[int] = []

    def probe() -> int:
        seen.append(threading.get_ident())
        return 1

    db.conn._conn.create_function("probe", 0, probe)
    return seen


async def test_statements_run_on_the_event_loop_and_disk_waits_in_the_thread(
    db: Database,
) -> None:
    seen = _thread_probe(db)
    here = threading.get_ident()
    async with db.read() as conn:
        await conn.execute("SELECT probe()")
    async with db.transaction() as conn:
        await conn.execute("SELECT probe()")
    async with db.durable() as conn:
        await conn.execute("SELECT probe()")
    assert seen[0] == here and seen[1] == here
    assert seen[2] != here  # a durable write does not hold up the event loop


async def test_only_durable_writes_wait_for_the_disk(db: Database) -> None:
    async def level(conn: database.Connection) -> int:
        rows = list(await conn.execute_fetchall("PRAGMA synchronous"))
        return int(rows[0][0])

    async with db.transaction() as conn:
        assert await level(conn) == 1  # NORMAL: safe from a crash of the process
    async with db.durable() as conn:
        assert await level(conn) == 2  # FULL: fsync at commit
    async with db.durable() as conn:
        pass
    async with db.autocommit() as conn:
        assert await level(conn) == 1  # and back to NORMAL after it, even when empty


async def test_a_failed_durable_write_leaves_the_connection_as_it_was(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        async with db.durable() as conn:
            await conn.execute("INSERT INTO inbox (update_id) VALUES (1)")  # no payload
    async with db.read() as conn:
        rows = list(await conn.execute_fetchall("PRAGMA synchronous"))
    assert rows[0][0] == 1


async def test_a_report_sees_one_snapshot_while_the_bot_writes(db: Database) -> None:
    async def add(update_id: int) -> None:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO inbox (update_id, chat_id, payload, received_at)"
                " VALUES (?, 1, '{}', '2026-11-28')",
                (update_id,),
            )

    await add(1)
    async with db.report() as report:
        first = list(await report.execute_fetchall("SELECT COUNT(*) FROM inbox"))
        await add(2)  # the bot goes on writing while the report reads
        second = list(await report.execute_fetchall("SELECT COUNT(*) FROM inbox"))
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await report.execute("DELETE FROM inbox")
    assert first[0][0] == second[0][0] == 1
    async with db.report() as report:  # a new report sees the new state
        third = list(await report.execute_fetchall("SELECT COUNT(*) FROM inbox"))
    assert third[0][0] == 2


async def test_the_write_ahead_log_is_checkpointed_as_the_bot_writes(
    db: Database, tmp_path: Path
) -> None:
    payload = "x" * 3000  # a page or more per write
    writes = database.CHECKPOINT_EVERY * 10
    for n in range(writes):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO inbox (update_id, chat_id, payload, received_at)"
                " VALUES (?, 1, ?, '2026-11-28')",
                (n, payload),
            )
    wal = (tmp_path / "intake.db-wal").stat().st_size
    # Unchecked, the log would hold every write: a 4 KB page each at the very least (in fact
    # about four: 16 MB for 1,000 writes); checkpointed, it is reused (about 3.6 MB).
    assert wal < writes * 4096
