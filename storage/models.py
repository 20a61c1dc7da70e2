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
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (
    TicketStatus.NEW,
    TicketStatus.ASSIGNED,
    TicketStatus.IN_PROGRESS,
    TicketStatus.WAITING,
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
