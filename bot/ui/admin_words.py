"""The words of the admin commands' arguments, in French and in English: `/users révoqués` is
`/users revoked`, `/sla urgente première 4h` is `/sla urgent first 4h`. Case and accents
aside (`Révoqués`, `revoques`). Plain functions: no Telegram, no database.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import TypeVar

from storage.models import Role, Target, Urgency


def plain_word(word: str) -> str:
    """A word as the tables below hold it: lowercase, without accents."""
    decomposed = unicodedata.normalize("NFKD", word.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


T = TypeVar("T")


def _table(words: Mapping[T, tuple[str, ...]]) -> dict[str, T]:
    return {plain_word(w): meaning for meaning, spelled in words.items() for w in spelled}


# /federation <action> CODE …
FEDERATION_ACTIONS = _table(
    {
        "rename": ("rename", "renommer"),
        "off": ("off", "désactiver"),
        "on": ("on", "activer", "réactiver"),
    }
)
# /domain <action> code …
DOMAIN_ACTIONS = _table(
    {
        "add": ("add", "ajouter"),
        "rename": ("rename", "renommer"),
        "rate": ("rate", "taux", "tarif"),
        "on": ("on", "activer", "réactiver"),
        "off": ("off", "désactiver"),
        "addlead": ("addlead", "ajouter-responsable", "ajouterresponsable"),
        "removelead": ("removelead", "retirer-responsable", "retirerresponsable"),
    }
)
# /role <user> <role> …, /users <role>
ROLES = _table(
    {
        Role.CONTACT: ("contact", "contacts"),
        Role.LEAD: ("lead", "leads", "responsable", "responsables"),
        Role.ADMIN: (
            "admin",
            "admins",
            "administrateur",
            "administratrice",
            "administrateurs",
            "administratrices",
        ),
    }
)
# /invite CODE manager, /role <user> manager CODE, /users managers: a federation's manager
# (a contact with more rights, not a role of its own).
MANAGER = _table({True: ("manager", "managers", "gestionnaire", "gestionnaires")})
# /users <filter>
EVERYONE = _table({True: ("all", "tous", "toutes")})
REVOKED = _table(
    {
        True: (
            "revoked",
            "révoqué",
            "révoquée",
            "révoqués",
            "révoquées",
            "retiré",
            "retirée",
            "retirés",
            "retirées",
        )
    }
)
# /sla <urgency> <target> <duration>
URGENCIES = _table(
    {
        Urgency.CRITICAL: ("critical", "critique"),
        Urgency.URGENT: ("urgent", "urgente"),
        Urgency.NORMAL: ("normal", "normale"),
    }
)
TARGETS = _table(
    {
        Target.FIRST_RESPONSE: ("first", "response", "réponse", "première", "premiere-reponse"),
        Target.RESOLUTION: ("resolution", "résolution"),
    }
)
# `/sla urgente première réponse 4h`: the second word of the target, which may follow it.
TARGET_SECOND_WORDS = frozenset({"reponse", "response"})


def federation_action(word: str) -> str | None:
    """`rename`, `off` or `on` for what an admin typed after /federation; None otherwise."""
    return FEDERATION_ACTIONS.get(plain_word(word))


def domain_action(word: str) -> str | None:
    """The action of /domain (`add`, `rename`, `rate`, `on`, `off`, `addlead`, `removelead`)."""
    return DOMAIN_ACTIONS.get(plain_word(word))


def role(word: str) -> Role | None:
    return ROLES.get(plain_word(word))


def means_manager(word: str) -> bool:
    """Whether the word names a federation's manager (`manager`, `gestionnaire`, plurals)."""
    return plain_word(word) in MANAGER


def means_everyone(word: str) -> bool:
    return plain_word(word) in EVERYONE


def means_revoked(word: str) -> bool:
    return plain_word(word) in REVOKED


def urgency(word: str) -> Urgency | None:
    return URGENCIES.get(plain_word(word))


def target(words: list[str]) -> tuple[Target | None, list[str]]:
    """The service-level target the words begin with, and the words after it."""
    if not words:
        return None, []
    found = TARGETS.get(plain_word(words[0]))
    rest = words[1:]
    if found is Target.FIRST_RESPONSE and rest and plain_word(rest[0]) in TARGET_SECOND_WORDS:
        rest = rest[1:]
    return found, rest
