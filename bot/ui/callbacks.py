"""Callback data: short, prefixed, and parsed here only.

`scope:action[:arg...]`, at most 64 bytes (Telegram's limit). What a button says is never
trusted: handlers re-check rights against the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
MAX_ID = 2**63 - 1  # the largest SQLite INTEGER
_PART = re.compile(r"^[A-Za-z0-9_\-]{1,24}$")

# Scopes
FORM = "f"
TICKET = "t"
LANGUAGE = "lang"
MENU = "m"
QUEUE = "q"
PART = "p"  # requests across several fields: p:<action>:<draft or ticket id>[:<field id>]
APPROVAL = "e"  # an approver's buttons on an estimate: e:ok|no|ask:<estimate id>
# (and the lead's e:drop:<refused estimate id>, e:ans:<question message id>)


@dataclass(frozen=True)
class Callback:
    scope: str
    action: str
    args: tuple[str, ...] = ()

    def int_arg(self, index: int = 0) -> int | None:
        """Argument `index` as a positive int, or None if absent or malformed (or past what
        SQLite stores: a forged 24-digit id is no id)."""
        if index >= len(self.args) or not self.args[index].isdigit():
            return None
        number = int(self.args[index])
        return number if number <= MAX_ID else None


def pack(scope: str, action: str, *args: object) -> str:
    """Build callback data; raises ValueError if it would not be valid."""
    parts = [scope, action, *(str(a) for a in args)]
    if not all(_PART.match(p) for p in parts):
        raise ValueError(f"invalid callback part in {parts!r}")
    data = ":".join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError("callback data over 64 bytes")
    return data


def unpack(data: str | None) -> Callback | None:
    """Parse callback data; None for anything we did not make."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) < 2 or not all(_PART.match(p) for p in parts):
        return None
    return Callback(parts[0], parts[1], tuple(parts[2:]))
