"""Texts in French and English, from gettext catalogues (`bot/locale/<lang>/LC_MESSAGES/*.po`).

Message ids are stable keys (`form.ask_subject`), one `.po` file per feature; the catalogues
hold the texts, in HTML as Telegram shows it. Values put into a text are escaped unless they
are `Html`, so user text can never break the markup.

A text about a number of things ("3 demandes") has real plural forms (`msgid_plural`,
`msgstr[0]`, `msgstr[1]`), chosen with the `Plural-Forms` rule of the language's catalogues:
`tn(language, key, count)`. Dates, times and numbers follow the language's conventions
(`format_when`, `format_day`, `format_number`): "8 décembre 2026 à 17 h 14", "December 8,
2026 at 5:14 p.m.".
"""

from __future__ import annotations

import gettext
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from importlib import resources
from string import Formatter
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.dates import format_time as babel_time
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LANGUAGES = ("fr", "en")
LOCALES = {"fr": "fr_CA", "en": "en_CA"}


class Html(str):
    """A fragment that is already safe HTML (built from escaped parts)."""

    __slots__ = ()


def escape(value: object) -> str:
    """Escape a value for Telegram's HTML parse mode (Html fragments pass as they are)."""
    return value if isinstance(value, Html) else html.escape(str(value), quote=False)


def plain(text: Html) -> str:
    """A catalogue text for a spreadsheet or a chart (no markup there)."""
    return html.unescape(str(text))


@dataclass(frozen=True)
class Texts:
    """One language's texts: plain ones by key, counted ones with all their plural forms."""

    language: str
    plural_forms: str  # the catalogues' `Plural-Forms` header
    single: dict[str, str]
    plural: dict[str, tuple[str, ...]]
    rule: Callable[[int], int]  # count → index of the form, from `plural_forms`

    def form(self, key: str, count: int | Decimal) -> str:
        """The form of `key` for `count` things."""
        forms = self.plural[key]
        if isinstance(count, Decimal) and count != count.to_integral_value():
            # gettext's rule counts whole things; for 8.5 hours, CLDR's category decides
            # (`one` is the first form, anything else the last one).
            category = Locale.parse(LOCALES[self.language]).plural_form(count)
            return forms[0] if category == "one" else forms[-1]
        return forms[self.rule(int(count))]


@cache
def texts(language: str) -> Texts:
    """The texts of one language, from every `.po` file of that language.

    One file per feature (messages.po for the core, others beside it), so that features can
    be translated, and changed, independently. A key defined twice is an error, and so are
    files of one language that disagree on the plural rule.
    """
    folder = resources.files("bot") / "locale" / language / "LC_MESSAGES"
    single: dict[str, str] = {}
    plural: dict[str, tuple[str, ...]] = {}
    rules: set[str] = set()
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if not item.name.endswith(".po"):
            continue
        with item.open("rb") as handle:
            catalog = read_po(handle, locale=language, domain=item.name[:-3])
        rules.add(f"nplurals={catalog.num_plurals}; plural={catalog.plural_expr};")
        for message in catalog:
            key = str(message.id[0] if isinstance(message.id, tuple) else message.id)
            if not key or not message.string:
                continue
            if key in single or key in plural:
                raise ValueError(f"{language}/{item.name}: {key} is defined twice")
            if isinstance(message.string, tuple):
                plural[key] = tuple(str(form) for form in message.string)
            else:
                single[key] = str(message.string)
    if len(rules) != 1:
        raise ValueError(f"{language}: the catalogues disagree on Plural-Forms: {rules}")
    (rule,) = rules
    expression = rule.split("plural=", 1)[1].rstrip(";")
    return Texts(language, rule, single, plural, gettext.c2py(expression))


def catalogue(language: str) -> dict[str, str]:
    """The plain (not counted) texts of one language, by key."""
    return texts(language).single


def visible_length(text: str) -> int:
    """How many characters a person sees of an HTML text (what Telegram's limits count)."""
    return len(html.unescape(re.sub(r"<[^>]*>", "", text)))


def placeholders(text: str) -> set[str]:
    """The `{names}` a text expects."""
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def normalise_language(code: str | None, default: str) -> str:
    """Our language for a Telegram `language_code`: English if it says so, else the default."""
    if code and code.lower().startswith("en"):
        return "en"
    if code and code.lower().startswith("fr"):
        return "fr"
    return default


def _known(language: str) -> str:
    return language if language in LANGUAGES else LANGUAGES[0]


def t(language: str, key: str, /, **values: object) -> Html:
    """The text `key` in `language`, with `values` escaped and put in."""
    template = texts(_known(language)).single[key]
    return Html(template.format(**{name: escape(v) for name, v in values.items()}))


def tn(language: str, key: str, count: int | Decimal, /, **values: object) -> Html:
    """The form of the counted text `key` for `count` things, `{count}` written as a number.

    `values` may give `count` itself when the number is shown otherwise (a formatted duration).
    """
    catalog = texts(_known(language))
    values.setdefault("count", format_number(count, catalog.language))
    template = catalog.form(key, count)
    return Html(template.format(**{name: escape(v) for name, v in values.items()}))


def format_number(value: int | Decimal, language: str) -> str:
    """A number as the language writes it: `1 234,5` / `1,234.5` (at most two decimals)."""
    return format_decimal(value, format="#,##0.##", locale=LOCALES[_known(language)])


def format_day(value: date, language: str) -> str:
    """A date as people write it: `1er décembre 2026`, `15 décembre 2026` / `December 15, 2026`."""
    language = _known(language)
    if language == "fr":
        day = "1er" if value.day == 1 else str(value.day)
        return f"{day} {format_date(value, 'MMMM y', locale=LOCALES[language])}"
    return format_date(value, format="long", locale=LOCALES[language])


def format_time(value: time, language: str) -> str:
    """A time of day: `17 h 14`, `17 h` / `5:14 p.m.`, `5 p.m.` (Québec and Canadian usage)."""
    language = _known(language)
    whole = value.minute == 0
    if language == "fr":
        pattern = "H 'h'" if whole else "H 'h' mm"
    else:
        pattern = "h a" if whole else "h:mm a"
    return babel_time(value, pattern, locale=LOCALES[language])


def format_when(value: datetime, language: str, tz: ZoneInfo) -> Html:
    """A moment in the configured time zone: `8 décembre 2026 à 17 h 14` / `December 8, 2026
    at 5:14 p.m.`."""
    local = value.astimezone(tz)
    return t(
        language,
        "when.moment",
        day=format_day(local.date(), language),
        time=format_time(local.time(), language),
    )
