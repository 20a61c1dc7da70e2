"""storage/db.py: where statements run, what waits for the disk (and shares the wait), reports
beside the bot's own reads and writes, and checkpoints."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
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


@dataclass
class Syncs:
    """The fsyncs of the write-ahead log: thread, file, and the receipts on disk by then."""

    calls: list[tuple[int, int, int]] = field(default_factory=list)


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Syncs:
    seen = Syncs()
    real = database._datasync

    def spy(fd: int) -> None:
        real(fd)
        with sqlite3.connect(tmp_path / "intake.db") as other:  # what a reader finds now
            (count,) = other.execute("SELECT COUNT(*) FROM inbox").fetchone()
        seen.calls.append((threading.get_ident(), os.fstat(fd).st_ino, count))

    monkeypatch.setattr(database, "_datasync", spy)
    return seen


async def _receive(db: Database, update_id: int) -> None:
    async with db.durable() as conn:
        await conn.execute(
            "INSERT INTO inbox (update_id, chat_id, payload, received_at)"
            " VALUES (?, 1, '{}', '2026-11-28')",
            (update_id,),
        )


async def test_statements_run_on_the_event_loop(db: Database) -> None:
    seen = _thread_probe(db)
    async with db.read() as conn:
        await conn.execute("SELECT probe()")
    async with db.transaction() as conn:
        await conn.execute("SELECT probe()")
    async with db.durable() as conn:
        await conn.execute("SELECT probe()")
    assert seen == [threading.get_ident()] * 3


async def test_a_durable_write_waits_for_an_fsync_of_the_log_after_its_commit(
    db: Database, syncs: Syncs, tmp_path: Path
) -> None:
    async with db.transaction() as conn:  # an ordinary commit: no wait for the disk
        await conn.execute("UPDATE inbox SET handled_at = NULL")
    assert syncs.calls == []
    await _receive(db, 1)
    wal = (tmp_path / "intake.db-wal").stat().st_ino
    ((thread, inode, committed),) = syncs.calls
    assert thread != threading.get_ident()  # in a thread: the event loop goes on
    assert inode == wal and committed == 1  # the log, with the receipt in it


async def test_receipts_at_once_share_their_fsyncs(db: Database, syncs: Syncs) -> None:
    await asyncio.gather(*(_receive(db, n) for n in range(1, 21)))
    assert 1 <= len(syncs.calls) <= 2  # the first one, then one for all who came meanwhile
    assert syncs.calls[-1][2] == 20


async def test_a_failed_durable_write_waits_for_nothing(db: Database, syncs: Syncs) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        async with db.durable() as conn:
            await conn.execute("INSERT INTO inbox (update_id) VALUES (1)")  # no payload
    assert syncs.calls == []
    await _receive(db, 1)  # and the next one works
    assert len(syncs.calls) == 1


async def test_commits_do_not_wait_for_the_disk(db: Database) -> None:
    async with db.read() as conn:
        rows = list(await conn.execute_fetchall("PRAGMA synchronous"))
    assert rows[0][0] == 1  # NORMAL: safe from a crash of the process; receipts fsync'd


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


async def test_both_connections_order_names_as_a_french_reader_does(db: Database) -> None:
    names = ["Zoé", "émile", "Eric", "Édith", "andré", "Émile"]
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO users (id, role, full_name, language, created_at)"
            " VALUES (?, 'lead', ?, 'fr', '2026-11-28')",
            list(enumerate(names, start=10)),
        )
    query = "SELECT full_name FROM users ORDER BY full_name COLLATE NAME"
    async with db.read() as conn:
        ordered = [row[0] for row in await conn.execute_fetchall(query)]
    async with db.report() as report:
        assert [row[0] for row in await report.execute_fetchall(query)] == ordered
    # Accents and case aside; names equal but for them always in the same order.
    assert ordered == ["andré", "Édith", "Émile", "émile", "Eric", "Zoé"]
