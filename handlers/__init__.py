"""Handlers, one module per feature. `register` is the one place they are added. Order matters!"""

from __future__ import annotations

from telegram.ext import Application

from handlers import (
    absences,
    admin,
    envelopes,
    errors,
    estimates,
    fallback,
    governance,
    intake,
    limits,
    parts,
    relay,
    reports,
    start,
    statements,
    teams,
    tickets,
    workflow,
)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add every handler to the application, in order."""
    limits.register(app)  # group -10: someone writing too fast goes no further
    # Group 0: commands and buttons, first match wins.
    start.register(app)
    intake.register(app)  # also the form's answers, in group 2
    parts.register(app)  # requests across several fields
    tickets.register(app)
    workflow.register(app)  # /log and the cards' buttons
    estimates.register(app)  # /estimate, approvals; group -1: the answers their buttons ask for
    relay.register(app)  # group -1: a command or a button ends a wait; 1: messages, edits
    admin.register(app)
    reports.register(app)  # /stats, /export, /billing
    envelopes.register(app)  # /envelope
    statements.register(app)  # /statement
    governance.register(app)  # /report
    absences.register(app)  # /away, /back
    teams.register(app)  # /teamgroup, and the topics of a team's group
    # Last group: whatever nothing above answered.
    fallback.register(app)
    app.add_error_handler(errors.on_error)
