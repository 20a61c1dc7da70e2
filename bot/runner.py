"""Running the application until SIGTERM or SIGINT, in polling or webhook mode.

PTB's `run_polling` turns a stop signal into `SystemExit` wherever the program happens to be.
While polling is still starting (its first call to Telegram), that breaks the start-up
coroutine half-way, PTB's clean-up then fails, the database is never closed and its thread
keeps the process alive. Here a stop signal only sets an event: what is starting finishes
starting (a call to Telegram ends within its timeout), then everything stops in order. This
is PTB's documented way of running an application by hand (`initialize`, `start`,
`updater.start_polling`, then the same in reverse).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from telegram import Update

from bot.app import IntakeApp

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def run_until_stopped(
    app: IntakeApp,
    start_taking: Callable[[], Awaitable[None]],
    stop_taking: Callable[[], Awaitable[None]],
) -> None:
    """Start the application, take updates until a stop signal, then stop it cleanly.

    `start_taking` begins receiving updates (polling, or the webhook server); `stop_taking`
    ends it, and is called even when `start_taking` failed or never ran.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in STOP_SIGNALS:
        loop.add_signal_handler(number, stop.set)
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        if not stop.is_set():
            await start_taking()
            await app.start()
            await stop.wait()
    finally:
        log.info("stopping: no more updates taken; finishing what is in hand")
        await stop_taking()
        if app.running:
            await app.stop()  # handles what is queued, then stops the jobs
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)
        for number in STOP_SIGNALS:
            loop.remove_signal_handler(number)


async def poll(app: IntakeApp) -> None:
    """Long polling until a stop signal."""
    updater = app.updater
    if updater is None:
        raise RuntimeError("the application has no updater")

    async def start() -> None:
        await updater.start_polling(allowed_updates=Update.ALL_TYPES)

    async def stop() -> None:
        if updater.running:
            await updater.stop()

    await run_until_stopped(app, start, stop)
