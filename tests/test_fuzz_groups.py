"""Fuzzing a team's group: random messages in topics and outside them, replies, forged service
messages of topic creation and closure, forged presses, from leads, admins, the contact and
strangers. No unhandled error, nothing Telegram would refuse, and nothing changes that the
person was not entitled to change."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.tools.emulator import Emulator, GroupMember
from bot.tools.fakeapi import BOT_ID, FakeBotAPI
from tests import flows
from tests.conftest import make_settings
from tests.test_fuzz import NASTY

GROUP = -100_900
TEXT = st.one_of(NASTY, st.text(max_size=120), st.just("/teamgroup off"), st.just("/notify"))
DATA = st.one_of(
    st.sampled_from(
        ["t:take:1", "tw:write:1", "tw:write:2", "tw:write:x", "tw:write", "t:resolve:1"]
    ),
    st.text(max_size=70),
)
STEP = st.tuples(
    st.sampled_from(["jean", "eve", "marie", "boss", "stranger"]),
    st.sampled_from(
        ["topic", "general", "reply_card", "reply_last", "press", "created", "closed", "command"]
    ),
    TEXT,
    DATA,
    st.integers(min_value=-3, max_value=500),
)


def _service(api: FakeBotAPI, sender: dict[str, Any], thread: int, **content: Any) -> Any:
    return {
        "message": {
            "message_id": api.next_message_id(GROUP),
            "date": int(time.time()),
            "chat": api.chat_json(GROUP),
            "from": sender,
            "message_thread_id": thread,
            "is_topic_message": True,
            **content,
        }
    }


async def _scenario(steps: list[tuple[str, str, str, str, int]], folder: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 24, 19, 0, tzinfo=UTC))
    api = FakeBotAPI()
    errors: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                errors.append(record)

    catcher = Catch()
    logging.getLogger().addHandler(catcher)
    try:
        async with Emulator.running(make_settings(folder), clock=clock, api=api) as bot:
            boss, marie, jean, _luc = await flows.world(bot)
            eve = await flows.lead(bot, boss, 3003, "Eve", "hr")
            group = bot.group(GROUP, "Équipe juridique")
            await group.member(boss, "creator").send("/teamgroup legal")
            await flows.file_request(marie)
            (topic,) = group.topics("CREC-2026-0001")
            thread = topic.thread_id
            cast: dict[str, GroupMember] = {
                "jean": group.member(jean),
                "eve": group.member(eve),
                "marie": group.member(marie),
                "boss": group.member(boss, "administrator"),
                "stranger": group.member(bot.person(6666, "Mallory")),
            }
            for who, kind, text, data, number in steps:
                member = cast[who]
                posts = group.in_topic(thread) or group.chat
                sender = member.person._user()
                if kind == "topic":
                    await member.send(text or "x", thread_id=thread if number % 2 else number)
                elif kind == "general":
                    await member.send(text or "x")
                elif kind == "reply_card" and posts:
                    await member.send(text or "x", reply_to=posts[0])
                elif kind == "reply_last" and posts:
                    await member.send(text or "x", reply_to=posts[-1])
                elif kind == "press" and posts:
                    await member.press(data, posts[number % len(posts)])
                elif kind == "created":  # forged by a person, or "by the bot" for any thread
                    origin = (
                        {"id": BOT_ID, "is_bot": True, "first_name": "x"} if number % 3 else sender
                    )
                    name = f"CREC-2026-000{number % 3} · {text[:50]}"
                    created = {"name": name or "x", "icon_color": 7322096}
                    await bot.feed(_service(api, origin, number, forum_topic_created=created))
                elif kind == "closed":
                    await bot.feed(_service(api, sender, thread, forum_topic_closed={}))
                elif kind == "command":
                    await member.send(f"/teamgroup {text[:40]}")
                clock.advance(seconds=5)
            await bot.deliver()
            async with bot.services.db.read() as conn:
                ticket = next(
                    iter(
                        await conn.execute_fetchall("SELECT contact_id, assignee_id FROM tickets")
                    )
                )
                notes = await conn.execute_fetchall(
                    "SELECT DISTINCT actor_id FROM ticket_events WHERE kind = 'note'"
                )
                writers = await conn.execute_fetchall(
                    "SELECT DISTINCT author_id FROM ticket_messages"
                )
                live = await conn.execute_fetchall(
                    "SELECT COUNT(*) FROM ticket_topics WHERE deleted_at IS NULL"
                )
        assert ticket[0] == marie.id and ticket[1] in (None, jean.id, boss.id)
        assert {r[0] for r in notes} <= {jean.id, boss.id}  # only the team writes notes
        assert {r[0] for r in writers} <= {marie.id, jean.id, boss.id}
        assert live[0][0] <= 1  # never two topics for the ticket
        refused = [
            c
            for c in api.calls
            if c.error
            and not c.error.startswith(
                (
                    "400: Bad Request: message is not modified",
                    "400: Bad Request: message to edit not found",
                    "400: Bad Request: TOPIC_ID_INVALID",  # a forged "duplicate" to delete
                )
            )
        ]
        assert refused == [], refused[:3]
        assert errors == [], [r.getMessage() for r in errors[:3]]
    finally:
        logging.getLogger().removeHandler(catcher)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(STEP, min_size=1, max_size=20))
def test_random_group_updates(steps: list[tuple[str, str, str, str, int]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_scenario(steps, Path(folder)))
