"""storage/envelopes.py against a real SQLite database: one envelope per federation, year and
field; used and committed from time entries at their rates and approved estimates, to the cent,
through bot.rules.envelopes; alerts and statements recorded once."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
import pytest

from bot.rules.envelopes import new_alerts, usage, would_exceed
from bot.rules.estimates import quote
from bot.rules.money import entry_amount
from storage import envelopes as repo
from storage import estimates
from storage.db import Database, utc_text
from storage.models import (
    Commitment,
    Envelope,
    EnvelopeKind,
    Ticket,
    TicketStatus,
    TimeLogged,
)
from tests import member_data
from tests.member_data import ADMIN, CQCH, FCAQ, HR, JEAN, LEGAL, LEGAL_RATE, NOW, log, request

MONTREAL = ZoneInfo("America/Montreal")
HOURS, DOLLARS = EnvelopeKind.HOURS, EnvelopeKind.DOLLARS


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with member_data.world(tmp_path) as opened:
        yield opened


async def _envelope(
    conn: aiosqlite.Connection,
    kind: EnvelopeKind,
    amount: int,
    *,
    federation_id: int = CQCH,
    year: int = 2026,
    field_id: int | None = None,
) -> Envelope:
    return await repo.set_envelope(
        conn,
        federation_id=federation_id,
        year=year,
        field_id=field_id,
        kind=kind,
        amount=amount,
        created_by=ADMIN,
        now=NOW,
    )


async def _approved(
    conn: aiosqlite.Connection,
    ticket: Ticket,
    high_minutes: int,
    *,
    rate: int = LEGAL_RATE,
    at: datetime = NOW,
) -> None:
    """An estimate up to `high_minutes`, approved at `at`."""
    added = await estimates.add_estimate(
        conn,
        ticket=ticket,
        quote=quote(high_minutes // 2, high_minutes, rate),
        created_by=JEAN,
        now=at,
        to_status=ticket.status,
        approved=True,
    )
    assert added is not None


async def test_one_envelope_per_federation_year_and_field(db: Database) -> None:
    async with db.transaction() as conn:
        general = await _envelope(conn, HOURS, 120 * 60)
        legal = await _envelope(conn, DOLLARS, 1_500_000, field_id=LEGAL)
        await _envelope(conn, HOURS, 60 * 60, year=2027)
        await _envelope(conn, HOURS, 10 * 60, federation_id=FCAQ)
        assert (general.kind, general.amount, general.field_id) == (HOURS, 7200, None)
        assert await repo.envelope_of(conn, CQCH, 2026) == general
        assert await repo.envelope_of(conn, CQCH, 2026, LEGAL) == legal
        assert await repo.envelope_of(conn, CQCH, 2026, HR) is None
        # Setting it again changes it in place: still one per federation, year and field.
        again = await _envelope(conn, DOLLARS, 2_000_000)
        assert again.id == general.id and (again.kind, again.amount) == (DOLLARS, 2_000_000)
        mine = await repo.federation_envelopes(conn, CQCH)
        assert [(e.year, e.field_id) for e in mine] == [(2026, None), (2026, LEGAL), (2027, None)]
        assert [e.id for e in await repo.federation_envelopes(conn, CQCH, 2027)] == [mine[2].id]
        year = await repo.envelopes_of_year(conn, 2026)
        assert [(e.federation_id, e.field_id) for e in year] == [
            (CQCH, None),
            (CQCH, LEGAL),
            (FCAQ, None),
        ]
        with pytest.raises(sqlite3.IntegrityError):  # the index itself: NULL is "all fields"
            await conn.execute(
                "INSERT INTO envelopes (federation_id, year, kind, amount, created_by, created_at)"
                " VALUES (?, 2026, 'hours', 60, ?, ?)",
                (CQCH, ADMIN, utc_text(NOW)),
            )
        assert await repo.remove_envelope(conn, legal.id)
        assert not await repo.remove_envelope(conn, legal.id)
        assert await repo.envelope_of(conn, CQCH, 2026, LEGAL) is None


async def test_used_is_the_years_time_at_each_entrys_rate(db: Database) -> None:
    entries = [(95, 9550), (1, 9030), (45, 12000), (30, 0)]  # a rate change, a field unrated
    async with db.transaction() as conn:
        ticket = await request(conn)
        hr = await request(conn, field_id=HR)
        theirs = await request(conn, federation_id=FCAQ, contact_id=member_data.ROGER)
        for minutes, rate in entries:
            await log(conn, ticket, minutes, rate=rate)
        await log(conn, ticket, 600, day=date(2025, 12, 31))  # last year
        await log(conn, ticket, 600, day=date(2027, 1, 1))  # next year
        await log(conn, hr, 60, rate=8000)
        await log(conn, theirs, 600)  # another federation
        general = await _envelope(conn, DOLLARS, 1_000_000)
        legal = await _envelope(conn, HOURS, 600, field_id=LEGAL)
        all_facts = await repo.envelope_facts(conn, general, MONTREAL)
        legal_facts = await repo.envelope_facts(conn, legal, MONTREAL)
    cents = sum((entry_amount(m, r) for m, r in entries), Decimal(0)) + entry_amount(60, 8000)
    assert Decimal(all_facts.used_cents) / 100 == cents
    assert all_facts.used_minutes == 95 + 1 + 45 + 30 + 60
    assert legal_facts.used_minutes == 95 + 1 + 45 + 30  # human resources are not in it
    assert all_facts.commitments == legal_facts.commitments == ()
    use = usage(legal, legal_facts)
    assert (use.used, use.committed, use.remaining) == (171, 0, 429)


async def test_committed_is_what_approved_estimates_still_promise(db: Database) -> None:
    async with db.transaction() as conn:
        open_one = await request(conn)
        revised = await request(conn)
        done = await request(conn, status=TicketStatus.RESOLVED)
        last_year = await request(conn)
        waiting = await request(conn)
        await _approved(conn, open_one, 600)  # 10 h, 3 h logged: 7 h promised
        await log(conn, open_one, 180)
        await _approved(conn, revised, 300)
        await _approved(conn, revised, 900)  # the revision stands: 15 h, none logged
        await _approved(conn, done, 600)  # resolved: commits nothing more
        # Approved on December 31, 2025 at 20:00 in Montréal: 2026 in UTC, still 2025 here.
        await _approved(conn, last_year, 600, at=datetime(2025, 12, 31, 20, tzinfo=MONTREAL))
        pending = await estimates.add_estimate(
            conn,
            ticket=waiting,
            quote=quote(600, 600, LEGAL_RATE),
            created_by=JEAN,
            now=NOW,
            to_status=TicketStatus.AWAITING_APPROVAL,
            approved=False,
        )
        assert pending is not None  # not approved: commits nothing
        bank = await _envelope(conn, HOURS, 40 * 60)
        dollars = await _envelope(conn, DOLLARS, 500_000, field_id=LEGAL)
        facts = await repo.envelope_facts(conn, bank, MONTREAL)
        dollar_facts = await repo.envelope_facts(conn, dollars, MONTREAL)
    assert [c.ticket_id for c in facts.commitments] == [open_one.id, revised.id]
    assert facts.commitments[0] == Commitment(
        ticket_id=open_one.id,
        high_minutes=600,
        high_amount_cents=95500,
        logged_minutes=180,
        logged_cents=28650,
    )
    use = usage(bank, facts)
    assert (use.used, use.committed, use.remaining) == (180, 420 + 900, 2400 - 180 - 1320)
    money = usage(dollars, dollar_facts)
    assert (money.used, money.committed) == (28650, 95500 - 28650 + 143250)
    assert money.remaining == 500_000 - 28650 - 66850 - 143250
    # The approval card: 16 h more on the waiting request would go past 40 h.
    logged = await _logged(db, waiting)
    proposed = Commitment(
        ticket_id=waiting.id,
        high_minutes=16 * 60,
        high_amount_cents=quote(0, 16 * 60, LEGAL_RATE).high_amount_cents,
        logged_minutes=logged.minutes,
        logged_cents=logged.cents,
    )
    assert use.remaining == 900
    assert would_exceed(use, proposed)
    assert not would_exceed(use, proposed.model_copy(update={"high_minutes": 14 * 60}))


async def _logged(db: Database, ticket: Ticket) -> TimeLogged:
    async with db.read() as conn:
        return await estimates.time_logged(conn, ticket.id)


async def test_alerts_are_recorded_once_and_forgotten_with_a_new_amount(db: Database) -> None:
    async with db.transaction() as conn:
        ticket = await request(conn)
        bank = await _envelope(conn, HOURS, 600)
        await log(conn, ticket, 500)
        use = usage(bank, await repo.envelope_facts(conn, bank, MONTREAL))
        due = new_alerts(use, await repo.alerts_sent(conn, bank.id))
        assert due == (80,)
        assert await repo.mark_alerts_sent(conn, bank.id, due, NOW) == {80}
        # The job runs again, or after a restart: nothing new to tell.
        assert new_alerts(use, await repo.alerts_sent(conn, bank.id)) == ()
        assert not await repo.mark_alert_sent(conn, bank.id, 80, NOW)
        await log(conn, ticket, 200)
        use = usage(bank, await repo.envelope_facts(conn, bank, MONTREAL))
        assert new_alerts(use, await repo.alerts_sent(conn, bank.id)) == (100,)
        assert await repo.mark_alert_sent(conn, bank.id, 100, NOW)
        assert await repo.alerts_sent(conn, bank.id) == {80, 100}
        # The same amount again keeps them; a new amount is a new budget.
        await _envelope(conn, HOURS, 600)
        assert await repo.alerts_sent(conn, bank.id) == {80, 100}
        raised = await _envelope(conn, HOURS, 800)
        assert raised.id == bank.id and await repo.alerts_sent(conn, bank.id) == frozenset()
        use = usage(raised, await repo.envelope_facts(conn, raised, MONTREAL))
        assert new_alerts(use, ()) == (80,)  # 700 of 800
        with pytest.raises(sqlite3.IntegrityError):
            await repo.mark_alert_sent(conn, bank.id, 90, NOW)


async def test_statements_are_recorded_once_per_federation_and_month(db: Database) -> None:
    async with db.transaction() as conn:
        assert not await repo.statement_sent(conn, CQCH, "2026-11")
        assert await repo.mark_statement_sent(conn, CQCH, "2026-11", NOW)
        assert not await repo.mark_statement_sent(conn, CQCH, "2026-11", NOW)
        assert await repo.mark_statement_sent(conn, CQCH, "2026-10", NOW)
        assert await repo.mark_statement_sent(conn, FCAQ, "2026-11", NOW)
        assert await repo.statement_sent(conn, CQCH, "2026-11")
        assert await repo.statements_sent(conn, "2026-11") == {CQCH, FCAQ}
        assert await repo.statements_sent(conn, "2026-12") == frozenset()
        with pytest.raises(sqlite3.IntegrityError):
            await repo.mark_statement_sent(conn, CQCH, "novembre", NOW)
