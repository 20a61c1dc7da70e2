"""Settings: named as in DESIGN.md; a wrong one stops the program with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import build_application
from bot.config import Settings, SettingsError, load_settings
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent


def _run(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ADMIN_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env={**clean, **env, "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ADMIN_IDS": "12,abc"}, "ADMIN_IDS"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "DEFAULT_LANGUAGE": "de"}, "DEFAULT_LANGUAGE"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "TICKET_PREFIX": "cr ec"}, "TICKET_PREFIX"),
        (
            {"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_API_BASE_URL": "ftp://x"},
            "TELEGRAM_API_BASE_URL",
        ),
    ],
)
def test_bad_setting_is_one_clear_line(env: dict[str, str], named: str, tmp_path: Path) -> None:
    result = _run(env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert "1:x" not in result.stderr


def test_settings_come_from_a_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ADMIN_IDS", "TICKET_PREFIX", "TELEGRAM_BOT_TOKEN", "DATABASE_PATH"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text(
        "TELEGRAM_BOT_TOKEN=42:abc\nADMIN_IDS=11, 22\nTICKET_PREFIX=FED\nDATABASE_PATH=x/y.db\n"
    )
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.require_token() == "42:abc"
    assert settings.admin_ids == {11, 22}
    assert settings.ticket_prefix == "FED"
    assert settings.database_path == Path("x/y.db")
    assert settings.default_language == "fr" and settings.timezone == "America/Montreal"


def test_missing_token_is_a_settings_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, telegram_bot_token=None)
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN"):
        settings.require_token()


def test_api_base_url_is_used_for_calls_and_file_downloads(tmp_path: Path) -> None:
    settings: Settings = make_settings(
        tmp_path, telegram_api_base_url="http://localhost:8081/bot/"
    )
    app = build_application(settings)
    assert app.bot.base_url.startswith("http://localhost:8081/bot")
    assert app.bot.base_file_url.startswith("http://localhost:8081/file/bot")
    default = build_application(make_settings(tmp_path))
    assert default.bot.base_url.startswith("https://api.telegram.org/bot")
    assert default.bot.base_file_url.startswith("https://api.telegram.org/file/bot")


def test_every_setting_is_documented_in_env_example() -> None:
    example = (ROOT / ".env.example").read_text()
    for name in Settings.model_fields:
        assert f"{name.upper()}=" in example, name
