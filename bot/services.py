"""What handlers reach through `context.bot_data`: settings, database, clock, outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from telegram.ext import CallbackContext

from bot.clock import Clock
from bot.config import Settings
from bot.delivery.outbox import Outbox
from storage import Database

KEY = "services"


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    outbox: Outbox | None = None
    bot_username: str = field(default="")

    def today(self) -> date:
        """Today's date in the configured time zone."""
        return self.clock.now().astimezone(self.settings.tz).date()

    def wake_outbox(self) -> None:
        if self.outbox is not None:
            self.outbox.wake()


def get_services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    """The services of the running application."""
    services = context.bot_data[KEY]
    assert isinstance(services, Services)
    return services
