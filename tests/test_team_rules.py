"""The rules of a team's group, without Telegram (bot/rules/teams.py)."""

from __future__ import annotations

import pytest

from bot.rules.teams import (
    Lack,
    NotifyMode,
    TopicState,
    Usage,
    group_lack,
    names_ticket,
    parse_notify,
    parse_teamgroup,
    told_in_private,
    topic_closed,
    topic_name,
    topic_state,
)
from storage.models import TicketStatus as S


def test_what_a_group_lacks_is_checked_in_order() -> None:
    ok = {"is_forum": True, "bot_status": "administrator", "can_manage_topics": True}
    assert group_lack("supergroup", True, **ok) is None  # type: ignore[arg-type]
    assert group_lack("private", False, **ok) is Lack.PRIVATE  # type: ignore[arg-type]
    assert group_lack("supergroup", False, **ok) is Lack.NOT_ADMIN  # type: ignore[arg-type]
    assert group_lack("group", True, **ok) is Lack.NOT_SUPERGROUP  # type: ignore[arg-type]
    assert group_lack("supergroup", True, is_forum=False, bot_status="member",
                      can_manage_topics=False) is Lack.NO_TOPICS  # fmt: skip
    assert group_lack("supergroup", True, is_forum=True, bot_status="member",
                      can_manage_topics=False) is Lack.BOT_NOT_ADMIN  # fmt: skip
    assert group_lack("supergroup", True, is_forum=True, bot_status="administrator",
                      can_manage_topics=False) is Lack.NO_TOPIC_RIGHT  # fmt: skip


def test_teamgroup_arguments() -> None:
    assert parse_teamgroup([]).show
    assert parse_teamgroup(["OFF"]).off
    assert parse_teamgroup(["legal", "HR", "legal"]).codes == ("legal", "hr")
    for wrong in (["off", "legal"], ["légal"], ["<b>"], ["x"] * 21, ["1abc"]):
        with pytest.raises(Usage):
            parse_teamgroup(wrong)


def test_notify_arguments_and_where_a_lead_is_told() -> None:
    assert parse_notify([]) is None
    assert parse_notify(["Group"]) is NotifyMode.GROUP
    for wrong in (["partout"], ["group", "private"]):
        with pytest.raises(Usage):
            parse_notify(wrong)
    assert told_in_private(NotifyMode.BOTH, True) and told_in_private(NotifyMode.PRIVATE, True)
    assert not told_in_private(NotifyMode.GROUP, True) and told_in_private(NotifyMode.GROUP, False)


def test_the_state_a_topic_shows() -> None:
    assert topic_state(S.NEW) is TopicState.OPEN and topic_state(S.IN_PROGRESS) is TopicState.OPEN
    assert topic_state(S.WAITING) is TopicState.WAITING
    assert topic_state(S.AWAITING_APPROVAL) is TopicState.WAITING
    assert all(topic_state(s) is TopicState.RESOLVED for s in (S.RESOLVED, S.CLOSED, S.CANCELLED))
    assert topic_closed(S.RESOLVED) and not topic_closed(S.WAITING)
    for state in TopicState:
        name = topic_name("CREC-2026-0042", "Congrès", state)
        assert names_ticket(name, "CREC-2026-0042") and not names_ticket(name, "CREC-2026-0004")
