"""The bot as a process, against a fake Telegram over HTTP: killed at random moments while
contacts file requests, stopped with SIGTERM, fed every update twice. Nothing is lost or
doubled, and the database stays sound."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bot.tools.emulator import Person
from bot.webhook import SECRET_HEADER
from tests.conftest import ADMIN_ID, TOKEN
from tests.fake_telegram import SETTLE_TIMEOUT, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
TOKEN_LINK = re.compile(r"start=([A-Za-z0-9_-]+)")
REFERENCE = re.compile(r"CREC-\d{4}-\d{4}")


# A start is ready when it said so in its log and its first getUpdates has come. On this
# 2-core machine that takes 2.5 to 3 s alone, 3 to 8 s while other tests run: waits on the bot
# are derived from the slowest start seen, never a fixed guess (`BotProcess.patience`).
READY_TIMEOUT = 90.0
KILL_AFTER = (0.1, 1.5)  # a kill lands this long (uniform) after the start is ready
# The load needs 20 to 24 restarts, alone or beside other tests; it is bounded by restarts, as
# a slower machine only makes each one longer.
MAX_KILLS = 200


class BotProcess:
    """`python -m bot run` against the fake Telegram; started, killed and restarted at will."""

    def __init__(self, telegram: FakeTelegram, folder: Path) -> None:
        self.telegram = telegram
        self.env = {
            **os.environ,
            **telegram.bot_env(),
            "DATABASE_PATH": str(folder / "intake.db"),
            "ADMIN_IDS": str(ADMIN_ID),
            "RATE_LIMIT_PER_MINUTE": "0",
            "MAX_REQUESTS_PER_DAY": "0",
            "PYTHONPATH": str(ROOT),
        }
        self.folder = folder
        self.log = (folder / "bot.log").open("ab", buffering=0)
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.args = ["run"]
        self.start_ups: dict[int, float] = {}  # start number → seconds until it was ready
        self._started_at = 0.0
        self._polls_before = 0

    def start(self) -> None:
        self._started_at = time.monotonic()
        self._polls_before = self.telegram.polls  # the killed process polls no more
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", *self.args],
            env=self.env,
            cwd=self.folder,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.starts += 1

    async def ready(self, timeout: float = READY_TIMEOUT) -> None:  # noqa: ASYNC109
        """Wait until the latest start has got as far as taking updates: it logged that it
        started, and (polling) its first getUpdates has come. Notes how long the start took."""
        path = self.folder / "bot.log"
        deadline = time.monotonic() + timeout
        polls = "--webhook" not in self.args
        while not (
            path.read_bytes().count(b"bot.app: bot @") >= self.starts
            and (self.telegram.polls > self._polls_before or not polls)
        ):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not start within {timeout} s")
            await asyncio.sleep(0.02)
        self.start_ups.setdefault(self.starts, time.monotonic() - self._started_at)

    def patience(self) -> float:
        """How long anything the bot must do may take while it is killed again and again:
        four restarts at the slowest start seen (at least the fake's usual 15 s). An update
        sent just after a kill waits for one restart; the others are margin for the machine."""
        slowest = max(self.start_ups.values(), default=0.0)
        return max(SETTLE_TIMEOUT, 4 * (slowest + KILL_AFTER[1]))

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


@contextmanager
def running_bot(telegram: FakeTelegram, folder: Path) -> Iterator[BotProcess]:
    bot = BotProcess(telegram, folder)
    bot.start()
    try:
        yield bot
    finally:
        bot.close()
    # The process logged for real (stderr, redacted); the token is in no line of it.
    assert TOKEN.encode() not in (folder / "bot.log").read_bytes()


async def _file_requests(telegram: FakeTelegram, person: Person, subjects: list[str]) -> None:
    """A contact files requests as a person would, however often the bot dies meanwhile:
    answer the question on screen; when nothing comes, ask again where things stand."""
    done: set[str] = set()
    marker = 0
    for _ in range(400):
        if len(done) == len(subjects):
            return
        subject = next(s for s in subjects if s not in done)
        # Give the bot (paced at about one message a second per chat) time to answer.
        with contextlib.suppress(TimeoutError):
            await telegram.until(
                lambda seen=marker: (  # type: ignore[misc]
                    telegram.sent_to(person.id)
                    and telegram.sent_to(person.id)[-1].message_id > seen
                ),
                timeout=4,
            )
        await asyncio.sleep(0.3)  # the rest of the answer (a question can follow a notice)
        chat = telegram.sent_to(person.id)
        newest = chat[-1] if chat and chat[-1].message_id > marker else None
        text = newest.text if newest else ""
        marker = chat[-1].message_id if chat else 0
        if "Demande envoyée" in text or (subject in text and "Vos demandes" in text):
            done.add(subject)
            await person.send("/new")
        elif newest and newest.button("Services juridiques"):
            await person.click("Services juridiques", newest)
        elif "étape 2 de 6" in text:
            await person.send(subject)
        elif "étape 3 de 6" in text:
            await person.send(f"Description détaillée de la demande « {subject} ».")
        elif newest and newest.button("Normale"):
            await person.click("Normale", newest)
        elif newest and newest.button("Pas de date"):
            await person.click("Pas de date", newest)
        elif newest and newest.button("Continuer"):
            await person.click("Continuer", newest)
        elif newest and newest.button("Envoyer"):
            await person.click("Envoyer", newest)
            if not any("Demande envoyée" in m.text for m in telegram.sent_to(person.id)[-2:]):
                await person.send("/mytickets")  # sent or not? look, as a person would
        else:  # nothing new (the bot died, or an answer was lost): where are we?
            await person.send("/mytickets" if "Envoyer" in text else "/new")
    raise AssertionError(f"{person.first_name} could not file {subjects} (done: {done})")


async def _link(telegram: FakeTelegram, admin: Person, command: str) -> str:
    """Send an invite command; the token of the link in the bot's answer to it."""
    before = len(telegram.sent_to(admin.id))
    await admin.send(command)
    await telegram.until(
        lambda: any(TOKEN_LINK.search(m.text) for m in telegram.sent_to(admin.id)[before:]),
        timeout=30,
        what="an invite link",
    )
    answer = next(m for m in telegram.sent_to(admin.id)[before:] if TOKEN_LINK.search(m.text))
    return str(TOKEN_LINK.findall(answer.text)[-1])


async def _setup(telegram: FakeTelegram, contacts: int) -> tuple[Person, list[Person]]:
    admin = telegram.person(ADMIN_ID, "Claire")
    await admin.send("/start")
    await admin.send("/addfederation CQCH Confédération québécoise des coopératives")
    jean = telegram.person(3001, "Jean")
    await jean.send(f"/start {await _link(telegram, admin, '/invitelead legal')}")
    people = []
    for n in range(contacts):
        person = telegram.person(2000 + n, f"Contact{n}")
        await person.send(f"/start {await _link(telegram, admin, '/invite CQCH')}")
        people.append(person)
    return jean, people


def _tickets(folder: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(folder / "intake.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return [(r[0], r[1]) for r in conn.execute("SELECT reference, subject FROM tickets")]


async def test_killed_twenty_times_while_contacts_file_requests(tmp_path: Path) -> None:
    rng = random.Random(20261128)
    with FakeTelegram(limits=None) as telegram, running_bot(telegram, tmp_path) as bot:
        await bot.ready()  # the first start, timed as the others are
        jean, contacts = await _setup(telegram, contacts=6)
        plan = {p.id: [f"Demande {p.id}-{n}" for n in range(3)] for p in contacts}
        load = asyncio.gather(*(_file_requests(telegram, p, plan[p.id]) for p in contacts))
        kills = 0
        last_to_jean: set[int] = set()  # the last message to Jean before each kill
        while kills < 20 or not load.done():
            await bot.ready()  # each kill lands while the bot is at work
            telegram.settle_timeout = bot.patience()  # a person's send waits that long
            await asyncio.sleep(rng.uniform(*KILL_AFTER))
            bot.kill()
            kills += 1
            await telegram.drained()  # what the dead bot had sent is in the chats
            last_to_jean.add(max((m.message_id for m in telegram.sent_to(jean.id)), default=0))
            bot.start()
            assert kills <= MAX_KILLS, f"the load did not finish within {MAX_KILLS} restarts"
        await load
        tickets = _tickets(tmp_path)
        subjects = [subject for _, subject in tickets]
        wanted = [s for subjects_of in plan.values() for s in subjects_of]
        # Every request that was sent is a ticket, exactly once.
        assert sorted(subjects) == sorted(wanted)
        # Every lead notification is delivered (a duplicate only from an ambiguous send).
        references = [reference for reference, _ in tickets]
        await telegram.until(
            lambda: all(any(r in t for t in telegram.texts_to(jean.id)) for r in references),
            timeout=max(60, bot.patience()),
            what="every notification",
        )
        # A card comes again only when the bot was killed after sending it, before it could
        # note it as sent: the copy was then the last message Jean had from the killed bot.
        copies: dict[str, list[int]] = {}
        for card in telegram.sent_to(jean.id):
            if "Nouvelle" in card.text and (match := REFERENCE.search(card.text)):
                copies.setdefault(match.group(0), []).append(card.message_id)
        assert sorted(copies) == sorted(references)
        for reference, message_ids in copies.items():
            again = [m for m in message_ids[:-1] if m not in last_to_jean]
            assert not again, f"{reference} sent again though its first copy was not in doubt"
        await bot.ready()
        assert bot.terminate() == 0
        assert bot.starts >= 21 and kills >= 20
    assert _tickets(tmp_path)  # still sound after the last stop


async def test_sigterm_stops_cleanly_and_nothing_is_lost(tmp_path: Path) -> None:
    with FakeTelegram(limits=None) as telegram, running_bot(telegram, tmp_path) as bot:
        jean, (marie,) = await _setup(telegram, contacts=1)
        await _file_requests(telegram, marie, ["Avant l'arrêt"])
        started = time.monotonic()
        assert bot.terminate() == 0  # SIGTERM: exits 0
        assert time.monotonic() - started < 10
        with sqlite3.connect(tmp_path / "intake.db") as conn:
            pending = conn.execute("SELECT COUNT(*) FROM inbox WHERE handled_at IS NULL")
            assert pending.fetchone() == (0,)
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert any("Avant l'arrêt" in text for text in telegram.texts_to(jean.id))


async def test_sigterm_while_starting_up_exits_cleanly(tmp_path: Path) -> None:
    """SIGTERM while the bot is still starting (here: its first call to Telegram is slow),
    after the database is open and the inbox replayed: it exits 0, promptly."""
    with FakeTelegram(limits=None) as telegram, running_bot(telegram, tmp_path) as bot:
        await _setup(telegram, contacts=1)
        bot.kill()
        telegram.fail("deleteWebhook", delay=3)  # the start of polling hangs on Telegram
        bot.start()
        await telegram.until(lambda: not telegram.faults_waiting(), timeout=30, what="a start")
        started = time.monotonic()
        assert bot.terminate() == 0
        assert time.monotonic() - started < 10
    assert _tickets(tmp_path) == []  # the database is sound


async def test_webhook_mode_takes_updates_and_stops_cleanly(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    url, secret = "https://bot.example.org/telegram", "webhook-secret-for-the-test"
    with FakeTelegram(limits=None) as telegram:
        bot = BotProcess(telegram, tmp_path)
        bot.env |= {
            "WEBHOOK_URL": url,
            "WEBHOOK_SECRET": secret,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
        }
        bot.args = ["run", "--webhook"]
        bot.start()
        try:
            await bot.ready()
            assert telegram.webhook == (url, secret)  # told Telegram where to post
            telegram.person(ADMIN_ID, "Claire")  # a chat Telegram knows; the test posts for her
            update = {
                "update_id": 500,
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": {"id": ADMIN_ID, "type": "private", "first_name": "Claire"},
                    "from": {"id": ADMIN_ID, "is_bot": False, "first_name": "Claire"},
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                },
            }
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=10
            ) as web:
                wrong = await web.post("/telegram", json=update, headers={SECRET_HEADER: "nope"})
                right = await web.post("/telegram", json=update, headers={SECRET_HEADER: secret})
            assert (wrong.status_code, right.status_code) == (403, 200)
            await telegram.until(lambda: telegram.sent_to(ADMIN_ID), timeout=30, what="a reply")
            started = time.monotonic()
            assert bot.terminate() == 0
            assert time.monotonic() - started < 10
        finally:
            bot.close()
    assert TOKEN.encode() not in (tmp_path / "bot.log").read_bytes()
    with sqlite3.connect(tmp_path / "intake.db") as conn:
        assert conn.execute("SELECT update_id, handled_at IS NOT NULL FROM inbox").fetchall() == [
            (500, 1)
        ]


async def test_every_update_twice_and_the_shutdown_confirmation_lost(tmp_path: Path) -> None:
    with FakeTelegram(limits=None, redeliver=True, lose_shutdown_confirmation=True) as telegram:
        with running_bot(telegram, tmp_path) as bot:
            jean, (marie,) = await _setup(telegram, contacts=1)
            await _file_requests(telegram, marie, ["Deux fois chaque mise à jour"])
            assert bot.terminate() == 0
        # The next process gets the last updates again: still one of everything.
        with running_bot(telegram, tmp_path) as bot:
            await marie.send("/mytickets")
            await telegram.until(lambda: "Vos demandes" in telegram.texts_to(marie.id)[-1])
            assert bot.terminate() == 0
    with sqlite3.connect(tmp_path / "intake.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM tickets").fetchone() == (1,)
        events = conn.execute("SELECT kind, COUNT(*) FROM ticket_events GROUP BY kind").fetchall()
        assert dict(events) == {"created": 1}
        users = conn.execute("SELECT COUNT(*) FROM users").fetchone()
        assert users == (3,)
    cards = [t for t in telegram.texts_to(jean.id) if "Deux fois chaque mise à jour" in t]
    assert len(cards) == 1
