"""Where `intake-bot sandbox` keeps the files: every file the bot sends (the chart, the
spreadsheets) and every file a persona sends with `/file`, one copy each, under its own name."""

from __future__ import annotations

import itertools
import re
import shutil
import unicodedata
from pathlib import Path

from bot.tools.fakeapi import Sent

# The name PTB gives bytes sent without a file name (the bot's chart): no name of ours.
_UNNAMED = "application.octet-stream"
_MAGIC = ((b"\x89PNG\r\n\x1a\n", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"%PDF", ".pdf"),
          (b"PK\x03\x04", ".zip"))  # fmt: skip
_NAME_MAX = 60


def _slug(text: str) -> str:
    """`📈 Demandes reçues — mars 2026` → `demandes-recues-mars-2026`, at most 60 letters."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    words = re.findall(r"[a-z0-9]+", plain)
    slug = ""
    for word in words:
        if len(slug) + len(word) + 1 > _NAME_MAX:
            break
        slug = f"{slug}-{word}" if slug else word
    return slug


def file_name(sent: Sent) -> str:
    """A name to save a file of the bot under: its own (the spreadsheets'), else one made
    from its caption, with the extension of its content (the chart: `.png`)."""
    given = Path(sent.file_name or "").name.lstrip(".")
    given = re.sub(r'[\x00-\x1f/\\:*?"<>|]', "_", given)  # nothing a file system refuses
    if given and given != _UNNAMED and Path(given).suffix:
        return given
    content = sent.content or b""
    extension = next((ext for magic, ext in _MAGIC if content.startswith(magic)), ".bin")
    caption = sent.text.split("\n", 1)[0] if sent.html else ""
    return (_slug(caption) or f"{sent.kind}-{sent.message_id}") + extension


class SavedFiles:
    """The folder where the sandbox keeps every file the bot sends and every file a persona
    sends, one copy each (a file the bot passes on is the one already saved)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._by_file_id: dict[str, Path] = {}

    def _free(self, name: str) -> Path:
        """A path for `name` in the folder that takes nothing away: `x.xlsx`, `x-2.xlsx`…"""
        self.folder.mkdir(parents=True, exist_ok=True)
        candidate = self.folder / name
        stem, suffix = candidate.stem, candidate.suffix
        for n in itertools.count(2):
            if not candidate.exists():
                return candidate
            candidate = self.folder / f"{stem}-{n}{suffix}"
        raise AssertionError("unreachable")

    def keep(self, sent: Sent) -> Path | None:
        """Where the file of a message is saved (saved now if new); None for no file or a
        file the sandbox never had the bytes of (the fake photo of `/photo`)."""
        if sent.file_id is None:
            return None
        known = self._by_file_id.get(sent.file_id)
        if known is not None or sent.content is None:
            return known
        path = self._free(file_name(sent))
        path.write_bytes(sent.content)
        self._by_file_id[sent.file_id] = path
        return path

    def copy(self, file_id: str, source: Path) -> Path:
        """Keep a copy of a file a persona sends, under the Telegram file id it was sent as."""
        path = self._free(source.name)
        shutil.copyfile(source, path)
        self._by_file_id[file_id] = path
        return path
