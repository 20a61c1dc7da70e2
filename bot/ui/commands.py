"""Command names per role (English, lowercase) and their localised menus."""

from __future__ import annotations

from bot.ui.i18n import t
from storage.models import Role

EVERYONE = ("start", "help", "language", "cancel")
BY_ROLE: dict[Role, tuple[str, ...]] = {
    Role.CONTACT: ("new", "mytickets", "ticket"),
    Role.LEAD: ("queue", "ticket", "log", "estimate", "notify", "away", "back"),
    Role.ADMIN: (
        "queue",
        "ticket",
        "log",
        "estimate",
        "approvals",
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
        "envelope",
        "statement",
        "report",
        "away",
        "back",
    ),
}
# A federation's manager is a contact with more rights: a contact's commands, then their own.
MANAGER_COMMANDS: tuple[str, ...] = (
    *BY_ROLE[Role.CONTACT],
    "approvals",
    "envelope",
    "statement",
    "report",
)


# /help of a lead and of an admin, in sections (`guide.section_<name>`). An entry is a command
# (its line `help.<command>`) or, for the words in GUIDE_LINES, a line of the guide itself.
HelpSections = tuple[tuple[str, tuple[str, ...]], ...]
STEPS = ("step_federation", "step_rates", "step_invites")
GENERAL = ("language", "help", "cancel", "start")
HELP_SECTIONS: dict[Role, HelpSections] = {
    Role.LEAD: (
        (
            "daily",
            ("buttons", "reply_to_contact", "queue", "ticket_staff", "log", "estimate", "notify"),
        ),
        ("absence", ("away", "back")),
        ("general", GENERAL),
    ),
    Role.ADMIN: (
        # In the order a new coordination sets the service up: who, at what rate, then people.
        ("first_steps", STEPS),
        (
            "daily",
            (
                "buttons",
                "queue",
                "ticket_staff",
                "log",
                "estimate",
                "approvals",
                "invites",
                "cancelinvite",
            ),
        ),
        (
            "monthly",
            ("stats", "export", "billing", "envelope_admin", "statement_admin", "report_admin"),
        ),
        (
            "people",
            (
                "users",
                "role",
                "promote",
                "revoke",
                "reinstate",
                "federations",
                "addfederation",
                "federation",
                "invite",
                "invitelead",
                "domains",
                "domain",
                "sla",
                "away_admin",
                "teamgroup",  # sent in the team's group, not in the menu
            ),
        ),
        ("general", GENERAL),
    ),
}
GUIDE_LINES = frozenset({"buttons", "reply_to_contact", "ticket_staff", *STEPS})
# The buttons of a card a lead works with, as /help names them (`button.<name>`).
CARD_BUTTONS = ("take", "start", "ask", "log_time", "resolve", "estimate", "reassign", "history")


def commands_for(role: Role | None, *, manager: bool = False) -> tuple[str, ...]:
    """The commands a role may use, its own first (`manager`: a contact who manages their
    federation)."""
    own = BY_ROLE.get(role, ()) if role else ()
    if manager and role is Role.CONTACT:
        own = MANAGER_COMMANDS
    return own + tuple(c for c in EVERYONE if c not in own)


def menu(role: Role | None, language: str, *, manager: bool = False) -> list[tuple[str, str]]:
    """(command, description) pairs for Telegram's command menu."""
    return [(name, t(language, f"cmd.{name}")) for name in commands_for(role, manager=manager)]
