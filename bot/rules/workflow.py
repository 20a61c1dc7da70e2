"""Ticket states and transitions: who may do what, from which state. Knows nothing of Telegram."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from storage.models import Estimate, EstimateStatus, Role, Ticket, TicketStatus, Urgency, User

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
    ESTIMATE = "estimate"  # the lead sends an estimate (hours × the field's rate)
    APPROVE = "approve"  # the federation agrees to the estimate
    REFUSE = "refuse"  # the federation refuses it (with a reason)
    # The lead holding it (or an admin) cancels a request whose estimate was refused, with a
    # note: while its latest estimate is refused (`decide_drop`).
    DROP = "drop"


class Relation(StrEnum):
    """How a person stands to a ticket."""

    OWNER = "owner"  # the contact who filed it
    ASSIGNEE = "assignee"  # the lead who holds it
    FIELD_LEAD = "field_lead"  # a lead of its field of expertise (or an admin for admin fields)
    ADMIN = "admin"
    SYSTEM = "system"  # the bot itself (scheduled jobs)
    MANAGER = "manager"  # a manager of its federation: sees it, does not write in it
    # Who decides on its estimates: its federation's managers, or the contact who filed it
    # when the federation has none.
    APPROVER = "approver"


@dataclass(frozen=True)
class Actor:
    """Who acts: a user with their role and fields, or the system (user_id None)."""

    user_id: int | None
    role: Role | None
    field_ids: frozenset[int] = frozenset()
    federation_id: int | None = None
    manager: bool = False  # a contact who manages `federation_id`
    # The absent people this actor covers now (bot/rules/absences.py): on their requests the
    # actor is the lead who holds them, as long as the absence lasts (a lead or an admin).
    covering: frozenset[int] = frozenset()

    @classmethod
    def system(cls) -> Actor:
        return cls(None, None)

    @classmethod
    def of(
        cls,
        user: User,
        field_ids: frozenset[int] = frozenset(),
        covering: frozenset[int] = frozenset(),
    ) -> Actor:
        """A user as an actor; `field_ids`: the fields they lead (or whose offers they receive
        while covering); `covering`: the absent people they cover now (staff only)."""
        manager = user.manager and user.role is Role.CONTACT
        if user.role not in {Role.LEAD, Role.ADMIN}:
            covering = frozenset()
        return cls(user.id, user.role, field_ids, user.federation_id, manager, covering)


@dataclass(frozen=True)
class Rule:
    sources: frozenset[TicketStatus]
    target: TicketStatus | None  # None: the state does not change
    who: frozenset[Relation]


def _rule(sources: set[TicketStatus], target: TicketStatus | None, *who: Relation) -> Rule:
    return Rule(frozenset(sources), target, frozenset(who))


OPEN_STATES = frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING, S.AWAITING_APPROVAL})
WORKED_STATES = {S.ASSIGNED, S.IN_PROGRESS, S.WAITING}
ESTIMABLE = WORKED_STATES | {S.AWAITING_APPROVAL}
# A critical request's estimate may be decided on after the work, even once it is resolved.
DECIDABLE_CRITICAL = WORKED_STATES | {S.RESOLVED, S.CLOSED}
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
    # From awaiting approval too: a new estimate supersedes the one not yet decided on.
    Action.ESTIMATE: _rule(ESTIMABLE, S.AWAITING_APPROVAL, R.ASSIGNEE, R.ADMIN),
    Action.APPROVE: _rule({S.AWAITING_APPROVAL}, S.IN_PROGRESS, R.APPROVER),
    Action.REFUSE: _rule({S.AWAITING_APPROVAL}, S.ASSIGNED, R.APPROVER),  # back to the lead
    # Where a refusal leaves it (assigned; a critical request: where it was worked), or
    # wherever the lead took it since (started, a question to the contact), until it ends.
    Action.DROP: _rule(WORKED_STATES, S.CANCELLED, R.ASSIGNEE, R.ADMIN),
}
# An urgent intervention never waits on paperwork: a critical request's estimate is still sent
# for approval, but the request stays where it is, worked meanwhile, and so does the decision.
CRITICAL_RULES: dict[Action, Rule] = {
    Action.ESTIMATE: _rule(WORKED_STATES, None, R.ASSIGNEE, R.ADMIN),
    Action.APPROVE: _rule(DECIDABLE_CRITICAL, None, R.APPROVER),
    Action.REFUSE: _rule(DECIDABLE_CRITICAL, None, R.APPROVER),
}


class Refusal(Exception):
    """A transition that may not happen; `reason` is `not_allowed` or `wrong_state`."""

    def __init__(self, reason: str, action: Action, status: TicketStatus) -> None:
        super().__init__(f"{action} refused from {status}: {reason}")
        self.reason = reason
        self.action = action
        self.status = status


def rule_for(action: Action, ticket: Ticket) -> Rule:
    """The rule of `action` for this ticket: a critical one's estimates move nothing (but a
    ticket already awaiting approval leaves that state as any other would)."""
    if (
        ticket.urgency is Urgency.CRITICAL
        and ticket.status is not S.AWAITING_APPROVAL
        and action in CRITICAL_RULES
    ):
        return CRITICAL_RULES[action]
    return RULES[action]


def relations(
    actor: Actor, ticket: Ticket, admin_field: bool = False, *, federation_managed: bool = True
) -> frozenset[Relation]:
    """Every way `actor` stands to `ticket`. `admin_field`: the field is routed to the admins.

    `federation_managed`: the ticket's federation has at least one (active) manager, who then
    approve its estimates; without one, the contact who filed it does. It defaults to True so
    that a caller who does not ask makes nobody an approver who is not a manager.
    """
    if actor.user_id is None:
        return frozenset({Relation.SYSTEM})
    found = set()
    if actor.role is Role.ADMIN:
        found.add(Relation.ADMIN)
        if admin_field:
            found.add(Relation.FIELD_LEAD)
    if actor.user_id == ticket.contact_id and actor.role is Role.CONTACT:
        found.add(Relation.OWNER)
        if not federation_managed:
            found.add(Relation.APPROVER)
    manages = actor.manager and actor.federation_id == ticket.federation_id
    if actor.role is Role.CONTACT and manages:
        found.add(Relation.MANAGER)
        if federation_managed:
            found.add(Relation.APPROVER)
    if ticket.assignee_id is not None and ticket.assignee_id in actor.covering:
        found.add(Relation.ASSIGNEE)  # the delegate of its absent lead, while the absence lasts
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
    rule = rule_for(action, ticket)
    if not rule.who & who:
        raise Refusal("not_allowed", action, ticket.status)
    if ticket.status not in rule.sources:
        raise Refusal("wrong_state", action, ticket.status)
    if action is Action.REASSIGN and ticket.status is S.NEW:
        return S.ASSIGNED  # giving a new ticket to someone assigns it
    return rule.target or ticket.status


def after_estimate(
    ticket: Ticket, who: frozenset[Relation], *, approval_needed: bool
) -> TicketStatus:
    """Where an estimate leaves `ticket` (Refusal as `decide`): awaiting approval when the
    federation's policy wants one (a critical request stays where it is); when it wants none,
    the estimate is approved at once and work goes on (in progress if it was awaiting one)."""
    target = decide(Action.ESTIMATE, ticket, who)
    if approval_needed:
        return target
    return S.IN_PROGRESS if ticket.status is S.AWAITING_APPROVAL else ticket.status


def decide_drop(ticket: Ticket, who: frozenset[Relation], latest: Estimate | None) -> TicketStatus:
    """Where the lead's (or an admin's) cancelling leaves `ticket` (Refusal as `decide`): only
    while its latest estimate is refused (`latest`: the ticket's newest estimate, whatever
    became of it); a new estimate sent since, pending or approved, takes that right away.
    Refusal reason `not_refused` when the state allows it but no refusal stands."""
    target = decide(Action.DROP, ticket, who)
    if latest is None or latest.status is not EstimateStatus.REFUSED:
        raise Refusal("not_refused", Action.DROP, ticket.status)
    return target


def droppable(ticket: Ticket, who: frozenset[Relation], latest: Estimate | None) -> int | None:
    """The refused estimate under whose button `who` may cancel `ticket` now, if any (the
    card's « Annuler la demande »)."""
    try:
        decide_drop(ticket, who, latest)
    except Refusal:
        return None
    return latest.id if latest else None


class LogBlock(StrEnum):
    """Why time may not be logged on a ticket for now."""

    AWAITING_APPROVAL = "awaiting_approval"  # its estimate waits for the federation
    OVER_RUN = "over_run"  # time passed the approved estimate: a revised one comes first
    REFUSED = "refused"  # its latest estimate stands refused: a new one first, or cancel it


def log_blocker(
    ticket: Ticket, over_run_waiting: bool, refused_waiting: bool = False
) -> LogBlock | None:
    """What stops `/log` on `ticket`, if anything (besides who logs and the ticket's state).

    `over_run_waiting`: bot.rules.estimates.over_run of the time logged against the latest
    approved estimate (a revised estimate, once approved, lifts it; while it awaits approval
    the state stops `/log` already). `refused_waiting`: bot.rules.estimates.refusal_stands
    (its latest estimate refused, under a policy that wants approval): the federation said no,
    so no time until a new estimate is approved. A critical request is stopped by neither: an
    urgent intervention does not wait on paperwork.
    """
    if ticket.status is S.AWAITING_APPROVAL:
        return LogBlock.AWAITING_APPROVAL
    if ticket.urgency is Urgency.CRITICAL:
        return None
    if refused_waiting:
        return LogBlock.REFUSED
    if over_run_waiting:
        return LogBlock.OVER_RUN
    return None


def may_log(ticket: Ticket, over_run_waiting: bool) -> bool:
    """Whether time may be logged on `ticket` as far as estimates go (see `log_blocker`)."""
    return log_blocker(ticket, over_run_waiting) is None


VIEWERS = frozenset(
    {Relation.OWNER, Relation.ASSIGNEE, Relation.FIELD_LEAD, Relation.ADMIN, Relation.MANAGER}
)


def can_view(who: frozenset[Relation]) -> bool:
    """Whether someone may see a ticket: its contact, its leads, admins, its federation's
    managers (who read it only: they act on it through estimates, never as its contact)."""
    return bool(who & VIEWERS)
