"""Ticket states and transitions: who may do what, from which state. Knows nothing of Telegram."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from storage.models import Role, Ticket, TicketStatus

S = TicketStatus


class Action(StrEnum):
    TAKE = "take"
    REASSIGN = "reassign"
    START = "start"
    ASK = "ask"
    ANSWER = "answer"
    RESOLVE = "resolve"
    CONFIRM = "confirm"
    REOPEN = "reopen"
    CANCEL = "cancel"
    AUTO_CLOSE = "auto_close"


class Relation(StrEnum):
    """How a person stands to a ticket."""

    OWNER = "owner"  # the contact who filed it
    ASSIGNEE = "assignee"  # the lead who holds it
    FIELD_LEAD = "field_lead"  # a lead of its field of expertise (or an admin for admin fields)
    ADMIN = "admin"
    SYSTEM = "system"  # the bot itself (scheduled jobs)


@dataclass(frozen=True)
class Actor:
    """Who acts: a user with their role and fields, or the system (user_id None)."""

    user_id: int | None
    role: Role | None
    field_ids: frozenset[int] = frozenset()

    @classmethod
    def system(cls) -> Actor:
        return cls(None, None)


@dataclass(frozen=True)
class Rule:
    sources: frozenset[TicketStatus]
    target: TicketStatus | None  # None: the state does not change
    who: frozenset[Relation]


def _rule(sources: set[TicketStatus], target: TicketStatus | None, *who: Relation) -> Rule:
    return Rule(frozenset(sources), target, frozenset(who))


OPEN_STATES = frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING})
WORKED_STATES = {S.ASSIGNED, S.IN_PROGRESS, S.WAITING}
R = Relation

RULES: dict[Action, Rule] = {
    Action.TAKE: _rule({S.NEW}, S.ASSIGNED, R.FIELD_LEAD, R.ADMIN),
    Action.REASSIGN: _rule(set(OPEN_STATES), None, R.ASSIGNEE, R.ADMIN),  # new → assigned
    Action.START: _rule({S.ASSIGNED, S.WAITING}, S.IN_PROGRESS, R.ASSIGNEE, R.ADMIN),
    Action.ASK: _rule(WORKED_STATES, S.WAITING, R.ASSIGNEE, R.ADMIN),
    Action.ANSWER: _rule({S.WAITING}, S.IN_PROGRESS, R.OWNER),
    Action.RESOLVE: _rule(WORKED_STATES, S.RESOLVED, R.ASSIGNEE, R.ADMIN),
    Action.CONFIRM: _rule({S.RESOLVED}, S.CLOSED, R.OWNER),
    Action.REOPEN: _rule({S.RESOLVED}, S.IN_PROGRESS, R.OWNER, R.ADMIN),
    Action.CANCEL: _rule(set(OPEN_STATES), S.CANCELLED, R.OWNER),
    Action.AUTO_CLOSE: _rule({S.RESOLVED}, S.CLOSED, R.SYSTEM),
}


class Refusal(Exception):
    """A transition that may not happen; `reason` is `not_allowed` or `wrong_state`."""

    def __init__(self, reason: str, action: Action, status: TicketStatus) -> None:
        super().__init__(f"{action} refused from {status}: {reason}")
        self.reason = reason
        self.action = action
        self.status = status


def relations(actor: Actor, ticket: Ticket, admin_field: bool = False) -> frozenset[Relation]:
    """Every way `actor` stands to `ticket`. `admin_field`: the field is routed to the admins."""
    if actor.user_id is None:
        return frozenset({Relation.SYSTEM})
    found = set()
    if actor.role is Role.ADMIN:
        found.add(Relation.ADMIN)
        if admin_field:
            found.add(Relation.FIELD_LEAD)
    if actor.user_id == ticket.contact_id and actor.role is Role.CONTACT:
        found.add(Relation.OWNER)
    if actor.role is Role.LEAD:
        if ticket.assignee_id == actor.user_id:
            found.add(Relation.ASSIGNEE)
        if ticket.field_id in actor.field_ids:
            found.add(Relation.FIELD_LEAD)
    return frozenset(found)


def decide(action: Action, ticket: Ticket, who: frozenset[Relation]) -> TicketStatus:
    """The state `ticket` goes to if `who` does `action`; raises Refusal otherwise.

    Rights are checked before the state, so that someone without rights learns nothing of it.
    """
    rule = RULES[action]
    if not rule.who & who:
        raise Refusal("not_allowed", action, ticket.status)
    if ticket.status not in rule.sources:
        raise Refusal("wrong_state", action, ticket.status)
    if action is Action.REASSIGN and ticket.status is S.NEW:
        return S.ASSIGNED  # giving a new ticket to someone assigns it
    return rule.target or ticket.status


def can_view(who: frozenset[Relation]) -> bool:
    """Whether someone may see a ticket: its contact, its leads, admins."""
    return bool(who & {Relation.OWNER, Relation.ASSIGNEE, Relation.FIELD_LEAD, Relation.ADMIN})
