"""The outbox worker: delivers queued notifications, retrying until Telegram takes them.

A notification is a row (committed with the change it announces) before it is a Bot API call.
Several chats are served at once, each chat's rows one after the other in order: the rate
limiter (bot/delivery/ratelimit.py) paces one chat without holding up the others.
Transient failures (timeouts, 5xx) reschedule the row with backoff; a 403 (the person blocked
the bot) ends the row as `blocked`, records it on the user and tells the admins; a 400 ends the
row as `failed`.

A 429 holds one chat, not the outbox: the row that met it and every later pending row of that
chat (those queued during the wait too) are postponed, in the database, until Telegram's
`retry_after` has passed, and then go in the order they were queued; the other chats' rows go
on meanwhile. So a busy group (20 messages a minute) delays its own rows, never the private
notifications, and loses none. Telegram's 429 does not say whether the overall limit (about 30
messages a second) was the one overrun: its answer is the same. The bot cannot tell, so it takes
a 429 as the chat's, and keeps from the overall limit by pacing (28/s in the rate limiter). If
the overall limit were met anyway (the token used elsewhere too), each chat would meet a 429 on
its next send and be held in turn: one refused request per chat, no row lost or doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, BotCommand, BotCommandScopeChat, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.clock import Clock
from bot.delivery.retry import left_to_caller, retry_after_seconds
from bot.logs import log_event
from bot.ui.i18n import t
from storage import Database, people, tickets
from storage import outbox as repo
from storage.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=10)
BATCH = 200  # rows queued in the lanes at most; more are fetched when half are done
LANES = 16  # sends under way at once (different chats)
MAX_ROUNDS = 1_000_000  # bounds the loops of drain(); each round moves at least one row
IDLE_WAKE_SECONDS = 2.0
REPORT = "delivery_report"

# Methods other wings add (name → how to send a row): bot/together/topics.py's forum topics.
# One returns the message id it sent (None: none), raises Postpone to try again soon.
ExtraMethod = Callable[["Outbox", OutboxMessage, dict[str, Any]], Awaitable[int | None]]
EXTRA_METHODS: dict[str, ExtraMethod] = {}


def backoff(attempts: int) -> timedelta:
    """How long to wait after `attempts` failed tries: 2, 4, 8 … seconds, at most 10 minutes."""
    return min(timedelta(seconds=2 ** min(attempts + 1, 20)), MAX_BACKOFF)


class Outbox:
    """Delivers the outbox: `drain()` once, or `start()` a background loop woken by `wake()`."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        bot: Bot,
        admin_ids: Iterable[int],
        default_language: str = "fr",
    ) -> None:
        self.db = db
        self.clock = clock
        self.bot = bot
        self.admin_ids = frozenset(admin_ids)
        self.default_language = default_language
        self.held: dict[int, datetime] = {}  # chat → until when a 429 holds its rows
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        """Ask the background loop to look at the outbox now."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        """Stop the loop; a send in flight finishes first, pending rows stay for the next start."""
        task, self._task = self._task, None
        if task is not None:
            self._stopping = True  # lanes end after their current row
            async with self._lock:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await self.drain()
            except Exception:
                log.exception("outbox drain failed; will try again")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_WAKE_SECONDS)

    async def drain(self) -> int:
        """Deliver every row that is due now, several chats at once; the number of rows tried."""
        handled = 0
        failure: BaseException | None = None
        queued: dict[int, list[OutboxMessage]] = {}  # chat → its rows not yet done, in order
        taken: set[int] = set()  # ids of the rows in `queued`
        lanes: set[asyncio.Task[int]] = set()
        progress = asyncio.Event()  # a lane has finished a row
        slots = asyncio.Semaphore(LANES)

        def reap() -> None:
            nonlocal handled, failure
            for task in [lane for lane in lanes if lane.done()]:
                lanes.discard(task)
                error = task.exception()
                if error is None:
                    handled += task.result()
                else:
                    failure = failure or error

        async with self._lock:
            for _ in range(MAX_ROUNDS):
                if failure is not None or self._stopping:
                    break
                async with self.db.read() as conn:  # the rows under way come first: skip them
                    rows = await repo.due(conn, self.clock.now(), len(taken) + BATCH)
                held = await self._hold_back(rows)
                fresh = [row for row in rows if row.id not in taken and row.chat_id not in held]
                for row in fresh:
                    taken.add(row.id)
                    if row.chat_id in queued:
                        queued[row.chat_id].append(row)
                    else:
                        queued[row.chat_id] = [row]
                        lane = self._lane(row.chat_id, queued, taken, slots, progress)
                        lanes.add(asyncio.create_task(lane))
                if held:  # they were due, now postponed: the next look finds other rows
                    reap()
                    continue
                if not lanes:
                    break
                # Look for more once the lanes are half done (all done when nothing was new).
                low_water = BATCH // 2 if fresh else 0
                for _ in range(MAX_ROUNDS):
                    progress.clear()
                    reap()
                    if failure is not None or len(taken) <= low_water or self._stopping:
                        break
                    await progress.wait()
            for result in await asyncio.gather(*lanes, return_exceptions=True):
                if isinstance(result, BaseException):
                    failure = failure or result
                else:
                    handled += result
        if failure is not None:
            raise failure
        return handled

    async def _lane(
        self,
        chat_id: int,
        queued: dict[int, list[OutboxMessage]],
        taken: set[int],
        slots: asyncio.Semaphore,
        progress: asyncio.Event,
    ) -> int:
        """Send one chat's rows in order, until none is left or sends must pause or stop."""
        rows = queued[chat_id]
        done = 0
        try:
            for _ in range(MAX_ROUNDS):
                if not rows or self._stopping:
                    break
                row = rows[0]
                async with slots:
                    delivered = await self._deliver(row)
                rows.pop(0)
                taken.discard(row.id)
                done += 1
                progress.set()
                if not delivered:
                    break
        finally:  # the rows left stay pending in the database for the next drain
            del queued[chat_id]
            taken.difference_update(row.id for row in rows)
            progress.set()
        return done

    async def _hold_back(self, rows: list[OutboxMessage]) -> set[int]:
        """The chats among `rows` that a 429 still holds; their due rows postponed with it."""
        now = self.clock.now()
        for chat_id in [chat for chat, until in self.held.items() if until <= now]:
            del self.held[chat_id]  # its window has passed: its rows are due again
        held = {row.chat_id for row in rows if row.chat_id in self.held}
        if held:  # queued during the wait: behind the rows already held, in their order
            async with self.db.transaction() as conn:
                for chat_id in held:
                    await repo.hold_chat(conn, chat_id, self.held[chat_id])
        return held

    async def _deliver(self, row: OutboxMessage) -> bool:
        """Try one row; False when its chat's later rows must wait (429)."""
        now = self.clock.now()
        try:
            # Retried here, with backoff: not also at once (bot/delivery/retry.py).
            with left_to_caller():
                message_id = await self._call(row)
        except RetryAfter as exc:
            wait = exc.retry_after  # a timedelta (PTB_TIMEDELTA, see bot/__init__.py)
            seconds = retry_after_seconds(exc)
            until = max(now + timedelta(seconds=seconds), self.held.get(row.chat_id, now))
            self.held[row.chat_id] = until
            log_event(
                log, "outbox.held", logging.WARNING, chat=row.chat_id, seconds=seconds, row=row.id
            )
            async with self.db.transaction() as conn:
                await repo.retry_later(conn, row.id, until, f"429 retry_after={wait}")
                await repo.hold_chat(conn, row.chat_id, until)
            return False
        except Forbidden as exc:
            await self._blocked(row, str(exc))
        except BadRequest as exc:
            await self._bad_request(row, str(exc))
        except NetworkError as exc:  # timeouts, 5xx, connection errors: try again later
            when = now + backoff(row.attempts)
            log_event(
                log,
                "outbox.retry",
                logging.WARNING,
                row=row.id,
                chat=row.chat_id,
                error=type(exc).__name__,
                at=when.isoformat(),
            )
            async with self.db.transaction() as conn:
                await repo.retry_later(conn, row.id, when, f"{type(exc).__name__}: {exc}")
        except Postpone:
            async with self.db.transaction() as conn:
                await repo.retry_later(conn, row.id, now + backoff(0), "waiting for original")
        except TelegramError as exc:
            await self._end(row, OutboxStatus.FAILED, f"{type(exc).__name__}: {exc}")
        else:
            async with self.db.autocommit() as conn:  # one statement: committed as it runs
                await repo.mark_sent(conn, row.id, message_id, self.clock.now())
        return True

    async def _call(self, row: OutboxMessage) -> int | None:
        payload: dict[str, Any] = dict(row.payload)
        if "reply_markup" in payload:
            payload["reply_markup"] = InlineKeyboardMarkup.de_json(payload["reply_markup"], None)
        message: Message | bool
        extra = EXTRA_METHODS.get(row.method)
        if extra is not None:
            return await extra(self, row, payload)
        if row.method == "send_message":
            message = await self.bot.send_message(chat_id=row.chat_id, **payload)
        elif row.method == "send_document":
            message = await self.bot.send_document(chat_id=row.chat_id, **payload)
        elif row.method == "send_photo":
            message = await self.bot.send_photo(chat_id=row.chat_id, **payload)
        elif row.method in {"edit_message_text", "edit_message_caption"}:
            message = await self._edit(row, payload)
        elif row.method == "set_my_commands":
            commands = [BotCommand(c, d) for c, d in payload["commands"]]
            await self.bot.set_my_commands(commands, scope=BotCommandScopeChat(row.chat_id))
            return None
        else:
            raise TelegramError(f"unknown outbox method {row.method}")
        return message.message_id if isinstance(message, Message) else None

    async def _edit(self, row: OutboxMessage, payload: dict[str, Any]) -> Message | bool:
        async with self.db.read() as conn:
            original = await repo.get(conn, row.edit_of) if row.edit_of else None
        if original is None or original.status in {OutboxStatus.FAILED, OutboxStatus.BLOCKED}:
            raise TelegramError("the message to edit was never delivered")
        if original.status is OutboxStatus.PENDING:
            raise Postpone
        if original.status is OutboxStatus.CANCELLED or original.message_id is None:
            raise TelegramError("the message to edit was not sent")
        edit = (
            self.bot.edit_message_caption
            if row.method == "edit_message_caption"
            else self.bot.edit_message_text
        )
        return await edit(chat_id=original.chat_id, message_id=original.message_id, **payload)

    async def _bad_request(self, row: OutboxMessage, error: str) -> None:
        if "message is not modified" in error:  # an edit that changes nothing has done its job
            async with self.db.transaction() as conn:
                await repo.mark_sent(conn, row.id, None, self.clock.now())
            return
        log_event(log, "outbox.failed", logging.ERROR, row=row.id, chat=row.chat_id, error=error)
        await self._end(row, OutboxStatus.FAILED, f"BadRequest: {error}")

    async def _end(self, row: OutboxMessage, status: OutboxStatus, error: str) -> None:
        async with self.db.transaction() as conn:
            await repo.give_up(conn, row.id, status, error)

    async def _blocked(self, row: OutboxMessage, error: str) -> None:
        """The person blocked the bot: record it, tell the admins (once per row), stop trying."""
        now = self.clock.now()
        log_event(log, "outbox.blocked", logging.WARNING, row=row.id, chat=row.chat_id)
        async with self.db.transaction() as conn:
            await repo.give_up(conn, row.id, OutboxStatus.BLOCKED, f"Forbidden: {error}")
            await people.mark_blocked(conn, row.chat_id, now)
            if row.purpose == REPORT:
                return
            person = await people.get_user(conn, row.chat_id)
            name = person.full_name if person else str(row.chat_id)
            ticket = await tickets.get_ticket(conn, row.ticket_id) if row.ticket_id else None
            reference = ticket.reference if ticket else "—"
            admins = await people.admins_to_tell(conn, self.admin_ids, self.default_language)
            for admin_id, language in admins:
                if admin_id == row.chat_id:
                    continue
                await repo.enqueue(
                    conn,
                    chat_id=admin_id,
                    method="send_message",
                    payload={
                        "text": t(language, "report.blocked", name=name, reference=reference),
                        "parse_mode": "HTML",
                    },
                    purpose=REPORT,
                    now=now,
                    ticket_id=row.ticket_id,
                )
        self.wake()


class Postpone(Exception):
    """A row that must wait a little: an edit whose original message is not sent yet, a post
    in a topic not created yet."""
