"""The product's records, as pydantic models (what repositories take and return)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    CONTACT = "contact"
    LEAD = "lead"
    ADMIN = "admin"


class TicketStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    AWAITING_APPROVAL = "awaiting_approval"  # an estimate waits for the federation
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (
    TicketStatus.NEW,
    TicketStatus.ASSIGNED,
    TicketStatus.IN_PROGRESS,
    TicketStatus.WAITING,
    TicketStatus.AWAITING_APPROVAL,
)


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    CRITICAL = "critical"


class FormStep(StrEnum):
    """The steps of the request form, in order."""

    FIELD = "field"
    SUBJECT = "subject"
    DESCRIPTION = "description"
    URGENCY = "urgency"
    DATE = "date"
    ATTACHMENTS = "attachments"
    REVIEW = "review"


class DraftStatus(StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    CANCELLED = "cancelled"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


class Target(StrEnum):
    """What a service level measures."""

    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class AlertKind(StrEnum):
    """Who is told, and when."""

    REMINDER = "reminder"  # to the lead, at 75 % of the target
    MISSED = "missed"  # to the admins, when the target has passed


class Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class Federation(Record):
    id: int
    code: str
    name: str
    active: bool
    created_at: datetime


class User(Record):
    id: int
    role: Role
    federation_id: int | None
    full_name: str
    username: str | None
    language: str
    active: bool
    blocked_at: datetime | None
    created_at: datetime
    manager: bool = False  # a contact who answers for their federation (approves, sees all)


class ExpertiseField(Record):
    id: int
    code: str
    name_fr: str
    name_en: str
    hourly_rate_cents: int
    active: bool
    position: int
    routes_to_admins: bool

    def name(self, language: str) -> str:
        """The field's name in a language."""
        return self.name_en if language == "en" else self.name_fr


class Invite(Record):
    id: int
    role: Role
    federation_id: int | None
    field_ids: tuple[int, ...] = ()
    created_by: int
    created_at: datetime
    expires_at: datetime
    max_uses: int
    uses: int
    used_by: int | None
    used_at: datetime | None
    revoked_at: datetime | None
    manager: bool = False  # registers a manager of the federation (a contact with the flag)


class Absence(Record):
    """A person away for whole days, `starts_on` to `ends_on` inclusive (local dates), covered
    by `delegate_id` if named; `ended_at`: ended early (/back) or replaced."""

    id: int
    user_id: int
    starts_on: date
    ends_on: date
    delegate_id: int | None
    created_by: int
    created_at: datetime
    ended_at: datetime | None


class Attachment(Record):
    """A file attached to a draft or a ticket (Telegram keeps the bytes; we keep the file id)."""

    kind: str
    file_id: str
    file_unique_id: str
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None


class Draft(Record):
    id: int
    user_id: int
    status: DraftStatus
    step: FormStep
    editing: bool
    field_id: int | None
    subject: str | None
    description: str | None
    urgency: Urgency | None
    desired_date: date | None
    created_at: datetime
    updated_at: datetime
    attachments: tuple[Attachment, ...] = ()
    last_message_id: int | None = None


class Ticket(Record):
    id: int
    reference: str
    draft_id: int | None
    contact_id: int
    federation_id: int
    field_id: int
    subject: str
    description: str
    urgency: Urgency
    desired_date: date | None
    status: TicketStatus
    assignee_id: int | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    rating: int | None = None
    rating_comment: str | None = None
    resolution_note: str | None = None


class TicketEvent(Record):
    id: int
    ticket_id: int
    actor_id: int | None
    kind: str
    from_status: TicketStatus | None
    to_status: TicketStatus | None
    note: str | None
    created_at: datetime


class OutboxMessage(Record):
    id: int
    chat_id: int
    method: str
    payload: dict[str, Any]
    purpose: str
    ticket_id: int | None
    edit_of: int | None
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    message_id: int | None
    created_at: datetime
    sent_at: datetime | None
    ticket_message_id: int | None = None


class SlaTarget(Record):
    """The targets of one urgency, in minutes of its clock (business minutes but for critical)."""

    urgency: Urgency
    first_response_minutes: int
    resolution_minutes: int

    def minutes(self, target: Target) -> int:
        """The minutes of one target."""
        return (
            self.first_response_minutes
            if target is Target.FIRST_RESPONSE
            else self.resolution_minutes
        )


class WatchedTicket(Record):
    """An open ticket as the service-level check sees it, with the alerts already sent."""

    id: int
    reference: str
    subject: str
    urgency: Urgency
    status: TicketStatus
    field_id: int
    federation_id: int
    assignee_id: int | None
    created_at: datetime
    first_response_at: datetime | None
    sent: frozenset[tuple[Target, AlertKind]] = frozenset()


class TicketFacts(Record):
    """What stats need of a ticket."""

    id: int
    created_at: datetime
    urgency: Urgency
    status: TicketStatus
    field_id: int
    federation_id: int
    first_response_at: datetime | None
    resolved_at: datetime | None
    rating: int | None


class TimeEntryLine(Record):
    """A time entry of a billing period, with its ticket."""

    id: int
    work_date: date
    minutes: int
    hourly_rate_cents: int
    note: str | None
    field_id: int
    lead_name: str | None
    ticket_id: int
    reference: str
    subject: str
    federation_id: int


# -- the member federation (issue 14) ---------------------------------------------------------


class ApprovalKind(StrEnum):
    """Which estimates a federation approves."""

    EVERY = "every"  # every estimate (the default)
    HOURS = "hours"  # those whose upper bound is above a number of hours
    AMOUNT = "amount"  # those whose upper amount is above a number of dollars
    OFF = "off"  # none


class ApprovalPolicy(Record):
    """A federation's approval policy; `threshold`: minutes (hours) or cents (amount), else 0."""

    kind: ApprovalKind = ApprovalKind.EVERY
    threshold: int = 0


class EstimateStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    SUPERSEDED = "superseded"  # a newer estimate of the ticket replaced it before a decision


class Quote(Record):
    """An estimate's bounds priced at an hourly rate (bot.rules.estimates.quote), as stored."""

    low_minutes: int
    high_minutes: int
    hourly_rate_cents: int
    low_amount_cents: int
    high_amount_cents: int


class Estimate(Record):
    """A lead's estimate of a ticket, priced at the field's rate of the day it was sent."""

    id: int
    ticket_id: int
    low_minutes: int
    high_minutes: int
    hourly_rate_cents: int
    low_amount_cents: int
    high_amount_cents: int
    note: str | None
    created_by: int
    created_at: datetime
    status: EstimateStatus
    decided_by: int | None  # who approved, refused or superseded it; None: the policy approved
    decided_at: datetime | None
    reason: str | None
    revision_of: int | None


class TimeLogged(Record):
    """The time logged on a ticket: minutes, and cents at each entry's own rate."""

    minutes: int = 0
    cents: int = 0


class EnvelopeKind(StrEnum):
    HOURS = "hours"  # amount in minutes
    DOLLARS = "dollars"  # amount in cents


class Envelope(Record):
    """A federation's bank of hours or dollars for a year, for all its fields or for one."""

    id: int
    federation_id: int
    year: int
    field_id: int | None
    kind: EnvelopeKind
    amount: int  # minutes or cents
    created_by: int
    created_at: datetime


class Commitment(Record):
    """A ticket's latest approved estimate beside the time logged on it, for its envelopes."""

    ticket_id: int
    high_minutes: int
    high_amount_cents: int
    logged_minutes: int
    logged_cents: int


class EnvelopeFacts(Record):
    """What an envelope's use is computed from: the year's time entries (minutes, and cents at
    each entry's rate) and the commitments of the tickets it covers."""

    used_minutes: int = 0
    used_cents: int = 0
    commitments: tuple[Commitment, ...] = ()


class TeamGroup(Record):
    """A forum supergroup that is the workspace of some fields (issue 15)."""

    chat_id: int
    title: str
    language: str
    linked_by: int
    linked_at: datetime


class TicketTopic(Record):
    """A ticket's topic in its field's group: an intent until `thread_id` is recorded."""

    id: int
    ticket_id: int
    chat_id: int
    thread_id: int | None
    shown_state: str
    closed: bool
    attempted_at: datetime | None
    deleted_at: datetime | None
    created_at: datetime
    last_event_id: int = 0


class Approval(Record):
    """An estimate's approval, when it was decided (an envelope's commitments as of a date)."""

    ticket_id: int
    estimate_id: int
    decided_at: datetime
    high_minutes: int
    high_amount_cents: int


class StatusChange(Record):
    """A ticket's move to a state, from its audit trail."""

    ticket_id: int
    event_id: int
    status: TicketStatus
    at: datetime


class LoggedDay(Record):
    """The time logged on a ticket on one day: minutes, and cents at each entry's rate."""

    ticket_id: int
    work_date: date
    minutes: int
    cents: int


class EnvelopeHistory(Record):
    """What an envelope's commitments as of any moment of its year are computed from: its
    requests' approvals in the year, their status changes and the time logged on them."""

    approvals: tuple[Approval, ...] = ()
    changes: tuple[StatusChange, ...] = ()
    logged: tuple[LoggedDay, ...] = ()
