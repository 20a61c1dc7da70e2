"""The `intake-bot` command: `run` (the bot) and `sandbox` (the bot in a terminal, no Telegram)."""

from __future__ import annotations

# First of all, before the libraries (half a second to import): a stop signal while the bot is
# still starting ends it at once, with exit 0. bot/runner.py takes over once the bot runs.
import os
import signal
import sys


def _stop_while_starting(signal_number: int, _frame: object) -> None:
    """SIGTERM or SIGINT before the bot takes updates: nothing is held yet, just leave (exit 0).

    `os._exit`, not SystemExit: a SystemExit raised while the import machinery runs a callback is
    printed as "Exception ignored" and swallowed, and the bot then started anyway. Nothing is
    lost by leaving at once: SQLite's commits are atomic, and no update has been taken yet.
    """
    os._exit(0)


def _is_the_program() -> bool:
    """`python -m bot` or the `intake-bot` script, not a program importing this module."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    script = os.path.basename(sys.argv[0]) if sys.argv else ""
    return getattr(spec, "name", None) == "bot.__main__" or script == "intake-bot"


EARLY_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
STOPS_EARLY = _is_the_program()
if STOPS_EARLY:
    for _number in EARLY_STOP_SIGNALS:
        signal.signal(_number, _stop_while_starting)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import logging  # noqa: E402

from bot.config import SettingsError, load_settings  # noqa: E402
from bot.logs import redact, setup_logging  # noqa: E402

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


def run(webhook: bool) -> int:
    """Run the bot until SIGTERM or SIGINT (then it stops cleanly and exits 0); 2 when a
    setting is wrong, 75 when Telegram cannot be reached (bot/runner.py)."""
    # bot/runner.py handles SIGTERM once the event loop runs; until then, stop at once.
    for number in EARLY_STOP_SIGNALS:
        signal.signal(number, _stop_while_starting)
    from bot.app import build_application  # noqa: PLC0415 - keeps `--help` fast
    from bot.runner import StartFailed  # noqa: PLC0415

    try:
        settings = load_settings()
        token = settings.require_token()
        url, secret = settings.require_webhook() if webhook else ("", "")
    except SettingsError as exc:
        print(f"intake-bot: {exc}", file=sys.stderr)
        return 2
    setup_logging([token, secret])
    app = build_application(settings)
    try:
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
    except StartFailed as exc:  # one line, as for a wrong setting; never the token
        print(f"intake-bot: {redact(str(exc), [token, secret])}", file=sys.stderr)
        return exc.code
    log.info("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `intake-bot` and `python -m bot`."""
    args = _parser().parse_args(argv)
    if STOPS_EARLY and args.command != "run":  # the others stop on a signal as programs do
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.command == "run":
        return run(args.webhook)
    if args.command == "sandbox":
        from bot.tools.sandbox import main as sandbox_main  # noqa: PLC0415

        return sandbox_main(args.db, args.files)
    if args.command == "backup":
        from bot.tools.backup import main as backup_main  # noqa: PLC0415

        return backup_main(args.file)
    return 2
