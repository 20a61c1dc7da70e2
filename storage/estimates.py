"""Estimates and their decisions, each federation's approval policy, the time logged on a
ticket, and the approval reminders sent (issue 14).

Writes run inside the caller's transaction (`Database.transaction`): an estimate, or a decision
on one, changes the ticket (compare-and-set on the state the caller decided from) and writes its
audit event in that same transaction. Event kinds are the workflow's actions: `estimate`,
`approve`, `refuse`.

Amounts in SQL are the cents of bot.rules.estimates.amount_cents: minutes × rate ÷ 60, half up,
per time entry, in integers (`(minutes * rate + 30) / 60`), so that sums here equal the bot's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import aiosqlite

from storage import tickets
from storage.conversation import TicketMessage
from storage.db import utc_text
from storage.models import (
    ApprovalPolicy,
    Estimate,
    EstimateStatus,
    Quote,
    Ticket,
    TicketStatus,
    TimeLogged,
)

CHUNK = 500  # ids per `IN (...)`: well under SQLite's limit on parameters
ENTRY_CENTS = "(te.minutes * te.hourly_rate_cents + 30) / 60"  # one entry, half up


class StaleTicket(Exception):
    """The ticket left the state the caller decided from (read it in the same transaction);
    raised after a write, so that the caller's transaction rolls back."""


# -- approval policy --------------------------------------------------------------------------


async def approval_policy(conn: aiosqlite.Connection, federation_id: int) -> ApprovalPolicy:
    """A federation's approval policy (every estimate unless an admin said otherwise)."""
    async with conn.execute(
        "SELECT approval AS kind, approval_threshold AS threshold FROM federations WHERE id = ?",
        (federation_id,),
    ) as cur:
        row = await cur.fetchone()
    return ApprovalPolicy.model_validate(dict(row)) if row else ApprovalPolicy()


async def set_approval_policy(
    conn: aiosqlite.Connection, federation_id: int, policy: ApprovalPolicy
) -> bool:
    """Set a federation's approval policy; False if there is no such federation."""
    cur = await conn.execute(
        "UPDATE federations SET approval = ?, approval_threshold = ? WHERE id = ?",
        (policy.kind.value, policy.threshold, federation_id),
    )
    return cur.rowcount == 1


# -- reading estimates ------------------------------------------------------------------------


async def _one(conn: aiosqlite.Connection, sql: str, args: Sequence[object]) -> Estimate | None:
    async with conn.execute(sql, args) as cur:
        row = await cur.fetchone()
    return Estimate.model_validate(dict(row)) if row else None


async def get_estimate(conn: aiosqlite.Connection, estimate_id: int) -> Estimate | None:
    return await _one(conn, "SELECT * FROM estimates WHERE id = ?", (estimate_id,))


async def pending_estimate(conn: aiosqlite.Connection, ticket_id: int) -> Estimate | None:
    """The ticket's estimate awaiting a decision (one at most)."""
    return await _one(
        conn, "SELECT * FROM estimates WHERE ticket_id = ? AND status = 'pending'", (ticket_id,)
    )


async def approved_estimate(conn: aiosqlite.Connection, ticket_id: int) -> Estimate | None:
    """The ticket's latest approved estimate: the one that stands (against which time runs)."""
    return await _one(
        conn,
        "SELECT * FROM estimates WHERE ticket_id = ? AND status = 'approved'"
        " ORDER BY id DESC LIMIT 1",
        (ticket_id,),
    )


async def latest_estimate(conn: aiosqlite.Connection, ticket_id: int) -> Estimate | None:
    """The ticket's newest estimate, whatever became of it."""
    return await _one(
        conn, "SELECT * FROM estimates WHERE ticket_id = ? ORDER BY id DESC LIMIT 1", (ticket_id,)
    )


async def ticket_estimates(conn: aiosqlite.Connection, ticket_id: int) -> list[Estimate]:
    """Every estimate of a ticket, oldest first (its history)."""
    async with conn.execute(
        "SELECT * FROM estimates WHERE ticket_id = ? ORDER BY id", (ticket_id,)
    ) as cur:
        return [Estimate.model_validate(dict(r)) for r in await cur.fetchall()]


async def approved_estimates(
    conn: aiosqlite.Connection, ticket_ids: Sequence[int], before: datetime | None = None
) -> dict[int, Estimate]:
    """The latest approved estimate of each of these tickets that has one (statements and
    /billing set it beside the time logged); with `before`, as it stood then: the estimate
    approved most recently before that moment (a past month's statement, a past quarter's
    report), later revisions and approvals counting for nothing."""
    found: dict[int, Estimate] = {}
    for start in range(0, len(ticket_ids), CHUNK):
        chunk = list(ticket_ids[start : start + CHUNK])
        marks = ",".join("?" * len(chunk))
        if before is None:
            sql = (
                "SELECT e.* FROM estimates e WHERE e.id IN (SELECT MAX(id) FROM estimates"
                f" WHERE status = 'approved' AND ticket_id IN ({marks}) GROUP BY ticket_id)"
            )
            args: list[object] = list(chunk)
        else:  # every approval by then, oldest first: the last one of each ticket stands
            sql = (
                "SELECT * FROM estimates WHERE status = 'approved' AND decided_at < ?"
                f" AND ticket_id IN ({marks}) ORDER BY ticket_id, decided_at, id"
            )
            args = [utc_text(before), *chunk]
        async with conn.execute(sql, args) as cur:
            for row in await cur.fetchall():
                estimate = Estimate.model_validate(dict(row))
                found[estimate.ticket_id] = estimate
    return found


async def pending_estimates(conn: aiosqlite.Connection, federation_id: int) -> list[Estimate]:
    """A federation's estimates awaiting a decision, oldest first (what its managers have to
    decide on)."""
    async with conn.execute(
        "SELECT e.* FROM estimates e JOIN tickets t ON t.id = e.ticket_id"
        " WHERE e.status = 'pending' AND t.federation_id = ? AND t.status <> 'cancelled'"
        " ORDER BY e.created_at, e.id",
        (federation_id,),
    ) as cur:
        return [Estimate.model_validate(dict(r)) for r in await cur.fetchall()]


async def all_pending_estimates(conn: aiosqlite.Connection) -> list[Estimate]:
    """Every federation's estimates awaiting a decision, oldest first (an admin's /approvals)."""
    async with conn.execute(
        "SELECT e.* FROM estimates e JOIN tickets t ON t.id = e.ticket_id"
        " WHERE e.status = 'pending' AND t.status <> 'cancelled' ORDER BY e.created_at, e.id"
    ) as cur:
        return [Estimate.model_validate(dict(r)) for r in await cur.fetchall()]


# -- an approver's question and the lead's answer ----------------------------------------------


async def question(conn: aiosqlite.Connection, message_id: int) -> TicketMessage | None:
    """A message kept on a ticket, by its id (an approver's question, to answer)."""
    async with conn.execute("SELECT * FROM ticket_messages WHERE id = ?", (message_id,)) as cur:
        row = await cur.fetchone()
    return TicketMessage.model_validate(dict(row)) if row else None


async def question_notice(
    conn: aiosqlite.Connection, chat_id: int, message_id: int
) -> dict[str, Any] | None:
    """The payload of the bot's message `message_id` in `chat_id` if it carried an approver's
    question to the lead (purpose `estimate_question`): a Telegram reply to it answers them."""
    async with conn.execute(
        "SELECT payload FROM outbox WHERE chat_id = ? AND message_id = ?"
        " AND purpose = 'estimate_question' ORDER BY id DESC LIMIT 1",
        (chat_id, message_id),
    ) as cur:
        row = await cur.fetchone()
    return dict(json.loads(row[0])) if row else None


# -- time logged ------------------------------------------------------------------------------


async def time_logged(conn: aiosqlite.Connection, ticket_id: int) -> TimeLogged:
    """The time logged on a ticket: minutes, and cents at each entry's rate."""
    return (await time_logged_by_ticket(conn, [ticket_id])).get(ticket_id, TimeLogged())


async def time_logged_by_ticket(
    conn: aiosqlite.Connection, ticket_ids: Sequence[int], before: date | None = None
) -> dict[int, TimeLogged]:
    """The time logged on each of these tickets that has some (with `before`: on the days
    before it, the local work dates)."""
    found: dict[int, TimeLogged] = {}
    until = "" if before is None else " AND te.work_date < ?"
    for start in range(0, len(ticket_ids), CHUNK):
        chunk = list(ticket_ids[start : start + CHUNK])
        args: list[object] = list(chunk) if before is None else [*chunk, before.isoformat()]
        async with conn.execute(
            f"SELECT te.ticket_id, SUM(te.minutes) AS minutes, SUM({ENTRY_CENTS}) AS cents"
            f" FROM time_entries te WHERE te.ticket_id IN ({','.join('?' * len(chunk))}){until}"
            " GROUP BY te.ticket_id",
            args,
        ) as cur:
            for row in await cur.fetchall():
                found[row["ticket_id"]] = TimeLogged(minutes=row["minutes"], cents=row["cents"])
    return found


# -- writing estimates and decisions ----------------------------------------------------------


async def _move(
    conn: aiosqlite.Connection, ticket: Ticket, to_status: TicketStatus, now: datetime
) -> bool:
    """Compare-and-set the ticket from the state the caller saw to `to_status`. Staying in
    the same state only stamps its activity: set_status would also restamp its clocks (a
    resolved ticket's resolved_at, which starts the 7 days before it closes)."""
    if to_status is not ticket.status:
        return await tickets.set_status(conn, ticket, to_status, now)
    cur = await conn.execute(
        "UPDATE tickets SET updated_at = ? WHERE id = ? AND status = ?",
        (utc_text(now), ticket.id, ticket.status.value),
    )
    return cur.rowcount == 1


async def add_estimate(
    conn: aiosqlite.Connection,
    *,
    ticket: Ticket,
    quote: Quote,
    created_by: int,
    now: datetime,
    to_status: TicketStatus,
    approved: bool,
    note: str | None = None,
    event_note: str | None = None,
) -> Estimate | None:
    """Record an estimate of `ticket` and move the ticket to `to_status`
    (bot.rules.workflow.after_estimate), with its `estimate` event; None, with nothing written, if
    the ticket left the state the caller saw.

    `approved`: the federation's policy wants no approval, so it stands at once (decided now,
    by nobody). A pending estimate of the ticket is superseded; the new one revises the
    ticket's latest estimate, whatever became of it. The event's note is `event_note` (the
    bot's words for the estimate), else the lead's note.
    """
    if not await _move(conn, ticket, to_status, now):
        return None
    revised = await latest_estimate(conn, ticket.id)
    await withdraw_pending(conn, ticket.id, created_by, now)
    stamp = utc_text(now)
    async with conn.execute(
        "INSERT INTO estimates (ticket_id, low_minutes, high_minutes, hourly_rate_cents,"
        " low_amount_cents, high_amount_cents, note, created_by, created_at, status, decided_at,"
        " revision_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        (
            ticket.id,
            quote.low_minutes,
            quote.high_minutes,
            quote.hourly_rate_cents,
            quote.low_amount_cents,
            quote.high_amount_cents,
            note,
            created_by,
            stamp,
            (EstimateStatus.APPROVED if approved else EstimateStatus.PENDING).value,
            stamp if approved else None,
            revised.id if revised else None,
        ),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    await tickets.add_event(
        conn,
        ticket_id=ticket.id,
        actor_id=created_by,
        kind="estimate",
        from_status=ticket.status,
        to_status=to_status,
        note=event_note if event_note is not None else note,
        now=now,
    )
    return Estimate.model_validate(dict(row))


async def decide_estimate(
    conn: aiosqlite.Connection,
    *,
    estimate_id: int,
    ticket: Ticket,
    approve: bool,
    decided_by: int,
    now: datetime,
    to_status: TicketStatus,
    reason: str | None = None,
) -> bool:
    """Approve or refuse a pending estimate of `ticket` and move the ticket to `to_status`
    (bot.rules.workflow.decide of APPROVE or REFUSE), with its `approve` / `refuse` event (the
    reason as its note).

    The first to decide decides: the estimate changes only if it is still pending, and False
    says that this call lost (to another manager, or to a newer estimate), with nothing
    written. StaleTicket if the ticket itself moved meanwhile (the transaction rolls back).
    """
    status = EstimateStatus.APPROVED if approve else EstimateStatus.REFUSED
    cur = await conn.execute(
        "UPDATE estimates SET status = ?, decided_by = ?, decided_at = ?, reason = ?"
        " WHERE id = ? AND ticket_id = ? AND status = 'pending'",
        (status.value, decided_by, utc_text(now), reason, estimate_id, ticket.id),
    )
    if cur.rowcount != 1:
        return False
    if not await _move(conn, ticket, to_status, now):
        raise StaleTicket(f"ticket {ticket.id} is no longer {ticket.status}")
    await tickets.add_event(
        conn,
        ticket_id=ticket.id,
        actor_id=decided_by,
        kind="approve" if approve else "refuse",
        from_status=ticket.status,
        to_status=to_status,
        note=reason,
        now=now,
    )
    return True


async def withdraw_pending(
    conn: aiosqlite.Connection, ticket_id: int, by: int | None, now: datetime
) -> Estimate | None:
    """Set aside the ticket's pending estimate, if any (the request was cancelled or resolved
    before a decision): superseded, so that nobody is asked or reminded about it any more."""
    async with conn.execute(
        "UPDATE estimates SET status = 'superseded', decided_by = ?, decided_at = ?"
        " WHERE ticket_id = ? AND status = 'pending' RETURNING *",
        (by, utc_text(now), ticket_id),
    ) as cur:
        row = await cur.fetchone()
    return Estimate.model_validate(dict(row)) if row else None


# -- reminders --------------------------------------------------------------------------------


async def reminders_due(conn: aiosqlite.Connection, cutoff: datetime) -> list[Estimate]:
    """Estimates of critical requests still undecided since `cutoff` or before (one business
    day before now: bot.rules.estimates.reminder_cutoff), whose managers were not reminded."""
    async with conn.execute(
        "SELECT e.* FROM estimates e JOIN tickets t ON t.id = e.ticket_id"
        " WHERE e.status = 'pending' AND e.created_at <= ? AND t.urgency = 'critical'"
        " AND t.status <> 'cancelled'"
        " AND NOT EXISTS (SELECT 1 FROM approval_reminders r WHERE r.estimate_id = e.id)"
        " ORDER BY e.created_at, e.id",
        (utc_text(cutoff),),
    ) as cur:
        return [Estimate.model_validate(dict(r)) for r in await cur.fetchall()]


async def mark_reminded(conn: aiosqlite.Connection, estimate_id: int, now: datetime) -> bool:
    """Note that an estimate's managers were reminded (in the transaction that queues the
    reminder); False if it already was, so that each is reminded once, across restarts."""
    cur = await conn.execute(
        "INSERT INTO approval_reminders (estimate_id, sent_at) VALUES (?, ?)"
        " ON CONFLICT DO NOTHING",
        (estimate_id, utc_text(now)),
    )
    return cur.rowcount == 1
