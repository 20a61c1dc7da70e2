"""`intake-bot sandbox`: the terminal renderer, the demo data the bot's own flows create, the
files it saves, and the real command in a subprocess that may not open a network connection."""

from __future__ import annotations

import asyncio
import io
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.tools.demo import BY_KEY, FEDERATIONS, LEAD_FIELDS, PERSONAS, RATES, ReplayClock
from bot.tools.demo_together import ABSENT, ALSO, AWAY_DAYS, CONGRESS, COVERED, DELEGATE
from bot.tools.fakeapi import Sent
from bot.tools.sandbox import (
    Sandbox,
    SandboxError,
    files_folder,
    running,
    sandbox_settings,
    session,
)
from bot.tools.sandbox_text import STARTING
from bot.tools.savedfiles import SavedFiles, file_name, placeholder_png
from bot.tools.terminal import render_html
from bot.ui.i18n import format_day
from storage.models import TicketStatus

ROOT = Path(__file__).resolve().parent.parent
BOLD, RESET = "\x1b[1m", "\x1b[0m"
PNG = b"\x89PNG\r\n\x1a\n"
MONTREAL = ZoneInfo("America/Montreal")
SAVED = re.compile(r"📎 saved: (.+)$", re.MULTILINE)

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
                 "TICKET_PREFIX", "RATE_LIMIT_PER_MINUTE", "MAX_REQUESTS_PER_DAY")  # fmt: skip


def run_sandbox(
    script: str, *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    chosen = env or {}
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_NAMES)}
    env.update(chosen)
    env["NO_COLOR"] = "1"
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-c", RUN_CLI, "sandbox", *args],
        input=script,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def last_month() -> str:
    """The last whole month in Montréal, as `/billing` takes it."""
    today = datetime.now(MONTREAL).date()
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


# -- the demo database, seeded once for the tests that only read it or start from it ----------


async def _seed(path: Path) -> None:
    async with running(sandbox_settings(path)) as emulator:
        sandbox = Sandbox(emulator, io.StringIO(), color=False, files=SavedFiles(path.parent))
        assert await sandbox.seed() is not None


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database the sandbox seeded (through the bot's flows), shared by this module's tests."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    asyncio.run(_seed(path))
    return path


@pytest.fixture
def kept_db(demo_db: Path, tmp_path: Path) -> Path:
    """A copy of the seeded database, for a test that writes to it."""
    copy = tmp_path / "kept.db"
    with sqlite3.connect(demo_db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    return copy


@pytest.fixture
def db(demo_db: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    yield conn
    conn.close()


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


# -- the demo data ----------------------------------------------------------------------------


def _months(days: list[str]) -> set[str]:
    return {d[:7] for d in days}


def _local_days(moments: list[str]) -> list[str]:
    return [datetime.fromisoformat(m).astimezone(MONTREAL).date().isoformat() for m in moments]


def test_the_demo_has_federations_and_a_lead_with_a_rate_in_every_field(
    db: sqlite3.Connection,
) -> None:
    federations = dict(db.execute("SELECT code, name FROM federations").fetchall())
    assert federations == dict(FEDERATIONS)
    assert len(federations) >= 5 and federations["CQCH"].startswith("Confédération québécoise")
    rates = dict(db.execute("SELECT code, hourly_rate_cents FROM expertise_fields").fetchall())
    assert rates.keys() == RATES.keys()  # the seven default fields
    assert all(8_500 <= cents <= 14_000 for cents in rates.values()), rates  # 85 to 140 $/h
    leads = dict(
        db.execute(
            "SELECT f.code, COUNT(*) FROM field_leads l"
            " JOIN expertise_fields f ON f.id = l.field_id JOIN users u ON u.id = l.user_id"
            " WHERE u.role = 'lead' AND u.active GROUP BY f.code"
        ).fetchall()
    )
    assert leads == dict.fromkeys(LEAD_FIELDS, 1)  # `other` goes to the admins
    roles = dict(db.execute("SELECT id, role FROM users").fetchall())
    assert roles == {p.user_id: p.role.value for p in PERSONAS}
    contacts = db.execute(
        "SELECT f.code FROM users u JOIN federations f ON f.id = u.federation_id"
        " WHERE u.role = 'contact' AND NOT u.manager"
    ).fetchall()
    assert sorted(c for (c,) in contacts) == sorted(federations)  # a contact in each
    managers = db.execute(
        "SELECT f.code FROM users u JOIN federations f ON f.id = u.federation_id WHERE u.manager"
    ).fetchall()
    assert sorted(c for (c,) in managers) == ["CQCH", "FCAQ"]
    envelopes = db.execute("SELECT kind, amount FROM envelopes ORDER BY id").fetchall()
    assert envelopes == [("hours", 120 * 60), ("dollars", 15_000_00), ("hours", 30 * 60)]
    decided = dict(db.execute("SELECT status, COUNT(*) FROM estimates GROUP BY status").fetchall())
    assert decided == {"approved": 4, "refused": 1, "pending": 1}


def test_the_demo_has_three_months_of_requests_in_every_state(db: sqlite3.Connection) -> None:
    rows = db.execute("SELECT status, created_at, federation_id FROM tickets").fetchall()
    assert {status for status, _, _ in rows} == {s.value for s in TicketStatus}
    created = sorted(datetime.fromisoformat(c) for _, c, _ in rows)
    now = datetime.now(UTC)
    assert now - created[0] >= timedelta(days=85) and created[-1] <= now
    assert len(_months(_local_days([c.isoformat() for c in created]))) >= 3
    this_month = datetime.now(MONTREAL).strftime("%Y-%m")
    assert this_month in _months(_local_days([c.isoformat() for c in created]))  # /stats, /export
    assert len({federation for _, _, federation in rows}) == len(FEDERATIONS)
    # Every lead has requests in hand: `/queue` shows something.
    queued = db.execute(
        "SELECT DISTINCT assignee_id FROM tickets"
        " WHERE status IN ('assigned', 'in_progress', 'waiting')"
    ).fetchall()
    leads = {p.user_id for p in PERSONAS if p.field}
    assert leads <= {a for (a,) in queued}


def test_the_demo_has_time_logged_at_the_rates_and_ratings_over_three_months(
    db: sqlite3.Connection,
) -> None:
    entries = db.execute(
        "SELECT e.work_date, e.minutes, e.hourly_rate_cents, f.hourly_rate_cents, t.status"
        " FROM time_entries e JOIN expertise_fields f ON f.id = e.field_id"
        " JOIN tickets t ON t.id = e.ticket_id"
    ).fetchall()
    assert sum(minutes for _, minutes, _, _, _ in entries) >= 60 * 60  # hours to bill
    assert all(rate == field_rate > 0 for _, _, rate, field_rate, _ in entries)
    assert len(_months([day for day, *_ in entries])) >= 3
    assert {"in_progress", "waiting", "resolved", "closed"} <= {s for *_, s in entries}
    assert last_month() in _months([day for day, *_ in entries])  # /billing has a statement
    rated = db.execute(
        "SELECT rating, closed_at, rating_comment FROM tickets WHERE rating IS NOT NULL"
    ).fetchall()
    assert len(rated) >= 15 and {r for r, _, _ in rated} >= {3, 4, 5}
    assert len(_months(_local_days([closed for _, closed, _ in rated]))) >= 3
    assert any(comment for _, _, comment in rated)
    closed = db.execute("SELECT COUNT(*) FROM tickets WHERE status = 'closed'").fetchone()[0]
    assert closed > len(rated)  # one contact confirmed without rating


def test_the_demo_has_a_request_in_three_parts_and_a_lead_away_with_a_delegate(
    db: sqlite3.Connection,
) -> None:
    """Working together (bot/tools/demo_together.py): the congress filed across three fields,
    each part held by its field's lead, one resolved; the web lead away from today, the IT
    lead covering, and the contact told of it once (she wrote on the web lead's request)."""
    parts = db.execute(
        "SELECT f.code, t.status, t.assignee_id, t.contact_id, p.request_id, t.id"
        " FROM ticket_parts p JOIN tickets t ON t.id = p.ticket_id"
        " JOIN expertise_fields f ON f.id = t.field_id WHERE t.subject = ?",
        (CONGRESS.subject,),
    ).fetchall()
    assert {code: status for code, status, *_ in parts} == {
        CONGRESS.field: "in_progress",
        **{code: state.value for code, state in ALSO.items()},
    }
    leads = {p.field: p.user_id for p in PERSONAS if p.field}
    assert all(assignee == leads[code] for code, _, assignee, *_ in parts)
    assert {(contact, request) for *_, contact, request, _ in parts} == {
        (BY_KEY["contact"].user_id, min(ticket for *_, ticket in parts))
    }  # one request, Camille's, named after its first part
    today = datetime.now(MONTREAL).date()
    absences = db.execute(
        "SELECT id, user_id, delegate_id, starts_on, ends_on, ended_at FROM absences"
    ).fetchall()
    absent, delegate = BY_KEY[ABSENT].user_id, BY_KEY[DELEGATE].user_id
    until = (today + timedelta(days=AWAY_DAYS)).isoformat()
    assert [row[1:] for row in absences] == [(absent, delegate, today.isoformat(), until, None)]
    told = db.execute("SELECT absence_id, contact_id FROM absence_notices").fetchall()
    assert told == [(absences[0][0], BY_KEY["contact"].user_id)]
    covered = db.execute("SELECT assignee_id, status FROM tickets WHERE subject = ?", (COVERED,))
    assert covered.fetchall() == [(absent, "in_progress")]  # still theirs: nothing reassigned


async def test_seeding_again_adds_nothing_and_prints_nothing(kept_db: Path) -> None:
    def counts() -> tuple[int, ...]:
        with sqlite3.connect(kept_db) as conn:
            return tuple(
                conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("users", "federations", "tickets", "time_entries")
            )

    before = counts()
    out = io.StringIO()
    async with running(sandbox_settings(kept_db)) as emulator:
        sandbox = Sandbox(emulator, out, color=False, files=SavedFiles(kept_db.parent))
        assert await sandbox.seed() is None  # people and requests are there already
        sandbox.forget_all()
        sandbox.show_new()
        assert emulator.services.clock.now() - datetime.now(UTC) < timedelta(seconds=5)
    assert counts() == before
    assert out.getvalue() == ""


def test_the_replay_clock_stands_still_when_set_and_tells_real_time_after() -> None:
    clock = ReplayClock()
    past = datetime(2026, 9, 1, 14, tzinfo=UTC)
    clock.set(past)
    assert clock.now() == past
    clock.release()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


# -- the personas, in-process -----------------------------------------------------------------


async def test_personas_and_mistakes(tmp_path: Path) -> None:
    out = io.StringIO()
    async with running(sandbox_settings(tmp_path / "sandbox.db")) as emulator:
        sandbox = Sandbox(emulator, out, color=False, files=SavedFiles(tmp_path / "files"))
        for line in ("/as nobody", "/file /no/such/file.pdf", "/file", "42"):
            assert await sandbox.handle(line)
        await sandbox.handle("/as fcfq")  # a federation's code alone is enough
        assert sandbox.current == BY_KEY["contact fcfq"]
        await sandbox.handle("/as legal")
        assert sandbox.current == BY_KEY["lead legal"]
        await sandbox.handle("/as")
        assert not await sandbox.handle("/quit")
    text = out.getvalue()
    assert "sandbox: no persona 'nobody'" in text
    assert "sandbox: no such file: /no/such/file.pdf" in text
    assert "sandbox: usage: /file PATH" in text
    assert "sandbox: no buttons in this chat" in text
    assert "Contact (FCSDSQ) · Nathalie Lévesque" in text  # the list of personas
    assert not (tmp_path / "files").exists()  # nothing sent, nothing saved


async def test_session_reads_lines_until_the_end(kept_db: Path) -> None:
    class Lines:
        def __init__(self, lines: list[str]) -> None:
            self.lines = lines

        async def read(self, prompt: str) -> str | None:
            return self.lines.pop(0) if self.lines else None

    out = io.StringIO()
    source = Lines(["/as admin", "/federations"])
    assert await session(kept_db, source, out, color=False) == 0
    assert out.getvalue().startswith(f"{STARTING}\ndemo data ready (from {kept_db})\n")
    assert f"files the bot sends, and yours: {kept_db.parent / 'sandbox-files'}" in out.getvalue()
    assert all(code in out.getvalue() for code, _ in FEDERATIONS)


async def test_the_contact_sees_the_congress_grouped_and_the_delegate_whom_they_cover(
    kept_db: Path, db: sqlite3.Connection
) -> None:
    """What the sandbox's first lines say to try: the contact's /mytickets shows the congress
    as one request, its three parts under it; the IT lead's /away names whom they cover and
    the request; the web lead's /away, their absence."""
    out = io.StringIO()
    refs = dict(
        db.execute(
            "SELECT f.code, t.reference FROM tickets t JOIN expertise_fields f"
            " ON f.id = t.field_id WHERE t.subject = ? ORDER BY t.id",
            (CONGRESS.subject,),
        ).fetchall()
    )
    (covered,) = db.execute("SELECT reference FROM tickets WHERE subject = ?", (COVERED,))
    async with running(sandbox_settings(kept_db)) as emulator:
        sandbox = Sandbox(emulator, out, color=False, files=SavedFiles(kept_db.parent))

        async def said(who: str, command: str) -> str:
            await sandbox.handle(f"/as {who}")
            start = len(out.getvalue())
            await sandbox.handle(command)
            return out.getvalue()[start:]

        mine = await said("contact", "/mytickets")
        delegate = await said(DELEGATE, "/away")
        absent = await said(ABSENT, "/away")
    assert len(refs) == 3 and mine.count(CONGRESS.subject) == 1  # one request
    assert f"🧩 {refs[CONGRESS.field]} · demande en 3 volets" in mine
    for code, part in (
        ("events", "Organisation d'événements — En cours"),
        ("marketing", "Marketing et développement des affaires — Prise en charge"),
        ("legal", "Services juridiques — Résolue, en attente de votre confirmation"),
    ):
        assert f"• {refs[code]} · {part}" in mine
    assert "1 volet sur 3 terminé" in mine
    assert f"Vous assurez aujourd'hui le relais de : William Morin ({covered[0]})" in delegate
    today = datetime.now(MONTREAL).date()
    until = format_day(today + timedelta(days=AWAY_DAYS), "fr")
    assert f"du {format_day(today, 'fr')} au {until} inclusivement" in absent
    assert "Relais : Isabelle Lavoie" in absent


# -- saved files ------------------------------------------------------------------------------


def _upload(kind: str, name: str | None, content: bytes, caption: str = "", n: int = 1) -> Sent:
    return Sent(1, n, kind, caption, None, f"{kind}-file-{n}", file_name=name, content=content)


def test_files_keep_their_names_and_the_chart_gets_one_from_its_caption(tmp_path: Path) -> None:
    chart = _upload(
        "photo", "application.octet-stream", PNG + b"...", "📈 Demandes reçues — mars 2026"
    )
    assert file_name(chart) == "demandes-recues-mars-2026.png"
    assert file_name(_upload("photo", None, b"\xff\xd8\xff...")) == "photo-1.jpg"
    sheet = _upload("document", "releve-juste-cout-2026-11.xlsx", b"PK\x03\x04", "Relevé")
    assert file_name(sheet) == "releve-juste-cout-2026-11.xlsx"
    assert file_name(_upload("document", "../../etc/passwd.txt", b"x")) == "passwd.txt"

    files = SavedFiles(tmp_path / "files")
    first = files.keep(sheet)
    assert first == tmp_path / "files" / "releve-juste-cout-2026-11.xlsx"
    assert files.keep(sheet) == first  # shown again (an edit): saved once
    again = _upload("document", "releve-juste-cout-2026-11.xlsx", b"PK\x03\x04 v2", n=2)
    assert files.keep(again) == tmp_path / "files" / "releve-juste-cout-2026-11-2.xlsx"
    assert first.read_bytes() == b"PK\x03\x04"  # an earlier file is never overwritten
    assert files.keep(Sent(1, 3, "photo", "", None, "photo-file-9")) is None  # no bytes
    assert files.keep(Sent(1, 4, "text", "Bonjour")) is None


def test_the_files_folder_is_beside_the_database_or_here_or_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert files_folder(str(tmp_path / "data" / "my.db"), None) == (
        tmp_path / "data" / "sandbox-files"
    )
    assert files_folder(None, None) == tmp_path / "sandbox-files"  # the temporary database's
    assert files_folder(None, "out") == tmp_path / "out"
    assert (tmp_path / "out").is_dir()
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(SandboxError, match="cannot create the folder"):
        files_folder(None, str(tmp_path / "a-file" / "inside"))


# -- the real command, in a subprocess without network ----------------------------------------


def test_the_network_guard_itself_works() -> None:
    attempt = NO_NETWORK + "socket.create_connection(('127.0.0.1', 9))\n"
    done = subprocess.run([sys.executable, "-c", attempt], capture_output=True, check=False)
    assert done.returncode == 97


def test_the_admin_gets_the_chart_and_the_spreadsheets_saved_where_the_transcript_says(
    tmp_path: Path,
) -> None:
    """What `make sandbox` does, piped a script: a fresh demo database, the admin's reports."""
    month = last_month()
    script = f"/as admin\n/stats\n/billing {month}\n/export\n/as lead legal\n/queue\n"
    done = run_sandbox(script, cwd=tmp_path)
    out, err = done.stdout, done.stderr
    assert done.returncode == 0, err
    assert "NETWORK" not in err and "Traceback" not in out + err
    assert out.startswith(f"{STARTING}\ndemo data ready: 5 federations, a lead and an hourly rate")
    folder = tmp_path / "sandbox-files"
    assert f"files the bot sends, and yours: {folder}\n" in out
    assert "Lien d'inscription" not in out and "start=" not in out  # the seeding stays quiet
    # What to try of working together (the congress in three parts, the absence), at once.
    assert "/as contact then /mytickets shows the congress, one request in 3 parts" in out
    assert "/as lead it then /away: Isabelle covers William (web, away this week)" in out

    saved = [Path(p) for p in SAVED.findall(out)]
    assert len(saved) == 3, out
    assert all(p.parent == folder and p.is_file() for p in saved)
    chart, statement, export = saved  # in the order of the commands
    assert chart.suffix == ".png" and chart.read_bytes().startswith(PNG)
    assert statement.name.endswith(f"{month}.xlsx") and export.suffix == ".xlsx"
    billed = load_workbook(statement)
    text = " ".join(str(c.value) for ws in billed for row in ws.iter_rows() for c in row)
    assert all(code in text for code, _ in FEDERATIONS)  # a statement for each federation
    exported = load_workbook(export)
    assert exported.active is not None and exported.active.max_row >= 2  # requests this month
    # The lead's queue lists requests in hand.
    queue = out.split("[lead legal] > /queue", 1)[1]
    assert re.search(r"CREC-\d{4}-\d{4}", queue)


def test_contact_files_a_request_with_a_file_and_the_lead_takes_it(
    kept_db: Path, tmp_path: Path
) -> None:
    attachment = tmp_path / "statuts.pdf"
    attachment.write_bytes(b"%PDF-1.4 demo" * 100)
    files = tmp_path / "chosen"
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
    done = run_sandbox(script + "\n", "--db", str(kept_db), "--files", str(files))
    out, err = done.stdout, done.stderr
    assert done.returncode == 0, err
    assert "NETWORK" not in err and "Traceback" not in out + err
    assert "Le vrai bot" in out  # the banner, in both languages
    assert "/mytickets" in out.split("[contact] > /help", 1)[1]  # the bot answered /help
    for expected in (
        f"files the bot sends, and yours: {files}",
        "[1] Services juridiques",
        f"sandbox: no such file: {tmp_path / 'missing.pdf'}",
        "· sending statuts.pdf (1300 bytes, application/pdf)",
        "── to Lead (legal) · Louis Roy ──",
        "» 📎 statuts.pdf",  # the file, as the lead receives it
        "[1] 🙋 Prendre la demande",
        "(notice) Vous avez pris la demande",
        "── to Contact · Camille Gagnon ──",
        "prise en charge par Louis Roy",
    ):
        assert expected in out, expected
    # One copy, shown where the contact sent it, where the lead received it, and in the legal
    # team's topic (bot/tools/sandbox_group.py).
    assert SAVED.findall(out) == [str(files / "statuts.pdf")] * 3
    assert (files / "statuts.pdf").read_bytes() == attachment.read_bytes()
    filed = re.search(r"Demande envoyée : (CREC-\d{4}-\d{4})", out)
    assert filed is not None
    assert filed.group(1) in out.split("── to Lead (legal) · Louis Roy ──", 1)[1]
    assert "\x1b[" not in out  # NO_COLOR, and not a terminal anyway


def test_an_existing_database_is_not_seeded_again(kept_db: Path) -> None:
    with sqlite3.connect(kept_db) as conn:
        before = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()
    done = run_sandbox("/as admin\n/federations\n", "--db", str(kept_db))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{STARTING}\ndemo data ready (from {kept_db})\n")
    assert f"files the bot sends, and yours: {kept_db.parent / 'sandbox-files'}" in done.stdout
    with sqlite3.connect(kept_db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone() == (len(PERSONAS),)
        assert conn.execute("SELECT COUNT(*) FROM federations").fetchone() == (len(FEDERATIONS),)
        assert conn.execute("SELECT COUNT(*) FROM tickets").fetchone() == before


def test_an_unusable_files_folder_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    done = run_sandbox("/quit\n", "--files", str(tmp_path / "a-file" / "inside"))
    assert done.returncode == 2
    assert done.stderr.startswith("intake-bot sandbox: cannot create the folder")
    assert "Traceback" not in done.stderr and done.stdout == ""


# -- the same demo figures from one run to the next -------------------------------------------


async def _stats_after_seeding(path: Path, now: datetime, month: str) -> list[str]:
    """Seed a fresh database as the sandbox would at `now`, then the admin's `/stats month`."""
    async with running(sandbox_settings(path)) as emulator:
        sandbox = Sandbox(emulator, io.StringIO(), color=False, files=SavedFiles(path.parent))
        assert await sandbox.seed(now) is not None
        replies = await sandbox.persons["admin"].send(f"/stats {month}")
    return [r.text for r in replies]


async def test_two_seedings_the_same_day_give_the_same_stats_for_last_month(
    tmp_path: Path,
) -> None:
    """Colleagues comparing notes see the same figures of a past month: the demo history is
    anchored to the day, not to the minute the sandbox starts."""
    day = datetime.now(MONTREAL).date() - timedelta(days=1)  # a whole day, in the past
    morning = datetime(day.year, day.month, day.day, 8, 5, tzinfo=MONTREAL)
    evening = datetime(day.year, day.month, day.day, 21, 50, tzinfo=MONTREAL)
    month = (day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    first = await _stats_after_seeding(tmp_path / "morning.db", morning, month)
    second = await _stats_after_seeding(tmp_path / "evening.db", evening, month)
    assert "Demandes reçues" in first[0]
    assert first == second


# -- a piped script: no flood limit unless one is set -----------------------------------------

TOO_SHORT = "L'objet est trop court"
FLOOD = "Vous envoyez beaucoup de messages"


def test_a_piped_script_of_many_inputs_a_minute_gets_every_answer(kept_db: Path) -> None:
    """The newcomer's trial: a form with mistakes, piped: past 30 inputs in the first minute,
    the answers went on disappearing. The sandbox has no flood limit, and says so."""
    script = "\n".join(["/new", "1", *["x"] * 40, "/cancel"]) + "\n"
    done = run_sandbox(script, "--db", str(kept_db))
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "No flood limit here (RATE_LIMIT_PER_MINUTE=0 unless you set it)" in out  # the banner
    assert out.count(TOO_SHORT) == 40  # each mistake answered, none dropped
    assert FLOOD not in out
    assert "[contact] > /cancel\n» " in out  # and the last input too


def test_a_flood_limit_set_by_the_person_is_kept_and_shown(kept_db: Path) -> None:
    script = "\n".join(["/new", "1", *["x"] * 8]) + "\n"
    done = run_sandbox(script, "--db", str(kept_db), env={"RATE_LIMIT_PER_MINUTE": "5"})
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "Flood limit: 5 inputs a minute per person (RATE_LIMIT_PER_MINUTE)" in out
    assert FLOOD in out and out.count(TOO_SHORT) == 3  # /new, 1, three subjects: then slowed


def test_sandbox_settings_turn_the_flood_limit_off_unless_it_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RATE_LIMIT_PER_MINUTE", raising=False)
    assert sandbox_settings(tmp_path / "a.db").rate_limit_per_minute == 0
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "30")
    assert sandbox_settings(tmp_path / "a.db").rate_limit_per_minute == 30


# -- photos are saved like documents ----------------------------------------------------------


async def test_photos_are_saved_and_the_lead_sees_the_same_path(
    kept_db: Path, tmp_path: Path
) -> None:
    picture = tmp_path / "facade.jpg"
    picture.write_bytes(b"\xff\xd8\xff" + b"jpeg" * 50)
    (tmp_path / "notes.txt").write_text("pas une image")
    folder = tmp_path / "files"
    out = io.StringIO()
    async with running(sandbox_settings(kept_db)) as emulator:
        sandbox = Sandbox(emulator, out, color=False, files=SavedFiles(folder))
        await sandbox.seed()
        sandbox.forget_all()
        for line in (
            "/new",
            "1",  # Services juridiques
            "Photo de la façade",
            "Voici la façade de l'immeuble visé par la mise en demeure.",
            "1",  # Normale
            "1",  # Pas de date souhaitée
            f"/photo {tmp_path / 'notes.txt'}",
            "/photo",  # a plain one
            f"/photo {picture}",
            "1",  # Continuer
            "1",  # ✅ Envoyer la demande
        ):
            await sandbox.handle(line)
    text = out.getvalue()
    assert "sandbox: notes.txt is not an image (text/plain); /file sends it as a document" in text
    assert "· sending the photo photo.png (" in text
    plain, mine = folder / "photo.png", folder / "facade.jpg"
    assert plain.read_bytes() == placeholder_png() and placeholder_png().startswith(PNG)
    assert mine.read_bytes() == picture.read_bytes()
    # Each saved once: the path where the contact sent it, then where the lead received it.
    assert SAVED.findall(text) == [str(plain), str(mine), str(plain), str(mine)]
    to_lead = text.split("── to Lead (legal) · Louis Roy ──", 1)[1]
    assert "» 🖼 photo.png" in to_lead and "» 🖼 facade.jpg" in to_lead
    assert "photo-file" not in text  # no bare file id


def test_the_manager_reads_the_envelope_gets_the_statement_pdf_and_approves_the_estimate(
    tmp_path: Path,
) -> None:
    """The manager persona of a fresh demo (its chat has the approval card of the seeding):
    an envelope of the year, last month's statement saved as a PDF where the transcript says,
    and the estimate left awaiting their approval, approved by pressing its button's number."""
    month = last_month()
    kept_db = tmp_path / "demo.db"
    script = f"/as manager\n/envelope\n/statement {month}\n1\n"
    done = run_sandbox(script, "--db", str(kept_db), cwd=tmp_path)
    out, err = done.stdout, done.stderr
    assert done.returncode == 0, err
    assert "Traceback" not in out + err
    assert "/as manager [fcaq]" in out  # the banner names the persona
    assert "you are now Manager (CQCH) · Marc-André Dubé" in out
    envelope = out.split("[manager] > /envelope", 1)[1].split("[manager] > /statement", 1)[0]
    assert "120" in envelope and "CQCH" in envelope, envelope
    saved = [Path(p) for p in SAVED.findall(out)]
    assert len(saved) == 1, out
    assert saved[0].suffix == ".pdf" and saved[0].read_bytes().startswith(b"%PDF")
    with sqlite3.connect(kept_db) as conn:
        pending = conn.execute("SELECT COUNT(*) FROM estimates WHERE status = 'pending'")
        assert pending.fetchone() == (0,), out
        states = conn.execute(
            "SELECT t.status FROM tickets t JOIN estimates e ON e.ticket_id = t.id"
            " WHERE e.decided_by = ? ORDER BY e.decided_at DESC LIMIT 1",
            (BY_KEY["manager"].user_id,),
        ).fetchone()
    assert states == ("in_progress",)
