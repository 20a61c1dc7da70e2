"""`intake-bot sandbox`: the whole bot in a terminal chat, without Telegram.

The sandbox is not a second bot. It starts the very application of `intake-bot run` through
`bot.emulator` (the in-process Bot API), seeds demo data by typing the admin's own commands and
opening the invite links it answers, then lets you chat as the contact, a lead or the admin.
What the bot sends to the other personas appears under their name, so a whole workflow (file a
request, get notified, take it) can be played on one machine. Nothing here opens a socket.
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
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Protocol, TextIO, TypeAlias

from pydantic import SecretStr

from bot.config import Settings, SettingsError, load_settings
from bot.emulator import Emulator, FakeBotAPI, Person, Sent
from bot.logs import setup_logging
from storage import people

TOKEN = "sandbox:token"  # noqa: S105 - a placeholder: the fake Bot API never checks it

# Telegram user ids of the demo personas: far from the fake bot's own id (7_000_000_001) and
# fixed, so that `--db PATH` finds the same people again in a later session.
ADMIN = 9_000_000_001
CONTACT = 9_000_000_002
LEAD_BASE = 9_000_000_010
FEDERATION = ("DEMO", "Fédération de démonstration")
# Every default field but `other`, which the bot routes to the admins.
LEAD_FIELDS = ("legal", "hr", "marketing", "events", "web", "it")

_START_TOKEN = re.compile(r"[?&]start=([A-Za-z0-9_-]+)")

Button: TypeAlias = tuple[str, str]


@dataclass(frozen=True)
class Persona:
    """Someone you can play: a demo user of the bot."""

    key: str  # what `/as` takes and the prompt shows: "contact", "lead legal", "admin"
    title: str  # how headers name them: "Lead (legal)"
    user_id: int
    first_name: str
    last_name: str
    field: str | None = None  # the field code of a lead

    @property
    def label(self) -> str:
        """Title and name, e.g. `Lead (legal) · Louis Roy`."""
        return f"{self.title} · {self.first_name} {self.last_name}"


_LEAD_NAMES = {
    "legal": ("Louis", "Roy"),
    "hr": ("Héloïse", "Côté"),
    "marketing": ("Mathieu", "Bouchard"),
    "events": ("Émilie", "Gauthier"),
    "web": ("William", "Morin"),
    "it": ("Isabelle", "Lavoie"),
}

PERSONAS: tuple[Persona, ...] = (
    Persona("contact", "Contact", CONTACT, "Camille", "Gagnon"),
    *(
        Persona(f"lead {code}", f"Lead ({code})", LEAD_BASE + n, *_LEAD_NAMES[code], field=code)
        for n, code in enumerate(LEAD_FIELDS, start=1)
    ),
    Persona("admin", "Admin", ADMIN, "Claire", "Tremblay"),
)
BY_KEY = {p.key: p for p in PERSONAS}

BANNER = """\
intake-bot sandbox — the real bot, in this terminal, without Telegram.
                     Le vrai bot, dans ce terminal, sans Telegram.
You play / vous jouez : contact (Camille, DEMO) · lead <field> · admin (Claire)
  /as contact | /as lead [legal|hr|marketing|events|web|it] | /as admin
                   switch persona / changer de personnage
  1, 2, 3…         press that button of the latest message / touche ce bouton
  /file PATH       send a document / envoie un document    (/photo: a photo)
  /sandbox         this help / cette aide      /quit or Ctrl-D: leave / quitter
Anything else goes to the bot: try /new, /help. Tout le reste va au bot : /new, /help."""

HELP_MORE = """\
  \\TEXT            send TEXT as is (e.g. \\1, or \\/quit to the bot) / envoie TEXT tel quel
  /sticker         send a sticker (to see how the bot answers) / envoie un autocollant
  /as              list the personas / liste les personnages"""


# -- showing HTML in a terminal -----------------------------------------------------------------

_SGR = {  # Select Graphic Rendition codes per Telegram tag
    "b": "1", "strong": "1", "i": "3", "em": "3", "u": "4", "ins": "4",
    "s": "9", "strike": "9", "del": "9", "code": "36", "pre": "36",
    "a": "4;34", "tg-spoiler": "7", "blockquote": "3",
}  # fmt: skip
# Without colours, the markers that keep code and spoilers recognisable.
_PLAIN = {"code": "`", "tg-spoiler": "||"}
_QUOTE = "│ "
_PRE = "    "


class _TerminalHtml(HTMLParser):
    """Telegram HTML → terminal text: ANSI styles (or plain markers), indented blocks."""

    def __init__(self, color: bool) -> None:
        super().__init__(convert_charrefs=True)  # entities arrive decoded in handle_data
        self.color = color
        self.parts: list[str] = []
        self.styles: list[str] = []  # SGR codes in force, outermost first
        self.open_tags: list[str] = []
        self.blocks: list[str] = []  # line prefixes of the blockquotes and pre blocks we are in
        self.links: list[tuple[str | None, list[str]]] = []  # href and text of open <a>
        self.break_due = False  # a block just ended: what follows starts a new line
        self.line_start = True  # nothing written yet on the current line

    # Blocks: Telegram shows <blockquote> and <pre> on their own lines; we indent them.

    def _new_line(self) -> None:
        self.parts.append("\n" + "".join(self.blocks))
        self.line_start = True

    def _write(self, text: str) -> None:
        if not text:
            return
        if self.break_due:
            self.break_due = False
            if not text.startswith("\n"):
                self._new_line()
        self.parts.append(text.replace("\n", "\n" + "".join(self.blocks)))
        self.line_start = text.endswith("\n")
        for _href, words in self.links:
            words.append(text)

    def _style(self, code: str | None) -> None:
        if not self.color:
            return
        if code is not None:
            self.styles.append(code)
            self.parts.append(f"\x1b[{code}m")
        else:  # one style ends: reset, then restore the outer ones
            self.styles.pop()
            self.parts.append("\x1b[0m" + "".join(f"\x1b[{c}m" for c in self.styles))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "span" and ("class", "tg-spoiler") in attrs:
            tag = "tg-spoiler"
        if tag not in _SGR:  # tg-emoji and the like: their text is all there is to show
            return
        self.open_tags.append(tag)
        if tag in {"blockquote", "pre"}:
            if not self.line_start:
                self._new_line()
            self.break_due = False
            prefix = _QUOTE if tag == "blockquote" else _PRE
            self.blocks.append(prefix)
            self.parts.append(prefix)
        elif tag == "a":
            self.links.append((dict(attrs).get("href"), []))
        if not self.color and tag in _PLAIN and "pre" not in self.open_tags[:-1]:
            self.parts.append(_PLAIN[tag])
        self._style(_SGR[tag])

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self.open_tags and self.open_tags[-1] == "tg-spoiler":
            tag = "tg-spoiler"
        if tag not in _SGR or tag not in self.open_tags:
            return
        while self.open_tags:  # closes what Telegram would have refused to leave open, too
            current = self.open_tags.pop()
            self._style(None)
            if not self.color and current in _PLAIN and "pre" not in self.open_tags:
                self.parts.append(_PLAIN[current])
            if current in {"blockquote", "pre"}:
                self.blocks.pop()
                self.break_due = True
            elif current == "a":
                href, words = self.links.pop()
                if href and href != "".join(words):
                    self.parts.append(f" ({href})")
            if current == tag:
                break

    def handle_data(self, data: str) -> None:
        self._write(data)

    def result(self) -> str:
        self.close()
        text = "".join(self.parts)
        if self.color and self.styles:
            text += "\x1b[0m"
        return text


def render_html(html: str, *, color: bool) -> str:
    """A bot message's HTML as a terminal shows it, entities decoded.

    With `color`, bold is ANSI bold, <code> cyan, and so on; without, <code> goes between
    backticks. Blockquotes and <pre> are indented blocks; a link is followed by its address.
    """
    renderer = _TerminalHtml(color)
    renderer.feed(html)
    return renderer.result()


# -- the sandbox ------------------------------------------------------------------------------


class SandboxError(Exception):
    """The sandbox cannot go on (e.g. the demo data could not be created)."""


@dataclass
class _Shown:
    html: str
    buttons: tuple[Button, ...]


class Sandbox:
    """The personas, what they type, and what the bot answered them, on a terminal."""

    def __init__(self, emulator: Emulator, out: TextIO, *, color: bool) -> None:
        self.emulator = emulator
        self.out = out
        self.color = color
        self.persons: dict[str, Person] = {
            p.key: emulator.person(p.user_id, p.first_name, last_name=p.last_name)
            for p in PERSONAS
        }
        self.current = BY_KEY["contact"]
        self._shown: dict[tuple[int, int], _Shown] = {}
        # When each persona last received something: `/as lead` goes to the latest one.
        self._ticks = itertools.count(1)
        self._last_received: dict[str, int] = {}

    @property
    def person(self) -> Person:
        """The persona being played, as the emulator knows them."""
        return self.persons[self.current.key]

    def prompt(self) -> str:
        """What the input line starts with: the persona being played."""
        return self._paint("1;35", f"[{self.current.key}]") + " > "

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
        """One message of the bot: its text, rendered, then its buttons, numbered."""
        body = render_html(sent.html, color=self.color)
        if sent.kind != "text":
            icon = {"document": "📎", "photo": "🖼"}.get(sent.kind, "•")
            body = f"{icon} {sent.kind} {sent.file_id}" + (f"\n{body}" if body else "")
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

    def forget_all(self) -> None:
        """Take everything in the chats as already shown (the seeding is not the session)."""
        for persona in PERSONAS:
            self._fresh(persona)
        self._last_received.clear()

    # -- demo data ------------------------------------------------------------------------------

    async def _registered(self, persona: Persona) -> bool:
        async with self.emulator.services.db.read() as conn:
            return await people.get_user(conn, persona.user_id) is not None

    async def _open_invite(self, command: str, persona: Persona) -> None:
        """The admin asks for an invite; the persona opens the link from the admin's reply."""
        admin = self.persons["admin"]
        replies = await admin.send(command)
        found = next((m for r in replies if (m := _START_TOKEN.search(r.text))), None)
        if found is None:
            said = replies[-1].text if replies else "nothing"
            raise SandboxError(f"{command!r} gave no invite link; the bot said: {said}")
        await self.persons[persona.key].send(f"/start {found.group(1)}")
        if not await self._registered(persona):
            raise SandboxError(f"{persona.label} could not register with the invite of {command}")

    async def seed(self) -> bool:
        """Create the demo data through the bot's own commands; False if it was already there.

        The admin (an `ADMIN_IDS` user) types `/start`, `/addfederation`, `/invite` and
        `/invitelead`; each persona opens the link from the admin's reply with `/start`, as in
        Telegram. Only people missing from the database are invited, so `--db` may be reused.
        """
        missing = [p for p in PERSONAS if not await self._registered(p)]
        if not missing:
            return False
        admin = self.persons["admin"]
        await admin.send("/start")
        if BY_KEY["contact"] in missing:
            await admin.send("/addfederation {} {}".format(*FEDERATION))  # answers "exists" if so
            await self._open_invite(f"/invite {FEDERATION[0]}", BY_KEY["contact"])
        for persona in missing:
            if persona.field is not None:
                await self._open_invite(f"/invitelead {persona.field}", persona)
        return True

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
        elif command == "/as":
            self.switch(rest)
        elif command == "/file":
            await self.send_file(rest)
        elif command == "/photo":
            await self.person.send_photo()
        elif command == "/sticker":
            await self.person.send_sticker()
        elif re.fullmatch(r"[0-9]{1,3}", text):
            await self.press(int(text))
        else:
            await self.person.send(text)
        self.show_new()
        return True

    def help(self) -> None:
        """The banner, the rarer commands, and the bot's command menu of this persona."""
        self.say(BANNER)
        self.say(HELP_MORE)
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
            persona_or_none = BY_KEY.get(key) or BY_KEY.get(f"lead {key}")
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
        """`/file PATH`: send that file as a document (the fake needs its name, size, type)."""
        if not argument:
            self.error("usage: /file PATH")
            return
        try:
            name, size, mime = await asyncio.to_thread(describe_file, argument)
        except FileNotFoundError as exc:
            self.error(f"no such file: {exc}")
            return
        self.note(f"sending {name} ({size} bytes, {mime})")
        await self.person.send_document(file_name=name, mime_type=mime, size=size)


def describe_file(argument: str) -> tuple[str, int, str]:
    """Name, size and MIME type of the file at `argument` (quotes and ~ allowed)."""
    path = Path(argument.strip("'\"")).expanduser()
    if not path.is_file():
        raise FileNotFoundError(str(path))
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return path.name, path.stat().st_size, mime


# -- reading lines ----------------------------------------------------------------------------


class LineSource(Protocol):
    """Where typed lines come from."""

    async def read(self, prompt: str) -> str | None:
        """The next line (without its newline), or None at the end of input."""
        ...


class PipedLines:
    """Lines from a pipe or a file, echoed after the prompt so the transcript reads as a chat."""

    def __init__(self, stream: TextIO, out: TextIO) -> None:
        self.stream = stream
        self.out = out

    async def read(self, prompt: str) -> str | None:
        """The next line of the stream, or None at its end."""
        # In a thread: the bot's event loop keeps running while we wait for input.
        line = await asyncio.to_thread(self.stream.readline)
        if not line:
            return None
        line = line.rstrip("\r\n")
        print(f"{prompt}{line}", file=self.out, flush=True)
        return line


class TerminalLines:
    """Lines typed in a terminal, with line editing and history (prompt_toolkit)."""

    def __init__(self) -> None:
        from prompt_toolkit import PromptSession  # noqa: PLC0415 - only for a terminal
        from prompt_toolkit.history import InMemoryHistory  # noqa: PLC0415

        self.session: PromptSession[str] = PromptSession(history=InMemoryHistory())

    async def read(self, prompt: str) -> str | None:
        """The next line typed; Ctrl-C clears the line, Ctrl-D ends the session."""
        from prompt_toolkit.formatted_text import ANSI  # noqa: PLC0415

        try:
            return await self.session.prompt_async(ANSI(prompt))
        except KeyboardInterrupt:
            return ""
        except EOFError:
            return None


def _line_source(out: TextIO) -> LineSource:
    if sys.stdin.isatty() and sys.stdout.isatty():
        try:
            return TerminalLines()
        except ImportError:  # prompt_toolkit missing: plain lines still work
            pass
    return PipedLines(sys.stdin, out)


def use_color(stream: TextIO) -> bool:
    """Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


# -- the command ------------------------------------------------------------------------------


def sandbox_settings(db_path: Path) -> Settings:
    """The settings of `intake-bot run`, with a placeholder token and the demo admin."""
    overrides: dict[str, Any] = {
        "telegram_bot_token": SecretStr(TOKEN),
        "database_path": db_path,
        "admin_ids": frozenset({ADMIN}),
        "_env_file": None,  # a real .env (with a real token) has nothing to do here
    }
    return load_settings(**overrides)


async def session(db_path: Path, source: LineSource, out: TextIO, *, color: bool) -> int:
    """Run the bot on `db_path`, seed it, then chat until /quit or the end of input."""
    settings = sandbox_settings(db_path)
    async with Emulator.running(settings, api=FakeBotAPI()) as emulator:
        sandbox = Sandbox(emulator, out, color=color)
        seeded = await sandbox.seed()
        await emulator.deliver()  # whatever an earlier session of this database left queued
        sandbox.forget_all()
        sandbox.say("demo data ready" if seeded else f"demo data ready (from {db_path})")
        sandbox.say(BANNER)
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


def main(db_path: str | None) -> int:
    """`intake-bot sandbox [--db PATH]`: a temporary demo database unless PATH is given."""
    out = sys.stdout
    # Warnings and errors of the bot still reach stderr, as with `intake-bot run`.
    setup_logging([TOKEN], level=logging.WARNING)
    try:
        with contextlib.ExitStack() as stack:
            if db_path is None:
                folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="intake-sandbox-"))
                path = Path(folder) / "sandbox.db"
            else:
                path = Path(db_path).expanduser()
            return asyncio.run(session(path, _line_source(out), out, color=use_color(out)))
    except (SettingsError, SandboxError) as exc:
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
