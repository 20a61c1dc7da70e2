"""`intake-bot backup <file>`: a consistent copy of the live database, while the bot runs.

SQLite's online backup API copies the database page by page under its own locks, so the copy
is a snapshot of one moment, whatever the bot writes meanwhile (a plain `cp` of a database in
WAL mode can miss committed pages that are still in the `-wal` file). The copy is checked, and
left in rollback-journal mode: one self-contained file, ready to restore (see README).
"""

from __future__ import annotations

import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from bot.config import SettingsError, load_settings

PAGES_PER_STEP = 1024  # copy in steps, so that the bot's writes are never held up for long


def backup_database(source: Path, target: Path) -> int:
    """Copy `source` to `target` (which must not exist); the number of tickets copied."""
    if not source.is_file():
        raise FileNotFoundError(f"no database at {source}")
    if target.exists():
        raise FileExistsError(f"{target} already exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    # mode=rw: never create an empty database where the live one was expected.
    live = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True)
    try:
        with closing(live), closing(sqlite3.connect(target)) as copy:
            live.execute("PRAGMA busy_timeout=5000")
            live.backup(copy, pages=PAGES_PER_STEP)
            copy.execute("PRAGMA journal_mode=DELETE")
            (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"the copy failed its integrity check: {verdict}")
            (tickets,) = copy.execute("SELECT COUNT(*) FROM tickets").fetchone()
    except BaseException:
        target.unlink(missing_ok=True)  # no half-made backup that could be mistaken for one
        raise
    return int(tickets)


def main(path: str) -> int:
    """Back up the database of the settings (DATABASE_PATH) to `path`; the exit status."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"intake-bot: {exc}", file=sys.stderr)
        return 2
    target = Path(path)
    try:
        tickets = backup_database(settings.database_path, target)
    except (OSError, sqlite3.Error) as exc:
        print(f"intake-bot: backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"Backup written to {target} ({tickets} tickets), from {settings.database_path}.")
    return 0
