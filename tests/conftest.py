"""Fixtures: the real application against the in-process fake Bot API, on a temporary database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.clock import ManualClock
from bot.config import Settings
from bot.tools.emulator import Emulator
from bot.tools.fakeapi import FakeBotAPI

# A recognisable token: it must never show up in logs, the database or messages.
TOKEN = "123456789:SECRET-test-token-do-not-leak"
ADMIN_ID = 1001
# A Tuesday afternoon in Montréal.
START = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "telegram_bot_token": SecretStr(TOKEN),
        "admin_ids": frozenset({ADMIN_ID}),
        "database_path": tmp_path / "intake.db",
        # Tests type much faster than people, on a clock that stands still: the flood limit
        # and daily limits are off here and tested on their own (tests/test_limits.py).
        "rate_limit_per_minute": 0,
        "max_requests_per_day": 0,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def api() -> FakeBotAPI:
    return FakeBotAPI()


@pytest.fixture
async def bot(settings: Settings, clock: ManualClock, api: FakeBotAPI) -> AsyncIterator[Emulator]:
    async with Emulator.running(settings, clock=clock, api=api) as emulator:
        yield emulator
        # Whatever the test did, the token reached no database row and no outgoing call.
        await assert_no_token(emulator)


async def assert_no_token(emulator: Emulator) -> None:
    """The recognisable test token is in no table and in no call made to the Bot API."""
    async with emulator.services.db.read() as conn:
        tables = [
            r[0]
            for r in await conn.execute_fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        ]
        for table in tables:
            for row in await conn.execute_fetchall(f"SELECT * FROM {table}"):
                assert TOKEN not in str(tuple(row)), f"token in table {table}"
    for call in emulator.api.calls:
        assert TOKEN not in str(call.params), f"token sent in {call.method}"
