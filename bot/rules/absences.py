"""Absence and cover: who is away on a day, who acts for them, and how `/away` is read.

An absence covers whole days, `starts_on` to `ends_on` inclusive, in the bot's time zone; the
caller says which day it is. Nothing here knows of Telegram or of the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.rules.forms import InvalidInput, parse_desired_date
from storage.models import Absence

MAX_DAYS = 366  # an absence longer than a year is a departure: an admin reassigns instead
# Words people put between the two dates: « du 20 décembre au 5 janvier », "to", a dash.
BETWEEN = frozenset({"au", "to", "until", "-", "–", "—", "a", "à", "jusqu'au"})


def standing(absence: Absence, today: date) -> bool:
    """Whether `absence` covers `today` (not ended early, and today is one of its days)."""
    return absence.ended_at is None and absence.starts_on <= today <= absence.ends_on


def upcoming(absence: Absence, today: date) -> bool:
    """Whether `absence` is still to come or under way (it has not ended)."""
    return absence.ended_at is None and today <= absence.ends_on


def covering(person_id: int, away: Mapping[int, int | None]) -> int | None:
    """Who acts for `person_id` now: themselves when present; when away, their delegate, or
    the delegate's when the delegate is away too; None when nobody present was named (the
    admins then). `away`: each absent person and their delegate (None: none named)."""
    seen: set[int] = set()
    current: int | None = person_id
    while current is not None and current in away:
        if current in seen:  # two people away, each the other's delegate
            return None
        seen.add(current)
        current = away[current]
    return current


@dataclass(frozen=True)
class AwayRequest:
    """`/away [@person] <from> <to> [@delegate]`, as typed (the people not looked up yet)."""

    person: str | None  # the username of the absent person, when an admin sets it
    starts_on: date
    ends_on: date
    delegate: str | None


def _username(word: str) -> str | None:
    return word[1:] if word.startswith("@") and len(word) > 1 else None


def read_away(words: Sequence[str], today: date) -> AwayRequest:
    """Read the arguments of `/away`. InvalidInput: `usage` (no two dates there), or what
    `read_period` says of the dates."""
    rest = list(words)
    person = _username(rest[0]) if rest else None
    if person is not None:
        rest = rest[1:]
    delegate = _username(rest[-1]) if rest else None
    if delegate is not None:
        rest = rest[:-1]
    if not rest or any(_username(word) for word in rest):
        raise InvalidInput("usage")
    starts_on, ends_on = read_period(rest, today)
    return AwayRequest(person, starts_on, ends_on, delegate)


def read_period(words: Sequence[str], today: date) -> tuple[date, date]:
    """Two dates as the request form reads them (2026-12-20, 20/12/2026, 20 décembre…), with
    an optional « au » / "to" between. A date without its year is the next such day: the end
    from the start. InvalidInput: `usage` (not two dates), `unreadable`, `invalid`, `past`,
    `too_far`, `before_start` (the end comes before the start), `too_long` (over a year)."""
    words = [w for w in words if w.lower() not in {"du", "from"}] if len(words) > 2 else words
    problems = ["usage"]
    for cut in range(1, len(words)):
        first, second = words[:cut], list(words[cut:])
        if len(second) > 1 and second[0].lower() in BETWEEN:
            second = second[1:]
        try:
            starts_on = parse_desired_date(" ".join(first), today)
        except InvalidInput as refused:
            problems.append(refused.problem)
            continue
        try:
            # The end is read from the start: the form's "past" means before the start here.
            ends_on = parse_desired_date(" ".join(second), starts_on)
        except InvalidInput as refused:
            problems.append("before_start" if refused.problem == "past" else refused.problem)
            continue
        if (ends_on - starts_on).days >= MAX_DAYS:
            raise InvalidInput("too_long")
        return starts_on, ends_on
    # The most telling of the problems met (a date in the past says more than "unreadable").
    raise InvalidInput(max(problems, key=_TELLING.index))


_TELLING = ["usage", "unreadable", "invalid", "too_far", "past", "before_start"]
