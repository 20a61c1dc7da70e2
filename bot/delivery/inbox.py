"""Durable receipt of updates.

python-telegram-bot confirms an update to Telegram before its handler runs (polling: the next
`getUpdates` offset; webhook: the HTTP answer), so a crash in between would lose it. Both
paths hand every update to `Application.update_queue.put()` *before* that confirmation, so the
queue is where receipt is made durable: `DurableQueue.put` commits the update to the `inbox`
table first. `IntakeApplication.process_update` marks it handled once its handlers are done;
at start, updates still pending (the process died meanwhile) are handled first, in order.

Telegram may send an update again (a lost confirmation, a restart): the inbox knows its
`update_id` and it is not handled twice. Handlers are idempotent for the rest (a form step
remembers the message it took, a relayed message is unique, Send and Take compare-and-set).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot.clock import Clock
from storage import Database
from storage import inbox as repo

log = logging.getLogger(__name__)

KEEP_HANDLED = timedelta(days=7)
REPLAY_BATCH = 500


class Inbox:
    """The updates received and not yet handled, in SQLite."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._queued: set[int] = set()  # received by this process and not handled yet

    async def receive(self, update: Update, payload: dict[str, Any] | None = None) -> bool:
        """Commit an update (`payload`: its JSON as Telegram sent it, when known); False if it
        is a repeat (handled, or already queued here)."""
        if update.update_id in self._queued:
            return False
        chat = update.effective_chat
        async with self.db.durable() as conn:  # on disk before Telegram is told
            fresh = await repo.record(
                conn,
                update.update_id,
                chat.id if chat else None,
                payload if payload is not None else update.to_dict(),
                self.clock.now(),
            )
            if not fresh and await repo.is_handled(conn, update.update_id):
                return False
        self._queued.add(update.update_id)
        return True

    def queued(self, update_id: int) -> bool:
        """Received by this process and not handled yet: certainly not handled."""
        return update_id in self._queued

    async def handled(self, update_id: int) -> None:
        async with self.db.autocommit() as conn:  # one statement: committed as it runs
            await repo.mark_handled(conn, update_id, self.clock.now())
        self._queued.discard(update_id)

    async def is_handled(self, update_id: int) -> bool:
        async with self.db.read() as conn:
            return await repo.is_handled(conn, update_id)

    async def pending(self) -> list[dict[str, Any]]:
        async with self.db.read() as conn:
            return await repo.pending(conn, REPLAY_BATCH)

    async def tidy(self) -> int:
        """Forget handled updates older than a week."""
        async with self.db.transaction() as conn:
            return await repo.forget_handled(conn, self.clock.now() - KEEP_HANDLED)


class DurableQueue(asyncio.Queue[object]):
    """The application's update queue; an update is in SQLite before it is in the queue.

    The inbox keeps each update as Telegram sent it. Rebuilding that JSON from PTB's objects
    (`Update.to_dict`) costs more than handling most updates, so the JSON is kept when it
    arrives: `put_json` (the webhook), `keep_json` (polling, through `KeepingJSONRequest`);
    `put` then stores that instead.
    """

    KEEP_AT_MOST = 1_000  # JSON waiting for its `put` (PTB puts what it fetched at once)

    def __init__(self) -> None:
        super().__init__()
        self.inbox: Inbox | None = None  # set at start-up, once the database is open
        self._json: dict[int, dict[str, Any]] = {}

    def keep_json(self, payloads: Iterable[object]) -> None:
        """Remember the JSON of updates about to be put (the result of a getUpdates)."""
        for payload in payloads:
            if isinstance(payload, dict) and isinstance(payload.get("update_id"), int):
                self._json[payload["update_id"]] = payload
        while len(self._json) > self.KEEP_AT_MOST:  # never put: forget the oldest
            del self._json[next(iter(self._json))]

    async def put_json(self, update: Update, payload: dict[str, Any]) -> None:
        """Put an update made from `payload`, the JSON it came as."""
        self._json[update.update_id] = payload
        await self.put(update)

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and self.inbox is not None:
            payload = self._json.pop(item.update_id, None)
            if not await self.inbox.receive(item, payload):
                log.info("update %s received again: ignored", item.update_id)
                return
        await super().put(item)


class KeepingJSONRequest(HTTPXRequest):
    """PTB's HTTP client for getUpdates, handing each update's JSON to the durable queue."""

    def __init__(self, queue: DurableQueue, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.queue = queue

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        data = super().parse_json_payload(payload)
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, list):
            self.queue.keep_json(result)
        return data


class IntakeApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application, marking each update handled in the inbox once it has been, with a
    `post_start` callback: work that must stop with `stop()` starts there, not in `post_init`.

    (Polling starts between `post_init` and `start()`; a stop in between skips `stop()` and
    `post_stop`, so anything started in `post_init` would still run while the database closes.)
    """

    inbox: Inbox | None = None
    post_start: Callable[[IntakeApplication], Awaitable[None]] | None = None

    async def start(self) -> None:
        await super().start()
        if self.post_start is not None:
            await self.post_start(self)

    async def process_update(self, update: object) -> None:
        inbox = self.inbox
        if inbox is not None and isinstance(update, Update):
            # An update this process has just received is known not to be handled: only a
            # replayed one needs the database to say.
            if not inbox.queued(update.update_id) and await inbox.is_handled(update.update_id):
                return
            await super().process_update(update)
            await inbox.handled(update.update_id)
            return
        await super().process_update(update)

    async def replay_pending(self) -> int:
        """Handle what was received but not handled before the last stop; how many."""
        if self.inbox is None:
            return 0
        replayed = 0
        while batch := await self.inbox.pending():
            for payload in batch:
                await self.process_update(Update.de_json(payload, self.bot))
                replayed += 1
        if replayed:
            log.info("handled %d updates received before the last stop", replayed)
        return replayed
