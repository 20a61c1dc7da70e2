"""Estimates and their approval (issue 14): reading an estimate as leads type it, pricing it,
whether the federation must approve it and who does, over-runs, and when an estimate still
undecided is worth a reminder. Plain functions of data: no Telegram, no database.

Money is integer cents. An amount is minutes × hourly rate ÷ 60, rounded to the cent half up,
exactly as a time entry is billed (bot.rules.money.entry_amount), so that an estimate and the time
logged against it compare to the cent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from bot.rules.business_time import BUSINESS_DAY_MINUTES, MAX_DAYS_SEARCHED, BusinessCalendar
from bot.rules.durations import BadDuration, parse_duration
from storage.models import ApprovalKind, ApprovalPolicy, Estimate, EstimateStatus, Quote, Ticket

MAX_ESTIMATE_MINUTES = 2000 * 60  # 2,000 hours, a year of one person's work: beyond is a typo
MAX_DOLLARS_CENTS = 1_000_000_000  # $10 million
DEFAULT_OVERRUN_TOLERANCE_PERCENT = 10

# -- reading ----------------------------------------------------------------------------------


class BadEstimate(ValueError):
    """Not an estimate; `problem`: unreadable, zero, negative, too_long, reversed."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


# Spaces between groups of three digits are thousands (1 200 h, 15 000 $), wherever typed.
_THOUSANDS = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))")
# "entre 4 et 6 h", "between 4 and 6 hours", or two bounds around -, –, —, à, a, to.
_BETWEEN = re.compile(r"^(?:entre|between)\s+(?P<low>.+?)\s+(?:et|and)\s+(?P<high>.+)$")
_RANGE = re.compile(r"^(?P<low>.+?)\s*(?:-|–|—|\bà\b|\ba\b|\bto\b)\s*(?P<high>.+)$")
_UNIT = re.compile(r"[^\W\d_]+")  # letters: h, min, heures


def normalise(text: str) -> str:
    """Lower case, single spaces, no spaces inside a number (1 200 h, 15 000 $)."""
    return " ".join(_THOUSANDS.sub("", text.strip()).lower().split())


def _with_unit(bound: str, other: str) -> str:
    """`4` of `4-6h` is 4 hours: a bare number takes the unit written on the other bound."""
    if _UNIT.search(bound):
        return bound
    unit = _UNIT.search(other)
    return f"{bound} {unit.group(0)}" if unit else bound


def _minutes(text: str, limit: int) -> int:
    try:
        return parse_duration(text, limit)
    except BadDuration as bad:
        raise BadEstimate(bad.problem) from None


def parse_estimate(text: str) -> tuple[int, int]:
    """(low, high) minutes of an estimate: `6h`, `4-6h`, `4 à 6 h`, `1,5 h`, `90 min`, `2h30`,
    `entre 4 et 6 h`. Each bound reads as `/log` reads a duration (bot.rules.durations), up to
    2,000 hours; a bare number is refused as there (hours or minutes?), unless the other bound of a
    range names the unit. BadEstimate: unreadable, zero, negative, too_long, reversed (6-4h).
    """
    cleaned = normalise(text)
    if cleaned.startswith(("-", "–", "—")):
        raise BadEstimate("negative")
    match = _BETWEEN.match(cleaned) or _RANGE.match(cleaned)
    if match is None:
        minutes = _minutes(cleaned, MAX_ESTIMATE_MINUTES)
        return minutes, minutes
    low_text, high_text = match["low"], match["high"]
    low = _minutes(_with_unit(low_text, high_text), MAX_ESTIMATE_MINUTES)
    high = _minutes(_with_unit(high_text, low_text), MAX_ESTIMATE_MINUTES)
    if high < low:
        raise BadEstimate("reversed")
    return low, high


MAX_ESTIMATE_WORDS = 8  # "de 2 h 30 à 3 h" and the like; the rest is the note


def split_estimate(text: str) -> tuple[int, int, str | None]:
    """`/estimate <ref> <hours> [note]` after the reference: the estimate's (low, high) minutes
    and the note, as typed. The estimate is the longest run of first words that reads as one
    (`4 à 6 h Deux rencontres` → 4 to 6 hours, "Deux rencontres"). BadEstimate with the most
    telling problem found (6-4h: reversed, rather than unreadable)."""
    words = text.split()
    problem = "unreadable"
    for cut in range(min(len(words), MAX_ESTIMATE_WORDS), 0, -1):
        try:
            low, high = parse_estimate(" ".join(words[:cut]))
        except BadEstimate as bad:
            if problem == "unreadable":
                problem = bad.problem
            continue
        return low, high, " ".join(words[cut:]) or None
    raise BadEstimate(problem)


_DOLLARS = re.compile(
    r"^(?P<before>\$)?\s*(?P<units>\d{1,3}(?:[ ,]\d{3})+|\d+)(?:[.,](?P<cents>\d{1,2}))?"
    r"\s*(?P<after>\$)?$"
)


def parse_dollars(text: str) -> int | None:
    """Cents in an amount written with its dollar sign: `500$`, `500 $`, `$500`, `15 000 $`,
    `1 234,50 $`, `$1,234.50`. None for anything else (no sign, negative, over $10 million)."""
    match = _DOLLARS.match(" ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split()))
    if match is None or bool(match["before"]) == bool(match["after"]):
        return None  # no dollar sign, or one on each side
    units = re.sub(r"[ ,]", "", match["units"])
    try:
        amount = Decimal(f"{units}.{match['cents'] or '0'}")
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        return None
    cents = int(amount * 100)
    return cents if cents <= MAX_DOLLARS_CENTS else None


# -- pricing ----------------------------------------------------------------------------------


def amount_cents(minutes: int, rate_cents: int) -> int:
    """What `minutes` cost at an hourly rate: minutes × rate ÷ 60, to the cent, half up (the
    cents of bot.rules.money.entry_amount, in integers)."""
    return (minutes * rate_cents + 30) // 60


def quote(low_minutes: int, high_minutes: int, rate_cents: int) -> Quote:
    """An estimate's bounds priced at the field's rate of the day (kept with the estimate)."""
    return Quote(
        low_minutes=low_minutes,
        high_minutes=high_minutes,
        hourly_rate_cents=rate_cents,
        low_amount_cents=amount_cents(low_minutes, rate_cents),
        high_amount_cents=amount_cents(high_minutes, rate_cents),
    )


# -- approval ---------------------------------------------------------------------------------

_OFF = frozenset({"off", "aucune", "aucun", "non", "none", "no", "jamais", "never"})
_EVERY = frozenset({"0", "toutes", "tout", "all", "every", "always", "toujours"})


def parse_policy(text: str) -> ApprovalPolicy | None:
    """A federation's approval policy as an admin types it: `0` (every estimate), `5h` (those
    above 5 hours), `500$` or `500 $` (those above $500), `off` / `aucune` / `non` (none).
    None if unreadable."""
    cleaned = normalise(text)
    if cleaned in _OFF:
        return ApprovalPolicy(kind=ApprovalKind.OFF)
    if cleaned in _EVERY:
        return ApprovalPolicy(kind=ApprovalKind.EVERY)
    if "$" in cleaned:
        cents = parse_dollars(cleaned)
        if cents is None:
            return None
        if cents == 0:
            return ApprovalPolicy(kind=ApprovalKind.EVERY)
        return ApprovalPolicy(kind=ApprovalKind.AMOUNT, threshold=cents)
    try:
        minutes = parse_duration(cleaned, MAX_ESTIMATE_MINUTES)
    except BadDuration as bad:
        if bad.problem == "zero":  # 0h: above nothing, so every estimate
            return ApprovalPolicy(kind=ApprovalKind.EVERY)
        return None
    return ApprovalPolicy(kind=ApprovalKind.HOURS, threshold=minutes)


def needs_approval(policy: ApprovalPolicy, estimate: Quote) -> bool:
    """Whether the federation must approve `estimate` before work goes on: by its upper bound
    (what the federation may be billed), strictly above the policy's threshold.

    Whether the federation has managers does not change it: without one, the contact who
    filed the request approves (`approvers`)."""
    if policy.kind is ApprovalKind.OFF:
        return False
    if policy.kind is ApprovalKind.HOURS:
        return estimate.high_minutes > policy.threshold
    if policy.kind is ApprovalKind.AMOUNT:
        return estimate.high_amount_cents > policy.threshold
    return True


def refusal_stands(latest: Estimate | None, policy: ApprovalPolicy) -> bool:
    """Whether a ticket's refusal still holds its work back: its latest estimate (`latest`,
    whatever became of it) is refused, and the federation's policy wants approval at all. A new
    estimate sent since, pending or approved, ends it."""
    refused = latest is not None and latest.status is EstimateStatus.REFUSED
    return refused and policy.kind is not ApprovalKind.OFF


def approvers(ticket: Ticket, manager_ids: Iterable[int]) -> frozenset[int]:
    """Who decides on a ticket's estimates: its federation's (active) managers, or the contact
    who filed it when the federation has none."""
    managers = frozenset(manager_ids)
    return managers or frozenset({ticket.contact_id})


def over_run(
    logged_minutes: int,
    approved_high_minutes: int | None,
    tolerance_percent: int = DEFAULT_OVERRUN_TOLERANCE_PERCENT,
) -> bool:
    """Whether time logged has passed the approved estimate's upper bound by more than the
    tolerance (OVERRUN_TOLERANCE_PERCENT): a revised estimate is then due. No approved
    estimate: nothing to pass."""
    if approved_high_minutes is None:
        return False
    return logged_minutes * 100 > approved_high_minutes * (100 + tolerance_percent)


# -- reminders --------------------------------------------------------------------------------


def business_minutes_before(
    calendar: BusinessCalendar, moment: datetime, minutes: int
) -> datetime:
    """The latest moment (UTC) from which `minutes` business minutes end by `moment`: the
    inverse of `calendar.add`, so that `start <= cutoff` exactly when
    `calendar.add(start, minutes) <= moment`."""
    remaining = timedelta(minutes=minutes)
    cursor = moment.astimezone(UTC)
    day = moment.astimezone(calendar.tz).date()
    for _ in range(MAX_DAYS_SEARCHED):
        hours = calendar.window(day)
        if hours is not None:
            opening, closing = hours
            end = min(cursor, closing)
            if end > opening:
                available = end - opening
                if remaining <= available:
                    return end - remaining
                remaining -= available
        day -= timedelta(days=1)
    raise ValueError("no business day found; is every day a holiday?")


def reminder_cutoff(calendar: BusinessCalendar, now: datetime, business_days: int = 1) -> datetime:
    """Estimates sent at or before this moment have waited `business_days` business days by
    `now` (a critical request's managers are reminded after one)."""
    return business_minutes_before(calendar, now, business_days * BUSINESS_DAY_MINUTES)
