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
import gc
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

from telegram import Update

from bot.app import IntakeApp
from bot.reports import load_chart_library

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


Step = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


@asynccontextmanager
async def running(
    app: IntakeApp, start_taking: Step = _nothing, stop_taking: Step = _nothing
) -> AsyncIterator[None]:
    """The application started in PTB's order (`initialize`, `post_init`, `start_taking`,
    `start`) for the block, then stopped in reverse, as far as it got.

    `start_taking` begins receiving updates (polling, or the webhook server); `stop_taking`
    ends it, and is called even when `start_taking` failed or never ran. Tests, the sandbox
    and the benchmark run the application with no updates taken (they hand them over).
    """
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        await start_taking()
        await app.start()
        yield
    finally:
        await stop_taking()
        if app.running:
            await app.stop()  # handles what is queued, then stops the jobs
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


@contextmanager
def start_up_frozen() -> Iterator[None]:
    """Python's garbage collector leaves what exists now alone until the block ends.

    A full collection walks every object the program has: once the bot has started, some
    100,000 (modules, PTB's classes, translations, settings) that live as long as the process.
    On a small VM that walk takes 40 to 50 ms, and no update moves meanwhile: it was the
    longest pause of the benchmark's steady load (bench/, README "Performance"). Frozen, they
    are skipped; what the bot makes afterwards is collected as before, and a frozen object is
    still freed as soon as nothing refers to it. Only a cycle among frozen objects that dies
    meanwhile waits for the block's end: one full collection comes first, so there is no
    garbage to freeze, but the few objects of updates already under way are frozen with the
    rest. Matplotlib, which /stats would import later, is imported first (as many objects
    again). CPython's `gc.freeze`; not re-entrant: leaving any such block unfreezes all.
    """
    load_chart_library()
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def run_until_stopped(app: IntakeApp, start_taking: Step, stop_taking: Step) -> None:
    """Start the application, take updates until a stop signal, then stop it cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in STOP_SIGNALS:
        loop.add_signal_handler(number, stop.set)

    async def start_unless_stopped() -> None:  # a stop during post_init: take nothing
        if not stop.is_set():
            await start_taking()

    try:
        async with running(app, start_unless_stopped, stop_taking):
            with start_up_frozen():
                await stop.wait()
            log.info("stopping: no more updates taken; finishing what is in hand")
    finally:
        for number in STOP_SIGNALS:
            loop.remove_signal_handler(number)


def polling(app: IntakeApp) -> tuple[Step, Step]:
    """How to start and stop taking updates by long polling."""
    updater = app.updater
    if updater is None:
        raise RuntimeError("the application has no updater")

    async def start() -> None:
        await updater.start_polling(allowed_updates=Update.ALL_TYPES)

    async def stop() -> None:
        if updater.running:
            await updater.stop()

    return start, stop


async def poll(app: IntakeApp) -> None:
    """Long polling until a stop signal."""
    await run_until_stopped(app, *polling(app))
