"""Starting the bot as a process, when it cannot start: a token Telegram refuses, a Bot API
nobody answers, a webhook Telegram will not set, a port taken; and a SIGTERM while it is still
starting. Each ends with one line naming the setting to look at (never the token, never a
traceback) and the exit code the systemd unit expects."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from telegram.error import NetworkError, TelegramError, TimedOut

from bot.runner import plain_reason
from tests.conftest import TOKEN
from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "intake-bot.service"
REFUSED_TOKEN = "987654321:AAHfake-token-Telegram-will-refuse"
SECRET = "webhook-secret-for-the-start-tests"
EXIT_SETTING = 2  # a setting is wrong: the unit does not start it again
EXIT_TRY_LATER = 75  # Telegram (or the port) not reachable now: the unit starts it again


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(folder: Path, telegram: FakeTelegram | None, **settings: str) -> dict[str, str]:
    env = {
        **os.environ,
        **(telegram.bot_env() if telegram else {}),
        "DATABASE_PATH": str(folder / "intake.db"),
        "PYTHONPATH": str(ROOT),
    }
    env.update(settings)
    return env


def _webhook(port: int | None = None) -> dict[str, str]:
    return {
        "WEBHOOK_URL": "https://bot.example.org/telegram",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port or _free_port()),
    }


def _run(folder: Path, env: dict[str, str], *args: str) -> tuple[int, str, float]:
    """`python -m bot run ARGS` to its end: exit code, what it printed, how long it took."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", *args],
        env=env,
        cwd=folder,
        capture_output=True,
        timeout=60,
        check=False,
    )
    output = (done.stdout + done.stderr).decode()
    return done.returncode, output, time.monotonic() - started


def _one_line(output: str, *secrets: str) -> str:
    """The output is one line, starting `intake-bot: `, with no traceback and no secret."""
    assert "Traceback" not in output, output
    for secret in (TOKEN, REFUSED_TOKEN, SECRET, *secrets):
        assert secret not in output, output
    lines = output.splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("intake-bot: "), output
    return lines[0]


@pytest.mark.parametrize("args", [(), ("--webhook",)], ids=["polling", "webhook"])
def test_a_token_telegram_refuses_is_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    with FakeTelegram(limits=None) as telegram:  # answers 401 to any other token
        env = _env(tmp_path, telegram, TELEGRAM_BOT_TOKEN=REFUSED_TOKEN, **_webhook())
        code, output, _ = _run(tmp_path, env, *args)
    line = _one_line(output)
    assert code == EXIT_SETTING
    assert "Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized)" in line
    assert "@BotFather" in line
    assert telegram.webhook is None  # nothing was set up with it


@pytest.mark.parametrize("args", [(), ("--webhook",)], ids=["polling", "webhook"])
def test_an_unreachable_bot_api_is_one_line_after_a_few_tries(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    closed = f"http://127.0.0.1:{_free_port()}/bot"  # nobody listens there
    env = _env(
        tmp_path,
        None,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=closed,
        NO_PROXY="127.0.0.1",
        no_proxy="127.0.0.1",
        **_webhook(),
    )
    code, output, took = _run(tmp_path, env, *args)
    line = _one_line(output)
    assert code == EXIT_TRY_LATER
    assert "TELEGRAM_API_BASE_URL" in line and closed in line
    assert "3 attempts" in line
    # The reason in words, without the HTTP library's class names.
    assert re.search(r"\((all connection attempts failed|connection refused)\): check", line), line
    assert "httpx" not in line and "Error" not in line, line
    assert took < 30


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            NetworkError("httpx.ConnectError: All connection attempts failed"),
            "all connection attempts failed",
        ),
        (NetworkError("httpx.ConnectError: [Errno 111] Connection refused"), "connection refused"),
        (TimedOut(), "timed out"),
        (NetworkError("httpx.ReadError: "), "the connection broke"),
        (NetworkError("Bad Gateway"), "Bad Gateway"),
    ],
)
def test_why_the_bot_api_did_not_answer_is_said_in_words(
    error: TelegramError, reason: str
) -> None:
    assert plain_reason(error) == reason


def test_sigterm_while_it_tries_to_reach_telegram_exits_0(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{_free_port()}/bot"
    env = _env(tmp_path, None, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=closed)
    env |= {"NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    with process:
        time.sleep(2)  # past the first attempt, in the pause before the next (or, on a slow
        process.send_signal(signal.SIGTERM)  # machine, still starting: exit 0 as well)
        code = process.wait(timeout=10)
        assert process.stdout is not None
        output = process.stdout.read().decode()
    assert code == 0, output
    assert "no answer" not in output and "Traceback" not in output and TOKEN not in output


def test_a_webhook_telegram_will_not_set_names_webhook_url(tmp_path: Path) -> None:
    with FakeTelegram(limits=None) as telegram:
        telegram.fail(
            "setWebhook", status=400, description="Bad Request: bad webhook: IP address is private"
        )
        env = _env(tmp_path, telegram, **_webhook())
        code, output, _ = _run(tmp_path, env, "--webhook")
    # It got as far as the database (lines in the log), then stopped with one line.
    assert "Traceback" not in output and TOKEN not in output and SECRET not in output
    last = output.splitlines()[-1]
    assert last.startswith("intake-bot: Telegram refused WEBHOOK_URL"), output
    assert "bad webhook" in last.lower()
    assert code == EXIT_SETTING


def test_a_webhook_port_already_taken_names_the_setting(tmp_path: Path) -> None:
    with socket.socket() as taken, FakeTelegram(limits=None) as telegram:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        code, output, _ = _run(tmp_path, _env(tmp_path, telegram, **_webhook(port)), "--webhook")
    assert "Traceback" not in output and TOKEN not in output and SECRET not in output
    last = output.splitlines()[-1]
    assert last.startswith("intake-bot: ") and f"WEBHOOK_PORT ({port})" in last
    assert code == EXIT_TRY_LATER


def test_the_unit_does_not_restart_on_a_wrong_setting() -> None:
    service = UNIT.read_text()
    assert "Restart=on-failure" in service
    assert f"RestartPreventExitStatus={EXIT_SETTING}" in service


# -- SIGTERM while starting -----------------------------------------------------------------


def _catches_sigterm(pid: int) -> bool:
    """The process has a handler for SIGTERM (Linux: the SigCgt mask in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


def _has_loaded(pid: int, library: str) -> bool:
    return library in Path(f"/proc/{pid}/maps").read_text()


@contextmanager
def _starting(folder: Path, telegram: FakeTelegram) -> Iterator[subprocess.Popen[bytes]]:
    env = _env(folder, telegram, ADMIN_IDS="1001")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        assert process.stdout is not None
        output = process.stdout.read()
        process.stdout.close()
        assert b"Traceback" not in output and TOKEN.encode() not in output, output


def _until(condition: object, timeout: float = 20) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the process did not get there"
        time.sleep(0.001)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc (Linux)")
def test_sigterm_while_the_libraries_are_imported_exits_0(tmp_path: Path) -> None:
    """The handler is there before the heavy imports: pydantic's compiled core is the first of
    them (bot.config), PTB comes later."""
    with FakeTelegram(limits=None) as telegram, _starting(tmp_path, telegram) as process:
        _until(lambda: process.poll() is not None or _has_loaded(process.pid, "pydantic_core"))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert not telegram.api.calls  # it never got as far as Telegram


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("after", [0.0, 0.1, 0.25, 0.5, 1.0])
def test_sigterm_at_any_moment_of_the_start_exits_0(tmp_path: Path, after: float) -> None:
    """`after` seconds after the spawn, or as soon as the program runs at all if that is
    later: the interpreter's own start (some 20-50 ms) comes before any line of the program,
    and a signal then ends it as it would any process."""
    with FakeTelegram(limits=None) as telegram, _starting(tmp_path, telegram) as process:
        spawned = time.monotonic()
        _until(lambda: _catches_sigterm(process.pid))
        time.sleep(max(0.0, spawned + after - time.monotonic()))
        process.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        assert process.wait(timeout=15) == 0
        assert time.monotonic() - sent < 10
