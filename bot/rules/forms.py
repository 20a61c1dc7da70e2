"""Validation of what a contact types into the request form (pydantic) and of typed dates."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated

from babel.dates import get_month_names
from pydantic import AfterValidator, BaseModel, StringConstraints, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from storage.models import Urgency

SUBJECT_MIN, SUBJECT_MAX = 5, 120
DESCRIPTION_MIN, DESCRIPTION_MAX = 20, 3000
MAX_ATTACHMENTS = 5
MAX_YEARS_AHEAD = 3

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Characters that show nothing by themselves: format characters (zero-width space and joiners,
# BOM, word joiner, soft hyphen, bidi marks, tags), spaces and separators, marks that only
# change the character before them (variation selectors, combining accents), controls,
# surrogates, and letters and symbols drawn blank (Hangul fillers, the blank Braille pattern).
# Unassigned code points count: they may be emoji newer than this Python's tables.
_SHOWS_NOTHING = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})
_BLANK = frozenset("\u115f\u1160\u2800\u3164\uffa0")


def visible_characters(text: str) -> int:
    """How many characters of `text` a reader sees (a letter and its accents count once)."""
    return sum(
        1 for c in text if c not in _BLANK and unicodedata.category(c) not in _SHOWS_NOTHING
    )


def has_visible_text(text: str | None) -> bool:
    """Whether `text` shows anything at all (free text that must not be empty)."""
    return visible_characters(text or "") > 0


def _at_least(minimum: int) -> AfterValidator:
    """At least `minimum` visible characters (invisible ones do not make a text long enough)."""

    def check(value: str) -> str:
        if visible_characters(value) < minimum:
            raise PydanticCustomError(
                "string_too_short", "at least {min} visible characters", {"min": minimum}
            )
        return value

    return AfterValidator(check)


def _clean_line(value: str) -> str:
    """One line: control characters dropped, runs of white space folded."""
    return " ".join(_CONTROL.sub("", value).split())


def _clean_text(value: str) -> str:
    """Several lines: control characters dropped, trailing space and blank runs trimmed."""
    lines = [line.rstrip() for line in _CONTROL.sub("", value).replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


Subject = Annotated[
    str,
    AfterValidator(_clean_line),
    StringConstraints(max_length=SUBJECT_MAX),
    _at_least(SUBJECT_MIN),
]
Description = Annotated[
    str,
    AfterValidator(_clean_text),
    StringConstraints(max_length=DESCRIPTION_MAX),
    _at_least(DESCRIPTION_MIN),
]


class TicketRequest(BaseModel):
    """A complete request, as it must be before it becomes a ticket."""

    field_id: int
    subject: Subject
    description: Description
    urgency: Urgency
    desired_date: date | None = None


class InvalidInput(Exception):
    """Input that does not fit; `problem` names the text to show (too_short, too_long, ...)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


_SUBJECT = TypeAdapter(Subject)
_DESCRIPTION = TypeAdapter(Description)


def _validate(adapter: TypeAdapter[str], text: str) -> str:
    try:
        return adapter.validate_python(text)
    except ValidationError as exc:
        kind = str(exc.errors()[0]["type"]).removeprefix("string_")
        raise InvalidInput(kind if kind in {"too_short", "too_long"} else "invalid") from None


def validate_subject(text: str) -> str:
    """The subject, cleaned; InvalidInput if too short (in visible characters) or too long."""
    return _validate(_SUBJECT, text)


def validate_description(text: str) -> str:
    """The description, cleaned; InvalidInput if too short (in visible characters) or too long."""
    return _validate(_DESCRIPTION, text)


def _fold(text: str) -> str:
    """Lower case, no accents, no dots: how month names are compared."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace(".", "")


def _month_table() -> dict[str, int]:
    table: dict[str, int] = {}
    for locale in ("fr_CA", "en_CA"):
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale).items():
                    table[_fold(name)] = number
    table.update({"sept": 9, "fevr": 2, "juil": 7})  # common French short forms
    return table


MONTHS = _month_table()
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}))?$")  # day/month[/year]
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:er|st|nd|rd|th)?\s+([a-z]+)\s*,?\s*(\d{4})?$")
_MONTH_DAY = re.compile(r"^([a-z]+)\s+(\d{1,2})(?:st|nd|rd|th)?\s*,?\s*(\d{4})?$")


def parse_desired_date(text: str, today: date) -> date:
    """A date typed as 2026-12-15, 15/12/2026, 15 décembre, 1er mars 2027 or December 15.

    Without a year, the next such date from today. InvalidInput: unreadable, impossible
    (`invalid`), in the past (`past`) or unreasonably far (`too_far`).
    """
    folded = _fold(" ".join(text.split()))
    year: int | None
    if m := _ISO.match(folded):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _NUMERIC.match(folded):
        day, month, year = int(m[1]), int(m[2]), int(m[3]) if m[3] else None
    elif (m := _DAY_MONTH.match(folded)) and m[2] in MONTHS:
        day, month, year = int(m[1]), MONTHS[m[2]], int(m[3]) if m[3] else None
    elif (m := _MONTH_DAY.match(folded)) and m[1] in MONTHS:
        day, month, year = int(m[2]), MONTHS[m[1]], int(m[3]) if m[3] else None
    else:
        raise InvalidInput("unreadable")
    try:
        if year is None:
            found = date(today.year, month, day)
            if found < today:
                found = date(today.year + 1, month, day)
        else:
            found = date(year, month, day)
    except ValueError:
        raise InvalidInput("invalid") from None
    if found < today:
        raise InvalidInput("past")
    if found.year > today.year + MAX_YEARS_AHEAD:
        raise InvalidInput("too_far")
    return found
