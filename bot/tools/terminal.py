"""The terminal of `intake-bot sandbox` (bot/tools/sandbox.py): Telegram's HTML as a terminal shows
it (ANSI styles or plain markers, indented blocks), and the lines typed or piped in.
"""

from __future__ import annotations

import asyncio
import os
import sys
from html.parser import HTMLParser
from typing import Protocol, TextIO

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


def line_source(out: TextIO) -> LineSource:
    if sys.stdin.isatty() and sys.stdout.isatty():
        try:
            return TerminalLines()
        except ImportError:  # prompt_toolkit missing: plain lines still work
            pass
    return PipedLines(sys.stdin, out)


def use_color(stream: TextIO) -> bool:
    """Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")
