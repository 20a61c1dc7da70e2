"""Builds the application: settings → database, outbox, handlers. One code path for every mode."""

from __future__ import annotations

import logging
from typing import Any, TypeAlias

from telegram import BotCommand, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest

import handlers
from bot import errorreports, jobs
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.delivery.inbox import DurableQueue, Inbox, IntakeApplication, KeepingJSONRequest
from bot.delivery.outbox import Outbox
from bot.delivery.ratelimit import ChatRateLimiter
from bot.delivery.retry import RetryingRateLimiter
from bot.delivery.updates import PerChatUpdateProcessor
from bot.services import KEY, Services
from bot.ui.commands import menu
from bot.ui.i18n import LANGUAGES
from storage import Database

log = logging.getLogger(__name__)

IntakeApp: TypeAlias = Application[Any, Any, Any, Any, Any, Any]


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    clock: Clock | None = None,
    outbox_worker: bool = True,
) -> IntakeApp:
    """The bot, ready for bot/runner.py (or for tests: `initialize`, `post_init`, `start`).

    `request` replaces the HTTP client (the in-process Bot API of tests and the sandbox);
    `outbox_worker=False` leaves delivery to explicit `Outbox.drain()` calls.
    """
    queue = DurableQueue()
    builder = (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.file_base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=settings.tz,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        # Keeps sends inside Telegram's limits (overall, per chat, per group); a 429 is raised
        # to the outbox, which holds that chat's rows (max_retries=0). The in-process Bot API
        # of the tests and the sandbox has no limits: pacing it in real time would only make
        # them slow. Around it, a direct reply that fails for a passing reason is tried again
        # (bot/delivery/retry.py).
        .rate_limiter(
            RetryingRateLimiter(
                ChatRateLimiter()
                if request is None
                # No pacing (0): PTB's defaults held the fake to 30 calls a second.
                else AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=0)
            )
        )
        # People are handled concurrently, each chat in order (bot/delivery/updates.py).
        .concurrent_updates(PerChatUpdateProcessor())
        # Receipt is durable: an update is committed before Telegram is told
        # (bot/delivery/inbox.py).
        .application_class(IntakeApplication)
        .update_queue(queue)
        .post_init(_on_startup)
        .post_stop(_on_stop)
        .post_shutdown(_on_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:  # the inbox keeps each update's JSON as fetched (PTB's defaults for getUpdates)
        builder = builder.get_updates_request(KeepingJSONRequest(queue, connection_pool_size=1))
    app = builder.build()
    services = Services(
        settings=settings, db=Database(settings.database_path), clock=clock or SystemClock()
    )
    app.bot_data[KEY] = services
    app.bot_data["outbox_worker"] = outbox_worker
    if isinstance(app, IntakeApplication):
        app.post_start = _on_started
    handlers.register(app)
    return app


def services_of(app: IntakeApp) -> Services:
    services = app.bot_data[KEY]
    assert isinstance(services, Services)
    return services


async def _on_startup(app: IntakeApp) -> None:
    services = services_of(app)
    await services.db.open()
    services.bot_username = app.bot.username
    settings = services.settings
    services.outbox = Outbox(
        services.db, services.clock, app.bot, settings.admin_ids, settings.default_language
    )
    await _set_default_menus(app)
    inbox = Inbox(services.db, services.clock)
    if isinstance(app, IntakeApplication) and isinstance(app.update_queue, DurableQueue):
        app.inbox = app.update_queue.inbox = inbox
        await app.replay_pending()


async def _on_started(app: IntakeApp) -> None:
    """The application runs: start what `post_stop` stops (see IntakeApplication)."""
    services = services_of(app)
    if services.outbox is not None and app.bot_data.get("outbox_worker", True):
        services.outbox.start()
        jobs.schedule(app)
    log.info("bot @%s started", app.bot.username)


async def _set_default_menus(app: IntakeApp) -> None:
    """The menu of people not yet registered, per language (French is the default)."""
    try:
        for language in LANGUAGES:
            commands = [BotCommand(c, d) for c, d in menu(None, language)]
            code = None if language == services_of(app).settings.default_language else language
            await app.bot.set_my_commands(commands, language_code=code)
    except TelegramError as exc:  # a menu is a comfort; never a reason not to start
        log.warning("could not set the command menu: %s", exc)


async def _on_stop(app: IntakeApp) -> None:
    services = services_of(app)
    try:  # errors counted and not yet reported: a summary in the outbox, sent after a restart
        await errorreports.send_summaries(
            services, errorreports.groups_of(app.bot_data), every=True
        )
    except Exception:
        log.exception("could not queue the summary of the errors counted")
    outbox = services.outbox
    if outbox is not None:
        await outbox.stop()


async def _on_shutdown(app: IntakeApp) -> None:
    await services_of(app).db.close()
