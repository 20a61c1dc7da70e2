"""How records read in a chat (HTML), in the reader's language. User text is always escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.ui import i18n
from bot.ui.i18n import Html, escape, format_day, format_when, t
from storage.models import (
    Draft,
    ExpertiseField,
    Federation,
    Ticket,
    TicketEvent,
    TicketStatus,
    Urgency,
    User,
)

LOCALES = i18n.LOCALES  # babel's locale for each language (defined in i18n, used here and there)
URGENCY_MARK = {Urgency.NORMAL: "🟢", Urgency.URGENT: "🟠", Urgency.CRITICAL: "🔴"}


def day(value: date, language: str) -> str:
    """A date as people write it: 15 décembre 2026 / December 15, 2026."""
    return format_day(value, language)


def moment(value: datetime, language: str, tz: ZoneInfo) -> Html:
    """A moment in the configured time zone: 8 décembre 2026 à 17 h 14 / December 8, 2026 at
    5:14 p.m. (every date and time shown to people goes through `i18n.format_when`)."""
    return format_when(value, language, tz)


def urgency(value: Urgency, language: str) -> Html:
    return Html(f"{URGENCY_MARK[value]} {t(language, f'urgency.{value.value}')}")


def status(
    value: TicketStatus, language: str, *, for_contact: bool, approver: bool = False
) -> Html:
    """A ticket's state from the reader's side: the contact who filed it reads "waiting for
    your answer" where the Consortium's staff (leads, admins, exports) read "waiting for the
    contact"; who approves its estimates (`approver`) reads "waiting for your approval"."""
    if approver and value is TicketStatus.AWAITING_APPROVAL:
        return t(language, "status_approver.awaiting_approval")
    return t(language, f"status_contact.{value.value}" if for_contact else f"status.{value.value}")


# The state an event's own name already says ("taken", "resolved"): not repeated after it.
STATE_SAID = {
    "created": TicketStatus.NEW,
    "take": TicketStatus.ASSIGNED,
    "reassign": TicketStatus.ASSIGNED,
    "start": TicketStatus.IN_PROGRESS,
    "resolve": TicketStatus.RESOLVED,
    "cancel": TicketStatus.CANCELLED,
    "auto_close": TicketStatus.CLOSED,
    "estimate": TicketStatus.AWAITING_APPROVAL,
    "approve": TicketStatus.IN_PROGRESS,
    "refuse": TicketStatus.ASSIGNED,
    "drop": TicketStatus.CANCELLED,
}
# Notes that are the bot's own words (a duration, a rating), shown as they are; every other
# note is what someone wrote, quoted apart from the state.
PLAIN_NOTES = frozenset({"time", "rated", "estimate"})


def event(entry: TicketEvent, language: str, *, for_contact: bool) -> Html:
    """What an event of a ticket's history did: its name, the state it led to when the name
    does not say it already, and its note."""
    what = t(language, f"event.{entry.kind}")
    if entry.kind == "reassign" and entry.note:  # the note is the new holder's name
        what = t(language, "history.reassigned_to", name=entry.note)
    target = entry.to_status
    if target and target != entry.from_status and STATE_SAID.get(entry.kind) != target:
        what = t(
            language,
            "history.state",
            what=what,
            status=status(target, language, for_contact=for_contact),
        )
    if entry.note and entry.kind != "reassign":
        key = "history.detail" if entry.kind in PLAIN_NOTES else "history.quoted"
        what = t(language, key, what=what, note=entry.note)
    return what


def person(user: User | None) -> Html:
    """A person's name, with their @username when they have one."""
    if user is None:
        return Html("—")
    if user.username:
        return Html(f"{escape(user.full_name)} (@{escape(user.username)})")
    return Html(escape(user.full_name))


def quote(text: str) -> Html:
    return Html(f"<blockquote expandable>{escape(text)}</blockquote>")


def draft_review(draft: Draft, field: ExpertiseField | None, language: str) -> Html:
    """The review of a complete draft, before it is sent."""
    lines = [
        t(language, "form.review_title"),
        "",
        t(language, "label.field", value=field.name(language) if field else "—"),
        t(language, "label.subject", value=draft.subject or "—"),
        t(
            language,
            "label.urgency",
            value=urgency(draft.urgency, language) if draft.urgency else "—",
        ),
        t(
            language,
            "label.desired_date",
            value=day(draft.desired_date, language)
            if draft.desired_date
            else t(language, "form.no_date"),
        ),
        t(language, "label.attachments", value=len(draft.attachments)),
        t(language, "label.description"),
        quote(draft.description or ""),
    ]
    return Html("\n".join(lines))


def ticket_for_lead(
    ticket: Ticket,
    *,
    field: ExpertiseField,
    federation: Federation,
    contact: User | None,
    attachments: int,
    language: str,
    notes: Sequence[Html] = (),
    status_text: Html | None = None,
) -> Html:
    """The notification and card a lead sees (`notes`: lines under its state; `status_text`:
    its state said otherwise, as who cancelled it)."""
    lines = [
        t(language, "card.title", reference=ticket.reference, field=field.name(language)),
        Html(f"<b>{urgency(ticket.urgency, language)}</b>"),
        t(language, "label.federation", value=f"{federation.code} — {federation.name}"),
        t(language, "label.contact", value=person(contact)),
        t(
            language,
            "label.status",
            value=status_text or status(ticket.status, language, for_contact=False),
        ),
        *notes,
    ]
    if ticket.desired_date:
        lines.append(t(language, "label.desired_date", value=day(ticket.desired_date, language)))
    if attachments:
        lines.append(t(language, "label.attachments", value=attachments))
    lines += [
        t(language, "label.subject", value=ticket.subject),
        quote(ticket.description),
        *resolution(ticket, language),
    ]
    return Html("\n".join(lines))


def ticket_for_contact(
    ticket: Ticket,
    *,
    field: ExpertiseField,
    assignee: User | None,
    language: str,
    tz: ZoneInfo,
    approver: bool = False,
    status_text: Html | None = None,
) -> Html:
    """A contact's view of their own ticket (`approver`: they approve its estimates)."""
    state = status_text or status(ticket.status, language, for_contact=True, approver=approver)
    lines = [
        t(language, "card.title", reference=ticket.reference, field=field.name(language)),
        t(language, "label.status", value=state),
        t(language, "label.created", value=moment(ticket.created_at, language, tz)),
        t(language, "label.urgency", value=urgency(ticket.urgency, language)),
    ]
    if assignee is not None:
        lines.append(t(language, "label.assignee", value=person(assignee)))
    if ticket.desired_date:
        lines.append(t(language, "label.desired_date", value=day(ticket.desired_date, language)))
    lines += [
        t(language, "label.subject", value=ticket.subject),
        quote(ticket.description),
        *resolution(ticket, language),
    ]
    return Html("\n".join(lines))


def ticket_for_manager(
    ticket: Ticket,
    *,
    field: ExpertiseField,
    contact: User | None,
    assignee: User | None,
    language: str,
    tz: ZoneInfo,
    approver: bool = False,
    status_text: Html | None = None,
) -> Html:
    """A request of their federation as a manager reads it (someone else's): who filed it, and
    its state in the staff's words ("waiting for the contact", not "for your answer"; its
    estimate "waiting for your approval" when they approve)."""
    state = status_text or status(ticket.status, language, for_contact=False, approver=approver)
    lines = [
        t(language, "card.title", reference=ticket.reference, field=field.name(language)),
        t(language, "label.status", value=state),
        t(language, "label.filed_by", value=person(contact)),
        t(language, "label.created", value=moment(ticket.created_at, language, tz)),
        t(language, "label.urgency", value=urgency(ticket.urgency, language)),
    ]
    if assignee is not None:
        lines.append(t(language, "label.assignee", value=person(assignee)))
    if ticket.desired_date:
        lines.append(t(language, "label.desired_date", value=day(ticket.desired_date, language)))
    lines += [
        t(language, "label.subject", value=ticket.subject),
        quote(ticket.description),
        *resolution(ticket, language),
        t(language, "card.read_only"),
    ]
    return Html("\n".join(lines))


# A card holds the description (up to 3,000 characters) and the resolution note: the note is
# shortened when both would not fit in one message (the resolution message has it whole).
CARD_TEXT_BUDGET = 3400


def resolution(ticket: Ticket, language: str) -> list[Html]:
    """The resolution note of a resolved or closed ticket, under its card."""
    note = ticket.resolution_note
    if ticket.status not in {TicketStatus.RESOLVED, TicketStatus.CLOSED} or not note:
        return []
    room = max(200, CARD_TEXT_BUDGET - len(ticket.description))
    if len(note) > room:
        note = note[: room - 1].rstrip() + "…"
    return [t(language, "label.resolution"), quote(note)]
