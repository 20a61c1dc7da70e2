"""The `intake-bot` command: `run` (the bot) and `sandbox` (the bot in a terminal, no Telegram)."""

from __future__ import annotations

import argparse
import logging
import sys

from telegram import Update

from bot.config import SettingsError, load_settings
from bot.logs import setup_logging

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="intake-bot", description="Telegram bot for requests for expert help."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot (long polling), with settings from .env")
    sandbox = commands.add_parser("sandbox", help="try the bot in this terminal, without Telegram")
    sandbox.add_argument("--db", help="database file to use (default: a temporary demo one)")
    return parser


def run() -> int:
    """Run the bot until interrupted."""
    from bot.app import build_application  # noqa: PLC0415 - keeps `--help` fast

    try:
        settings = load_settings()
        token = settings.require_token()
    except SettingsError as exc:
        print(f"intake-bot: {exc}", file=sys.stderr)
        return 2
    setup_logging([token])
    app = build_application(settings)
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `intake-bot` and `python -m bot`."""
    args = _parser().parse_args(argv)
    if args.command == "run":
        return run()
    if args.command == "sandbox":
        from bot.sandbox import main as sandbox_main  # noqa: PLC0415

        return sandbox_main(args.db)
    return 2
