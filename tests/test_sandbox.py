"""`intake-bot sandbox`: the terminal renderer, the personas in-process, and the real command
in a subprocess that is not allowed to open a single network connection."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from bot.emulator import Emulator, FakeBotAPI
from bot.sandbox import BY_KEY, PERSONAS, Sandbox, render_html, sandbox_settings, session

ROOT = Path(__file__).resolve().parent.parent
BOLD, RESET = "\x1b[1m", "\x1b[0m"

# Run before the sandbox in the child: any connection or DNS look-up ends the process with 97,
# whatever the code around it would have done with an exception.
NO_NETWORK = """\
import os, socket, sys
def _no_network(*args, **kwargs):
    sys.stderr.write("NETWORK ACCESS ATTEMPTED\\n")
    sys.stderr.flush()
    os._exit(97)
socket.socket.connect = _no_network
socket.socket.connect_ex = _no_network
socket.create_connection = _no_network
socket.getaddrinfo = _no_network
"""
RUN_CLI = NO_NETWORK + "from bot.cli import main\nraise SystemExit(main(sys.argv[1:]))\n"
# Settings from the developer's environment must not change what the transcript says.
SETTING_NAMES = ("TELEGRAM_", "ADMIN_IDS", "DATABASE_PATH", "DEFAULT_LANGUAGE", "TIMEZONE",
                 "TICKET_PREFIX")  # fmt: skip


def run_sandbox(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_NAMES)}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-c", RUN_CLI, "sandbox", *args],
        input=script,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )


# -- the renderer -----------------------------------------------------------------------------


def test_render_plain_decodes_entities_and_marks_code() -> None:
    html = "<b>Objet :</b> A &amp; B &lt;3 <code>2026-12-15</code> &#233;t&#xE9;"
    assert render_html(html, color=False) == "Objet : A & B <3 `2026-12-15` été"


def test_render_colour_bold_and_nested_styles_restore_the_outer_one() -> None:
    assert render_html("<b>a<i>b</i>c</b>", color=True) == (
        f"{BOLD}a\x1b[3mb{RESET}{BOLD}c{RESET}"
    )
    assert "\x1b[36m" in render_html("<code>x</code>", color=True)  # code stands apart


def test_render_blockquote_and_pre_are_indented_blocks() -> None:
    html = "<b>Description :</b>\n<blockquote expandable>one\ntwo</blockquote>\nafter"
    assert render_html(html, color=False) == "Description :\n│ one\n│ two\nafter"
    assert render_html("a<blockquote>b</blockquote>c", color=False) == "a\n│ b\nc"
    assert render_html("<pre>x\ny</pre>", color=False) == "    x\n    y"


def test_render_links_spoilers_and_unknown_tags() -> None:
    assert render_html('<a href="https://example.org">site</a>', color=False) == (
        "site (https://example.org)"
    )
    assert render_html('<a href="https://t.me/x">https://t.me/x</a>', color=False) == (
        "https://t.me/x"
    )
    assert render_html("<tg-spoiler>secret</tg-spoiler>", color=False) == "||secret||"
    assert render_html('<tg-emoji emoji-id="1">👍</tg-emoji>', color=False) == "👍"


# -- the sandbox in-process -------------------------------------------------------------------


async def test_seeding_registers_everyone_once_and_prints_nothing(tmp_path: Path) -> None:
    out = io.StringIO()
    settings = sandbox_settings(tmp_path / "sandbox.db")
    async with Emulator.running(settings, api=FakeBotAPI()) as emulator:
        sandbox = Sandbox(emulator, out, color=False)
        assert await sandbox.seed() is True
        assert await sandbox.seed() is False  # everyone is there: nothing to do again
        sandbox.forget_all()
        sandbox.show_new()
    assert out.getvalue() == ""
    with sqlite3.connect(tmp_path / "sandbox.db") as db:
        roles = dict(db.execute("SELECT id, role FROM users").fetchall())
    assert roles == {
        p.user_id: ("lead" if p.field else p.key) for p in PERSONAS
    }  # one admin, one contact, a lead per field but `other` (which goes to the admins)


async def test_personas_buttons_and_mistakes(tmp_path: Path) -> None:
    out = io.StringIO()
    settings = sandbox_settings(tmp_path / "sandbox.db")
    async with Emulator.running(settings, api=FakeBotAPI()) as emulator:
        sandbox = Sandbox(emulator, out, color=False)
        await sandbox.seed()
        sandbox.forget_all()
        for line in ("/as nobody", "/file /no/such/file.pdf", "/file", "42", "/as lead hr",
                     "5", "/new", "99", "2"):  # fmt: skip
            assert await sandbox.handle(line)
        assert sandbox.current == BY_KEY["lead hr"]
        await sandbox.handle("/as contact")
        await sandbox.handle("/new")
        await sandbox.handle("2")  # Gestion des ressources humaines
        for line in ("Politique de télétravail",
                     "Nous voulons une politique de télétravail pour nos employés.",
                     "1", "1", "1", "1"):  # fmt: skip
            await sandbox.handle(line)
        await sandbox.handle("/as lead")  # the lead who just heard from the bot
        assert sandbox.current == BY_KEY["lead hr"]
        assert not await sandbox.handle("/quit")
    text = out.getvalue()
    assert "sandbox: no persona 'nobody'" in text
    assert "sandbox: no such file: /no/such/file.pdf" in text
    assert "sandbox: usage: /file PATH" in text
    assert "sandbox: no buttons in this chat" in text
    assert "sandbox: the latest message has buttons 1 to" in text
    assert "── to Lead (hr) · Héloïse Côté ──" in text
    assert "    [1] 🙋 Prendre la demande" in text


async def test_session_reads_lines_until_the_end(tmp_path: Path) -> None:
    class Lines:
        def __init__(self, lines: list[str]) -> None:
            self.lines = lines

        async def read(self, prompt: str) -> str | None:
            return self.lines.pop(0) if self.lines else None

    out = io.StringIO()
    source = Lines(["/as admin", "/federations"])
    assert await session(tmp_path / "s.db", source, out, color=False) == 0
    assert "demo data ready" in out.getvalue()
    assert "DEMO" in out.getvalue()


# -- the real command, in a subprocess without network ----------------------------------------


def test_the_network_guard_itself_works() -> None:
    attempt = NO_NETWORK + "socket.create_connection(('127.0.0.1', 9))\n"
    done = subprocess.run([sys.executable, "-c", attempt], capture_output=True, check=False)
    assert done.returncode == 97


def test_contact_files_a_request_and_the_lead_takes_it(tmp_path: Path) -> None:
    attachment = tmp_path / "statuts.pdf"
    attachment.write_bytes(b"%PDF-1.4 demo" * 100)
    script = "\n".join(
        [
            "/help",  # the bot's own /help, not the sandbox's
            "/new",
            "1",  # Services juridiques
            "Contrat de travail",
            "Nous devons revoir le contrat de travail de notre directrice.",
            "1",  # Normale
            "1",  # Pas de date souhaitée
            f"/file {tmp_path / 'missing.pdf'}",
            f"/file {attachment}",
            "1",  # Continuer (1/5 fichiers)
            "1",  # ✅ Envoyer la demande
            "/as lead legal",
            "1",  # 🙋 Prendre la demande
            "/as contact",
            "/mytickets",
        ]
    )  # no /quit: the end of input ends the session too
    done = run_sandbox(script + "\n")
    out, err = done.stdout, done.stderr
    assert done.returncode == 0, err
    assert "NETWORK" not in err
    assert "Traceback" not in out + err
    assert out.startswith("demo data ready\n")
    assert "Lien d'inscription" not in out and "start=" not in out  # the seeding stays quiet
    assert "Le vrai bot" in out  # the banner, in both languages
    assert "/mytickets" in out.split("[contact] > /help", 1)[1]  # the bot answered /help
    for expected in (
        "[1] Services juridiques",
        "[1] Pas de date souhaitée",
        "[1] Continuer sans pièce jointe",
        f"sandbox: no such file: {tmp_path / 'missing.pdf'}",
        "· sending statuts.pdf (1300 bytes, application/pdf)",
        "[1] ✅ Envoyer la demande",
        "── to Lead (legal) · Louis Roy ──",
        "[1] 🙋 Prendre la demande",
        "(notice) Vous avez pris la demande",
        "── to Contact · Camille Gagnon ──",
        "prise en charge par Louis Roy",
    ):
        assert expected in out, expected
    reference = re.search(r"CREC-\d{4}-0001", out)
    assert reference is not None
    lead_part = out.split("── to Lead (legal) · Louis Roy ──", 1)[1]
    assert reference.group(0) in lead_part
    assert "\x1b[" not in out  # NO_COLOR, and not a terminal anyway


def test_an_existing_database_is_not_seeded_again(tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    first = run_sandbox("/quit\n", "--db", str(db))
    second = run_sandbox("/as admin\n/federations\n", "--db", str(db))
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert first.stdout.startswith("demo data ready\n")
    assert second.stdout.startswith(f"demo data ready (from {db})\n")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone() == (len(PERSONAS),)
        assert conn.execute("SELECT COUNT(*) FROM federations").fetchone() == (1,)
