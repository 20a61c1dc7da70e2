"""Fuzzing: random updates from every role leave no unhandled error, no change nobody was
entitled to, and nothing Telegram would refuse (text length, markup, callback data)."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.rules.workflow import Action, Actor, Refusal, decide, relations
from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import CALLBACK_DATA_LIMIT, FakeBotAPI
from storage.models import Role, TicketStatus
from tests import flows
from tests.conftest import make_settings
from tests.flows import ticket_record

NASTY = st.sampled_from(
    [
        "<b>gras",
        "</blockquote>",
        "&amp;&lt;",
        "*gras* _it_ `code` [lien](http://x)",
        "\u202eRTL",
        "\x00\x01\x1b[31m",
        "🙂" * 50,
        "x" * 10_000,
        "é" * 4097,
        "a b " * 1000,
        "/start",
        "/ticket CREC-2026-0001",
        "/ticket CREC-2026-9999",
        "/log CREC-2026-0001 1h",
        "/cancel",
        "/new",
        "/queue",
        "1h30",
        "/invite CQCH",
        "/addfederation EVIL Pirates",
        "   ",
        "15 décembre",
        "2020-01-01",
    ]
)
TEXT = st.one_of(NASTY, st.text(max_size=200))
DATA = st.one_of(
    st.sampled_from(
        [
            "t:take:1",
            "t:start:1",
            "t:resolve:1",
            "t:cancelok:1",
            "t:confirm:1",
            "t:reopen:1",
            "t:rate:1:5",
            "t:hist:1:0",
            "t:to:1:3001",
            "f:send:1",
            "f:field:1:1",
            "f:goto:1:subject",
            "m:new",
            "lang:set:en",
            "q:page:3",
            "t:take:999",
            "t:hist:1:99999",
            "f:cancel:2",
        ]
    ),
    st.text(max_size=80),
)
STEP = st.tuples(
    st.sampled_from(["marie", "paul", "jean", "eve", "boss", "stranger"]),
    st.sampled_from(["text", "press", "sticker", "location", "document", "edit"]),
    TEXT,
    DATA,
)


@contextmanager
def _errors_caught() -> Iterator[list[logging.LogRecord]]:
    """Every record of level ERROR or above logged meanwhile (what reaches the error handler
    and the error reports is logged there)."""
    errors: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                errors.append(record)

    catcher = Catch()
    logging.getLogger().addHandler(catcher)
    try:
        yield errors
    finally:
        logging.getLogger().removeHandler(catcher)


def _check_telegram(api: FakeBotAPI) -> None:
    """Nothing Telegram would have refused: markup, lengths, callback data. (Editing a
    message gone, unchanged or without text, for a forged button, is refused and recovered
    from: what is not recovered from reaches the error handler.)"""
    refused = [
        c
        for c in api.calls
        if c.error
        and not c.error.startswith(
            (
                "400: Bad Request: message is not modified",
                "400: Bad Request: message to edit not found",
                "400: Bad Request: there is no text in the message to edit",
            )
        )
    ]
    assert refused == [], refused[:3]
    for call in api.calls:
        for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
            assert all(
                len(b.get("callback_data", "").encode()) <= CALLBACK_DATA_LIMIT for b in row
            )


async def _scenario(steps: list[tuple[str, str, str, str]], folder: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 24, 19, 0, tzinfo=UTC))
    api = FakeBotAPI()
    with _errors_caught() as errors:
        async with Emulator.running(make_settings(folder), clock=clock, api=api) as bot:
            boss, marie, jean, _ = await flows.world(bot)
            paul = await flows.contact(bot, boss, 2002, "Paul")
            eve = await flows.lead(bot, boss, 3003, "Eve", "hr")
            await flows.file_request(marie)
            cast: dict[str, Person] = {
                "marie": marie,
                "paul": paul,
                "jean": jean,
                "eve": eve,
                "boss": boss,
                "stranger": bot.person(6666, "Mallory"),
            }
            for who, kind, text, data in steps:
                person = cast[who]
                if kind == "text":
                    await person.send(text)
                elif kind == "press":
                    await person.press(data)
                elif kind == "sticker":
                    await person.send_sticker()
                elif kind == "location":
                    await person.send_location()
                elif kind == "document":
                    await person.send_document(caption=text[:2000] or None)
                elif person.written:
                    await person.edit(text or "x")
                clock.advance(seconds=5)
            async with bot.services.db.read() as conn:
                users = {
                    r[0]: r[1] for r in await conn.execute_fetchall("SELECT id, role FROM users")
                }
                rows = await conn.execute_fetchall(
                    "SELECT status, contact_id, assignee_id FROM tickets WHERE id = 1"
                )
        # Nobody got in or changed role; ticket 1 stays Marie's, held by a lead of its field.
        assert 6666 not in users
        assert users[paul.id] == "contact" and users[jean.id] == "lead" and users[eve.id] == "lead"
        status, contact, assignee = next(iter(rows))
        assert contact == marie.id and assignee in (None, jean.id, boss.id, 3002)
        # Nothing Telegram would have refused, and no error anywhere.
        _check_telegram(api)
        assert errors == [], [r.getMessage() for r in errors[:3]]
        assert status in {s.value for s in TicketStatus}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(STEP, min_size=1, max_size=25))
# Pressed twice, the message already says it: Telegram answers "not modified".
@example([("jean", "press", "", "q:page:1")] * 2 + [("jean", "press", "", "t:hist:1:1")] * 2)
@example([("marie", "text", "/language", ""), *[("marie", "press", "", "lang:set:en")] * 2])
def test_random_updates_from_everyone(steps: list[tuple[str, str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_scenario(steps, Path(folder)))


ACTORS = [
    Actor(10, Role.CONTACT),
    Actor(11, Role.CONTACT),
    Actor(20, Role.LEAD, frozenset({1})),
    Actor(21, Role.LEAD, frozenset({2})),
    Actor(30, Role.ADMIN),
    Actor.system(),
]


@given(st.lists(st.tuples(st.sampled_from(list(Action)), st.sampled_from(ACTORS)), max_size=40))
def test_any_sequence_of_actions_keeps_the_ticket_coherent(
    moves: list[tuple[Action, Actor]],
) -> None:
    status, assignee = TicketStatus.NEW, None
    for action, actor in moves:
        ticket = ticket_record(status, assignee)
        try:
            target = decide(action, ticket, relations(actor, ticket))
        except Refusal:
            continue
        # Closed and cancelled are the end; only the contact confirms or cancels.
        assert status not in {TicketStatus.CLOSED, TicketStatus.CANCELLED}
        if action in {Action.CONFIRM, Action.CANCEL}:
            assert actor.user_id == 10
        if action is Action.TAKE:
            assignee = actor.user_id
        status = target
        assert status is not TicketStatus.NEW or assignee is None
