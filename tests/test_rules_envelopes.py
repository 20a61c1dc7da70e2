"""Envelopes without Telegram: amounts as admins type them, used, committed and remaining in
hours and in dollars, the 80 % and 100 % alerts told once, and estimates that would go past."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.rules.envelopes import (
    envelopes_for,
    new_alerts,
    parse_envelope,
    reached,
    usage,
    with_estimate,
    would_exceed,
)
from storage.models import Commitment, Envelope, EnvelopeFacts, EnvelopeKind

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def envelope(
    kind: EnvelopeKind, amount: int, field_id: int | None = None, envelope_id: int = 1
) -> Envelope:
    return Envelope(
        id=envelope_id,
        federation_id=1,
        year=2026,
        field_id=field_id,
        kind=kind,
        amount=amount,
        created_by=1001,
        created_at=NOW,
    )


def commitment(
    ticket_id: int, high_minutes: int, high_cents: int, logged_minutes: int, logged_cents: int
) -> Commitment:
    return Commitment(
        ticket_id=ticket_id,
        high_minutes=high_minutes,
        high_amount_cents=high_cents,
        logged_minutes=logged_minutes,
        logged_cents=logged_cents,
    )


HOURS = EnvelopeKind.HOURS
DOLLARS = EnvelopeKind.DOLLARS


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("120h", (HOURS, 7200)),
        ("120 h", (HOURS, 7200)),
        ("1 200 h", (HOURS, 72000)),
        ("7h30", (HOURS, 450)),
        ("15000$", (DOLLARS, 1500000)),
        ("15 000 $", (DOLLARS, 1500000)),
        ("15\u00a0000\u00a0$", (DOLLARS, 1500000)),
        ("$15,000", (DOLLARS, 1500000)),
        ("2 500,50 $", (DOLLARS, 250050)),
        ("0h", None),
        ("0$", None),
        ("-5h", None),
        ("15000", None),  # hours or dollars? the unit says
        ("beaucoup", None),
        ("60000h", None),
    ],
)
def test_envelope_amounts(typed: str, expected: tuple[EnvelopeKind, int] | None) -> None:
    assert parse_envelope(typed) == expected


def test_an_hours_envelope_counts_minutes_logged_and_promised() -> None:
    bank = envelope(HOURS, 100 * 60)
    facts = EnvelopeFacts(
        used_minutes=50 * 60,
        used_cents=500_000,
        commitments=(
            commitment(1, 20 * 60, 200_000, 5 * 60, 50_000),  # 15 h still promised
            commitment(2, 10 * 60, 100_000, 12 * 60, 120_000),  # past its estimate: 0, not -2
        ),
    )
    use = usage(bank, facts)
    assert (use.used, use.committed, use.remaining) == (3000, 900, 2100)
    assert use.percent == Decimal(65)
    assert not use.spent


def test_a_dollars_envelope_counts_cents_at_each_entrys_rate() -> None:
    bank = envelope(DOLLARS, 1_000_000)  # 10 000 $
    facts = EnvelopeFacts(
        used_minutes=60,
        used_cents=812_345,
        commitments=(commitment(1, 600, 100_000, 60, 12_345),),
    )
    use = usage(bank, facts)
    assert (use.used, use.committed, use.remaining) == (812_345, 87_655, 100_000)
    assert use.percent == Decimal(90)


def test_a_spent_envelope_goes_negative() -> None:
    use = usage(envelope(HOURS, 600), EnvelopeFacts(used_minutes=650))
    assert use.remaining == -50 and use.spent
    assert use.percent == Decimal(108)


@pytest.mark.parametrize(
    ("used", "sent", "expected"),
    [
        (79, (), ()),
        (80, (), (80,)),
        (99, (), (80,)),
        (99, (80,), ()),
        (100, (80,), (100,)),
        (130, (), (80, 100)),  # straight past: both recorded, one message says 100 %
        (130, (80, 100), ()),
        (50, (80,), ()),  # below again (an envelope raised): nothing new to say
    ],
)
def test_alerts_are_told_once(used: int, sent: tuple[int, ...], expected: tuple[int, ...]) -> None:
    use = usage(envelope(HOURS, 100), EnvelopeFacts(used_minutes=used))
    assert new_alerts(use, sent) == expected


def test_committed_counts_towards_the_alerts() -> None:
    facts = EnvelopeFacts(used_minutes=50, commitments=(commitment(1, 40, 0, 10, 0),))
    assert reached(usage(envelope(HOURS, 100), facts)) == (80,)


def test_an_estimate_that_would_go_past() -> None:
    bank = envelope(DOLLARS, 100_000)  # 1 000 $
    facts = EnvelopeFacts(used_cents=50_000, commitments=(commitment(1, 300, 30_000, 0, 0),))
    use = usage(bank, facts)
    assert use.remaining == 20_000
    assert not would_exceed(use, commitment(2, 120, 20_000, 0, 0))  # exactly what is left
    assert would_exceed(use, commitment(2, 121, 20_001, 0, 0))
    # Time already logged on the request is in `used`: only what is left of it is new.
    assert not would_exceed(use, commitment(2, 180, 30_000, 60, 10_000))


def test_a_revised_estimate_replaces_the_one_it_revises() -> None:
    facts = EnvelopeFacts(used_minutes=0, commitments=(commitment(1, 600, 0, 0, 0),))
    use = usage(envelope(HOURS, 1000), facts)
    revised = with_estimate(use, commitment(1, 900, 0, 0, 0))
    assert revised.committed == 900  # not 600 + 900
    assert not would_exceed(use, commitment(1, 1000, 0, 0, 0))
    assert would_exceed(use, commitment(1, 1001, 0, 0, 0))


def test_which_envelopes_a_request_counts_in() -> None:
    general = envelope(HOURS, 6000, envelope_id=1)
    legal = envelope(DOLLARS, 100_000, field_id=1, envelope_id=2)
    hr = envelope(HOURS, 600, field_id=2, envelope_id=3)
    other_year = Envelope.model_validate({**general.model_dump(), "id": 4, "year": 2025})
    other_federation = Envelope.model_validate({**legal.model_dump(), "id": 5, "federation_id": 2})
    every = [hr, legal, general, other_year, other_federation]
    assert envelopes_for(every, 1, 2026, 1) == [general, legal]
    assert envelopes_for(every, 1, 2026, 3) == [general]
    assert envelopes_for(every, 1, 2025, 2) == [other_year]
    assert envelopes_for(every, 3, 2026, 1) == []
