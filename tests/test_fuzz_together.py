"""Fuzzing the together commands (issue 15, parts 2 and 3): everyone typing /away, /back and
/notify with random dates and @names, pressing forged buttons of the part picker and of
« Ajouter un domaine » (callback scope `p`), and writing what a new part's note waits for.
After each step: nobody but staff set or ended an absence (a lead only their own), no
request has two parts in one field, and only who holds a request (an admin, a delegate)
added a part; at the end nothing reached the error handler and Telegram refused nothing
(tests/test_fuzz.py checks those two)."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import FakeBotAPI
from tests import flows
from tests.conftest import ADMIN_ID, make_settings
from tests.test_fuzz import TEXT, _check_telegram, _errors_caught

DAY = st.one_of(
    st.sampled_from(
        [
            "2026-11-24",
            "2026-12-20",
            "2027-01-05",
            "2025-01-01",
            "2028-06-01",
            "2026-02-30",
            "20/12",
            "5/1",
            "31/12/2026",
            "20 décembre",
            "5 janvier",
            "December 20",
            "demain",
            "today",
            "au",
            "to",
            "-",
            "du",
            "0",
            "9" * 30,
            "2026-13-01",
        ]
    ),
    st.dates().map(str),
    st.text(max_size=12),
)
NAME = st.sampled_from(
    ["@jean", "@luc", "@eve", "@marie", "@boss", "@nobody", "@", "@@luc", "@" + "x" * 200]
)
NAME = st.one_of(NAME, st.integers(-5, 10**20).map(lambda n: f"@{n}"))
AWAY = st.builds(
    lambda head, words: " ".join([head, *words]),
    st.sampled_from(["/away", "/back", "/away@crec_bot"]),
    st.lists(st.one_of(DAY, NAME), max_size=5),
)
NOTIFY = st.builds(
    "/notify {}".format,
    st.sampled_from(["", "private", "group", "both", "GROUP", "tous", "private group", "x" * 300]),
)
NOTE = st.sampled_from(
    [
        "Réserver la salle et le traiteur pour le congrès de mars.",
        "Paie",
        "<b>Revoir</b> les contrats & les assurances de l'événement.",
        "z" * 5000,
    ]
)
WORDS = st.one_of(AWAY, AWAY, NOTIFY, NOTE, TEXT)
PART = st.one_of(
    st.builds(
        "p:{}:{}:{}".format,
        st.sampled_from(["pick", "tog", "done", "to", "add", "fld", "zap", ""]),
        st.sampled_from(["1", "2", "3", "0", "-1", "999", "x", "9" * 24]),
        st.sampled_from(["1", "2", "3", "4", "5", "6", "99", "", "-1"]),
    ),
    st.builds("p:{}:{}".format, st.sampled_from(["pick", "done", "add"]), st.sampled_from("1234")),
    st.sampled_from(["p", "p:", "p:add", "p:fld:1", "p:tog:2:", "p::1", "p:add:1:2:3"]),
    st.text(max_size=30).map(lambda text: "p:" + text),
)
PEOPLE = ["marie", "paul", "jean", "luc", "eve", "boss", "stranger", "jean", "marie", "boss"]
STEP = st.tuples(st.sampled_from(PEOPLE), st.sampled_from(["text", "press", "press"]), WORDS, PART)
IDS = {"boss": ADMIN_ID, "marie": 2001, "paul": 2002, "jean": 3001, "luc": 3002, "eve": 3003}
STAFF = {ADMIN_ID, 3001, 3002, 3003}


async def _check(bot: Emulator, jean: Person) -> None:
    """What holds after every step."""
    async with bot.services.db.read() as conn:
        absences = await conn.execute_fetchall(
            "SELECT user_id, delegate_id, created_by FROM absences"
        )
        doubled = await conn.execute_fetchall(
            "SELECT p.request_id, t.field_id FROM ticket_parts p JOIN tickets t"
            " ON t.id = p.ticket_id GROUP BY p.request_id, t.field_id HAVING COUNT(*) > 1"
        )
        adders = await conn.execute_fetchall(
            "SELECT added_by FROM ticket_parts WHERE added_by IS NOT NULL"
        )
    delegates = {delegate for _, delegate, _ in absences if delegate is not None}
    for person, delegate, by in absences:
        # Only a lead is away; set by them or an admin; covered by staff.
        assert person in STAFF - {ADMIN_ID}
        assert by in (person, ADMIN_ID)
        assert delegate is None or (delegate in STAFF and delegate != person)
    assert list(doubled) == []
    # A part is added to Jean's request by Jean, an admin, or who covers him.
    assert {adder for (adder,) in adders} <= {jean.id, ADMIN_ID, *delegates}


async def _scenario(steps: list[tuple[str, str, str, str]], folder: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 24, 19, 0, tzinfo=UTC))
    api = FakeBotAPI()
    with _errors_caught() as errors:
        async with Emulator.running(make_settings(folder), clock=clock, api=api) as bot:
            boss, marie, jean, luc = await flows.world(bot)
            paul = await flows.contact(bot, boss, 2002, "Paul")
            eve = await flows.lead(bot, boss, 3003, "Eve", "hr")
            # Ticket 1 (legal), Jean's: « Ajouter un domaine » is his. Marie's second draft is
            # at its review, the picker open.
            await flows.file_request(marie)
            await jean.click("Prendre")
            await flows.fill_form(marie, subject="Congrès annuel 2027")
            await marie.click("Ce besoin touche aussi")
            cast: dict[str, Person] = {
                "marie": marie,
                "paul": paul,
                "jean": jean,
                "luc": luc,
                "eve": eve,
                "boss": boss,
                "stranger": bot.person(6666, "Mallory"),
            }
            for who, kind, text, data in steps:
                person = cast[who]
                if kind == "text":
                    await person.send(text)
                else:
                    await person.press(data)
                clock.advance(seconds=5)
                await _check(bot, jean)
        _check_telegram(api)
        assert errors == [], [r.getMessage() for r in errors[:3]]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(STEP, min_size=1, max_size=20))
# Jean adds an HR part (twice, the second refused), Luc and Marie forge his presses.
@example(
    [
        ("jean", "press", "", "p:add:1"),
        ("luc", "press", "", "p:fld:1:2"),
        ("marie", "press", "", "p:add:1"),
        ("jean", "press", "", "p:fld:1:2"),
        ("jean", "text", "Réserver la salle et le traiteur pour le congrès de mars.", ""),
        ("jean", "press", "", "p:fld:1:2"),
        ("jean", "text", "Réserver la salle et le traiteur pour le congrès de mars.", ""),
    ]
)
# A contact sets an absence; a lead sets someone else's; an admin sets and ends one.
@example(
    [
        ("marie", "text", "/away 2026-12-20 2027-01-05 @luc", ""),
        ("luc", "text", "/away @jean 2026-12-20 2027-01-05", ""),
        ("boss", "text", "/away @jean 2026-11-24 2026-12-05 @luc", ""),
        ("luc", "text", "/back @jean", ""),
        ("paul", "text", "/back", ""),
        ("boss", "text", "/back @jean", ""),
        ("jean", "text", "/notify group", ""),
    ]
)
# Marie picks, unpicks and sends the other fields while an admin presses the same buttons.
@example(
    [
        ("marie", "press", "", "p:tog:2:2"),
        ("boss", "press", "", "p:tog:2:3"),
        ("marie", "press", "", "p:tog:2:2"),
        ("marie", "press", "", "p:tog:2:2"),
        ("marie", "press", "", "p:done:2"),
        ("marie", "press", "", "p:pick:2"),
    ]
)
def test_random_together_commands_and_part_buttons(steps: list[tuple[str, str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_scenario(steps, Path(folder)))
