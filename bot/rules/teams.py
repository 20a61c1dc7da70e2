"""A team's group, without Telegram: what `/teamgroup` asks for, what a group lacks, the names
of topics."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from storage.models import TicketStatus

TOPIC_NAME_LIMIT = 128  # Telegram's limit on a forum topic's name
_CODE = re.compile(r"[a-z][a-z0-9_-]{0,31}")


class Lack(StrEnum):
    """What keeps a chat from being a team's group, in the order it is checked."""

    PRIVATE = "private"  # the command was sent in a private chat
    NOT_ADMIN = "not_admin"  # by someone who is not an admin of the bot
    NOT_SUPERGROUP = "not_supergroup"  # a basic group: no topics there
    NO_TOPICS = "no_topics"  # a supergroup whose topics are off
    BOT_NOT_ADMIN = "bot_not_admin"  # the bot is not an administrator of the group
    NO_TOPIC_RIGHT = "no_topic_right"  # … without the right to manage topics


def group_lack(
    chat_type: str,
    sender_is_admin: bool,
    *,
    is_forum: bool,
    bot_status: str,
    can_manage_topics: bool,
) -> Lack | None:
    """The first thing missing for a chat to become a team's group (None: nothing)."""
    if chat_type == "private":
        return Lack.PRIVATE
    if not sender_is_admin:
        return Lack.NOT_ADMIN
    if chat_type != "supergroup":
        return Lack.NOT_SUPERGROUP
    if not is_forum:
        return Lack.NO_TOPICS
    if bot_status not in {"administrator", "creator"}:
        return Lack.BOT_NOT_ADMIN
    if not can_manage_topics:
        return Lack.NO_TOPIC_RIGHT
    return None


class Usage(ValueError):
    """Arguments `/teamgroup` does not understand."""


@dataclass(frozen=True)
class TeamGroupCommand:
    """`/teamgroup` (show), `/teamgroup off` (unlink) or `/teamgroup <code>…` (link)."""

    codes: tuple[str, ...] = ()
    off: bool = False

    @property
    def show(self) -> bool:
        return not self.codes and not self.off


def parse_teamgroup(args: list[str]) -> TeamGroupCommand:
    """The command's meaning; Usage for anything else."""
    words = [word.strip().lower() for word in args if word.strip()]
    if not words:
        return TeamGroupCommand()
    if words == ["off"]:
        return TeamGroupCommand(off=True)
    if "off" in words or len(words) > 20 or not all(_CODE.fullmatch(w) for w in words):
        raise Usage(" ".join(args))
    return TeamGroupCommand(codes=tuple(dict.fromkeys(words)))


class NotifyMode(StrEnum):
    """Where a lead is told of their fields' new requests (`/notify`)."""

    PRIVATE = "private"
    GROUP = "group"
    BOTH = "both"


def parse_notify(args: list[str]) -> NotifyMode | None:
    """`/notify` alone (None: show it), or one of its modes; Usage for anything else."""
    words = [word.strip().lower() for word in args if word.strip()]
    if not words:
        return None
    if len(words) != 1 or words[0] not in {m.value for m in NotifyMode}:
        raise Usage(" ".join(args))
    return NotifyMode(words[0])


def told_in_private(mode: NotifyMode, field_has_group: bool) -> bool:
    """Whether a lead gets a new request in private: unless they chose the group, and there is
    one (a field without a group always tells its leads in private)."""
    return mode is not NotifyMode.GROUP or not field_has_group


class TopicState(StrEnum):
    """What a topic's name shows of its ticket."""

    OPEN = "open"
    WAITING = "waiting"
    RESOLVED = "resolved"


_MARKS = {TopicState.OPEN: "", TopicState.WAITING: "⏳ ", TopicState.RESOLVED: "✅ "}
_WAITING = {TicketStatus.WAITING, TicketStatus.AWAITING_APPROVAL}
_DONE = {TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.CANCELLED}


def topic_state(status: TicketStatus) -> TopicState:
    """Open (to do), waiting (on the contact or an approval) or resolved (nothing to do)."""
    if status in _WAITING:
        return TopicState.WAITING
    if status in _DONE:
        return TopicState.RESOLVED
    return TopicState.OPEN


def topic_closed(status: TicketStatus) -> bool:
    """A topic is closed while its ticket is resolved, closed or cancelled."""
    return status in _DONE


def topic_name(reference: str, subject: str, state: TopicState = TopicState.OPEN) -> str:
    """`<ref> · <subject>` with the state's mark in front, cut to Telegram's 128 characters."""
    subject = " ".join(subject.split())
    name = f"{_MARKS[state]}{reference} · {subject}"
    if len(name) > TOPIC_NAME_LIMIT:
        name = name[: TOPIC_NAME_LIMIT - 1].rstrip() + "…"
    return name


def names_ticket(name: str, reference: str) -> bool:
    """Whether a topic's name is that of the ticket `reference` (whatever its state's mark)."""
    return any(name.startswith(f"{mark}{reference} · ") for mark in _MARKS.values())
