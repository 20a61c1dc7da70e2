"""An in-process Telegram: the real application against the fake Bot API (bot/tools/fakeapi.py),
and people who use it. `Person` sends messages and presses buttons by their label. The tests and
`intake-bot sandbox` both use it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from telegram import Update

from bot import runner
from bot.app import IntakeApp, build_application, services_of
from bot.clock import Clock
from bot.config import Settings
from bot.delivery.inbox import DurableQueue
from bot.tools.fakeapi import Answer, FakeBotAPI, Sent


class Emulator:
    """The bot, running in-process against the fake Bot API, and the people talking to it."""

    def __init__(self, app: IntakeApp, api: FakeBotAPI) -> None:
        self.app = app
        self.api = api
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)

    @classmethod
    @asynccontextmanager
    async def running(
        cls, settings: Settings, *, clock: Clock | None = None, api: FakeBotAPI | None = None
    ) -> AsyncIterator[Emulator]:
        """Start the real application (as `intake-bot run` does, minus polling), then stop it."""
        api = api or FakeBotAPI()
        app = build_application(settings, request=api, clock=clock, outbox_worker=False)
        async with runner.running(app):
            yield cls(app, api)

    @property
    def services(self) -> Any:
        return services_of(self.app)

    def person(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "fr",
    ) -> Person:
        self.api.known_chats.add(user_id)
        return Person(self, user_id, first_name, last_name, username, language_code)

    async def feed(self, update: dict[str, Any]) -> None:
        """Hand one update to the application, then deliver what it queued."""
        if "update_id" not in update:
            update = self.stamp(update)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        await self.deliver()

    async def receive(self, update: dict[str, Any]) -> None:
        """Hand an update over the way Telegram does: through the (durable) update queue,
        then wait until it is handled and deliver what it queued. The update keeps its id."""
        queue = self.app.update_queue
        assert isinstance(queue, DurableQueue)
        await queue.put_json(Update.de_json(update, self.app.bot), update)  # as the webhook does
        await queue.join()
        await self.deliver()

    def stamp(self, update: dict[str, Any]) -> dict[str, Any]:
        """An update with a fresh `update_id`, as Telegram numbers them."""
        return {"update_id": next(self._update_ids), **update}

    async def deliver(self) -> int:
        """Run the outbox until nothing is due."""
        outbox = self.services.outbox
        return await outbox.drain() if outbox is not None else 0

    def next_query_id(self) -> str:
        return str(next(self._query_ids))


@dataclass
class Person:
    """Someone using the bot: sends messages and presses buttons, sees their chat."""

    emulator: Emulator
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "fr"
    last_answer: Answer | None = field(default=None, repr=False)
    written: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def chat(self) -> list[Sent]:
        """Every message of the bot in this person's chat, oldest first."""
        return self.emulator.api.chats[self.id]

    @property
    def last(self) -> Sent:
        return self.chat[-1]

    def texts(self) -> list[str]:
        return [m.text for m in self.chat]

    def _user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                user[key] = getattr(self, key)
        return user

    def _message(self, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": self.emulator.api.next_message_id(self.id),
            "date": int(time.time()),
            "chat": {"id": self.id, "type": "private", "first_name": self.first_name},
            "from": self._user(),
            **content,
        }
        self.written.append(message)
        return message

    async def edit(self, text: str, message: dict[str, Any] | None = None) -> list[Sent]:
        """Edit a message this person wrote (the last one by default)."""
        original = message or self.written[-1]
        key = "caption" if "caption" in original or "document" in original else "text"
        edited = {**original, key: text, "edit_date": int(time.time())}
        edited.pop("entities", None)
        before = len(self.chat)
        await self.emulator.feed({"edited_message": edited})
        return self.chat[before:]

    async def _send(self, reply_to: Sent | None = None, **content: Any) -> list[Sent]:
        if reply_to is not None:  # a Telegram reply (the quoted message)
            content["reply_to_message"] = self.emulator.api._message_json(reply_to)
        before = len(self.chat)
        await self.emulator.feed({"message": self._message(**content)})
        return self.chat[before:]

    async def send(self, text: str, reply_to: Sent | None = None) -> list[Sent]:
        """Type a message (or a command); what the bot answered in this chat."""
        content: dict[str, Any] = {"text": text, "reply_to": reply_to}
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self._send(**content)

    async def send_document(
        self,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        size: int = 20_000,
        caption: str | None = None,
        reply_to: Sent | None = None,
    ) -> list[Sent]:
        file_id, unique = self.emulator.api.new_file_id("doc")
        document = {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": size,
        }
        extra = {"caption": caption} if caption else {}
        return await self._send(reply_to, document=document, **extra)

    async def send_photo(
        self, caption: str | None = None, reply_to: Sent | None = None
    ) -> list[Sent]:
        file_id, unique = self.emulator.api.new_file_id("photo")
        sizes = [
            {
                "file_id": f"{file_id}-s",
                "file_unique_id": f"{unique}-s",
                "width": 90,
                "height": 90,
            },
            {"file_id": file_id, "file_unique_id": unique, "width": 1280, "height": 960},
        ]
        extra = {"caption": caption} if caption else {}
        return await self._send(reply_to, photo=sizes, **extra)

    async def send_sticker(self) -> list[Sent]:
        file_id, unique = self.emulator.api.new_file_id("sticker")
        sticker = {
            "file_id": file_id,
            "file_unique_id": unique,
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
        return await self._send(sticker=sticker)

    async def send_location(self) -> list[Sent]:
        return await self._send(location={"latitude": 46.81, "longitude": -71.21})

    def find_button(self, label: str) -> tuple[Sent, str]:
        """The newest message with a button labelled `label`, and its data."""
        for message in reversed(self.chat):
            data = message.button(label)
            if data is not None:
                return message, data
        raise LookupError(f"no button {label!r} in {self.first_name}'s chat")

    async def click(self, label: str, message: Sent | None = None) -> list[Sent]:
        """Press the button labelled `label` (in `message`, or the newest that has one)."""
        if message is None:
            message, data = self.find_button(label)
        else:
            found = message.button(label)
            if found is None:
                raise LookupError(f"no button {label!r} in message {message.message_id}")
            data = found
        return await self.press(data, message)

    def callback(self, data: str, message: Sent | None = None) -> dict[str, Any]:
        """The update of a button press (not sent): on `message`, or the newest one."""
        target = message or (self.chat[-1] if self.chat else None)
        query: dict[str, Any] = {
            "id": self.emulator.next_query_id(),
            "from": self._user(),
            "chat_instance": str(self.id),
            "data": data,
        }
        if target is not None:
            query["message"] = self.emulator.api._message_json(target)
        return {"callback_query": query}

    async def press(self, data: str, message: Sent | None = None) -> list[Sent]:
        """Send a button press with any callback data (forged ones included)."""
        update = self.callback(data, message)
        before = len(self.chat)
        await self.emulator.feed(update)
        self.last_answer = self.emulator.api.answers.get(update["callback_query"]["id"])
        return self.chat[before:]
