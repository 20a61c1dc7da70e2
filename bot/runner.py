"""Running the application until SIGTERM or SIGINT, in polling or webhook mode.

PTB's `run_polling` turns a stop signal into `SystemExit` wherever the program happens to be.
While polling is still starting (its first call to Telegram), that breaks the start-up
coroutine half-way, PTB's clean-up then fails, the database is never closed and its thread
keeps the process alive. Here a stop signal only sets an event: what is starting finishes
starting (a call to Telegram ends within its timeout), then everything stops in order. This
is PTB's documented way of running an application by hand (`initialize`, `start`,
`updater.start_polling`, then the same in reverse).

When the bot cannot start (Telegram refuses the token, the Bot API does not answer, the webhook
cannot be set), `StartFailed` carries one line for the person running it and the exit status:
`EXIT_SETTING` (2) when a setting is wrong, which the systemd unit does not restart, or
`EXIT_TRY_LATER` (75, sysexits' EX_TEMPFAIL) when Telegram or the network may just be down for
now, which it restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import InvalidToken, TelegramError

from bot.app import IntakeApp, services_of
from bot.delivery.retry import left_to_caller
from bot.reports.chart import load_chart_library

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_SETTING = 2  # a setting is wrong: starting again would fail again
EXIT_TRY_LATER = 75  # EX_TEMPFAIL: Telegram or the network did not answer; worth another try
RETRY_PAUSES = (1.0, 3.0)  # seconds between the attempts to reach Telegram at start


class StartFailed(Exception):
    """The bot could not start: `str()` is the one line to show, `code` the exit status."""

    def __init__(self, line: str, code: int) -> None:
        super().__init__(line)
        self.code = code


def shown_url(url: str) -> str:
    """A URL as it may be printed: without a user name or password in it."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


# What PTB puts before the reason of a failed connection: httpx's class name (and the
# system's error number), which say nothing to the person reading the line.
_LIBRARY_CLASS = re.compile(r"^httpx\.(\w+):\s*")
_ERROR_NUMBER = re.compile(r"^\[Errno -?\d+\]\s*")
# In words, for the classes whose message is often empty.
_WITHOUT_MESSAGE = {
    "ConnectError": "could not connect",
    "ReadError": "the connection broke",
    "WriteError": "the connection broke",
    "RemoteProtocolError": "the server closed the connection",
    "ProxyError": "the proxy refused the connection",
}


def plain_reason(exc: TelegramError) -> str:
    """Why a call to the Bot API failed, in words (`httpx.ConnectError: All connection
    attempts failed` → `all connection attempts failed`; `Timed out` → `timed out`)."""
    text, kind = str(exc).strip(), ""
    if match := _LIBRARY_CLASS.match(text):
        kind, text = match.group(1), text[match.end() :]
    text = _ERROR_NUMBER.sub("", text).strip().rstrip(".")
    if not text:
        return _WITHOUT_MESSAGE.get(kind, "the connection failed")
    if text[1:] == text[1:].lower():  # words, not a name ("Bad Gateway" stays)
        text = text[0].lower() + text[1:]
    return text


def api_unreachable(app: IntakeApp, exc: TelegramError, what: str) -> StartFailed:
    """The Bot API did not answer (or failed) while the bot was starting."""
    url = shown_url(services_of(app).settings.telegram_api_base_url)
    return StartFailed(
        f"no answer from the Bot API at TELEGRAM_API_BASE_URL ({url}) {what}"
        f" ({plain_reason(exc)}): check the setting and the network.",
        EXIT_TRY_LATER,
    )


def token_refused(app: IntakeApp, exc: InvalidToken) -> StartFailed:
    """Telegram answered 401 (a token it does not know) or 404 (a token it cannot read)."""
    # PTB's own message has the token in it; the server's answer is its cause.
    answer = str(exc.__cause__ or "")
    if "not found" in answer.lower():  # also what a wrong TELEGRAM_API_BASE_URL path gets
        url = shown_url(services_of(app).settings.telegram_api_base_url)
        return StartFailed(
            "Telegram refused TELEGRAM_BOT_TOKEN (404 Not Found): check the token @BotFather"
            f" gave you, and TELEGRAM_API_BASE_URL ({url}) if you set it.",
            EXIT_SETTING,
        )
    return StartFailed(
        "Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized): check the token @BotFather"
        " gave you.",
        EXIT_SETTING,
    )


async def reach_telegram(app: IntakeApp, stop: asyncio.Event) -> bool:
    """Ask Telegram who the bot is (`getMe`, PTB's `Bot.initialize`), again after a pause when
    it does not answer; False if a stop signal came meanwhile.

    Raises StartFailed when Telegram refuses the token, or has not answered the last attempt.
    """
    loop = asyncio.get_running_loop()
    began = loop.time()
    pauses = iter(RETRY_PAUSES)
    attempts = 0
    while True:
        attempts += 1
        try:
            with left_to_caller():  # tried once each time: the pauses are these
                await app.bot.initialize()
            return True
        except InvalidToken as exc:
            raise token_refused(app, exc) from None
        except TelegramError as exc:  # no connection, a timeout, a 5xx: perhaps only for now
            pause = next(pauses, None)
            if stop.is_set():
                return False
            if pause is None:
                elapsed = round(loop.time() - began)
                what = f"after {attempts} attempts in {elapsed} s"
                raise api_unreachable(app, exc, what) from None
            log.debug("Telegram did not answer (%s); trying again in %s s", exc, pause)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
        if stop.is_set():
            return False


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
    garbage to freeze, and `run_until_stopped` enters the block before the first update is
    taken, so that nothing of an update is frozen. Matplotlib, which /stats would import later,
    is imported first (as many objects again). CPython's `gc.freeze`; not re-entrant: leaving
    any such block unfreezes all.
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

    frozen = contextlib.ExitStack()

    async def start_unless_stopped() -> None:  # a stop during post_init: take nothing
        if stop.is_set():
            return
        # Before the first update is taken, not after "started" is logged: the import and the
        # collection hold the event loop for half a second to a second, and a bot that says it
        # has started takes updates from then on. What is frozen is then only the start-up's.
        frozen.enter_context(start_up_frozen())
        try:
            await start_taking()
        except TelegramError as exc:
            raise api_unreachable(app, exc, "while the bot started") from None

    try:
        reached = False
        try:
            reached = await reach_telegram(app, stop)
        finally:
            if not reached:  # `running` never starts: close what getMe opened here
                await app.bot.shutdown()
        if not reached:
            return
        with frozen:
            async with running(app, start_unless_stopped, stop_taking):
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
