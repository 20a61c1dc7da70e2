"""A fake Telegram Bot API over HTTP, for tests that run the bot as a real network client.

`FakeTelegram` listens on 127.0.0.1 (a free port), in a thread with its own event loop (`with`)
or in the test's event loop (`async with`: faster for a bot in the same process), so that
`intake-bot run` in a subprocess, or an in-process PTB `Bot` with its normal `HTTPXRequest`,
can talk to it through `TELEGRAM_API_BASE_URL`, while the test drives it with plain method
calls::

    with FakeTelegram() as telegram:  # a thread; `async with` serves in the test's own loop
        env = {**os.environ, **telegram.bot_env(), "DATABASE_PATH": ..., "ADMIN_IDS": "1001"}
        bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env)
        claire = telegram.person(1001, "Claire")
        await claire.send("/start")
        await telegram.until(lambda: telegram.sent_to(1001), what="a welcome")

The Bot API methods themselves are answered by one `bot.tools.fakeapi.FakeBotAPI`
(`telegram.api`): what it checks (HTML, lengths, buttons), records (`api.calls`, `api.chats`) and
its own `api.fail(...)` stay in one place. This server adds what only a networked Telegram has:

- `getUpdates` long polling with Telegram's rules: an update is confirmed (dropped) only by a
  later call whose `offset` is above its id; until then every call returns it again. Optional
  duplicate delivery (`redeliver=True`) and a lost shutdown confirmation.
- flood limits (`Limits`), answered with 429 and `parameters.retry_after`, and a record of every
  send: when, to which chat, the outcome, and whether it came inside an announced window.
- failures of the network: delays, dropped connections, hangs past the client's timeout, any
  status (5xx, 429 with `retry_after`), and 403 for chats that blocked the bot.

Time is real: `Limits(...).faster(10)` runs the same limits ten times faster for quick tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from telegram.error import TimedOut

from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import FakeBotAPI, Sent, Upload
from tests.conftest import TOKEN

log = logging.getLogger(__name__)

# Parameters that are strings in the Bot API: PTB sends them as they are in a form body, every
# other value JSON-encoded, so only these must not be JSON-decoded ("42" as a text stays "42").
_STRING_PARAMS = frozenset(
    {
        *("text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "file_id"),
        *("language_code", "document", "photo", "audio", "video", "voice", "animation"),
        *("sticker", "thumbnail", "url", "name", "description", "short_description", "emoji"),
        *("message_effect_id", "business_connection_id", "secret_token", "ip_address"),
    }
)
# A chat-addressed call of one of these counts as a send for the flood limits.
_SEND_PREFIXES = ("send", "copy", "forward", "edit")
# Update types Telegram leaves out unless asked for (allowed_updates empty or never given).
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_BLOCKED = "Forbidden: bot was blocked by the user"
# The reading side of the connection being answered (each connection is its own task).
_CLIENT: contextvars.ContextVar[asyncio.StreamReader] = contextvars.ContextVar("client")

MAX_POLL_SECONDS = 50.0  # Telegram's own ceiling for a long poll
MAX_LIFETIME = 900.0  # a forgotten server stops by itself
HANG_SECONDS = 7.0  # FakeBotAPI.fail(timeout=True): longer than PTB's default 5 s read timeout
SETTLE_QUIET = 0.3
SETTLE_TIMEOUT = 15.0
_POLL_STEP = 0.01
_MAX_REQUESTS_PER_CONNECTION = 1_000_000
_MAX_CHUNKS = 100_000


@dataclass(frozen=True)
class Limits:
    """Telegram's flood limits as this server enforces them: token buckets (rate/s, burst).

    Telegram documents ~30 messages per second overall, one per second per chat with short
    bursts, and 20 per minute per group; its exact counting is not published, so these are
    buckets that start full: a chat may take `chat_burst` messages at once, then `chat_rate`
    per second.
    """

    overall_rate: float = 30.0
    overall_burst: float = 30.0
    chat_rate: float = 1.0
    chat_burst: float = 3.0
    group_rate: float = 20 / 60
    group_burst: float = 20.0

    def faster(self, factor: float) -> Limits:
        """The same limits with time running `factor` times faster (same bursts)."""
        return replace(
            self,
            overall_rate=self.overall_rate * factor,
            chat_rate=self.chat_rate * factor,
            group_rate=self.group_rate * factor,
        )


@dataclass(frozen=True)
class SendRecord:
    """One chat-addressed send (sendMessage, sendDocument, edit…) as the server saw it."""

    at: float  # seconds since the server started, when the request had been read
    chat_id: int | str
    method: str
    status: int  # the HTTP status answered; 0 when the connection was closed without one
    # ok | unanswered (done, answer lost) | flood (429: over a limit) | window (429: inside an
    # announced retry_after) | blocked (403) | fault (injected status) | dropped | error
    outcome: str
    in_window: bool  # came while a retry_after window announced for it was open: a violation
    retry_after: int | None = None


@dataclass(frozen=True)
class Stats:
    """What happened to the sends so far."""

    sends: int
    delivered: int
    rate_limited: int  # 429s answered for the flood limits (over a limit, or inside a window)
    violations: int  # sends inside an announced retry_after window
    injected: int  # failures asked for with `fail()` or `api.fail()`
    failed: int  # other refusals: 400, 403
    chats: int
    duration: float  # seconds from the first send to the last
    conflicts: int  # getUpdates answered 409 because a newer one came


@dataclass
class Fault:
    """A failure to inject: see `FakeTelegram.fail`."""

    method: str | None
    chat_id: int | str | None
    status: int | None
    description: str
    retry_after: int | None
    delay: float
    drop: bool
    hang: float | None
    delivered: bool
    times: int


@dataclass
class _Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def keep_alive(self) -> bool:
        return self.headers.get("connection", "").lower() != "close"


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"


class _Bucket:
    """The server's token bucket (on purpose not bot.delivery.ratelimit's: it checks that one)."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, burst, now

    def wait(self, now: float) -> float:
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        return 0.0 if self.tokens >= 1.0 - 1e-9 else (1.0 - self.tokens) / self.rate


class FakeTelegram:
    """The fake Bot API server. Use as a context manager, or `start()` then `stop()`.

    `limits=None` turns the flood limits off. `redeliver=True` delivers every update twice:
    once confirmed, it comes back once more (as when Telegram loses a confirmation).
    `lose_shutdown_confirmation=True` ignores the offset of getUpdates calls with timeout 0:
    PTB makes that call when it stops, to confirm what it fetched last, so the next process
    gets those updates again. Every method is safe to call from any thread.
    """

    def __init__(
        self,
        *,
        token: str = TOKEN,
        limits: Limits | None = Limits(),
        api: FakeBotAPI | None = None,
        redeliver: bool = False,
        lose_shutdown_confirmation: bool = False,
        max_lifetime: float = MAX_LIFETIME,
    ) -> None:
        self.token = token
        self.limits = limits
        self.api = api or FakeBotAPI()
        self.redeliver = redeliver
        self.lose_shutdown_confirmation = lose_shutdown_confirmation
        self.max_lifetime = max_lifetime
        # How long a person's send waits for the bot to fetch it: a test whose bot restarts
        # often sets it from the restarts it measured (tests/test_kill.py).
        self.settle_timeout = SETTLE_TIMEOUT
        self.port = 0
        self.files: dict[str, bytes] = {}  # file_path → content served under /file/bot…
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._updates_changed: asyncio.Event | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._closing = False
        self._startup_error: BaseException | None = None
        self._started = time.monotonic()
        self._last_call = 0.0
        # updates
        self._queue: list[dict[str, Any]] = []
        self._again: list[dict[str, Any]] = []
        self._redelivered: set[int] = set()
        self._fetched: dict[int, float] = {}  # update id → when a getUpdates first returned it
        self._watermark = 0
        self._last_update_id = 0
        self._allowed: frozenset[str] | None = None
        self.webhook: tuple[str, str] | None = None  # (url, secret) given by setWebhook
        self._last_confirmation: tuple[int, list[dict[str, Any]]] | None = None
        self._poll_generation = 0
        self._conflicts = 0
        self._waiting_polls = 0
        # failures and limits
        self._faults: list[Fault] = []
        self._blocked: set[int | str] = set()
        self._records: list[SendRecord] = []
        self._overall: _Bucket | None = None
        self._chats: dict[int | str, _Bucket] = {}
        self._global_until = 0.0
        self._chat_until: dict[int | str, float] = {}
        self._people = _Remote(self)

    # -- running ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """TELEGRAM_API_BASE_URL for the bot: `http://127.0.0.1:<port>/bot`."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_base_url(self) -> str:
        """The base of file downloads: `http://127.0.0.1:<port>/file/bot`."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    def bot_env(self) -> dict[str, str]:
        """Environment variables that point `intake-bot run` at this server."""
        no_proxy = "127.0.0.1,localhost"  # httpx honours *_PROXY; never send this to a proxy
        return {
            "TELEGRAM_BOT_TOKEN": self.token,
            "TELEGRAM_API_BASE_URL": self.base_url,
            "NO_PROXY": no_proxy,
            "no_proxy": no_proxy,
        }

    def start(self) -> FakeTelegram:
        """Listen in a background thread (its own event loop); return once the port is known.

        For a bot in another process, or test code that blocks. A bot in the test's own event
        loop is faster with `async with FakeTelegram() as telegram:` (no thread, no GIL ping-pong).
        """
        if self._thread is not None or self._server is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._serve, name="fake-telegram", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake Telegram did not start within 10 s")
        if self._startup_error is not None:
            raise RuntimeError("the fake Telegram did not start") from self._startup_error
        return self

    def stop(self) -> None:
        """Stop the thread's server: close every connection, end the thread (idempotent)."""
        loop, stopping, thread = self._loop, self._stopping, self._thread
        if thread is None:
            return
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                loop.call_soon_threadsafe(stopping.set)
        thread.join(10)

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    async def __aenter__(self) -> FakeTelegram:
        """Listen in the running event loop (no thread); stops after `max_lifetime` at worst."""
        if self._thread is not None or self._server is not None:
            raise RuntimeError("already started")
        await self._open()
        assert self._stopping is not None
        self._watchdog = asyncio.create_task(self._expire(), name="fake-telegram-lifetime")
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self._watchdog is not None:
            await self._watchdog
            self._watchdog = None

    def now(self) -> float:
        """Seconds since the server started (the clock of `SendRecord.at`)."""
        return time.monotonic() - self._started

    def _serve(self) -> None:
        try:
            asyncio.run(self._expire())
        except BaseException as exc:  # reported by start(); a thread must not die silently
            self._startup_error = exc
            self._ready.set()

    async def _expire(self) -> None:
        """Serve until stopped, or `max_lifetime` at most, then close everything."""
        if self._server is None:
            await self._open()
        assert self._stopping is not None
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.max_lifetime)
        finally:
            await self._close()

    async def _open(self) -> None:
        self._closing = False
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._updates_changed = asyncio.Event()
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self._started = time.monotonic()
        if self.limits is not None:
            self._overall = _Bucket(self.limits.overall_rate, self.limits.overall_burst, 0.0)
        self._ready.set()

    async def _close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._closing = True
        server.close()
        if self._updates_changed is not None:
            self._updates_changed.set()  # long polls answer (empty) now
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    # -- the test's side: updates and people -------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates (numbered if it has no `update_id`); its id."""
        with self._lock:
            if "update_id" in update:
                update_id = int(update["update_id"])
            else:  # ids only grow, as Telegram's do
                update_id = max(self._last_update_id + 1, self._watermark)
                update = {"update_id": update_id, **update}
            self._last_update_id = max(self._last_update_id, update_id)
            self._queue.append(update)
            self._queue.sort(key=lambda u: int(u["update_id"]))
        self._wake_polls()
        return update_id

    def person(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "fr",
    ) -> Person:
        """Someone writing to the bot (bot.tools.emulator.Person): what they send goes to
        getUpdates.

        Each `send`/`click`/`press` returns once the bot has fetched the update and then made no
        Bot API call for a moment; what it returns is what had arrived by then. To wait for
        something precise, use `until()`.
        """
        self.api.known_chats.add(user_id)
        return Person(self._people, user_id, first_name, last_name, username, language_code)

    def fetched(self, update_id: int) -> bool:
        """Whether a getUpdates has returned this update."""
        with self._lock:
            return update_id in self._fetched

    def confirmed(self, update_id: int) -> bool:
        """Whether the update has been confirmed (a later getUpdates had a higher offset)."""
        with self._lock:
            return update_id < self._watermark

    @property
    def polls(self) -> int:
        """How many getUpdates calls have come so far (long polls and the others)."""
        return self._poll_generation

    @property
    def waiting_polls(self) -> int:
        """How many getUpdates calls are waiting for an update right now (long polling)."""
        return self._waiting_polls

    def pending_updates(self) -> list[int]:
        """Ids of the updates not confirmed yet, oldest first (duplicates to come included)."""
        with self._lock:
            ids = {int(u["update_id"]) for u in self._queue + self._again}
        return sorted(ids)

    def unconfirm_last(self) -> int:
        """Undo the most recent confirmation: those updates will be delivered again. How many."""
        with self._lock:
            if self._last_confirmation is None:
                return 0
            watermark, dropped = self._last_confirmation
            self._last_confirmation = None
            ids = {int(u["update_id"]) for u in dropped}
            self._again = [u for u in self._again if int(u["update_id"]) not in ids]
            self._queue = sorted(self._queue + dropped, key=lambda u: int(u["update_id"]))
            self._watermark = watermark
        self._wake_polls()
        return len(dropped)

    async def settled(
        self,
        update_id: int,
        *,
        quiet: float = SETTLE_QUIET,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> None:
        """Wait until the bot fetched `update_id`, then made no Bot API call for `quiet` s
        (`timeout`: `settle_timeout` unless given)."""
        timeout = self.settle_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        await self.until(
            lambda: self.fetched(update_id), timeout=timeout, what=f"update {update_id} fetched"
        )
        with self._lock:
            fetched_at = self._fetched[update_id]
        for _ in range(int(timeout / _POLL_STEP) + 1):
            busy = max(self._last_call, fetched_at)
            if time.monotonic() - busy >= quiet or time.monotonic() > deadline:
                return
            await asyncio.sleep(_POLL_STEP)

    async def drained(
        self,
        *,
        quiet: float = 0.1,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until every open connection is idle in a long poll and no other call has come
        for `quiet` s: once a client is dead (killed), everything it had sent has been read
        and answered, so the chats hold all it will ever have sent."""

        def idle() -> bool:
            busy = len(self._connections) - self._waiting_polls
            return busy <= 0 and time.monotonic() - self._last_call >= quiet

        await self.until(idle, timeout=timeout, what="quiet after the client's calls")

    async def until(
        self,
        condition: Callable[[], object],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline for watching another thread
        what: str = "condition",
    ) -> None:
        """Wait (in an event loop) until `condition()` is true; TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / _POLL_STEP) + 2):
            if condition():
                return
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(_POLL_STEP)
        raise TimeoutError(f"fake Telegram: no {what} within {timeout} s")

    def wait_until(
        self, condition: Callable[[], object], *, timeout: float = 10.0, what: str = "condition"
    ) -> None:
        """`until()` for code without an event loop (blocks the calling thread)."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / _POLL_STEP) + 2):
            if condition():
                return
            if time.monotonic() > deadline:
                break
            time.sleep(_POLL_STEP)
        raise TimeoutError(f"fake Telegram: no {what} within {timeout} s")

    # -- the test's side: failures ------------------------------------------------------------

    def fail(
        self,
        method: str | None = None,
        *,
        chat_id: int | str | None = None,
        status: int | None = None,
        description: str | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        drop: bool = False,
        hang: float | None = None,
        delivered: bool = False,
        times: int = 1,
    ) -> None:
        """Make the next `times` matching calls misbehave (method None: any, getUpdates too).

        `delay`: wait that long first. `drop`: close the connection without an answer.
        `hang`: keep the connection silent that long (more than the client's read timeout for
        a timeout), then close it. `delivered=True` with `drop`/`hang`: the call takes effect
        (the message is sent) and only the answer is lost. `status`: answer that error, e.g.
        502, 403, or 429 with `retry_after` (which opens a window: for `chat_id`, or for all).
        """
        if status is None and not (drop or hang or delay):
            raise ValueError("fail() needs a status, drop, hang or delay")
        if status == 429 and not retry_after:
            raise ValueError("a 429 needs retry_after >= 1")
        text = description or _default_description(status, retry_after)
        fault = Fault(
            method, chat_id, status, text, retry_after, delay, drop, hang, delivered, times
        )
        with self._lock:
            self._faults.append(fault)

    def faults_waiting(self) -> int:
        """How many failures set with `fail` have not met their call yet."""
        with self._lock:
            return sum(fault.times for fault in self._faults)

    def block(self, chat_id: int | str) -> None:
        """From now on, sends to `chat_id` get 403 (the person blocked the bot)."""
        with self._lock:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int | str) -> None:
        """The person unblocked the bot."""
        with self._lock:
            self._blocked.discard(chat_id)

    # -- the test's side: reading ----------------------------------------------------------------

    def sent_to(self, chat_id: int) -> list[Sent]:
        """The bot's messages in a chat as they stand now (edits applied), oldest first."""
        return list(self.api.chats.get(chat_id, []))

    def texts_to(self, chat_id: int) -> list[str]:
        """What a person reads in their chat, message by message."""
        return [m.text for m in self.sent_to(chat_id)]

    @property
    def sends(self) -> list[SendRecord]:
        """Every send so far, in the order the server read them."""
        with self._lock:
            return list(self._records)

    def stats(self) -> Stats:
        """Counts over `sends` (see `Stats`)."""
        with self._lock:
            records, conflicts = list(self._records), self._conflicts
        outcomes = [r.outcome for r in records]
        return Stats(
            sends=len(records),
            delivered=sum(o in {"ok", "unanswered"} for o in outcomes),
            rate_limited=sum(o in {"flood", "window"} for o in outcomes),
            violations=sum(r.in_window for r in records),
            injected=sum(o in {"fault", "dropped"} for o in outcomes),
            failed=sum(o in {"blocked", "error"} for o in outcomes),
            chats=len({r.chat_id for r in records}),
            duration=records[-1].at - records[0].at if records else 0.0,
            conflicts=conflicts,
        )

    # -- HTTP -----------------------------------------------------------------------------------

    async def _connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        _CLIENT.set(reader)
        try:
            for _ in range(_MAX_REQUESTS_PER_CONNECTION):
                request = await _read_request(reader)
                if request is None:
                    return
                reply = await self._handle(request)
                if reply is None:  # dropped or hung: the client gets no answer at all
                    return
                writer.write(_encode(reply, request.keep_alive))
                await writer.drain()
                if not request.keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        except asyncio.CancelledError:  # the server is stopping: end quietly, nothing to report
            return
        except ValueError as exc:  # not HTTP we understand: close, as a server would
            log.warning("fake Telegram: bad request: %s", exc)
            return
        finally:
            self._connections.discard(task)
            writer.close()

    async def _handle(self, request: _Request) -> _Reply | None:
        url = urlsplit(request.target)
        path = unquote(url.path)
        if path.startswith("/file/bot"):
            token, _, file_path = path.removeprefix("/file/bot").partition("/")
            if token != self.token:
                return _error(401, "Unauthorized")
            return self._download(file_path)
        if not path.startswith("/bot"):
            return _error(404, "Not Found")
        token, _, method = path.removeprefix("/bot").partition("/")
        if token != self.token:
            return _error(401, "Unauthorized")
        try:
            params, uploads = _parse(url.query, request)
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(400, f"Bad Request: {exc}")
        if uploads:
            params = self._attach(params, uploads)
        if method != "getUpdates":
            self._last_call = time.monotonic()
        return await self._method(method, params)

    def _download(self, file_path: str) -> _Reply:
        """A file's bytes: set in `files`, else uploaded by the bot, else made up."""
        content = self.files.get(file_path)
        if content is None:
            file_id = file_path.rsplit("/", 1)[-1]  # FakeBotAPI's getFile: documents/<file_id>
            uploaded = (m for chat in list(self.api.chats.values()) for m in chat)
            content = next((m.content for m in uploaded if m.file_id == file_id), None)
        if content is None:
            content = f"fake file {file_path}".encode()
        return _Reply(200, content, "application/octet-stream")

    def _attach(self, params: dict[str, Any], uploads: dict[str, Upload]) -> dict[str, Any]:
        """Put each uploaded file where the call names it, as FakeBotAPI takes uploads.

        PTB uploads one file as the parameter itself (a `document` part), several as parts
        that `attach://<name>` values point to (media groups, thumbnails).
        """
        used: set[str] = set()

        def swap(value: Any) -> Any:
            if isinstance(value, str) and value.startswith("attach://"):
                name = value.removeprefix("attach://")
                used.add(name)
                return uploads.get(name, value)
            if isinstance(value, list):
                return [swap(v) for v in value]
            if isinstance(value, dict):
                return {k: swap(v) for k, v in value.items()}
            return value

        swapped: dict[str, Any] = swap(params)
        for name, upload in uploads.items():
            if name not in used:
                swapped[name] = upload
        return swapped

    # -- the Bot API ------------------------------------------------------------------------------

    async def _method(self, method: str, params: dict[str, Any]) -> _Reply | None:
        chat = _chat_of(method, params)
        with self._lock:
            fault = self._take_fault(method, params.get("chat_id"))
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if (fault.drop or fault.hang) and not fault.delivered:
                if chat is not None:
                    self._record(chat, method, 0, "dropped")
                if fault.hang:
                    await asyncio.sleep(fault.hang)
                return None
            if fault.status is not None:
                return self._injected(fault, chat, method)
        reply: _Reply | None
        if method == "getUpdates":
            reply = await self._get_updates(params)
        elif method in {"deleteWebhook", "setWebhook", "getWebhookInfo", "close", "logOut"}:
            reply = self._webhook(method, params)
        else:
            lost = fault is not None and fault.delivered and bool(fault.drop or fault.hang)
            reply = await self._answer(method, params, chat, lost=lost)
        if reply is not None and fault is not None and (fault.drop or fault.hang):
            if fault.hang:  # delivered, and the answer never comes
                await asyncio.sleep(fault.hang)
            return None
        return reply

    def _injected(self, fault: Fault, chat: int | str | None, method: str) -> _Reply:
        assert fault.status is not None
        parameters = None
        if fault.status == 429 and fault.retry_after:
            parameters = {"retry_after": fault.retry_after}
            with self._lock:
                scope = chat if fault.chat_id is not None else None  # one chat, or all
                self._open_window(scope, self.now() + fault.retry_after)
        if chat is not None:
            self._record(chat, method, fault.status, "fault", fault.retry_after)
        return _error(fault.status, fault.description, parameters)

    async def _answer(
        self, method: str, params: dict[str, Any], chat: int | str | None, *, lost: bool
    ) -> _Reply | None:
        if chat is not None:
            refusal = self._admit(chat, method)
            if refusal is not None:
                return refusal
        try:
            status, body = self.api.answer(method, params)
        except TimedOut:  # FakeBotAPI.fail(timeout=True): stay silent past the read timeout
            if chat is not None:
                self._record(chat, method, 0, "dropped")
            await asyncio.sleep(HANG_SECONDS)
            return None
        except Exception as exc:  # a call FakeBotAPI cannot read: Telegram would say 400
            log.warning("fake Telegram: %s failed: %r", method, exc)
            status, body = 400, _error(400, f"Bad Request: {type(exc).__name__}: {exc}").body
        if status == 429:  # api.fail(status=429, retry_after=…): a window for every chat
            retry_after = int(json.loads(body).get("parameters", {}).get("retry_after") or 1)
            with self._lock:
                self._open_window(None, self.now() + retry_after)
        if chat is not None:
            outcome = "ok" if status == 200 else _outcome(status)
            if status == 200 and lost:
                outcome = "unanswered"
            self._record(chat, method, status, outcome)
        return _Reply(status, body)

    def _admit(self, chat: int | str, method: str) -> _Reply | None:
        """The flood limits and blocked chats: a refusal, or None (the send's tokens taken)."""
        with self._lock:
            at = self.now()
            window = max(self._global_until, self._chat_until.get(chat, 0.0))
            if at < window:
                retry_after = max(1, math.ceil(window - at))
                self._records.append(
                    SendRecord(at, chat, method, 429, "window", True, retry_after)
                )
                return _flood(retry_after)
            if chat in self._blocked:
                self._records.append(SendRecord(at, chat, method, 403, "blocked", False))
                return _error(403, _BLOCKED)
            if self.limits is None or self._overall is None:
                return None
            bucket = self._chats.get(chat)
            if bucket is None:
                private = isinstance(chat, int) and chat > 0
                rate = self.limits.chat_rate if private else self.limits.group_rate
                burst = self.limits.chat_burst if private else self.limits.group_burst
                bucket = self._chats[chat] = _Bucket(rate, burst, at)
            overall_wait, chat_wait = self._overall.wait(at), bucket.wait(at)
            if overall_wait or chat_wait:
                retry_after = max(1, math.ceil(max(overall_wait, chat_wait)))
                self._open_window(None if overall_wait else chat, at + retry_after)
                self._records.append(
                    SendRecord(at, chat, method, 429, "flood", False, retry_after)
                )
                return _flood(retry_after)
            self._overall.tokens -= 1.0
            bucket.tokens -= 1.0
            return None

    def _open_window(self, chat: int | str | None, until: float) -> None:
        if chat is None:
            self._global_until = max(self._global_until, until)
        else:
            self._chat_until[chat] = max(self._chat_until.get(chat, 0.0), until)

    def _record(
        self,
        chat: int | str,
        method: str,
        status: int,
        outcome: str,
        retry_after: int | None = None,
    ) -> None:
        with self._lock:
            self._records.append(
                SendRecord(self.now(), chat, method, status, outcome, False, retry_after)
            )

    def _take_fault(self, method: str, chat_id: object) -> Fault | None:
        for fault in self._faults:
            if fault.method not in (None, method):
                continue
            if fault.chat_id is not None and str(fault.chat_id) != str(chat_id):
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _webhook(self, method: str, params: dict[str, Any]) -> _Reply:
        if method == "getWebhookInfo":
            with self._lock:
                pending = len(self._queue)
            info = {"url": "", "has_custom_certificate": False, "pending_update_count": pending}
            return _ok(info)
        if method == "deleteWebhook" and params.get("drop_pending_updates"):
            with self._lock:
                self._queue.clear()
                self._again.clear()
        if method == "setWebhook":  # remembered; updates are then posted by the test itself
            with self._lock:
                self.webhook = (str(params.get("url", "")), str(params.get("secret_token", "")))
        if method == "deleteWebhook":
            with self._lock:
                self.webhook = None
        return _ok(True)

    # -- getUpdates -------------------------------------------------------------------------------

    async def _get_updates(self, params: dict[str, Any]) -> _Reply:
        assert self._updates_changed is not None
        offset = int(params.get("offset") or 0)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), MAX_POLL_SECONDS)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        # A newer getUpdates ends an older long poll with 409, as Telegram does.
        self._poll_generation += 1
        mine = self._poll_generation
        self._updates_changed.set()
        with self._lock:
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed = frozenset(allowed) if allowed else None
            if not (self.lose_shutdown_confirmation and timeout == 0):
                self._confirm(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        batch: list[dict[str, Any]] = []
        for _ in range(int(timeout / _POLL_STEP) + 2):
            client = _CLIENT.get(None)
            if client is not None and client.at_eof():
                return _ok([])  # the client is gone (e.g. cancelled its poll when stopping)
            if self._poll_generation != mine:
                with self._lock:
                    self._conflicts += 1
                return _error(409, "Conflict: terminated by other getUpdates request")
            self._updates_changed.clear()
            with self._lock:
                batch = self._take(offset, limit)
            remaining = deadline - loop.time()
            if batch or self._closing or remaining <= 0:
                break
            self._waiting_polls += 1
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._updates_changed.wait(), remaining)
            finally:
                self._waiting_polls -= 1
        return _ok(batch)

    def _confirm(self, offset: int) -> None:
        """Drop what `offset` confirms (with the lock held)."""
        if offset < 0:  # the last -offset updates only; all earlier ones are forgotten
            keep = self._queue[offset:]
            offset = int(keep[0]["update_id"]) if keep else self._watermark
        if offset <= self._watermark:
            return
        dropped = [u for u in self._queue if int(u["update_id"]) < offset]
        self._queue = [u for u in self._queue if int(u["update_id"]) >= offset]
        if dropped:
            self._last_confirmation = (self._watermark, dropped)
        self._watermark = offset
        if self.redeliver:
            for update in dropped:
                update_id = int(update["update_id"])
                if update_id not in self._redelivered:
                    self._redelivered.add(update_id)
                    self._again.append(update)

    def _take(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """The updates a getUpdates returns now (with the lock held); duplicates come once."""
        allowed = self._allowed
        if allowed is not None:  # Telegram never sends the others at all
            self._queue = [u for u in self._queue if _update_type(u) in allowed]
        else:
            self._queue = [u for u in self._queue if _update_type(u) not in _OPT_IN_UPDATES]
        pending = [u for u in self._queue if int(u["update_id"]) >= offset]
        batch = sorted(self._again + pending, key=lambda u: int(u["update_id"]))[:limit]
        taken = {id(u) for u in batch}
        self._again = [u for u in self._again if id(u) not in taken]
        now = time.monotonic()
        for update in batch:
            self._fetched.setdefault(int(update["update_id"]), now)
        return batch

    def _wake_polls(self) -> None:
        loop, changed = self._loop, self._updates_changed
        if loop is not None and changed is not None:
            with contextlib.suppress(RuntimeError):  # the server has stopped
                loop.call_soon_threadsafe(changed.set)


class _Remote(Emulator):
    """What `Person` needs of an emulator, when the bot runs elsewhere and polls this server.

    There is no application here (`app`, `services` are not set): updates go to getUpdates.
    """

    def __init__(self, server: FakeTelegram) -> None:  # no super(): there is no app to hold
        self.server = server
        self.api = server.api
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)

    async def feed(self, update: dict[str, Any]) -> None:
        """Queue the update, then wait until the bot has fetched it and gone quiet."""
        await self.server.settled(self.server.push_update(update))

    async def deliver(self) -> int:
        """Nothing to do: the bot's own outbox worker delivers."""
        return 0


# -- HTTP helpers -----------------------------------------------------------------------------


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None  # the client closed a kept-alive connection
        raise
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        body = await reader.readexactly(int(headers.get("content-length") or 0))
    return _Request(method, target, headers, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    for _ in range(_MAX_CHUNKS):
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # the (empty) trailer
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
    raise ValueError("too many chunks")


def _encode(reply: _Reply, keep_alive: bool) -> bytes:
    try:
        reason = HTTPStatus(reply.status).phrase
    except ValueError:
        reason = "Unknown"
    head = (
        f"HTTP/1.1 {reply.status} {reason}\r\n"
        f"Content-Type: {reply.content_type}\r\n"
        f"Content-Length: {len(reply.body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode("latin-1") + reply.body


def _parse(query: str, request: _Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """The call's parameters (query string, JSON, form or multipart body) and its uploads."""
    params: dict[str, Any] = {k: _value(k, v) for k, v in parse_qsl(query, keep_blank_values=True)}
    uploads: dict[str, Upload] = {}
    content_type = request.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    body = request.body
    if mime == "application/json" and body.strip():
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("a JSON body must be an object")
        params.update(data)
    elif mime == "application/x-www-form-urlencoded":
        for key, raw in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
            params[key] = _value(key, raw)
    elif mime == "multipart/form-data":
        match = re.search(r'boundary="?([^";]+)"?', content_type)
        if match is None:
            raise ValueError("multipart body without a boundary")
        for name, filename, content in _multipart(body, match.group(1)):
            if filename is None:
                params[name] = _value(name, content.decode("utf-8"))
            else:
                uploads[name] = Upload(filename, content)
    elif body.strip():
        raise ValueError(f"unsupported content type {mime!r}")
    return params, uploads


def _multipart(body: bytes, boundary: str) -> Iterable[tuple[str, str | None, bytes]]:
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):  # the closing delimiter
            return
        head, separator, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            continue
        headers = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', headers)
        filename = re.search(r'\bfilename="([^"]*)"', headers)
        if name is not None:
            yield (
                name.group(1),
                filename.group(1) if filename else None,
                content.removesuffix(b"\r\n"),
            )


def _value(key: str, raw: str) -> Any:
    """A form value as PTB encoded it: strings as they are, everything else as JSON."""
    if key in _STRING_PARAMS:
        return raw
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return raw if isinstance(value, str) else value


def _chat_of(method: str, params: dict[str, Any]) -> int | str | None:
    """The chat a send goes to, if `method` is a send (else None: not flood-limited)."""
    chat_id = params.get("chat_id")
    if chat_id is None or not method.startswith(_SEND_PREFIXES):
        return None
    if isinstance(chat_id, int):
        return chat_id
    try:
        return int(str(chat_id))
    except ValueError:
        return str(chat_id)


def _update_type(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


def _outcome(status: int) -> str:
    return "blocked" if status == 403 else "error"


def _ok(result: Any) -> _Reply:
    return _Reply(200, json.dumps({"ok": True, "result": result}).encode())


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> _Reply:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return _Reply(status, json.dumps(body).encode())


def _flood(retry_after: int) -> _Reply:
    return _error(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def _default_description(status: int | None, retry_after: int | None) -> str:
    if status == 429:
        return f"Too Many Requests: retry after {retry_after}"
    if status == 403:
        return _BLOCKED
    if status is None:
        return ""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


__all__ = [
    "FakeTelegram",
    "Fault",
    "Limits",
    "SendRecord",
    "Stats",
]
