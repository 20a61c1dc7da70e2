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
from bot.tools.fakeforum import Group, Topic


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

    def group(self, chat_id: int, title: str, **state: Any) -> TeamGroup:
        """A group the bot was added to (a forum supergroup where it is an administrator that
        may manage topics, unless `state` says otherwise: bot/tools/fakeforum.py's `Group`)."""
        self.api.add_group(chat_id, title, **state)
        return TeamGroup(self, chat_id, title)

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


@dataclass
class TeamGroup:
    """A forum supergroup the bot was added to (bot/tools/fakeforum.py), and its people."""

    emulator: Emulator
    chat_id: int
    title: str

    @property
    def state(self) -> Group:
        """Telegram's side of the group: its type, the bot's rights, its topics."""
        return self.emulator.api.groups[self.chat_id]

    @property
    def chat(self) -> list[Sent]:
        """Every message of the bot in the group (all topics), oldest first."""
        return self.emulator.api.chats[self.chat_id]

    def topics(self, start: str = "") -> list[Topic]:
        """The live topics whose name starts with `start`."""
        return self.emulator.api.topic_named(self.chat_id, start)

    def in_topic(self, thread_id: int) -> list[Sent]:
        """The bot's messages in one topic, oldest first."""
        return [m for m in self.chat if m.thread_id == thread_id]

    def member(self, person: Person, status: str = "member") -> GroupMember:
        """`person` in this group (member, administrator or creator of the group)."""
        self.state.members[person.id] = status
        return GroupMember(person, self)

    async def service_messages(self) -> int:
        """Hand the bot the service messages Telegram posted in groups (topic created, closed…)."""
        api = self.emulator.api
        updates, api.service_updates = api.service_updates, []
        for update in updates:
            await self.emulator.feed(update)
        return len(updates)


@dataclass
class GroupMember:
    """Someone writing in a team's group: in a topic, replying, pressing the buttons there."""

    person: Person
    group: TeamGroup

    def _message(self, thread_id: int | None, reply_to: Sent | None, **content: Any) -> Any:
        api = self.group.emulator.api
        message: dict[str, Any] = {
            "message_id": api.next_message_id(self.group.chat_id),
            "date": int(time.time()),
            "chat": api.chat_json(self.group.chat_id),
            "from": self.person._user(),
            **content,
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
            # As Telegram does: a message in a topic answers the topic's first message, unless
            # it is a reply to another one.
            topic = api.groups[self.group.chat_id].topics.get(thread_id)
            message["reply_to_message"] = {
                "message_id": thread_id,
                "date": int(time.time()),
                "chat": message["chat"],
                "message_thread_id": thread_id,
                "is_topic_message": True,
                "forum_topic_created": {
                    "name": topic.name if topic else "?",
                    "icon_color": 7322096,
                },
            }
        if reply_to is not None:
            message["reply_to_message"] = api._message_json(reply_to)
        return message

    async def send(
        self, text: str, thread_id: int | None = None, reply_to: Sent | None = None
    ) -> list[Sent]:
        """Write in the group (in a topic); what the bot posted in the group meanwhile."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if reply_to is not None and thread_id is None:
            thread_id = reply_to.thread_id
        before = len(self.group.chat)
        await self.group.emulator.feed({"message": self._message(thread_id, reply_to, **content)})
        return self.group.chat[before:]

    async def click(self, label: str, message: Sent) -> list[Sent]:
        """Press a button of a message of the bot in the group."""
        data = message.button(label)
        if data is None:
            raise LookupError(f"no button {label!r} in message {message.message_id}")
        return await self.press(data, message)

    async def press(self, data: str, message: Sent) -> list[Sent]:
        """Press any callback data (forged ones included) on a message in the group."""
        emulator = self.group.emulator
        query_id = emulator.next_query_id()
        query = {
            "id": query_id,
            "from": self.person._user(),
            "chat_instance": str(self.group.chat_id),
            "data": data,
            "message": emulator.api._message_json(message),
        }
        before = len(self.group.chat)
        await emulator.feed({"callback_query": query})
        self.person.last_answer = emulator.api.answers.get(query_id)
        return self.group.chat[before:]
