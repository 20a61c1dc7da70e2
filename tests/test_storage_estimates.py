"""storage/estimates.py and the managers of storage/people.py against a real SQLite database:
migration 0007 on a database with history, estimates and their decisions with their audit
events in the same transaction, the first manager to decide, time logged to the cent, and
reminders due once."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.rules.business_time import BusinessCalendar
from bot.rules.estimates import quote, reminder_cutoff
from bot.rules.money import entry_amount
from bot.rules.workflow import Action, Actor, after_estimate, decide, relations
from storage import admin, people, tickets
from storage import db as database
from storage import estimates as repo
from storage.db import Database
from storage.models import (
    ApprovalKind,
    ApprovalPolicy,
    EstimateStatus,
    Role,
    Ticket,
    TicketStatus,
    TimeLogged,
    Urgency,
)
from tests import member_data
from tests.member_data import (
    CQCH,
    FCAQ,
    GISELE,
    JEAN,
    LEGAL_RATE,
    MARIE,
    NOW,
    PAUL,
    ROGER,
    log,
    request,
)

S = TicketStatus
A = S.AWAITING_APPROVAL


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with member_data.world(tmp_path) as opened:
        yield opened


async def _events(db: Database, ticket: Ticket) -> list[tuple[str, str | None, str | None]]:
    async with db.read() as conn:
        found = await tickets.ticket_events(conn, ticket.id)
    return [
        (e.kind, e.to_status.value if e.to_status else None, e.note)
        for e in found
        if e.kind in {"estimate", "approve", "refuse"}
    ]


async def _status(db: Database, ticket: Ticket) -> TicketStatus:
    async with db.read() as conn:
        now = await tickets.get_ticket(conn, ticket.id)
    assert now is not None
    return now.status


# -- migration 0007 ---------------------------------------------------------------------------


def _database_before_0007(path: Path) -> None:
    """A database as migrations 0001-0006 left it, with a history on two tickets."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)"
    )
    for version, name, sql in database._migration_files():
        if version >= 7:
            continue
        conn.executescript(
            f"BEGIN;\n{sql}\nINSERT INTO schema_migrations VALUES ({version}, '{name}', 'x');"
            "\nCOMMIT;"
        )
    at = "2026-11-24T19:00:00.000000+00:00"
    conn.executescript(f"""
        INSERT INTO federations (code, name, created_at) VALUES ('CQCH', 'C', '{at}');
        INSERT INTO users (id, role, federation_id, full_name, language, created_at)
            VALUES (10, 'contact', 1, 'Marie', 'fr', '{at}'),
                   (20, 'lead', NULL, 'Jean', 'fr', '{at}');
        INSERT INTO tickets (reference, contact_id, federation_id, field_id, subject, description,
            urgency, status, assignee_id, created_at, updated_at, rating, resolution_note)
            VALUES ('CREC-2026-0001', 10, 1, 1, 'Règlements généraux', 'Réviser nos règlements',
                    'normal', 'closed', 20, '{at}', '{at}', 5, 'Fait.'),
                   ('CREC-2026-0002', 10, 1, 1, 'Congrès annuel', 'Organisation du congrès',
                    'critical', 'in_progress', 20, '{at}', '{at}', NULL, NULL);
        INSERT INTO ticket_events (ticket_id, actor_id, kind, created_at)
            VALUES (1, 10, 'created', '{at}'), (2, 10, 'created', '{at}');
        INSERT INTO time_entries (ticket_id, lead_id, field_id, work_date, minutes,
            hourly_rate_cents, created_at) VALUES (2, 20, 1, '2026-11-24', 90, 9500, '{at}');
        INSERT INTO pending_inputs (user_id, kind, ticket_id, created_at)
            VALUES (20, 'time', 2, '{at}');
    """)
    conn.close()


async def test_migration_keeps_every_ticket_and_accepts_awaiting_approval(tmp_path: Path) -> None:
    path = tmp_path / "intake.db"
    _database_before_0007(path)
    opened = Database(path)
    await opened.open()
    try:
        async with opened.transaction() as conn:
            rows = await conn.execute_fetchall(
                "SELECT id, reference, status, rating, resolution_note FROM tickets ORDER BY id"
            )
            assert [tuple(r) for r in rows] == [
                (1, "CREC-2026-0001", "closed", 5, "Fait."),
                (2, "CREC-2026-0002", "in_progress", None, None),
            ]
            # What pointed at the tickets still finds them; foreign keys are still enforced.
            assert list(await conn.execute_fetchall("PRAGMA foreign_key_check")) == []
            with pytest.raises(sqlite3.IntegrityError):
                await conn.execute(
                    "INSERT INTO ticket_events (ticket_id, kind, created_at) VALUES (9, 'x', 'x')"
                )
            # The new state is accepted, others still refused; search still finds old and new.
            await conn.execute("UPDATE tickets SET status = 'awaiting_approval' WHERE id = 2")
            with pytest.raises(sqlite3.IntegrityError):
                await conn.execute("UPDATE tickets SET status = 'on_hold' WHERE id = 2")
            ticket = await tickets.get_ticket(conn, 2)
            assert ticket is not None and ticket.status is A
            found = await tickets.search(
                conn, ["congres"], lead_id=0, field_ids=[], everything=True, limit=5
            )
            assert [t.id for t in found] == [2]
            user = await people.get_user(conn, 10)
            assert user is not None and user.manager is False
            federation = await people.federation_by_id(conn, 1)
            assert federation is not None  # the new columns do not trouble the record
            assert await repo.approval_policy(conn, 1) == ApprovalPolicy()
        async with opened.read() as conn:
            versions = await conn.execute_fetchall("SELECT version FROM schema_migrations")
            assert 7 in {r[0] for r in versions}  # later migrations may follow it
            indexes = await conn.execute_fetchall(
                "SELECT name FROM sqlite_master WHERE tbl_name = 'tickets' AND sql IS NOT NULL"
            )
            assert {r[0] for r in indexes} >= {
                "tickets_contact",
                "tickets_field_status",
                "tickets_assignee_status",
                "tickets_created",
                "tickets_status_updated",
                "tickets_contact_created",
                "tickets_fts_insert",
                "tickets_fts_update",
            }
    finally:
        await opened.close()


async def test_a_migration_that_would_lose_a_ticket_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "intake.db"
    _database_before_0007(path)
    real = database._migration_files()

    def losing_one() -> list[tuple[int, str, str]]:
        # As if the copy missed ticket 2, which events, time and a pending input point at.
        return [
            (
                v,
                n,
                sql.replace("FROM temp.tickets_before;", "FROM temp.tickets_before WHERE id = 1;"),
            )
            for v, n, sql in real
        ]

    monkeypatch.setattr(database, "_migration_files", losing_one)
    opened = Database(path)
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await opened.open()
    await opened.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM tickets").fetchone() == (2,)
    assert conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone() == (6,)
    conn.close()


# -- managers ---------------------------------------------------------------------------------


async def test_managers_of_a_federation(db: Database) -> None:
    async with db.transaction() as conn:
        assert [u.id for u in await people.managers_of(conn, CQCH)] == [GISELE]
        assert await people.has_managers(conn, CQCH)
        assert [u.id for u in await people.list_managers(conn)] == [GISELE, ROGER]
        gisele = await people.get_user(conn, GISELE)
        assert gisele is not None and gisele.manager
        # Only a contact is made a manager; twice changes nothing.
        assert not await people.set_manager(conn, JEAN, True)
        assert not await people.set_manager(conn, GISELE, True)
        assert await people.set_manager(conn, PAUL, True)
        assert [u.id for u in await people.managers_of(conn, CQCH)] == [GISELE, PAUL]
        # A revoked manager approves nothing.
        await admin.set_user_active(conn, PAUL, False)
        assert [u.id for u in await people.managers_of(conn, CQCH)] == [GISELE]
        assert await people.set_manager(conn, GISELE, False)
        assert not await people.has_managers(conn, CQCH)


@pytest.mark.parametrize(
    ("role", "federation"),
    [(Role.CONTACT, FCAQ), (Role.LEAD, None), (Role.ADMIN, None), (Role.CONTACT, CQCH)],
)
async def test_any_role_given_takes_the_managers_rights_away(
    db: Database, role: Role, federation: int | None
) -> None:
    async with db.transaction() as conn:
        await admin.set_user_role(conn, GISELE, role, federation_id=federation)
        user = await people.get_user(conn, GISELE)
        assert user is not None and not user.manager
        assert not await people.has_managers(conn, CQCH)
        assert [u.id for u in await people.managers_of(conn, FCAQ)] == [ROGER]


# -- approval policy --------------------------------------------------------------------------


async def test_approval_policies(db: Database) -> None:
    async with db.transaction() as conn:
        assert await repo.approval_policy(conn, CQCH) == ApprovalPolicy()  # every estimate
        hours = ApprovalPolicy(kind=ApprovalKind.HOURS, threshold=300)
        assert await repo.set_approval_policy(conn, CQCH, hours)
        assert await repo.approval_policy(conn, CQCH) == hours
        assert await repo.approval_policy(conn, FCAQ) == ApprovalPolicy()
        assert not await repo.set_approval_policy(conn, 99, hours)
        with pytest.raises(sqlite3.IntegrityError):  # a threshold means hours or amount
            await repo.set_approval_policy(
                conn, CQCH, ApprovalPolicy(kind=ApprovalKind.OFF, threshold=5)
            )


# -- estimates and decisions ------------------------------------------------------------------


async def _estimate(
    db: Database,
    ticket: Ticket,
    low: int,
    high: int,
    *,
    rate: int = LEGAL_RATE,
    needed: bool = True,
) -> Ticket:
    """Jean sends an estimate, as the handler will: the rule says where the ticket goes."""
    async with db.transaction() as conn:
        current = await tickets.get_ticket(conn, ticket.id)
        assert current is not None
        who = relations(Actor(JEAN, Role.LEAD, frozenset({1})), current)
        target = after_estimate(current, who, approval_needed=needed)
        added = await repo.add_estimate(
            conn,
            ticket=current,
            quote=quote(low, high, rate),
            created_by=JEAN,
            now=NOW,
            to_status=target,
            approved=not needed,
            note="Deux rencontres et un avis écrit",
        )
        assert added is not None
        after = await tickets.get_ticket(conn, ticket.id)
    assert after is not None
    return after


async def test_an_estimate_waits_for_approval(db: Database) -> None:
    async with db.transaction() as conn:
        ticket = await request(conn)
    after = await _estimate(db, ticket, 240, 370)
    assert after.status is A
    async with db.read() as conn:
        pending = await repo.pending_estimate(conn, ticket.id)
        assert await repo.approved_estimate(conn, ticket.id) is None
    assert pending is not None
    assert (pending.low_minutes, pending.high_minutes, pending.hourly_rate_cents) == (
        240,
        370,
        9550,
    )
    assert (pending.low_amount_cents, pending.high_amount_cents) == (38200, 58892)
    assert pending.status is EstimateStatus.PENDING and pending.decided_at is None
    assert pending.created_by == JEAN and pending.revision_of is None
    assert await _events(db, ticket) == [("estimate", "awaiting_approval", pending.note)]


async def test_approved_then_the_federation_decides_on_a_revision(db: Database) -> None:
    async with db.transaction() as conn:
        ticket = await request(conn)
    waiting = await _estimate(db, ticket, 240, 360)
    async with db.transaction() as conn:
        first = await repo.pending_estimate(conn, ticket.id)
        assert first is not None
        target = decide(Action.APPROVE, waiting, relations(_gisele(), waiting))
        assert await repo.decide_estimate(
            conn,
            estimate_id=first.id,
            ticket=waiting,
            approve=True,
            decided_by=GISELE,
            now=NOW,
            to_status=target,
        )
    assert await _status(db, ticket) is S.IN_PROGRESS
    # An over-run: a revised estimate, refused with a reason, back to the lead.
    revising = await _estimate(db, ticket, 480, 600)
    async with db.transaction() as conn:
        revised = await repo.pending_estimate(conn, ticket.id)
        assert revised is not None and revised.revision_of == first.id
        assert await repo.decide_estimate(
            conn,
            estimate_id=revised.id,
            ticket=revising,
            approve=False,
            decided_by=GISELE,
            now=NOW + timedelta(hours=1),
            to_status=S.ASSIGNED,
            reason="Au-delà de notre budget",
        )
        refused = await repo.get_estimate(conn, revised.id)
        standing = await repo.approved_estimate(conn, ticket.id)
    assert refused is not None and refused.status is EstimateStatus.REFUSED
    assert refused.reason == "Au-delà de notre budget" and refused.decided_by == GISELE
    assert standing is not None and standing.id == first.id  # the first one still stands
    assert await _status(db, ticket) is S.ASSIGNED
    assert [(kind, to) for kind, to, _ in await _events(db, ticket)] == [
        ("estimate", "awaiting_approval"),
        ("approve", "in_progress"),
        ("estimate", "awaiting_approval"),
        ("refuse", "assigned"),
    ]
    assert (await _events(db, ticket))[-1][2] == "Au-delà de notre budget"


def _gisele() -> Actor:
    return Actor(GISELE, Role.CONTACT, federation_id=CQCH, manager=True)


async def test_a_new_estimate_supersedes_the_pending_one(db: Database) -> None:
    async with db.transaction() as conn:
        ticket = await request(conn)
    waiting = await _estimate(db, ticket, 60, 120)
    async with db.read() as conn:
        first = await repo.pending_estimate(conn, ticket.id)
    assert first is not None
    await _estimate(db, waiting, 120, 180)  # a typo corrected before anyone decided
    async with db.transaction() as conn:
        every = await repo.ticket_estimates(conn, ticket.id)
        assert [e.status for e in every] == [EstimateStatus.SUPERSEDED, EstimateStatus.PENDING]
        assert every[0].decided_by == JEAN and every[1].revision_of == first.id
        # A manager who pressed Approve on the old card decides nothing.
        assert not await repo.decide_estimate(
            conn,
            estimate_id=first.id,
            ticket=waiting,
            approve=True,
            decided_by=GISELE,
            now=NOW,
            to_status=S.IN_PROGRESS,
        )
        with pytest.raises(sqlite3.IntegrityError):  # one pending estimate per ticket, at most
            await conn.execute("UPDATE estimates SET status = 'pending', decided_at = NULL")
    assert await _status(db, ticket) is A


async def test_two_managers_at_once_make_one_decision(db: Database) -> None:
    async with db.transaction() as conn:
        await people.set_manager(conn, PAUL, True)
        ticket = await request(conn)
    waiting = await _estimate(db, ticket, 240, 360)
    async with db.read() as conn:
        pending = await repo.pending_estimate(conn, ticket.id)
    assert pending is not None

    async def press(manager: int, approve: bool) -> bool:
        # Both saw the same card: the same pending estimate, the ticket awaiting approval.
        async with db.transaction() as conn:
            return await repo.decide_estimate(
                conn,
                estimate_id=pending.id,
                ticket=waiting,
                approve=approve,
                decided_by=manager,
                now=NOW,
                to_status=S.IN_PROGRESS if approve else S.ASSIGNED,
                reason=None if approve else "Non",
            )

    results = await asyncio.gather(press(GISELE, True), press(PAUL, False))
    assert sorted(results) == [False, True]
    async with db.read() as conn:
        decided = await repo.get_estimate(conn, pending.id)
    assert decided is not None and decided.decided_by == GISELE  # the first one
    assert await _status(db, ticket) is S.IN_PROGRESS
    assert [kind for kind, _, _ in await _events(db, ticket)] == ["estimate", "approve"]


async def test_a_decision_on_a_ticket_that_moved_is_rolled_back(db: Database) -> None:
    async with db.transaction() as conn:
        ticket = await request(conn)
    waiting = await _estimate(db, ticket, 60, 60)
    async with db.transaction() as conn:
        await conn.execute("UPDATE tickets SET status = 'cancelled' WHERE id = ?", (ticket.id,))
        pending = await repo.pending_estimate(conn, ticket.id)
    assert pending is not None
    with pytest.raises(repo.StaleTicket):
        async with db.transaction() as conn:
            await repo.decide_estimate(
                conn,
                estimate_id=pending.id,
                ticket=waiting,  # read before the cancel
                approve=True,
                decided_by=GISELE,
                now=NOW,
                to_status=S.IN_PROGRESS,
            )
    async with db.transaction() as conn:
        still = await repo.get_estimate(conn, pending.id)
        assert still is not None and still.status is EstimateStatus.PENDING
        # An estimate on a ticket that moved writes nothing either.
        assert (
            await repo.add_estimate(
                conn,
                ticket=waiting,
                quote=quote(60, 60, LEGAL_RATE),
                created_by=JEAN,
                now=NOW,
                to_status=A,
                approved=False,
            )
            is None
        )
        assert len(await repo.ticket_estimates(conn, ticket.id)) == 1
        # The request cancelled, its estimate is set aside: nobody is asked about it any more.
        withdrawn = await repo.withdraw_pending(conn, ticket.id, MARIE, NOW)
        assert withdrawn is not None and withdrawn.status is EstimateStatus.SUPERSEDED
        assert await repo.pending_estimate(conn, ticket.id) is None
        assert await repo.withdraw_pending(conn, ticket.id, MARIE, NOW) is None
    assert [kind for kind, _, _ in await _events(db, ticket)] == ["estimate"]


async def test_an_estimate_below_the_policy_stands_at_once(db: Database) -> None:
    async with db.transaction() as conn:
        ticket = await request(conn, status=S.WAITING)
    after = await _estimate(db, ticket, 60, 90, needed=False)
    assert after.status is S.WAITING
    async with db.read() as conn:
        approved = await repo.approved_estimate(conn, ticket.id)
        assert await repo.pending_estimate(conn, ticket.id) is None
    assert approved is not None and approved.status is EstimateStatus.APPROVED
    assert approved.decided_by is None and approved.decided_at == NOW  # by the policy
    assert await _events(db, ticket) == [("estimate", "waiting", approved.note)]


async def test_a_critical_request_is_worked_and_approved_after(db: Database) -> None:
    async with db.transaction() as conn:
        ticket = await request(conn, urgency=Urgency.CRITICAL)
    after = await _estimate(db, ticket, 600, 900)
    assert after.status is S.IN_PROGRESS  # worked at once
    # Resolved before anyone decided; approved afterwards, its clocks untouched.
    async with db.transaction() as conn:
        assert await tickets.set_status(conn, after, S.RESOLVED, NOW + timedelta(hours=5))
        resolved = await tickets.get_ticket(conn, ticket.id)
        assert resolved is not None
        pending = await repo.pending_estimate(conn, ticket.id)
        assert pending is not None
        target = decide(Action.APPROVE, resolved, relations(_gisele(), resolved))
        assert target is S.RESOLVED
        assert await repo.decide_estimate(
            conn,
            estimate_id=pending.id,
            ticket=resolved,
            approve=True,
            decided_by=GISELE,
            now=NOW + timedelta(days=1),
            to_status=target,
        )
        later = await tickets.get_ticket(conn, ticket.id)
    assert later is not None and later.status is S.RESOLVED
    assert later.resolved_at == resolved.resolved_at == NOW + timedelta(hours=5)
    assert later.updated_at == NOW + timedelta(days=1)
    assert [(k, to) for k, to, _ in await _events(db, ticket)] == [
        ("estimate", "in_progress"),
        ("approve", "resolved"),
    ]


async def test_latest_approved_estimates_of_many_tickets(db: Database) -> None:
    async with db.transaction() as conn:
        first, second, third = [await request(conn) for _ in range(3)]
    await _estimate(db, first, 60, 60, needed=False)
    await _estimate(db, first, 120, 120, needed=False)
    await _estimate(db, second, 30, 30)  # pending only
    async with db.read() as conn:
        found = await repo.approved_estimates(conn, [first.id, second.id, third.id])
        pending = await repo.pending_estimates(conn, CQCH)
        assert await repo.pending_estimates(conn, FCAQ) == []
    assert list(found) == [first.id] and found[first.id].high_minutes == 120
    assert [e.ticket_id for e in pending] == [second.id]


# -- time logged ------------------------------------------------------------------------------


async def test_time_logged_to_the_cent_at_each_entrys_rate(db: Database) -> None:
    entries = [(1, 9030), (1, 9550), (95, 9550), (45, 12000), (61, 0), (7, 10001)]
    async with db.transaction() as conn:
        ticket, other, empty = [await request(conn) for _ in range(3)]
        for minutes, rate in entries:
            await log(conn, ticket, minutes, rate=rate)
        await log(conn, other, 30, rate=10000)
    expected = sum((entry_amount(m, r) for m, r in entries), Decimal(0))
    async with db.read() as conn:
        logged = await repo.time_logged(conn, ticket.id)
        assert await repo.time_logged(conn, empty.id) == TimeLogged()
        by_ticket = await repo.time_logged_by_ticket(conn, [ticket.id, other.id, empty.id])
    assert logged.minutes == sum(m for m, _ in entries)
    assert Decimal(logged.cents) / 100 == expected  # the billing code's sum of rounded amounts
    assert by_ticket == {ticket.id: logged, other.id: TimeLogged(minutes=30, cents=5000)}


# -- reminders --------------------------------------------------------------------------------

MONTREAL = ZoneInfo("America/Montreal")


async def test_reminders_due_once_for_critical_requests(db: Database) -> None:
    calendar = BusinessCalendar(MONTREAL)
    async with db.transaction() as conn:
        critical = await request(conn, urgency=Urgency.CRITICAL)
        normal = await request(conn)
        cancelled = await request(conn, urgency=Urgency.CRITICAL)
    for ticket in (critical, normal, cancelled):
        await _estimate(db, ticket, 60, 120)  # Tuesday 14:00 in Montréal
    async with db.transaction() as conn:
        await conn.execute("UPDATE tickets SET status = 'cancelled' WHERE id = ?", (cancelled.id,))
    noon = NOW + timedelta(hours=22)  # Wednesday noon: not a whole business day yet
    later = NOW + timedelta(days=1, hours=1)  # Wednesday 15:00: a business day and more
    async with db.transaction() as conn:
        assert await repo.reminders_due(conn, reminder_cutoff(calendar, noon)) == []
        due = await repo.reminders_due(conn, reminder_cutoff(calendar, later))
        assert [e.ticket_id for e in due] == [critical.id]
        assert await repo.mark_reminded(conn, due[0].id, later)
        assert not await repo.mark_reminded(conn, due[0].id, later)  # once, whatever runs
        assert await repo.reminders_due(conn, reminder_cutoff(calendar, later)) == []


async def test_a_reminded_estimate_superseded_leaves_a_new_one_to_remind(db: Database) -> None:
    calendar = BusinessCalendar(MONTREAL)
    later = NOW + timedelta(days=7)
    async with db.transaction() as conn:
        critical = await request(conn, urgency=Urgency.CRITICAL)
    await _estimate(db, critical, 60, 120)
    async with db.transaction() as conn:
        (first,) = await repo.reminders_due(conn, reminder_cutoff(calendar, later))
        await repo.mark_reminded(conn, first.id, later)
    await _estimate(db, critical, 60, 180)  # at NOW too (the clock of the helper)
    async with db.read() as conn:
        due = await repo.reminders_due(conn, reminder_cutoff(calendar, later))
    assert [e.revision_of for e in due] == [first.id]
