"""Command names per role (English, lowercase) and their localised menus."""

from __future__ import annotations

from bot.i18n import t
from storage.models import Role

EVERYONE = ("start", "help", "language", "cancel")
BY_ROLE: dict[Role, tuple[str, ...]] = {
    Role.CONTACT: ("new", "mytickets", "ticket"),
    Role.LEAD: ("queue", "ticket", "log"),
    Role.ADMIN: (
        "queue",
        "ticket",
        "federations",
        "addfederation",
        "federation",
        "invite",
        "invitelead",
        "invites",
        "cancelinvite",
        "domains",
        "domain",
        "users",
        "role",
        "promote",
        "revoke",
        "reinstate",
        "sla",
        "stats",
        "export",
        "billing",
    ),
}


def commands_for(role: Role | None) -> tuple[str, ...]:
    """The commands a role may use, its own first."""
    own = BY_ROLE.get(role, ()) if role else ()
    return own + tuple(c for c in EVERYONE if c not in own)


def menu(role: Role | None, language: str) -> list[tuple[str, str]]:
    """(command, description) pairs for Telegram's command menu."""
    return [(name, t(language, f"cmd.{name}")) for name in commands_for(role)]
