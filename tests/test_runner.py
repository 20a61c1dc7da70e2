"""`bot.runner.run_until_stopped`, in-process: what `intake-bot run` does between its start and
a stop signal (the process itself is tested in tests/test_kill.py)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import weakref

from bot.app import build_application
from bot.config import Settings
from bot.runner import run_until_stopped
from bot.tools.fakeapi import FakeBotAPI


async def _nothing() -> None:
    return None


def _collected(thing: object) -> bool:
    """Whether the garbage collector would look at `thing` (frozen objects it skips)."""
    return any(candidate is thing for candidate in gc.get_objects())


class _Node:
    """An object that can be part of a reference cycle."""

    other: object = None


async def test_start_up_objects_are_left_out_of_collections_until_the_stop(
    settings: Settings, api: FakeBotAPI
) -> None:
    assert gc.get_freeze_count() == 0
    app = build_application(settings, request=api, outbox_worker=False)
    run = asyncio.create_task(run_until_stopped(app, _nothing, _nothing))
    try:
        for _ in range(1000):
            if gc.get_freeze_count() or run.done():
                break
            await asyncio.sleep(0.01)
        assert run.done() is False
        # What the start-up made, and the chart library /stats would import later, is frozen.
        from matplotlib.figure import Figure  # noqa: PLC0415

        assert not _collected(app) and not _collected(Figure)
        # What the bot makes from now on is collected as before, cycles included.
        node = _Node()
        node.other = node
        gone = weakref.ref(node)
        assert _collected(node)
        del node
        gc.collect()
        assert gone() is None

        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(run, 10)
    finally:
        if not run.done():  # a failed assertion above: do not leave the heap frozen
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run
            gc.unfreeze()
    assert app.running is False
    assert gc.get_freeze_count() == 0 and _collected(app)  # given back at the stop
