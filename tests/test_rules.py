"""Business rules without Telegram: form validation, dates, callback data, ticket transitions."""

from __future__ import annotations

from datetime import UTC, date, datetime
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
from bot.rules.workflow import (
    Action,
    Actor,
    LogBlock,
    Refusal,
    Relation,
    after_estimate,
    can_view,
    decide,
    log_blocker,
    may_log,
    relations,
)
from bot.ui import callbacks as cb
from storage.models import Role, TicketStatus, Urgency, User
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
    "owner": Actor(10, Role.CONTACT, federation_id=1),
    "other_contact": Actor(11, Role.CONTACT, federation_id=1),
    "manager": Actor(12, Role.CONTACT, federation_id=1, manager=True),
    "other_manager": Actor(13, Role.CONTACT, federation_id=2, manager=True),
    "assignee": Actor(20, Role.LEAD, frozenset({1})),
    "field_lead": Actor(21, Role.LEAD, frozenset({1})),
    "other_lead": Actor(22, Role.LEAD, frozenset({2})),
    "admin": Actor(30, Role.ADMIN),
    "system": Actor.system(),
}


S = TicketStatus
A = S.AWAITING_APPROVAL
OPEN = {S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING, A}
WORKED = {S.ASSIGNED, S.IN_PROGRESS, S.WAITING}
STAYS = None  # the state does not change
# Written from DESIGN.md's diagram and issue 14, independently of bot.rules.workflow.RULES: the
# states an action starts from, who may do it ("approver": the federation's managers, or the
# contact who filed when it has none), and where it leads.
EXPECTED: dict[Action, tuple[set[TicketStatus], set[str], TicketStatus | None]] = {
    Action.TAKE: ({S.NEW}, {"field_lead", "assignee", "admin"}, S.ASSIGNED),
    Action.REASSIGN: (OPEN, {"assignee", "admin"}, STAYS),  # new → assigned, below
    Action.START: ({S.ASSIGNED, S.WAITING}, {"assignee", "admin"}, S.IN_PROGRESS),
    Action.ASK: (WORKED, {"assignee", "admin"}, S.WAITING),
    Action.ANSWER: ({S.WAITING}, {"owner"}, S.IN_PROGRESS),
    Action.RESOLVE: (WORKED, {"assignee", "admin"}, S.RESOLVED),
    Action.CONFIRM: ({S.RESOLVED}, {"owner"}, S.CLOSED),
    Action.REOPEN: ({S.RESOLVED}, {"owner", "admin"}, S.IN_PROGRESS),
    Action.CANCEL: (OPEN, {"owner"}, S.CANCELLED),
    Action.AUTO_CLOSE: ({S.RESOLVED}, {"system"}, S.CLOSED),
    # A new estimate while one awaits approval replaces it.
    Action.ESTIMATE: (WORKED | {A}, {"assignee", "admin"}, A),
    Action.APPROVE: ({A}, {"approver"}, S.IN_PROGRESS),
    Action.REFUSE: ({A}, {"approver"}, S.ASSIGNED),  # back to the lead
    # While its latest estimate is refused (bot.rules.workflow.decide_drop checks that).
    Action.DROP: (WORKED, {"assignee", "admin"}, S.CANCELLED),
}
# A critical request is worked at once: its estimate leaves it where it is, and its managers
# may decide later, even once it is resolved or closed.
EXPECTED_CRITICAL: dict[Action, tuple[set[TicketStatus], set[str], TicketStatus | None]] = {
    **EXPECTED,
    Action.ESTIMATE: (WORKED, {"assignee", "admin"}, STAYS),
    Action.APPROVE: (WORKED | {S.RESOLVED, S.CLOSED}, {"approver"}, STAYS),
    Action.REFUSE: (WORKED | {S.RESOLVED, S.CLOSED}, {"approver"}, STAYS),
}


def _expected(
    action: Action, status: TicketStatus, who: str, urgency: Urgency, managed: bool
) -> TicketStatus | None:
    """Where the action leads, or None if it must be refused."""
    table = EXPECTED_CRITICAL if urgency is Urgency.CRITICAL else EXPECTED
    statuses, people, target = table[action]
    if urgency is Urgency.CRITICAL and status is A:  # cannot happen; leaves A as any would
        statuses, people, target = EXPECTED[action]
    if "approver" in people:
        people = people | {"manager" if managed else "owner"}
    # A new ticket has nobody assigned: the "assignee" actor is then only a lead of the field.
    if who == "assignee" and status is S.NEW and action is not Action.TAKE:
        people = people - {"assignee"}
    if status not in statuses or who not in people:
        return None
    if action is Action.REASSIGN and status is S.NEW:
        return S.ASSIGNED
    return target or status


def _outcome(
    action: Action, status: TicketStatus, who: str, urgency: Urgency, managed: bool
) -> TicketStatus | None:
    """What `decide` does with the case: the state it leads to, or None if it refuses."""
    ticket = ticket_record(status, assignee=None if status is S.NEW else 20)
    ticket = ticket.model_copy(update={"urgency": urgency})
    standing = relations(ACTORS[who], ticket, federation_managed=managed)
    try:
        return decide(action, ticket, standing)
    except Refusal:
        return None


# The whole product (every state × every actor × urgency × managed or not), for each action:
# one test per action that checks all its cases and names every one that differs (one pytest
# case each made 4,000 of them, most of this file's run).
@pytest.mark.parametrize("action", list(Action), ids=[a.value for a in Action])
def test_every_transition_from_every_state_by_every_role(action: Action) -> None:
    wrong = []
    cases = list(product(TicketStatus, ACTORS, (Urgency.NORMAL, Urgency.CRITICAL), (True, False)))
    for status, who, urgency, managed in cases:
        expected = _expected(action, status, who, urgency, managed)
        got = _outcome(action, status, who, urgency, managed)
        if got != expected:
            managing = "managed" if managed else "unmanaged"
            case = f"{status.value} by {who} ({urgency.value}, {managing})"
            wrong.append(f"{case}: {got} instead of {expected}")
    assert len(cases) == len(TicketStatus) * len(ACTORS) * 4
    assert not wrong, wrong


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


def test_managers_and_approvers() -> None:
    ticket = ticket_record(TicketStatus.IN_PROGRESS)
    manager, owner = ACTORS["manager"], ACTORS["owner"]
    assert relations(manager, ticket) == {Relation.MANAGER, Relation.APPROVER}
    assert relations(owner, ticket) == {Relation.OWNER}
    # Without a manager, the contact who filed approves; by default a federation is taken as
    # managed, so that a caller who forgot to ask makes no contact an approver.
    assert relations(owner, ticket, federation_managed=False) == {
        Relation.OWNER,
        Relation.APPROVER,
    }
    # A manager who filed the request is its owner and one of its approvers.
    own = Actor(10, Role.CONTACT, federation_id=1, manager=True)
    assert relations(own, ticket) == {Relation.OWNER, Relation.MANAGER, Relation.APPROVER}
    # Another federation's manager, and a manager's flag on someone not a contact: nothing.
    assert relations(ACTORS["other_manager"], ticket) == set()
    assert relations(Actor(20, Role.LEAD, frozenset(), 1, manager=True), ticket) == {
        Relation.ASSIGNEE
    }
    # A manager sees every request of the federation, reads it, and neither cancels nor writes.
    assert can_view(relations(manager, ticket))
    assert not can_view(relations(ACTORS["other_manager"], ticket))
    assert not can_view(relations(ACTORS["other_contact"], ticket))
    with pytest.raises(Refusal, match="not_allowed"):
        decide(Action.CANCEL, ticket, relations(manager, ticket))


def test_actors_of_users() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    values = {
        "id": 12,
        "role": Role.CONTACT,
        "federation_id": 1,
        "full_name": "Gisèle",
        "username": None,
        "language": "fr",
        "active": True,
        "blocked_at": None,
        "created_at": now,
    }
    assert Actor.of(User(**values, manager=True)) == ACTORS["manager"]
    assert not Actor.of(User(**values)).manager
    lead = User(**{**values, "role": Role.LEAD, "federation_id": None}, manager=True)
    assert Actor.of(lead, frozenset({1})) == Actor(12, Role.LEAD, frozenset({1}))


@pytest.mark.parametrize("status", sorted(WORKED | {A}))
def test_where_an_estimate_leaves_a_ticket(status: TicketStatus) -> None:
    who = frozenset({Relation.ASSIGNEE})
    ticket = ticket_record(status)
    assert after_estimate(ticket, who, approval_needed=True) is A
    # No approval wanted: approved at once, work goes on.
    expected = S.IN_PROGRESS if status is A else status
    assert after_estimate(ticket, who, approval_needed=False) is expected
    if status is not A:
        critical = ticket.model_copy(update={"urgency": Urgency.CRITICAL})
        assert after_estimate(critical, who, approval_needed=True) is status
    with pytest.raises(Refusal, match="not_allowed"):
        after_estimate(ticket, frozenset({Relation.OWNER}), approval_needed=False)


def test_time_waits_for_approval() -> None:
    waiting = ticket_record(A)
    assert log_blocker(waiting, over_run_waiting=False) is LogBlock.AWAITING_APPROVAL
    assert not may_log(waiting, over_run_waiting=False)
    worked = ticket_record(S.IN_PROGRESS)
    assert may_log(worked, over_run_waiting=False)
    assert log_blocker(worked, over_run_waiting=True) is LogBlock.OVER_RUN
    # An urgent intervention never waits on paperwork.
    critical = worked.model_copy(update={"urgency": Urgency.CRITICAL})
    assert may_log(critical, over_run_waiting=True)
    # After a refusal, a new estimate first; a critical request is worked at once all the same.
    assert log_blocker(worked, False, refused_waiting=True) is LogBlock.REFUSED
    assert log_blocker(worked, True, refused_waiting=True) is LogBlock.REFUSED
    assert log_blocker(critical, False, refused_waiting=True) is None
