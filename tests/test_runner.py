"""`bot.runner.run_until_stopped`, in-process: what `intake-bot run` does between its start and
a stop signal (the process itself is tested in tests/test_kill.py)."""

from __future__ import annotations

import asyncio
import gc
import os
import signal

from bot.app import build_application
from bot.config import Settings
from bot.emulator import FakeBotAPI
from bot.runner import run_until_stopped


async def _nothing() -> None:
    return None


async def test_start_up_objects_are_left_out_of_collections_until_the_stop(
    settings: Settings, api: FakeBotAPI
) -> None:
    assert gc.get_freeze_count() == 0
    app = build_application(settings, request=api, outbox_worker=False)
    run = asyncio.create_task(run_until_stopped(app, _nothing, _nothing))
    for _ in range(1000):
        if gc.get_freeze_count() or run.done():
            break
        await asyncio.sleep(0.01)
    frozen = gc.get_freeze_count()
    # The modules, PTB's classes and the translations: what a full collection would walk.
    assert frozen > 10_000
    assert run.done() is False
    # What the bot makes from now on is collected as before.
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1

    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(run, 10)
    assert not app.running
    assert gc.get_freeze_count() == 0  # given back to the collector
