"""Requests across several fields: which fields a part may be added in, who may add one, when a
request is done for the contact, and where a contact's message goes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.rules.workflow import ESTIMABLE, Relation
from storage.models import ExpertiseField, Ticket, TicketStatus

# A part the contact has nothing more to expect from.
FINISHED = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})
# A part still being worked on (a message of the contact may be for it).
OPEN = frozenset({TicketStatus.NEW, *ESTIMABLE})


def fields_to_add(fields: Iterable[ExpertiseField], taken: Iterable[int]) -> list[ExpertiseField]:
    """The active fields a request may gain a part in: those it has no part in yet."""
    have = set(taken)
    return [f for f in fields if f.active and f.id not in have]


def may_add_part(who: frozenset[Relation], ticket: Ticket) -> bool:
    """A part is added by the lead who holds the ticket (or an admin), while it is worked on."""
    return bool(who & {Relation.ASSIGNEE, Relation.ADMIN}) and ticket.status in ESTIMABLE


class RequestState(StrEnum):
    DONE = "done"  # every part (not cancelled) is resolved or closed
    IN_PROGRESS = "in_progress"
    CANCELLED = "cancelled"  # every part was cancelled


@dataclass(frozen=True)
class RequestProgress:
    state: RequestState
    finished: int  # parts resolved or closed
    counted: int  # parts not cancelled
    pending: tuple[Ticket, ...]  # the parts still in progress, in order


def progress(parts: Sequence[Ticket]) -> RequestProgress:
    """How far a request is, as its contact reads it."""
    counted = [p for p in parts if p.status is not TicketStatus.CANCELLED]
    finished = [p for p in counted if p.status in FINISHED]
    pending = tuple(p for p in counted if p.status not in FINISHED)
    if not counted:
        state = RequestState.CANCELLED
    elif pending:
        state = RequestState.IN_PROGRESS
    else:
        state = RequestState.DONE
    return RequestProgress(state, len(finished), len(counted), pending)


def open_parts(parts: Iterable[Ticket]) -> list[Ticket]:
    return [p for p in parts if p.status in OPEN]


def needs_choice(parts: Sequence[Ticket]) -> bool:
    """A contact's plain message (not a reply) is asked which part it is for when several of
    their parts are open: sent to one lead, it could miss the one it is meant for."""
    return len(open_parts(parts)) >= 2
