"""Absence and cover: who is away on a day, who acts for them, and how `/away` is read.

An absence covers whole days, `starts_on` to `ends_on` inclusive, in the bot's time zone; the
caller says which day it is. Nothing here knows of Telegram or of the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.rules.forms import InvalidInput, parse_desired_date
from storage.models import Absence

MAX_DAYS = 366  # an absence longer than a year is a departure: an admin reassigns instead
# Words people put between the two dates: « du 20 décembre au 5 janvier », "to", a dash.
BETWEEN = frozenset({"au", "to", "until", "-", "–", "—", "a", "à", "jusqu'au"})
# Day words read from the real today (the end too): « /away demain », "/away today tomorrow".
DAY_WORDS = {"aujourd'hui": 0, "aujourd’hui": 0, "today": 0, "demain": 1, "tomorrow": 1}
DAY_WORDS |= {"après-demain": 2, "apres-demain": 2, "hier": -1, "yesterday": -1}
TELEGRAM_NUMBER = re.compile(r"\d{3,20}")  # a Telegram number (a year is read as one first)
NAME_WORDS = 4  # at most this many words after the dates name the delegate (« Luc Roy »)


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
    """`/away [person] <from> [<to>] [delegate]`, as typed (the people not looked up yet)."""

    person: str | None  # as typed: the absent person's @username or Telegram number (admins)
    starts_on: date
    ends_on: date
    delegate: str | None  # as typed: « @luc », « 9000000015 » or a name (« Luc Roy »)


def handle(word: str) -> str | None:
    """A person named by @username or Telegram number: the name or number, else None."""
    if word.startswith("@") and len(word) > 1:
        return word[1:]
    return word if TELEGRAM_NUMBER.fullmatch(word) else None


def read_away(words: Sequence[str], today: date) -> AwayRequest:
    """Read the arguments of `/away`: [person] the dates [delegate]. A person is named by
    @username or Telegram number (a number is read as a date first: « 5 janvier 2027 »); the
    delegate also by the words after the dates (a name). InvalidInput: `usage` (no date
    there), or what `read_period` says of the dates."""
    rest = list(words)
    first = rest[0] if rest and handle(rest[0]) else None
    last = rest[-1] if len(rest) > 1 and handle(rest[-1]) else None
    firsts = [first] if first and first.startswith("@") else [None, first] if first else [None]
    lasts = [last] if last and last.startswith("@") else [None, last] if last else [None]
    refused = InvalidInput("usage")
    for person in firsts:
        for delegate in lasts:
            dates = rest[1 if person else 0 : -1 if delegate else None]
            if not dates or any(word.startswith("@") for word in dates):
                refused = InvalidInput("usage")
                continue
            try:
                return AwayRequest(person, *read_period(dates, today), delegate)
            except InvalidInput as problem:
                refused = problem
    # « /away 20/12 5/1 Luc Roy »: the last words name the delegate, if the rest are dates.
    dates = rest[1 if firsts[-1] else 0 :]
    for named in range(1, min(NAME_WORDS, len(dates) - 1) + 1):
        if not all(_name_word(word) for word in dates[-named:]):
            break
        try:
            period = read_period(dates[:-named], today)
        except InvalidInput:
            continue
        return AwayRequest(firsts[-1], *period, " ".join(dates[-named:]))
    raise refused


def _name_word(word: str) -> bool:
    """Whether `word` may be part of a name: no digit, no month, no word of the dates."""
    if any(c.isdigit() for c in word) or word.lower() in DAY_WORDS.keys() | BETWEEN:
        return False
    try:
        parse_desired_date(f"1 {word}", date.min)
    except InvalidInput as refused:
        return refused.problem == "unreadable"
    return False


def _day(text: str, today: date, start: date) -> date:
    """A date as the form reads it, from `start`; « demain », "today"… from the real `today`."""
    if (ahead := DAY_WORDS.get(text.lower())) is not None:
        found = today + timedelta(days=ahead)
        if found < start:
            raise InvalidInput("past")
        return found
    return parse_desired_date(text, start)


def read_period(words: Sequence[str], today: date) -> tuple[date, date]:
    """Two dates as the request form reads them (2026-12-20, 20/12/2026, 20 décembre, demain…),
    with an optional « au » / "to" between; one date alone is that single day. A date without
    its year is the next such day: the end from the start. InvalidInput: `usage` (no date),
    `unreadable`, `invalid`, `past`, `too_far`, `before_start` (the end comes before the
    start), `too_long` (over a year)."""
    words = [w for w in words if w.lower() not in {"du", "from", "le", "on"}]
    problems = ["usage"]
    for cut in range(1, len(words)):
        first, second = words[:cut], list(words[cut:])
        if len(second) > 1 and second[0].lower() in BETWEEN:
            second = second[1:]
        try:
            starts_on = _day(" ".join(first), today, today)
        except InvalidInput as refused:
            problems.append(refused.problem)
            continue
        try:
            # The end is read from the start: the form's "past" means before the start here.
            ends_on = _day(" ".join(second), today, starts_on)
        except InvalidInput as refused:
            problems.append("before_start" if refused.problem == "past" else refused.problem)
            continue
        if (ends_on - starts_on).days >= MAX_DAYS:
            raise InvalidInput("too_long")
        return starts_on, ends_on
    if words:  # one date: that day alone
        try:
            day = _day(" ".join(words), today, today)
        except InvalidInput as refused:
            problems.append(refused.problem)
        else:
            return day, day
    # The most telling of the problems met (a date in the past says more than "unreadable").
    raise InvalidInput(max(problems, key=_TELLING.index))


_TELLING = ["usage", "unreadable", "invalid", "too_far", "past", "before_start"]
