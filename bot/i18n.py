"""Texts in French and English, from gettext catalogues (`bot/locale/<lang>/LC_MESSAGES/*.po`).

Message ids are stable keys (`form.ask_subject`), one `.po` file per feature; the catalogues
hold the texts, in HTML as Telegram shows it. Values put into a text are escaped unless they
are `Html`, so user text can never break the markup.
"""

from __future__ import annotations

import html
import re
from functools import cache
from importlib import resources
from string import Formatter

from babel.messages.pofile import read_po

LANGUAGES = ("fr", "en")


class Html(str):
    """A fragment that is already safe HTML (built from escaped parts)."""

    __slots__ = ()


def escape(value: object) -> str:
    """Escape a value for Telegram's HTML parse mode (Html fragments pass as they are)."""
    return value if isinstance(value, Html) else html.escape(str(value), quote=False)


@cache
def catalogue(language: str) -> dict[str, str]:
    """The texts of one language, by key, from every `.po` file of that language.

    One file per feature (messages.po for the core, others beside it), so that features can
    be translated, and changed, independently. A key defined twice is an error.
    """
    folder = resources.files("bot") / "locale" / language / "LC_MESSAGES"
    texts: dict[str, str] = {}
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if not item.name.endswith(".po"):
            continue
        with item.open("rb") as handle:
            catalog = read_po(handle, locale=language, domain=item.name[:-3])
        for message in catalog:
            if message.id and message.string:
                if str(message.id) in texts:
                    raise ValueError(f"{language}/{item.name}: {message.id} is defined twice")
                texts[str(message.id)] = str(message.string)
    return texts


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


def t(language: str, key: str, /, **values: object) -> Html:
    """The text `key` in `language`, with `values` escaped and put in."""
    texts = catalogue(language if language in LANGUAGES else LANGUAGES[0])
    template = texts[key]
    return Html(template.format(**{name: escape(v) for name, v in values.items()}))
