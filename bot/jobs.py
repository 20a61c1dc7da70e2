"""Scheduled jobs (PTB's JobQueue): one `schedule_*` call per feature, made at start-up."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from bot.errorreports import schedule_jobs as schedule_error_summaries
from bot.estimates import schedule_jobs as schedule_approval_reminders
from bot.federation.envelopes import schedule_jobs as schedule_envelope_alerts
from bot.federation.statements import schedule_jobs as schedule_statements
from bot.sla import schedule_jobs as schedule_service_levels
from bot.worklog import schedule_jobs as schedule_lifecycle


def schedule(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Put every recurring job of the bot on the application's JobQueue."""
    schedule_lifecycle(app)
    schedule_error_summaries(app)
    schedule_service_levels(app)
    schedule_approval_reminders(app)
    schedule_envelope_alerts(app)
    schedule_statements(app)
