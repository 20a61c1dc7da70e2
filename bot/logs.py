"""Logging that never shows the bot token."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

REDACTED = "[REDACTED]"


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes every secret from the line (tracebacks included)."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def setup_logging(secrets: Iterable[str], level: int = logging.INFO) -> None:
    """One line per event on stderr; secrets removed; httpx's URL logging (with the token) off."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and the URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def log_event(
    logger: logging.Logger, name: str, level: int = logging.INFO, **fields: object
) -> None:
    """One line per event: `name key=value ...` (ids and references, never message bodies)."""
    parts = [name] + [
        f"{key}={_value(value)}" for key, value in fields.items() if value is not None
    ]
    logger.log(level, " ".join(parts))


def _value(value: object) -> str:
    text = str(value)
    return f'"{text}"' if " " in text or not text else text
