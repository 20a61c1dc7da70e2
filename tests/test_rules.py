"""Business rules without Telegram: form validation, dates, callback data, ticket transitions."""

from __future__ import annotations

from datetime import date
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.rules.forms import (
    InvalidInput,
    parse_desired_date,
    validate_description,
    validate_subject,
)
from bot.rules.workflow import RULES, Action, Actor, Refusal, Relation, decide, relations
from bot.ui import callbacks as cb
from storage.models import Role, TicketStatus
from tests.flows import ticket_record

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-12-15", date(2026, 12, 15)),
        ("15/12/2026", date(2026, 12, 15)),
        ("15 décembre", date(2026, 12, 15)),
        ("15 DÉCEMBRE 2026", date(2026, 12, 15)),
        ("1er mars", date(2027, 3, 1)),
        ("3 janv.", date(2027, 1, 3)),
        ("December 15", date(2026, 12, 15)),
        ("dec 3, 2027", date(2027, 12, 3)),
        ("28 novembre", date(2026, 11, 28)),  # today is fine
        ("27 novembre", date(2027, 11, 27)),  # without a year: the next one
    ],
)
def test_dates_people_type(typed: str, expected: date) -> None:
    assert parse_desired_date(typed, TODAY) == expected


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("2026-11-27", "past"),
        ("27/11/2026", "past"),
        ("30 février", "invalid"),
        ("2026-13-01", "invalid"),
        ("2040-01-01", "too_far"),
        ("demain", "unreadable"),
        ("", "unreadable"),
        ("15 brumaire", "unreadable"),
    ],
)
def test_dates_refused(typed: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_desired_date(typed, TODAY)
    assert caught.value.problem == problem


@given(st.text(max_size=40))
def test_date_parser_never_crashes(text: str) -> None:
    try:
        result = parse_desired_date(text, TODAY)
    except InvalidInput:
        return
    assert result >= TODAY


def test_subject_and_description_limits() -> None:
    assert validate_subject("  Un   objet\tvalide ") == "Un objet valide"
    assert validate_subject("x" * 120) == "x" * 120
    for bad, problem in [
        ("abcd", "too_short"),
        ("x" * 121, "too_long"),
        ("\x00\x01ab", "too_short"),
    ]:
        with pytest.raises(InvalidInput, match=problem):
            validate_subject(bad)
    assert (
        validate_description("ligne 1\r\n\n\n\nligne 2 assez longue")
        == "ligne 1\n\nligne 2 assez longue"
    )
    with pytest.raises(InvalidInput, match="too_long"):
        validate_description("d" * 3001)


def test_callback_data_round_trip_and_limits() -> None:
    data = cb.pack(cb.TICKET, "take", 42)
    assert cb.unpack(data) == cb.Callback("t", "take", ("42",))
    assert cb.unpack(data).int_arg(0) == 42  # type: ignore[union-attr]
    assert cb.unpack("t:take:-1").int_arg(0) is None  # type: ignore[union-attr]
    for forged in (None, "", "x", "a:b:" + "c" * 70, "a:b c", "t:take:1:é", "::"):
        assert cb.unpack(forged) is None, forged
    with pytest.raises(ValueError, match="invalid"):
        cb.pack("f", "x y")
    with pytest.raises(ValueError, match="64 bytes"):
        cb.pack("f", "a" * 24, "b" * 24, "c" * 24)


@given(st.text(max_size=80))
def test_unpack_accepts_only_what_pack_makes(data: str) -> None:
    parsed = cb.unpack(data)
    if parsed is not None:
        assert cb.pack(parsed.scope, parsed.action, *parsed.args) == data


ACTORS = {
    "owner": Actor(10, Role.CONTACT),
    "other_contact": Actor(11, Role.CONTACT),
    "assignee": Actor(20, Role.LEAD, frozenset({1})),
    "field_lead": Actor(21, Role.LEAD, frozenset({1})),
    "other_lead": Actor(22, Role.LEAD, frozenset({2})),
    "admin": Actor(30, Role.ADMIN),
    "system": Actor.system(),
}


S = TicketStatus
OPEN = {S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING}
WORKED = {S.ASSIGNED, S.IN_PROGRESS, S.WAITING}
# Written from DESIGN.md's diagram, independently of bot.rules.workflow.RULES.
EXPECTED: dict[Action, tuple[set[TicketStatus], set[str]]] = {
    Action.TAKE: ({S.NEW}, {"field_lead", "assignee", "admin"}),
    Action.REASSIGN: (OPEN, {"assignee", "admin"}),
    Action.START: ({S.ASSIGNED, S.WAITING}, {"assignee", "admin"}),
    Action.ASK: (WORKED, {"assignee", "admin"}),
    Action.ANSWER: ({S.WAITING}, {"owner"}),
    Action.RESOLVE: (WORKED, {"assignee", "admin"}),
    Action.CONFIRM: ({S.RESOLVED}, {"owner"}),
    Action.REOPEN: ({S.RESOLVED}, {"owner", "admin"}),
    Action.CANCEL: (OPEN, {"owner"}),
    Action.AUTO_CLOSE: ({S.RESOLVED}, {"system"}),
}


@pytest.mark.parametrize(("action", "status", "who"), list(product(Action, TicketStatus, ACTORS)))
def test_every_transition_from_every_state_by_every_role(
    action: Action, status: TicketStatus, who: str
) -> None:
    # A new ticket has nobody assigned: the "assignee" actor is then only a lead of the field.
    ticket = ticket_record(status, assignee=None if status is S.NEW else 20)
    statuses, people = EXPECTED[action]
    if who == "assignee" and status is S.NEW and action is Action.TAKE:
        people = people | {"assignee"}
    elif who == "assignee" and status is S.NEW:
        people = people - {"assignee"}
    standing = relations(ACTORS[who], ticket)
    if status in statuses and who in people:
        expected = RULES[action].target or status
        if action is Action.REASSIGN and status is S.NEW:
            expected = S.ASSIGNED
        assert decide(action, ticket, standing) == expected
    else:
        with pytest.raises(Refusal):
            decide(action, ticket, standing)


def test_who_stands_where() -> None:
    ticket = ticket_record(TicketStatus.NEW, assignee=None)
    assert relations(ACTORS["owner"], ticket) == {Relation.OWNER}
    assert relations(ACTORS["other_contact"], ticket) == set()
    assert relations(ACTORS["field_lead"], ticket) == {Relation.FIELD_LEAD}
    assert relations(ACTORS["other_lead"], ticket) == set()
    assert relations(ACTORS["admin"], ticket, admin_field=True) == {
        Relation.ADMIN,
        Relation.FIELD_LEAD,
    }
    # Only a lead of the field (or an admin) may take a new ticket; nobody may take it twice.
    assert decide(Action.TAKE, ticket, frozenset({Relation.FIELD_LEAD})) is TicketStatus.ASSIGNED
    with pytest.raises(Refusal, match="wrong_state"):
        decide(Action.TAKE, ticket_record(TicketStatus.ASSIGNED), frozenset({Relation.FIELD_LEAD}))
    with pytest.raises(Refusal, match="not_allowed"):
        decide(Action.TAKE, ticket, frozenset({Relation.OWNER}))
