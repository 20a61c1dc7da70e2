"""`intake-bot sandbox`: the whole bot in a terminal chat, without Telegram.

The sandbox is not a second bot. It starts the very application of `intake-bot run` through
`bot.tools.emulator` (the in-process Bot API), creates demo data through the bot's own flows
(bot/tools/demo.py: federations, a lead per field with their rates, three months of requests), then
lets you chat as a contact, a lead or the admin. What the bot sends to the other personas
appears under their name, so a whole workflow (file a request, get notified, take it) can be
played on one machine. Every file the bot sends, and every file you send with `/file` or
`/photo`, is saved in a folder, and its path printed. No flood limit unless one is set (a
piped script types fast). Nothing here opens a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import mimetypes
import os
import re
import sys
import tempfile
import traceback
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO, TypeAlias

from pydantic import SecretStr

from bot.config import Settings, SettingsError, load_settings
from bot.logs import setup_logging
from bot.tools.demo import (
    ADMIN,
    BY_KEY,
    PERSONAS,
    Demo,
    DemoError,
    Persona,
    ReplayClock,
    Summary,
)
from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import FakeBotAPI, Sent
from bot.tools.sandbox_group import GROUP_HELP, GroupSeat
from bot.tools.sandbox_text import BANNER, HELP_MORE, STARTING, describe, limit_note
from bot.tools.savedfiles import SavedFiles, placeholder_png
from bot.tools.terminal import LineSource, line_source, render_html, use_color

TOKEN = "sandbox:token"  # noqa: S105 - a placeholder: the fake Bot API never checks it
FILES = "sandbox-files"  # the folder of saved files, beside the database by default

Button: TypeAlias = tuple[str, str]


# -- the sandbox ------------------------------------------------------------------------------


class SandboxError(Exception):
    """The sandbox cannot go on (e.g. no folder to save the files in)."""


@dataclass
class _Shown:
    html: str
    buttons: tuple[Button, ...]


class Sandbox:
    """The personas, what they type, and what the bot answered them, on a terminal."""

    def __init__(self, emulator: Emulator, out: TextIO, *, color: bool, files: SavedFiles) -> None:
        self.emulator = emulator
        self.out = out
        self.color = color
        self.files = files
        self.persons: dict[str, Person] = {
            p.key: emulator.person(p.user_id, p.first_name, last_name=p.last_name)
            for p in PERSONAS
        }
        self.current = BY_KEY["contact"]
        self._shown: dict[tuple[int, int], _Shown] = {}
        # When each persona last received something: `/as lead` goes to the latest one.
        self._ticks = itertools.count(1)
        self._last_received: dict[str, int] = {}
        self.group = GroupSeat(emulator, self.persons)  # the team's group (sandbox_group.py)

    @property
    def person(self) -> Person:
        """The persona being played, as the emulator knows them."""
        return self.persons[self.current.key]

    def prompt(self) -> str:
        """What the input line starts with: the persona being played."""
        who = self.group.label if self.group.active else self.current.key
        return self._paint("1;35", f"[{who}]") + " > "

    # -- output ---------------------------------------------------------------------------------

    def _paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def say(self, text: str = "") -> None:
        """Print a line of the sandbox itself (flushed: piped transcripts stay in order)."""
        print(text, file=self.out, flush=True)

    def note(self, text: str) -> None:
        """A remark of the sandbox, told apart from the bot's messages."""
        self.say(self._paint("2", f"· {text}"))

    def error(self, text: str) -> None:
        """A mistake of whoever is typing (not of the bot)."""
        self.say(self._paint("31", f"sandbox: {text}"))

    def _buttons_lines(self, sent: Sent) -> Iterator[str]:
        rows = (sent.reply_markup or {}).get("inline_keyboard", [])
        number = itertools.count(1)
        for row in rows:
            cells = []
            for button in row:
                label = button.get("text", "")
                if "url" in button:
                    label += f" ({button['url']})"
                cells.append(self._paint("1;36", f"[{next(number)}]") + f" {label}")
            yield "    " + "   ".join(cells)

    def show_message(self, sent: Sent, *, edited: bool = False) -> None:
        """One message of the bot: its text, rendered, then its buttons, numbered; a file is
        saved (once) and its path printed."""
        body = render_html(sent.html, color=self.color)
        saved = self.files.keep(sent)
        if sent.kind != "text":
            icon = {"document": "📎", "photo": "🖼"}.get(sent.kind, "•")
            what = saved.name if saved else f"{sent.kind} {sent.file_id}"
            body = f"{icon} {what}" + (f"\n{body}" if body else "")
        if saved is not None:
            body += f"\n📎 saved: {saved}"
        if edited:
            body = self._paint("2", "(edited) ") + body
        # "»" marks where each message starts: several often arrive at once.
        for n, line in enumerate(body.split("\n")):
            self.say(f"{'» ' if n == 0 else '  '}{line}".rstrip())
        for line in self._buttons_lines(sent):
            self.say(line)

    def _fresh(self, persona: Persona) -> list[tuple[Sent, bool]]:
        """Messages of the bot in that persona's chat not shown yet, or changed since (edits)."""
        found: list[tuple[Sent, bool]] = []
        for sent in self.persons[persona.key].chat:
            key = (sent.chat_id, sent.message_id)
            now = _Shown(sent.html, tuple(sent.buttons))
            before = self._shown.get(key)
            self._shown[key] = now
            if before is None:
                found.append((sent, False))
            elif before != now:
                # Buttons taken off a message once pressed are what Telegram shows silently too.
                if before.html == now.html and not now.buttons:
                    continue
                found.append((sent, True))
        return found

    def show_new(self) -> None:
        """Everything the bot sent or edited since last time: yours first, then the others'."""
        others = [p for p in PERSONAS if p != self.current]
        for persona in (self.current, *others):
            fresh = self._fresh(persona)
            if not fresh:
                continue
            self._last_received[persona.key] = next(self._ticks)
            if persona != self.current:
                self.say(self._paint("1;33", f"── to {persona.label} ──"))
            for sent, edited in fresh:
                self.show_message(sent, edited=edited)
        self.group.show_new(self.say, self._paint, self.show_message)

    def forget_all(self) -> None:
        """Take everything in the chats as already shown (the seeding is not the session)."""
        for persona in PERSONAS:
            self._fresh(persona)
        self.group.fresh()
        self._last_received.clear()

    # -- demo data ------------------------------------------------------------------------------

    async def seed(self, now: datetime | None = None) -> Summary | None:
        """Create the demo data through the bot's own flows (bot/tools/demo.py): the federations
        and the personas if missing, then, on a database without requests, three months of them.

        The summary of that history; None if the database had requests already (`--db`).
        The application must run on a `ReplayClock` (see `running`).
        """
        clock = self.emulator.services.clock
        if not isinstance(clock, ReplayClock):
            raise SandboxError("the sandbox's application needs a ReplayClock")
        return await Demo(self.emulator, self.persons, clock).seed(now)

    # -- commands -------------------------------------------------------------------------------

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False when the session should end."""
        text = line.strip()
        if not text:
            return True
        command, _, rest = text.partition(" ")
        rest = rest.strip()
        command = command.lower()
        if text.startswith("\\"):
            await self.person.send(text[1:])
        elif command == "/quit":
            return False
        elif command == "/sandbox":
            self.help()
        elif command == "/as" and rest.lower() == "group":  # their private chat is yours too
            self.current = self.group.enter(self.note)
        elif command == "/as":
            self.group.active = False
            self.switch(rest)
        elif self.group.active and command not in {"/file", "/photo", "/sticker"}:
            await self.group.handle(text, self.say)
        elif command == "/file":
            await self.send_file(rest)
        elif command == "/photo":
            await self.send_photo(rest)
        elif command == "/sticker":
            await self.person.send_sticker()
        elif re.fullmatch(r"[0-9]{1,3}", text):
            await self.press(int(text))
        else:
            await self.person.send(text)
        self.show_new()
        return True

    def banner(self) -> str:
        """The first lines: who you can play, the sandbox's commands, the flood limit."""
        per_minute = self.emulator.services.settings.rate_limit_per_minute
        return f"{BANNER}\n{limit_note(per_minute)}"

    def help(self) -> None:
        """The banner, the rarer commands, and the bot's command menu of this persona."""
        self.say(self.banner())
        self.say(HELP_MORE)
        self.say(GROUP_HELP)
        commands = self.emulator.api.commands
        menu = commands.get(f"chat:{self.current.user_id}:") or commands.get("default::") or []
        if menu:
            names = " ".join(f"/{name}" for name, _description in menu)
            self.say(f"Menu of {self.current.label}: {names}")

    def switch(self, wanted: str) -> None:
        """`/as contact|admin|lead [field]|<field>`: play someone else."""
        words = wanted.lower().split()
        if not words:
            for persona in PERSONAS:
                mark = "*" if persona == self.current else " "
                self.say(f" {mark} /as {persona.key:<15} {persona.label}")
            return
        if words[0] == "lead" and len(words) == 1:
            # The lead who last heard from the bot is the one you most likely want.
            leads = [p for p in PERSONAS if p.field is not None]
            persona = max(leads, key=lambda p: self._last_received.get(p.key, 0))
        else:
            key = " ".join(words)
            persona_or_none = (
                BY_KEY.get(key) or BY_KEY.get(f"lead {key}") or BY_KEY.get(f"contact {key}")
            )
            if persona_or_none is None:
                choices = ", ".join(p.key for p in PERSONAS)
                self.error(f"no persona {wanted!r}; choose one of: {choices}")
                return
            persona = persona_or_none
        self.current = persona
        self.note(f"you are now {persona.label}")
        latest = self._latest_with_buttons()
        if latest is not None:
            self.note("latest message with buttons in this chat:")
            self.show_message(latest)

    def _latest_with_buttons(self) -> Sent | None:
        return next((m for m in reversed(self.person.chat) if m.buttons), None)

    async def press(self, number: int) -> None:
        """Press button `number` of the latest message with buttons in this persona's chat."""
        message = self._latest_with_buttons()
        if message is None:
            self.error(f"no buttons in this chat; to send {number} as text, type \\{number}")
            return
        buttons = message.buttons
        if not 1 <= number <= len(buttons):
            self.error(f"the latest message has buttons 1 to {len(buttons)}")
            return
        label, data = buttons[number - 1]
        if not data:
            self.error(f"{label!r} is not a callback button")
            return
        await self.person.press(data, message)
        answer = self.person.last_answer
        if answer is not None and answer.text:
            kind = "alert" if answer.show_alert else "notice"
            self.say(self._paint("33", f"» ({kind}) {answer.text}"))

    async def send_file(self, argument: str) -> None:
        """`/file PATH`: send that file as a document (the fake needs its name, size, type),
        and keep a copy in the sandbox's folder, as the bot's files are."""
        if not argument:
            self.error("usage: /file PATH")
            return
        try:
            path, size, mime = await asyncio.to_thread(describe_file, argument)
        except FileNotFoundError as exc:
            self.error(f"no such file: {exc}")
            return
        self.note(f"sending {path.name} ({size} bytes, {mime})")
        person = self.person
        sent = len(person.written)
        await person.send_document(file_name=path.name, mime_type=mime, size=size)
        document = person.written[sent].get("document", {}) if len(person.written) > sent else {}
        if "file_id" in document:
            copy = await asyncio.to_thread(self.files.copy, document["file_id"], path)
            self.say(f"  📎 saved: {copy}")

    async def send_photo(self, argument: str) -> None:
        """`/photo [PATH]`: send a photo, that image or a plain green one, and keep a copy in
        the sandbox's folder, as for `/file`: the lead it reaches sees the same path."""
        if argument:
            try:
                path, _size, mime = await asyncio.to_thread(describe_file, argument)
            except FileNotFoundError as exc:
                self.error(f"no such file: {exc}")
                return
            if not mime.startswith("image/"):
                self.error(f"{path.name} is not an image ({mime}); /file sends it as a document")
                return
            name, content = path.name, await asyncio.to_thread(path.read_bytes)
        else:
            name, content = "photo.png", placeholder_png()
        self.note(f"sending the photo {name} ({len(content)} bytes)")
        person = self.person
        sent = len(person.written)
        await person.send_photo()
        sizes = person.written[sent].get("photo", []) if len(person.written) > sent else []
        file_ids = tuple(size["file_id"] for size in sizes)
        if file_ids:
            copy = await asyncio.to_thread(self.files.write, file_ids, name, content)
            self.say(f"  📎 saved: {copy}")


def describe_file(argument: str) -> tuple[Path, int, str]:
    """The file at `argument` (quotes and ~ allowed), its size and MIME type."""
    path = Path(argument.strip("'\"")).expanduser()
    if not path.is_file():
        raise FileNotFoundError(str(path))
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return path, path.stat().st_size, mime


# -- the command ------------------------------------------------------------------------------


def sandbox_settings(db_path: Path) -> Settings:
    """The settings of `intake-bot run`, with a placeholder token and the demo admin; no
    flood limit unless RATE_LIMIT_PER_MINUTE is set (a piped script would trip it)."""
    overrides: dict[str, Any] = {
        "telegram_bot_token": SecretStr(TOKEN),
        "database_path": db_path,
        "admin_ids": frozenset({ADMIN}),
        "_env_file": None,  # a real .env (with a real token) has nothing to do here
    }
    if not any(name.upper() == "RATE_LIMIT_PER_MINUTE" for name in os.environ):
        overrides["rate_limit_per_minute"] = 0
    return load_settings(**overrides)


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Emulator]:
    """The application of `intake-bot run` on the in-process Bot API, on a clock that the
    demo data can set in the past (bot/tools/demo.py) and that otherwise tells real time."""
    async with Emulator.running(settings, api=FakeBotAPI(), clock=ReplayClock()) as emulator:
        yield emulator


async def session(
    db_path: Path, source: LineSource, out: TextIO, *, color: bool, files: Path | None = None
) -> int:
    """Run the bot on `db_path`, seed it, then chat until /quit or the end of input.

    Files are saved in `files` (default: `sandbox-files` beside the database).
    """
    settings = sandbox_settings(db_path)
    folder = (files or db_path.parent / FILES).resolve()
    async with running(settings) as emulator:
        sandbox = Sandbox(emulator, out, color=color, files=SavedFiles(folder))
        sandbox.say(STARTING)
        now = datetime.now(UTC)
        summary = await sandbox.seed(now)
        await sandbox.group.link()  # the legal team's group: new legal requests open topics
        await emulator.deliver()  # whatever an earlier session of this database left queued
        sandbox.forget_all()
        today = now.astimezone(settings.tz).date()
        for said in describe(summary, today) if summary else [f"demo data ready (from {db_path})"]:
            sandbox.say(said)
        sandbox.say(f"files the bot sends, and yours: {folder}")
        sandbox.say(sandbox.banner())
        sandbox.say()
        while (line := await source.read(sandbox.prompt())) is not None:
            try:
                if not await sandbox.handle(line):
                    break
            except BrokenPipeError:  # nobody reads the output any more: stop
                raise
            except Exception:  # a bug of the bot or of the emulator: show it, keep the session
                traceback.print_exc()
    return 0


def files_folder(db_path: str | None, files: str | None) -> Path:
    """Where files are saved: `files`, else `sandbox-files` beside the database, or in the
    current folder for the temporary demo database (which goes away with its folder)."""
    if files is not None:
        folder = Path(files).expanduser()
    elif db_path is not None:
        folder = Path(db_path).expanduser().parent / FILES
    else:
        folder = Path(FILES)
    folder = folder.resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SandboxError(f"cannot create the folder {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise SandboxError(f"cannot write files in {folder}")
    return folder


def main(db_path: str | None, files: str | None = None) -> int:
    """`intake-bot sandbox [--db PATH] [--files DIR]`: a temporary demo database unless PATH
    is given; files saved in DIR (default: `sandbox-files` beside the database)."""
    out = sys.stdout
    # Warnings and errors of the bot still reach stderr, as with `intake-bot run`.
    setup_logging([TOKEN], level=logging.WARNING)
    try:
        folder = files_folder(db_path, files)
        with contextlib.ExitStack() as stack:
            if db_path is None:
                temporary = stack.enter_context(
                    tempfile.TemporaryDirectory(prefix="intake-sandbox-")
                )
                path = Path(temporary) / "sandbox.db"
            else:
                path = Path(db_path).expanduser()
            return asyncio.run(
                session(path, line_source(out), out, color=use_color(out), files=folder)
            )
    except (SettingsError, SandboxError, DemoError) as exc:
        print(f"intake-bot sandbox: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python's exit-time flush
        # of stdout from failing again (https://docs.python.org/3/library/signal.html#note-on-sigpipe).
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
