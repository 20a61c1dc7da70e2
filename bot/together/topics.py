"""A ticket's topic in its field's group, delivered through the outbox (bot/delivery/outbox.py).

Create, record, then post — idempotent across crashes, like the outbox itself:

1. The topic is an intent row (storage `ticket_topics`), committed with the ticket, and an
   outbox row `topic_create`; the posts of the topic (`topic_message`, `topic_document`,
   `topic_photo`) name the intent and wait (Postpone) until its thread is recorded.
2. Just before calling `createForumTopic`, the attempt is committed (`attempted_at`); the
   answer's `message_thread_id` is recorded as soon as it comes.
3. If the bot stops between the call and the recording (or the answer is lost), the topic may
   exist without the bot knowing its id, and Telegram has no lookup of topics by name. But
   Telegram posts the service message `forum_topic_created` (with the topic's name and thread)
   in the group, which the bot, an administrator, receives like any update (and the durable
   inbox keeps): handlers/teams.py hands it to `adopt`, which records that thread. So a retry
   after a lost answer waits `ADOPT_WAIT` for that message before creating the topic again;
   and a `forum_topic_created` of the bot for a ticket whose topic is already recorded under
   another thread is a duplicate, deleted at once. A ticket thus never keeps two topics.

A post that Telegram refuses with "message thread not found" (someone deleted the topic) heals
it: the dead topic is marked, a new one is created with the card and a note that the earlier
topic was deleted, and the post goes there.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError

from bot.conversation import MESSAGE_HOOKS
from bot.delivery.outbox import EXTRA_METHODS, Postpone
from bot.lifecycle import EVENT_HOOKS
from bot.logs import log_event
from bot.tickets import NEW_TICKET_HOOKS, OFFER_ELSEWHERE
from bot.together import teams as service
from storage import teams
from storage.models import OutboxMessage, TicketTopic

if TYPE_CHECKING:
    from bot.delivery.outbox import Outbox

log = logging.getLogger(__name__)

ADOPT_WAIT = timedelta(seconds=60)  # after a lost answer: time for forum_topic_created to come
THREAD_NOT_FOUND = "message thread not found"


async def _create(outbox: Outbox, row: OutboxMessage, payload: dict[str, Any]) -> int | None:
    now = outbox.clock.now()
    async with outbox.db.read() as conn:
        topic = await teams.get_topic(conn, int(payload["topic"]))
    if topic is None or topic.deleted_at is not None or topic.thread_id is not None:
        return None  # done already (recorded, adopted), or replaced
    if topic.attempted_at is not None and now - topic.attempted_at < ADOPT_WAIT:
        raise Postpone  # an earlier call's answer was lost: its service message may come
    async with outbox.db.transaction() as conn:
        await teams.mark_attempt(conn, topic.id, now)
    try:
        created = await outbox.bot.create_forum_topic(row.chat_id, str(payload["name"]))
    except BadRequest:  # refused (rights taken away, topics turned off): no topic was made
        async with outbox.db.transaction() as conn:  # its posts give up; the next event of
            await teams.mark_deleted(conn, topic.id, now)  # the ticket tries again
        raise
    thread = created.message_thread_id
    async with outbox.db.transaction() as conn:
        recorded = await teams.record_thread(conn, topic.id, thread)
        current = await teams.get_topic(conn, topic.id)
    if not recorded and current is not None and current.thread_id != thread:
        await _delete_duplicate(outbox, row.chat_id, thread)
    log_event(log, "topic.created", chat=row.chat_id, thread=thread, ticket=row.ticket_id)
    return None


async def _delete_duplicate(outbox: Outbox, chat_id: int, thread: int) -> None:
    log_event(log, "topic.duplicate", logging.WARNING, chat=chat_id, thread=thread)
    try:
        await outbox.bot.delete_forum_topic(chat_id, thread)
    except TelegramError as exc:  # gone already, or no right any more: nothing else to do
        log.warning("could not delete duplicate topic %s in %s: %s", thread, chat_id, exc)


async def _thread_of(outbox: Outbox, row: OutboxMessage, topic_id: int) -> TicketTopic:
    """The live topic a post goes to (the one that replaced a deleted one); Postpone until its
    thread is recorded."""
    async with outbox.db.read() as conn:
        topic = await teams.get_topic(conn, topic_id)
        if topic is not None and topic.deleted_at is not None:
            topic = await teams.live_topic(conn, topic.ticket_id, topic.chat_id)
    if topic is None:
        raise TelegramError("the ticket has no topic in this group any more")
    if topic.thread_id is None:
        raise Postpone
    return topic


async def _post(outbox: Outbox, row: OutboxMessage, payload: dict[str, Any]) -> int | None:
    payload = dict(payload)
    topic = await _thread_of(outbox, row, int(payload.pop("topic")))
    if isinstance(payload.get("reply_markup"), dict):
        payload["reply_markup"] = InlineKeyboardMarkup.de_json(payload["reply_markup"], None)
    bot, thread = outbox.bot, topic.thread_id
    try:
        if row.method == "topic_document":
            message = await bot.send_document(row.chat_id, message_thread_id=thread, **payload)
        elif row.method == "topic_photo":
            message = await bot.send_photo(row.chat_id, message_thread_id=thread, **payload)
        else:
            message = await bot.send_message(row.chat_id, message_thread_id=thread, **payload)
    except BadRequest as exc:
        if THREAD_NOT_FOUND not in str(exc).lower():
            raise
        await service.heal(outbox, topic)
        raise Postpone from None
    return message.message_id


async def _show(outbox: Outbox, row: OutboxMessage, payload: dict[str, Any]) -> int | None:
    """Rename, close or reopen a topic (`topic_edit`, `topic_close`, `topic_reopen`)."""
    topic = await _thread_of(outbox, row, int(payload["topic"]))
    assert topic.thread_id is not None
    try:
        if row.method == "topic_edit":
            await outbox.bot.edit_forum_topic(row.chat_id, topic.thread_id, name=payload["name"])
        elif row.method == "topic_close":
            await outbox.bot.close_forum_topic(row.chat_id, topic.thread_id)
        else:
            await outbox.bot.reopen_forum_topic(row.chat_id, topic.thread_id)
    except BadRequest as exc:
        if "not_modified" not in str(exc).lower():  # closed twice: it is as it should be
            raise
    return None


def install() -> None:
    """Teach the outbox the topics' methods, and the ticket's announcements its group."""
    if service.on_new_ticket not in NEW_TICKET_HOOKS:
        NEW_TICKET_HOOKS.append(service.on_new_ticket)
    if service.offer_elsewhere not in OFFER_ELSEWHERE:
        OFFER_ELSEWHERE.append(service.offer_elsewhere)
    if service.on_event not in EVENT_HOOKS:
        EVENT_HOOKS.append(service.on_event)
    if service.on_message not in MESSAGE_HOOKS:
        MESSAGE_HOOKS.append(service.on_message)
    EXTRA_METHODS["topic_create"] = _create
    for method in ("topic_message", "topic_document", "topic_photo"):
        EXTRA_METHODS[method] = _post
    for method in ("topic_edit", "topic_close", "topic_reopen"):
        EXTRA_METHODS[method] = _show
