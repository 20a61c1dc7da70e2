"""Durable receipt of updates.

python-telegram-bot confirms an update to Telegram before its handler runs (polling: the next
`getUpdates` offset; webhook: the HTTP answer), so a crash in between would lose it. Both
paths hand every update to `Application.update_queue.put()` *before* that confirmation, so the
queue is where receipt is made durable: `DurableQueue.put` commits the update to the `inbox`
table, and the confirmation waits until it is on disk (`DurableQueue.durable`: one fsync for a
whole getUpdates batch). `IntakeApplication.process_update` marks it handled once its handlers
are done; at start, updates still pending (the process died meanwhile) are handled first, in
order.

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
        is a repeat (handled, or already queued here). Committed, it is safe from a crash of the
        process; `synced` waits until a power cut would spare it too."""
        if update.update_id in self._queued:
            return False
        chat = update.effective_chat
        async with self.db.autocommit() as conn:
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

    async def synced(self) -> None:
        """Return once every update received so far is on disk (one fsync for all of them,
        shared with whoever else waits: storage.db.WalSync)."""
        await self.db.wal.sync()

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
    """The application's update queue; an update is on disk before it is in the queue.

    `put` commits the update and returns; one fsync then puts on disk every update committed
    meanwhile (a group commit), and only then are they queued for their handlers, in order.
    `durable` waits for that: before Telegram is told it may forget an update (polling: the
    next getUpdates, through `KeepingJSONRequest`; the webhook: its 200, through `put_json`).
    So a getUpdates batch of 100 costs one fsync or two, not 100 (about 6 ms each here), and
    what follows a flood in the batch is not kept waiting behind the flood's fsyncs.

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
        self._unsynced: list[Update] = []  # committed, waiting for the disk, in order
        self._received = 0  # updates committed so far
        self._synced = 0  # of those, how many are on disk (and queued)
        self._syncing: asyncio.Future[None] | None = None

    def keep_json(self, payloads: Iterable[object]) -> None:
        """Remember the JSON of updates about to be put (the result of a getUpdates)."""
        for payload in payloads:
            if isinstance(payload, dict) and isinstance(payload.get("update_id"), int):
                self._json[payload["update_id"]] = payload
        while len(self._json) > self.KEEP_AT_MOST:  # never put: forget the oldest
            del self._json[next(iter(self._json))]

    async def put_json(self, update: Update, payload: dict[str, Any]) -> None:
        """Put an update made from `payload`, the JSON it came as; return once it is on disk
        (the webhook answers Telegram then)."""
        self._json[update.update_id] = payload
        await self.put(update)
        await self.durable()

    async def put(self, item: object) -> None:
        """Commit an update and return; it is queued once on disk (`durable`). Anything else
        is queued at once."""
        if isinstance(item, Update) and self.inbox is not None:
            payload = self._json.pop(item.update_id, None)
            if not await self.inbox.receive(item, payload):
                log.info("update %s received again: ignored", item.update_id)
                return
            self._unsynced.append(item)
            self._received += 1
            if self._syncing is None:
                self._syncing = asyncio.ensure_future(self._sync())
            return
        await super().put(item)

    async def durable(self) -> None:
        """Return once every update put so far is on disk, and queued for its handlers."""
        mine = self._received
        while self._synced < mine:
            if self._syncing is None:  # the last fsync failed: try again
                self._syncing = asyncio.ensure_future(self._sync())
            await asyncio.shield(self._syncing)

    async def _sync(self) -> None:
        """One fsync for every update committed so far, then queue them; again while more
        came meanwhile."""
        assert self.inbox is not None
        try:
            while self._unsynced:
                batch, self._unsynced = self._unsynced, []
                covers = self._received  # every update committed so far is in `batch`
                try:
                    await self.inbox.synced()
                except BaseException:
                    self._unsynced[:0] = batch  # still to do; `durable` raises and retries
                    raise
                for update in batch:
                    self.put_nowait(update)
                self._synced = covers
        finally:
            self._syncing = None


class KeepingJSONRequest(HTTPXRequest):
    """PTB's HTTP client for getUpdates, handing each update's JSON to the durable queue."""

    def __init__(self, queue: DurableQueue, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.queue = queue

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        # A getUpdates' offset tells Telegram it may forget every update before it: those
        # PTB has put since the last call must be on disk first.
        await self.queue.durable()
        return await super().do_request(url, method, *args, **kwargs)

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

    async def stop(self) -> None:
        queue = self.update_queue
        if isinstance(queue, DurableQueue):  # what was received is handled before the stop
            try:
                await queue.durable()
            except OSError:  # committed all the same: handled after the next start
                log.exception("could not put the last updates received on disk")
        await super().stop()

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
