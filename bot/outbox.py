"""The outbox worker: delivers queued notifications, retrying until Telegram takes them.

A notification is a row (committed with the change it announces) before it is a Bot API call.
Transient failures (timeouts, 5xx, 429) reschedule the row with backoff; a 429 pauses every
send for Telegram's `retry_after`; a 403 (the person blocked the bot) ends the row as
`blocked`, records it on the user and tells the admins; a 400 ends the row as `failed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, BotCommand, BotCommandScopeChat, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.clock import Clock
from bot.i18n import t
from bot.logs import log_event
from storage import Database, people, tickets
from storage import outbox as repo
from storage.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=10)
BATCH = 50
IDLE_WAKE_SECONDS = 2.0
REPORT = "delivery_report"


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
        self.paused_until: datetime | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Ask the background loop to look at the outbox now."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        """Stop the loop; a send in flight finishes first, pending rows stay for the next start."""
        task, self._task = self._task, None
        if task is not None:
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
        """Deliver every row that is due now; the number of rows handled."""
        handled = 0
        async with self._lock:
            while True:
                if self.paused_until and self.clock.now() < self.paused_until:
                    break
                async with self.db.read() as conn:
                    rows = await repo.due(conn, self.clock.now(), BATCH)
                if not rows:
                    break
                for row in rows:
                    handled += 1
                    if not await self._deliver(row):
                        return handled
        return handled

    async def _deliver(self, row: OutboxMessage) -> bool:
        """Try one row; False when every send must pause (429)."""
        now = self.clock.now()
        try:
            message_id = await self._call(row)
        except RetryAfter as exc:
            wait = exc.retry_after  # a timedelta (PTB_TIMEDELTA, see bot/__init__.py)
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            self.paused_until = now + timedelta(seconds=seconds)
            log_event(log, "outbox.paused", logging.WARNING, seconds=seconds, row=row.id)
            async with self.db.transaction() as conn:
                await repo.retry_later(conn, row.id, self.paused_until, f"429 retry_after={wait}")
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
        except _Postpone:
            async with self.db.transaction() as conn:
                await repo.retry_later(conn, row.id, now + backoff(0), "waiting for original")
        except TelegramError as exc:
            await self._end(row, OutboxStatus.FAILED, f"{type(exc).__name__}: {exc}")
        else:
            async with self.db.transaction() as conn:
                await repo.mark_sent(conn, row.id, message_id, self.clock.now())
        return True

    async def _call(self, row: OutboxMessage) -> int | None:
        payload: dict[str, Any] = dict(row.payload)
        if "reply_markup" in payload:
            payload["reply_markup"] = InlineKeyboardMarkup.de_json(payload["reply_markup"], None)
        message: Message | bool
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
            raise _Postpone
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


class _Postpone(Exception):
    """An edit whose original message is not sent yet."""
