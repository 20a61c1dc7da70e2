"""The fake Bot API behind PTB's `BaseRequest`: Telegram answered in-process.

It answers the Bot API methods the bot uses, keeps each chat as a person would see it
(messages, edits, buttons), checks what Telegram checks (HTML, lengths, callback data) and
fails on demand (400, 403, 429 with `retry_after`, 5xx, timeouts). The people who use it are in
bot/tools/emulator.py; the tests and `intake-bot sandbox` both use it.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from bot.tools.fakeforum import ForumError, ForumMixin

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
    thread_id: int | None = None  # the forum topic of a group it was posted in

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


class FakeBotAPI(ForumMixin, BaseRequest):
    """Answers the Bot API in-process; records every call; can fail on demand. Groups and
    forum topics: bot/tools/fakeforum.py."""

    bot_id = BOT_ID

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
        self.lost_answers: set[str] = set()  # methods done, whose answer never comes back
        self._init_forum()

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
        except (_ApiError, ForumError) as exc:
            call.error = f"{exc.status}: {exc.description}"
            retry = getattr(exc, "retry_after", None)
            extra = {"retry_after": retry} if retry else None
            return exc.status, _error(exc.status, exc.description, extra)
        if method in self.lost_answers:  # done, but the answer is lost (as in a crash)
            self.lost_answers.discard(method)
            call.error = "answer lost"
            raise TimedOut("fake answer lost")
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

    def _store(self, sent: Sent, params: dict[str, Any]) -> dict[str, Any]:
        sent.thread_id = self.check_group_send(sent.chat_id, params)
        self.chats[sent.chat_id].append(sent)
        return self._message_json(sent)

    def _message_json(self, sent: Sent) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": self.chat_json(sent.chat_id),
            "from": self._api_getMe({}),
        }
        if sent.thread_id is not None:
            message["message_thread_id"] = sent.thread_id
            message["is_topic_message"] = True
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
        return self._store(sent, params)

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
        return self._store(sent, params)

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
