"""An in-process Telegram: a fake Bot API behind PTB's `BaseRequest`, and people who use it.

The fake answers the Bot API methods the bot uses, keeps each chat as a person would see it
(messages, edits, buttons), checks what Telegram checks (HTML, lengths, callback data) and
fails on demand (400, 403, 429 with `retry_after`, 5xx, timeouts). `Person` sends messages and
presses buttons by their label. The tests and `intake-bot sandbox` both use it.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from bot import runner
from bot.app import IntakeApp, build_application, services_of
from bot.clock import Clock
from bot.config import Settings
from bot.delivery.inbox import DurableQueue

BOT_ID = 7_000_000_001
BOT_USERNAME = "crec_intake_bot"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_ANSWER_LIMIT = 200
CALLBACK_DATA_LIMIT = 64

_ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-spoiler",
    "span",
    "tg-emoji",
}
_TOKEN = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z-]*)((?:\s+[a-zA-Z-]+(?:=\"[^\"<>]*\")?)*)\s*>"
    r"|&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);"
    r"|[<>&]"
)
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class HtmlError(ValueError):
    """Text that Telegram would refuse with "can't parse entities"."""


def html_to_text(text: str) -> str:
    """The text a person sees for an HTML message; HtmlError where Telegram would refuse it."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        out.append(text[pos : match.start()])
        pos = match.end()
        closing, tag, _attrs, entity = match.group(1), match.group(2), match.group(3), match[4]
        if tag:
            tag = tag.lower()
            if tag not in _ALLOWED_TAGS:
                raise HtmlError(f"unsupported tag <{tag}>")
            if closing:
                if not stack or stack.pop() != tag:
                    raise HtmlError(f"unexpected end tag </{tag}>")
            else:
                stack.append(tag)
        elif entity:
            if entity.startswith("#x"):
                out.append(chr(int(entity[2:], 16)))
            elif entity.startswith("#"):
                out.append(chr(int(entity[1:])))
            else:
                out.append(_ENTITIES[entity])
        else:
            raise HtmlError(f"unescaped {match.group(0)!r} at {match.start()}")
    if stack:
        raise HtmlError(f"unclosed <{stack[-1]}>")
    out.append(text[pos:])
    return "".join(out)


@dataclass
class Sent:
    """A message of the bot, as it stands in a chat now (edits applied)."""

    chat_id: int
    message_id: int
    kind: str  # text, document, photo
    html: str
    reply_markup: dict[str, Any] | None = None
    file_id: str | None = None
    edits: int = 0
    file_name: str | None = None  # a file the bot uploaded: its name and bytes
    content: bytes | None = None

    @property
    def text(self) -> str:
        """What a person reads (tags removed, entities decoded)."""
        return html_to_text(self.html)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    def button(self, label: str) -> str | None:
        """The callback data of the first button whose label contains `label`."""
        wanted = label.casefold()
        return next((data for text, data in self.buttons if wanted in text.casefold()), None)


@dataclass(frozen=True)
class Upload:
    """A file the bot sent as bytes (an InputFile): a multipart part, not a parameter."""

    file_name: str
    content: bytes


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    error: str | None = None


@dataclass
class Failure:
    method: str | None
    chat_id: int | None
    status: int
    description: str
    retry_after: int | None
    timeout: bool
    times: int


@dataclass
class Answer:
    """An answer to a button press (the toast or alert a person sees)."""

    text: str | None
    show_alert: bool


class FakeBotAPI(BaseRequest):
    """Answers the Bot API in-process; records every call; can fail on demand."""

    def __init__(self, *, known_chats_only: bool = True) -> None:
        self.calls: list[Call] = []
        self.chats: dict[int, list[Sent]] = defaultdict(list)
        self.answers: dict[str, Answer] = {}
        self.commands: dict[str, list[tuple[str, str]]] = {}
        self.known_chats: set[int] = set()
        self.known_chats_only = known_chats_only
        self._failures: list[Failure] = []
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1)
        )
        self._file_ids = itertools.count(1)

    # -- BaseRequest ------------------------------------------------------------------------

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        # A file sent as bytes (InputFile) travels as a multipart part, not as a parameter.
        for name, (file_name, content, _) in (
            request_data.multipart_data if request_data else {}
        ).items():
            data = content if isinstance(content, bytes) else content.read()
            params[name] = Upload(file_name, data)
        return self.answer(api_method, params)

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, bytes]:
        """One Bot API call answered as Telegram would: (HTTP status, JSON body).

        Records the call and applies `fail()` (TimedOut for `fail(timeout=True)`). The fake
        Telegram HTTP server of the tests (tests/fake_telegram.py) answers through this.
        """
        call = Call(method, params)
        self.calls.append(call)
        failure = self._take_failure(method, params.get("chat_id"))
        if failure is not None:
            if failure.timeout:
                call.error = "timeout"
                raise TimedOut("fake timeout")
            call.error = str(failure.status)
            extra = {"retry_after": failure.retry_after} if failure.retry_after else None
            return failure.status, _error(failure.status, failure.description, extra)
        try:
            result = self._answer(method, params)
        except _ApiError as exc:
            call.error = f"{exc.status}: {exc.description}"
            return exc.status, _error(exc.status, exc.description)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # -- failing on demand ------------------------------------------------------------------

    def fail(
        self,
        method: str | None = None,
        *,
        chat_id: int | None = None,
        status: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
        timeout: bool = False,
        times: int = 1,
    ) -> None:
        """Make the next `times` matching calls fail (method None: any method)."""
        if status == 429 and description == "Internal Server Error":
            description = f"Too Many Requests: retry after {retry_after}"
        if status == 403 and description == "Internal Server Error":
            description = "Forbidden: bot was blocked by the user"
        self._failures.append(
            Failure(method, chat_id, status, description, retry_after, timeout, times)
        )

    def _take_failure(self, method: str, chat_id: object) -> Failure | None:
        for failure in self._failures:
            if failure.method not in (None, method):
                continue
            if failure.chat_id is not None and failure.chat_id != chat_id:
                continue
            failure.times -= 1
            if failure.times <= 0:
                self._failures.remove(failure)
            return failure
        return None

    # -- what the fake Telegram does --------------------------------------------------------

    def next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids[chat_id])

    def new_file_id(self, prefix: str) -> tuple[str, str]:
        n = next(self._file_ids)
        return f"{prefix}-file-{n}", f"{prefix}-unique-{n}"

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            raise _ApiError(404, "Not Found: method not found")
        return handler(params)

    def _api_getMe(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Intake CREC",
            "username": BOT_USERNAME,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        scope = params.get("scope") or {"type": "default"}
        key = f"{scope.get('type')}:{scope.get('chat_id', '')}:{params.get('language_code', '')}"
        self.commands[key] = [(c["command"], c["description"]) for c in params["commands"]]
        for command, description in self.commands[key]:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command) or not 1 <= len(description) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        return True

    def _api_deleteMyCommands(self, _: dict[str, Any]) -> bool:
        return True

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        text = params.get("text")
        if text is not None and len(text) > CALLBACK_ANSWER_LIMIT:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.answers[str(params["callback_query_id"])] = Answer(
            text, bool(params.get("show_alert"))
        )
        return True

    def _chat(self, params: dict[str, Any]) -> int:
        chat_id = int(params["chat_id"])
        if self.known_chats_only and chat_id not in self.known_chats:
            raise _ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _check_markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise _ApiError(400, "Bad Request: text buttons are unallowed")
        return dict(markup)

    def _check_text(self, text: str, parse_mode: str | None, limit: int) -> str:
        try:
            plain = html_to_text(text) if parse_mode == "HTML" else text
        except HtmlError as exc:
            raise _ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if not plain.strip() and limit == TEXT_LIMIT:
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(plain.encode("utf-16-le")) // 2 > limit:
            raise _ApiError(400, "Bad Request: message is too long")
        return text if parse_mode == "HTML" else _escape(text)

    def _store(self, sent: Sent) -> dict[str, Any]:
        self.chats[sent.chat_id].append(sent)
        return self._message_json(sent)

    def _message_json(self, sent: Sent) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": {"id": sent.chat_id, "type": "private", "first_name": "Person"},
            "from": self._api_getMe({}),
        }
        if sent.kind == "text":
            message["text"] = html_to_text(sent.html)
        else:
            message["caption"] = html_to_text(sent.html)
        if sent.kind == "document":
            message["document"] = {"file_id": sent.file_id, "file_unique_id": f"u{sent.file_id}"}
        if sent.kind == "photo":
            message["photo"] = [
                {
                    "file_id": sent.file_id,
                    "file_unique_id": f"u{sent.file_id}",
                    "width": 1,
                    "height": 1,
                }
            ]
        if sent.reply_markup:
            message["reply_markup"] = sent.reply_markup
        return message

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        html = self._check_text(str(params["text"]), params.get("parse_mode"), TEXT_LIMIT)
        markup = self._check_markup(params)
        sent = Sent(chat_id, self.next_message_id(chat_id), "text", html, markup)
        return self._store(sent)

    def _send_file(self, params: dict[str, Any], kind: str) -> dict[str, Any]:
        chat_id = self._chat(params)
        caption = str(params.get("caption") or "")
        html = (
            self._check_text(caption, params.get("parse_mode"), CAPTION_LIMIT) if caption else ""
        )
        file_id = params.get(kind)
        upload = file_id if isinstance(file_id, Upload) else None
        if upload is not None:
            file_id = self.new_file_id(kind)[0]
        if not isinstance(file_id, str) or not file_id:
            raise _ApiError(400, "Bad Request: wrong file identifier")
        sent = Sent(
            chat_id, self.next_message_id(chat_id), kind, html, self._check_markup(params), file_id
        )
        if upload is not None:
            sent.file_name, sent.content = upload.file_name, upload.content
        return self._store(sent)

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_file(params, "document")

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_file(params, "photo")

    def _find(self, params: dict[str, Any]) -> Sent:
        chat_id = int(params["chat_id"])
        message_id = int(params["message_id"])
        for sent in self.chats.get(chat_id, []):
            if sent.message_id == message_id:
                return sent
        raise _ApiError(400, "Bad Request: message to edit not found")

    def _edit(self, params: dict[str, Any], part: str | None) -> dict[str, Any]:
        """Edit a sent message's text, caption (`part`) or only its buttons (None)."""
        sent = self._find(params)
        html = sent.html
        if part is not None:
            if (part == "text") != (sent.kind == "text"):
                raise _ApiError(400, f"Bad Request: there is no {part} in the message to edit")
            limit = TEXT_LIMIT if part == "text" else CAPTION_LIMIT
            html = self._check_text(str(params.get(part) or ""), params.get("parse_mode"), limit)
        markup = self._check_markup(params)
        if html == sent.html and markup == sent.reply_markup:
            raise _ApiError(400, "Bad Request: message is not modified")
        sent.html, sent.reply_markup, sent.edits = html, markup, sent.edits + 1
        return self._message_json(sent)

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edit(params, "text")

    def _api_editMessageCaption(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edit(params, "caption")

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edit(params, None)

    def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params["file_id"])
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_path": f"documents/{file_id}",
        }

    # -- reading ----------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return json.dumps(body).encode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- people -----------------------------------------------------------------------------------


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
