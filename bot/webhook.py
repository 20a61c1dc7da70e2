"""Webhook mode: Telegram posts updates to us; `GET /healthz` says how the bot is doing.

PTB's own webhook server compares the secret with `!=` and serves nothing else, so this small
tornado server (the one PTB uses) checks the secret in constant time, logs refusals, commits
each update to the inbox before answering 200 (through the durable update queue), and adds a
health check for monitoring.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import tornado.httpserver
import tornado.web
from telegram import Update
from telegram.error import BadRequest

from bot.app import IntakeApp, services_of
from bot.delivery.inbox import DurableQueue
from bot.logs import log_event
from bot.runner import EXIT_SETTING, EXIT_TRY_LATER, StartFailed, run_until_stopped, shown_url
from storage import inbox, outbox

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
STUCK_AFTER = timedelta(minutes=5)
MAX_BODY = 1 << 20
INT64_LIMIT = 1 << 63


class UpdateHandler(tornado.web.RequestHandler):
    """POST <path>: one update from Telegram."""

    def initialize(self, app: IntakeApp, secret: str) -> None:
        self.bot_app = app
        self.secret = secret.encode()

    async def post(self) -> None:
        given = (self.request.headers.get(SECRET_HEADER) or "").encode()
        if not hmac.compare_digest(given, self.secret):
            log_event(
                log,
                "webhook.refused",
                logging.WARNING,
                ip=self.request.remote_ip,
                reason="missing secret" if not given else "wrong secret",
            )
            self.set_status(403)
            return
        parsed = read_update(self.request.body, self.bot_app)
        if isinstance(parsed, str):
            log_event(
                log, "webhook.refused", logging.WARNING, ip=self.request.remote_ip, reason=parsed
            )
            self.set_status(400)
            return
        update, payload = parsed
        queue = self.bot_app.update_queue
        assert isinstance(queue, DurableQueue)
        # Committed to the inbox before the answer: a crash after this loses nothing.
        await queue.put_json(update, payload)
        self.set_status(200)


def read_update(body: bytes, app: IntakeApp) -> tuple[Update, dict[str, Any]] | str:
    """The update a POST body holds, with its JSON; or, when it holds none, why (a few words).

    PTB builds an `Update` from whatever JSON it is given; what the inbox stores must be what
    Telegram sends: an `update_id` and chat ids that are integers SQLite can hold.
    """
    try:
        payload = json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        return "not JSON"
    if not isinstance(payload, dict) or not _is_id(payload.get("update_id")):
        return "no update_id"
    try:
        update = Update.de_json(payload, app.bot)
        chat = update.effective_chat
    except (ValueError, TypeError, KeyError, AttributeError):
        return "not an update"
    if chat is not None and not _is_id(chat.id, signed=True):
        return "not an update"
    return update, payload


def _is_id(value: object, *, signed: bool = False) -> bool:
    """An integer as Telegram's ids are (JSON's true is no id; SQLite's integers are 64-bit)."""
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    return (-INT64_LIMIT if signed else 0) <= value < INT64_LIMIT


class HealthHandler(tornado.web.RequestHandler):
    """GET /healthz: database, outbox and inbox, as JSON; 503 when something is wrong."""

    def initialize(self, app: IntakeApp) -> None:
        self.bot_app = app

    async def get(self) -> None:
        report = await health(self.bot_app)
        self.set_status(200 if report["status"] == "ok" else 503)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(report))


async def health(app: IntakeApp) -> dict[str, Any]:
    """How the bot is doing: `status` ok, or degraded with the reasons."""
    services = services_of(app)
    now = services.clock.now()
    report: dict[str, Any] = {"status": "ok", "problems": []}
    try:
        async with services.db.read() as conn:
            await conn.execute("SELECT 1")
            async with conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'") as cur:
                row = await cur.fetchone()
            oldest = await outbox.oldest_pending(conn)
            waiting, _ = await inbox.counts(conn)
    except Exception as exc:  # the health check must answer whatever happens
        return {"status": "degraded", "problems": [f"database: {type(exc).__name__}"]}
    age = (now - oldest).total_seconds() if oldest else 0.0
    report["database"] = "ok"
    report["outbox"] = {"pending": int(row[0]) if row else 0, "oldest_pending_seconds": age}
    report["inbox"] = {"pending": waiting}
    if oldest is not None and now - oldest > STUCK_AFTER:
        report["status"] = "degraded"
        report["problems"].append("outbox: a notification has waited over 5 minutes")
    return report


class WebhookServer:
    """The HTTP server of webhook mode."""

    def __init__(self, app: IntakeApp, *, url: str, secret: str, listen: str, port: int) -> None:
        path = urlsplit(url).path or "/"
        routes: list[Any] = [
            (path, UpdateHandler, {"app": app, "secret": secret}),
            (r"/healthz", HealthHandler, {"app": app}),
        ]
        self._server = tornado.httpserver.HTTPServer(
            tornado.web.Application(routes), max_body_size=MAX_BODY
        )
        self.listen = listen
        self.port = port

    def start(self) -> None:
        self._server.listen(self.port, address=self.listen)
        log.info("webhook server listening on %s:%s", self.listen, self.port)

    async def stop(self) -> None:
        """Stop taking updates; requests in flight finish."""
        self._server.stop()
        await asyncio.wait_for(self._server.close_all_connections(), timeout=5)


async def serve(app: IntakeApp, *, url: str, secret: str, listen: str, port: int) -> None:
    """Run in webhook mode until SIGTERM or SIGINT, then stop cleanly."""
    server = WebhookServer(app, url=url, secret=secret, listen=listen, port=port)

    async def start() -> None:
        try:
            server.start()
        except OSError as exc:  # taken (perhaps by the process before this one), or not ours
            raise StartFailed(
                f"cannot listen on WEBHOOK_LISTEN ({listen}) and WEBHOOK_PORT ({port}):"
                f" {exc.strerror or exc}.",
                EXIT_TRY_LATER,
            ) from None
        try:
            await app.bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
        except BadRequest as exc:  # e.g. "bad webhook: HTTPS URL must be provided"
            raise StartFailed(
                f"Telegram refused WEBHOOK_URL ({shown_url(url)}): {exc}.", EXIT_SETTING
            ) from None

    await run_until_stopped(app, start, server.stop)
