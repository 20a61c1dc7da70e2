"""The `intake-bot` command: `run` (the bot) and `sandbox` (the bot in a terminal, no Telegram)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from bot.config import SettingsError, load_settings
from bot.logs import setup_logging

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="intake-bot", description="Telegram bot for requests for expert help."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run the bot, with the settings from .env")
    run_parser.add_argument(
        "--webhook",
        action="store_true",
        help="take updates on a webhook (WEBHOOK_URL, WEBHOOK_SECRET) instead of long polling",
    )
    sandbox = commands.add_parser("sandbox", help="try the bot in this terminal, without Telegram")
    sandbox.add_argument("--db", help="database file to use (default: a temporary demo one)")
    sandbox.add_argument(
        "--files",
        metavar="DIR",
        help="where to save the files the bot and you send (default: sandbox-files beside the"
        " database; in this folder for the temporary one)",
    )
    backup = commands.add_parser(
        "backup", help="copy the database safely, even while the bot runs"
    )
    backup.add_argument("file", help="the copy to write (a new file)")
    return parser


def _stop_while_starting(signal_number: int, _frame: object) -> None:
    """SIGTERM before the bot takes updates: nothing is held yet, just leave (exit 0)."""
    raise SystemExit(0)


def run(webhook: bool) -> int:
    """Run the bot until SIGTERM or SIGINT (then it stops cleanly and exits 0)."""
    # bot/runner.py handles SIGTERM once the event loop runs; until then, stop at once.
    signal.signal(signal.SIGTERM, _stop_while_starting)
    from bot.app import build_application  # noqa: PLC0415 - keeps `--help` fast

    try:
        settings = load_settings()
        token = settings.require_token()
        url, secret = settings.require_webhook() if webhook else ("", "")
    except SettingsError as exc:
        print(f"intake-bot: {exc}", file=sys.stderr)
        return 2
    setup_logging([token, secret])
    app = build_application(settings)
    if webhook:
        from bot.webhook import serve  # noqa: PLC0415

        asyncio.run(
            serve(
                app,
                url=url,
                secret=secret,
                listen=settings.webhook_listen,
                port=settings.webhook_port,
            )
        )
    else:
        from bot.runner import poll  # noqa: PLC0415

        asyncio.run(poll(app))
    log.info("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `intake-bot` and `python -m bot`."""
    args = _parser().parse_args(argv)
    if args.command == "run":
        return run(args.webhook)
    if args.command == "sandbox":
        from bot.sandbox import main as sandbox_main  # noqa: PLC0415

        return sandbox_main(args.db, args.files)
    if args.command == "backup":
        from bot.backup import main as backup_main  # noqa: PLC0415

        return backup_main(args.file)
    return 2
