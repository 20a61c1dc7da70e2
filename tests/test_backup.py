"""`intake-bot backup <file>`: a consistent copy of the live database, taken while the bot runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.config import Settings
from bot.tools.backup import backup_database, main
from bot.tools.emulator import Emulator
from tests import flows


def _exists(path: Path) -> bool:
    return path.exists()


def _restore(copy: Path, database: Path) -> None:
    """What the README says: the bot stopped, the copy replaces the database and its WAL."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    copy.rename(database)


async def test_backup_while_the_bot_runs(
    bot: Emulator, settings: Settings, tmp_path: Path
) -> None:
    _, marie, _, _ = await flows.world(bot)
    await flows.file_request(marie)
    copy = tmp_path / "backups" / "intake-2026-11-24.db"
    assert backup_database(settings.database_path, copy) == 1
    # The bot goes on writing; the copy is the moment of the backup.
    await flows.file_request(marie, subject="Après la sauvegarde")
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT reference FROM tickets").fetchall() == [("CREC-2026-0001",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert 4 in versions
    assert not _exists(Path(f"{copy}-wal"))


async def test_restoring_a_backup_brings_everything_back(
    settings: Settings, tmp_path: Path
) -> None:
    async with Emulator.running(settings) as bot:
        _, marie, _, _ = await flows.world(bot)
        reference = await flows.file_request(marie)
        copy = tmp_path / "copy.db"
        backup_database(settings.database_path, copy)
    _restore(copy, settings.database_path)
    async with Emulator.running(settings) as bot:
        marie = bot.person(marie.id, "Marie")
        assert reference in (await marie.send("/mytickets"))[-1].text


def test_backup_refuses_to_overwrite_or_to_invent_a_database(tmp_path: Path) -> None:
    source = tmp_path / "live.db"
    with pytest.raises(FileNotFoundError):
        backup_database(source, tmp_path / "copy.db")
    assert not source.exists() and not (tmp_path / "copy.db").exists()
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY)")
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        backup_database(source, existing)
    assert existing.read_bytes() == b"keep me"


def test_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    live = tmp_path / "data" / "intake.db"
    live.parent.mkdir()
    with sqlite3.connect(live) as conn:
        conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY)")
        conn.executemany("INSERT INTO tickets VALUES (?)", [(1,), (2,)])
    monkeypatch.setenv("DATABASE_PATH", str(live))
    assert main(str(tmp_path / "b.db")) == 0
    assert "Backup written to" in capsys.readouterr().out
    assert main(str(tmp_path / "b.db")) == 1
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "missing.db"))
    assert main(str(tmp_path / "c.db")) == 1
    assert "no database at" in capsys.readouterr().err
    monkeypatch.setenv("TIMEZONE", "Mars/Olympus")
    assert main(str(tmp_path / "d.db")) == 2
    assert "TIMEZONE" in capsys.readouterr().err
