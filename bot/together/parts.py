"""Requests across several fields: the other fields picked at the form's review, and what the
contact is told once the request is sent in several parts."""

from __future__ import annotations

from bot.rules.parts import fields_to_add
from bot.services import Services
from bot.tickets import Filed
from bot.ui.i18n import Html, t, tn
from storage import drafts, parts, people
from storage.models import Draft, DraftStatus, ExpertiseField, FormStep, User


class NotPickable(Exception):
    """The draft is not at its review any more, or the field may not be picked."""


async def review_draft(services: Services, user: User, draft_id: int) -> Draft:
    """The contact's open draft at its review, or NotPickable (a stale or forged button)."""
    async with services.db.read() as conn:
        draft = await drafts.open_draft(conn, user.id)
    if draft is None or draft.id != draft_id or draft.status is not DraftStatus.OPEN:
        raise NotPickable
    if draft.step is not FormStep.REVIEW or draft.editing:
        raise NotPickable
    return draft


async def choices(services: Services, draft: Draft) -> tuple[list[ExpertiseField], set[int]]:
    """The fields the draft may also touch (active, not its own), and those picked."""
    async with services.db.read() as conn:
        every = await people.list_fields(conn, active_only=True)
        picked = set(await parts.draft_fields(conn, draft.id))
    offered = fields_to_add(every, [draft.field_id] if draft.field_id else [])
    return offered, picked & {f.id for f in offered}


async def toggle(services: Services, user: User, draft_id: int, field_id: int) -> Draft:
    """Pick or unpick a field for the draft, checked in the same transaction."""
    async with services.db.transaction() as conn:
        draft = await drafts.open_draft(conn, user.id)
        field = await people.get_field(conn, field_id)
        if draft is None or draft.id != draft_id or draft.step is not FormStep.REVIEW:
            raise NotPickable
        if field is None or not field.active or field.id == draft.field_id:
            raise NotPickable
        await parts.toggle_draft_field(conn, draft.id, field.id)
    return draft


async def sent_text(services: Services, filed: Filed, language: str) -> Html:
    """What the contact is told once the request is filed: its reference, or its parts."""
    if not filed.parts:
        return t(language, filed.sent_key, reference=filed.ticket.reference)
    lines = [tn(language, "parts.sent", len(filed.parts) + 1)]
    async with services.db.read() as conn:
        for part in (filed.ticket, *filed.parts):
            field = await people.get_field(conn, part.field_id)
            name = field.name(language) if field else "—"
            lines.append(t(language, "parts.sent_line", reference=part.reference, field=name))
    lines.append(t(language, "parts.sent_after"))
    return Html("\n".join(lines))
