"""Admin commands, one module per feature: federations, invites, fields, users, service levels."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from handlers.admin import domains, federations, invites, service_levels, users
from handlers.admin.shared import SCOPE, button_dispatch
from handlers.common import PRIVATE


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the admin commands and the admin buttons (callback data `adm:`)."""
    for name, callback in (
        ("addfederation", federations.add_federation),
        ("federations", federations.list_federations),
        ("federation", federations.federation_command),
        ("invite", invites.invite_contact),
        ("invitelead", invites.invite_lead),
        ("invites", invites.list_invites),
        ("cancelinvite", invites.cancel_invite_command),
        ("domains", domains.list_domains),
        ("domain", domains.domain_command),
        ("users", users.list_users),
        ("revoke", users.revoke),
        ("reinstate", users.reinstate),
        ("role", users.change_role),
        ("promote", users.promote),
        ("sla", service_levels.service_levels),
    ):
        app.add_handler(CommandHandler(name, callback, filters=PRIVATE))
    buttons = {**domains.BUTTONS, **users.BUTTONS, **invites.BUTTONS}
    app.add_handler(CallbackQueryHandler(button_dispatch(buttons), pattern=rf"^{SCOPE}:"))
