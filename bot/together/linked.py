"""What people read of a request across several fields: the other parts under every card, the
request grouped in the contact's /mytickets, the other fields at the form's review."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.rules.parts import RequestState, progress
from bot.ui import render
from bot.ui.i18n import Html, t, tn
from storage import parts, people
from storage.db import Connection
from storage.models import Draft, Ticket, User


async def other_fields(conn: Connection, draft: Draft) -> list[int]:
    """The other active fields picked for the draft (its own field left out)."""
    found = []
    for field_id in await parts.draft_fields(conn, draft.id):
        field = await people.get_field(conn, field_id)
        if field is not None and field.active and field_id != draft.field_id:
            found.append(field_id)
    return found


async def review_lines(conn: Connection, draft: Draft, language: str) -> Html:
    """The line of the review that names the other fields picked ('' when none)."""
    names = []
    for field_id in await other_fields(conn, draft):
        field = await people.get_field(conn, field_id)
        assert field is not None
        names.append(field.name(language))
    if not names:
        return Html("")
    return Html("\n" + t(language, "parts.review_also", fields=", ".join(names)))


async def _part_line(
    conn: Connection, part: Ticket, language: str, for_contact: bool, approver: bool = False
) -> Html:
    field = await people.get_field(conn, part.field_id)
    state = render.status(part.status, language, for_contact=for_contact, approver=approver)
    line = t(
        language,
        "parts.line",
        reference=part.reference,
        field=field.name(language) if field else "—",
        status=state,
    )
    if not for_contact and part.assignee_id is not None:
        holder = await people.get_user(conn, part.assignee_id)
        line = t(language, "parts.line_held", line=line, who=render.person(holder))
    return line


async def card_block(
    conn: Connection, ticket: Ticket, language: str, *, for_contact: bool
) -> Html:
    """Under a card: the request's other parts with their states, read from the reader's side
    ('' for a ticket on its own); to its contact, whether the request is done."""
    every = await parts.parts_of(conn, ticket.id)
    if len(every) < 2:
        return Html("")
    lines = ["", tn(language, "parts.title", len(every))]
    for part in every:
        if part.id != ticket.id:
            lines.append(await _part_line(conn, part, language, for_contact))
    origin = await parts.origin(conn, ticket.id)
    if not for_contact and origin is not None and origin.added_by is not None:
        who = await people.get_user(conn, origin.added_by)
        first = next((p for p in every if p.id == origin.request_id), ticket)
        lines.append(
            t(language, "parts.added_by", who=render.person(who), reference=first.reference)
        )
    if for_contact:
        lines.append(await _state_line(conn, every, language))
    return Html("\n".join(lines))


async def _state_line(conn: Connection, every: list[Ticket], language: str) -> Html:
    """Whether the request is done for its contact, and which parts are still in progress."""
    done = progress(every)
    if done.state is RequestState.DONE:
        return t(language, "parts.request_done")
    if done.state is RequestState.CANCELLED:
        return t(language, "parts.request_cancelled")
    names = []
    for part in done.pending:
        field = await people.get_field(conn, part.field_id)
        names.append(f"{field.name(language) if field else '—'} ({part.reference})")
    return tn(
        language,
        "parts.request_pending",
        done.finished,  # the words agree with the parts done ("1 volet sur 3 terminé")
        count=done.counted,
        finished=done.finished,
        pending=", ".join(names),
    )


async def my_requests(conn: Connection, user: User, tz: ZoneInfo, limit: int) -> Html | None:
    """The contact's /mytickets: their requests newest first, a request across several fields
    as one, its parts under it. None: no request yet."""
    language = user.language
    page, total = await parts.contact_requests(conn, user.id, limit)
    if not page:
        return None
    grouped = await parts.parts_of_requests(conn, [tk.id for tk in page])
    # A federation without a manager: the contact approves their own requests' estimates.
    approver = user.federation_id is not None and not await people.managers_of(
        conn, user.federation_id
    )
    lines = [t(language, "mytickets.title", count=total)]
    for first in page:
        every = grouped.get(first.id, [first])
        if len(every) < 2:
            lines.append(
                t(
                    language,
                    "mytickets.line",
                    reference=first.reference,
                    subject=first.subject,
                    status=render.status(
                        first.status, language, for_contact=True, approver=approver
                    ),
                    urgency=render.URGENCY_MARK[first.urgency],
                    activity=render.moment(first.updated_at, language, tz),
                )
            )
            continue
        latest = max(p.updated_at for p in every)
        lines.append(
            tn(
                language,
                "parts.mytickets_request",
                len(every),
                reference=first.reference,
                subject=first.subject,
                activity=render.moment(latest, language, tz),
            )
        )
        lines += [await _part_line(conn, p, language, True, approver) for p in every]
        lines.append(await _state_line(conn, every, language))
    if total > len(page):
        lines.append(t(language, "mytickets.more", shown=len(page), total=total))
    lines.append(t(language, "mytickets.hint"))
    return Html("\n".join(lines))
