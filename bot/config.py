"""Settings, read from the environment or a `.env` file (names as in DESIGN.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"

# Shown when a setting is wrong: one line, in the words of the person running the bot.
SETTING_HINTS: dict[str, str] = {
    "TELEGRAM_BOT_TOKEN": "required: the token @BotFather gave you (see README)",
    "TELEGRAM_API_BASE_URL": "must be an http(s) URL such as http://localhost:8081/bot",
    "ADMIN_IDS": "must be Telegram user ids separated by commas, e.g. 11111111,22222222",
    "DATABASE_PATH": "must be a file path, e.g. data/intake.db",
    "DEFAULT_LANGUAGE": "must be fr or en",
    "TIMEZONE": "must be a time zone name such as America/Montreal",
    "TICKET_PREFIX": "must be 2 to 10 capital letters or digits, e.g. CREC",
    "WEBHOOK_URL": "must be the public URL Telegram posts to, e.g. https://bot.example.org/hook",
    "WEBHOOK_SECRET": "must be 16 to 256 letters, digits, _ or - (webhook mode needs one)",
    "WEBHOOK_LISTEN": "must be an address to listen on, e.g. 127.0.0.1",
    "WEBHOOK_PORT": "must be a port number, e.g. 8443",
    "RATE_LIMIT_PER_MINUTE": "must be a whole number of updates per person per minute (0: none)",
    "MAX_REQUESTS_PER_DAY": "must be a whole number of requests per contact per day (0: no limit)",
    "OVERRUN_TOLERANCE_PERCENT": "must be a whole percentage from 0 to 1000, e.g. 10",
}


class Settings(BaseSettings):
    """Every setting of the bot; see `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = DEFAULT_API_BASE_URL
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    database_path: Path = Path("data/intake.db")
    default_language: Literal["fr", "en"] = "fr"
    timezone: str = "America/Montreal"
    ticket_prefix: str = Field(default="CREC", pattern=r"^[A-Z0-9]{2,10}$")
    webhook_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    webhook_secret: SecretStr | None = None
    webhook_listen: str = Field(default="127.0.0.1", pattern=r"^[0-9a-fA-F:.]+$|^localhost$")
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    rate_limit_per_minute: int = Field(default=30, ge=0, le=10_000)
    max_requests_per_day: int = Field(default=10, ge=0, le=10_000)
    # Time logged past an approved estimate's upper bound by more than this: a revised one is due.
    overrun_tolerance_percent: int = Field(default=10, ge=0, le=1000)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in re.split(r"[,\s;]+", value.strip()) if p]
            if not all(re.fullmatch(r"\d{1,20}", p) for p in parts):
                raise ValueError("not a list of user ids")
            return frozenset(int(p) for p in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://\S+", value):
            raise ValueError("not an http(s) URL")
        return value.rstrip("/")

    @field_validator("telegram_bot_token", "webhook_secret", "webhook_url", mode="before")
    @classmethod
    def _blank_is_missing(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and -; we want a real secret.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{16,256}", value.get_secret_value()
        ):
            raise ValueError("not a valid secret")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.timezone)

    @property
    def file_base_url(self) -> str:
        """Base URL for file downloads, derived from the API base URL (…/bot → …/file/bot)."""
        base = self.telegram_api_base_url
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"

    def require_webhook(self) -> tuple[str, str]:
        """The webhook URL and secret, or SettingsError naming the one missing."""
        if self.webhook_url is None:
            raise SettingsError("WEBHOOK_URL", SETTING_HINTS["WEBHOOK_URL"])
        if self.webhook_secret is None:
            raise SettingsError("WEBHOOK_SECRET", SETTING_HINTS["WEBHOOK_SECRET"])
        return self.webhook_url, self.webhook_secret.get_secret_value()

    def require_token(self) -> str:
        """The bot token, or SettingsError if it is missing."""
        if self.telegram_bot_token is None:
            raise SettingsError("TELEGRAM_BOT_TOKEN", SETTING_HINTS["TELEGRAM_BOT_TOKEN"])
        return self.telegram_bot_token.get_secret_value()


class SettingsError(Exception):
    """A setting is missing or invalid; `str()` is the one line to show."""

    def __init__(self, name: str, hint: str) -> None:
        super().__init__(f"Setting {name} {hint}.")
        self.name = name


def load_settings(**overrides: object) -> Settings:
    """Read the settings; a validation error becomes a SettingsError naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "?"
        raise SettingsError(name, SETTING_HINTS.get(name, "is invalid")) from None
