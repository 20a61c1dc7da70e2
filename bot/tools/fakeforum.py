"""Groups and forum topics for the fake Bot API (bot/tools/fakeapi.py mixes this in).

What Telegram does, as far as the bot relies on it:

- a group is a `group` or a `supergroup`; only a supergroup has topics (`is_forum`), turned on
  in its settings; the bot is a member or an administrator there, with or without the right to
  manage topics (`can_manage_topics`), as `getChatMember` says;
- `createForumTopic` (a name of 1 to 128 characters) works only in a forum supergroup where the
  bot is an administrator with that right, and answers the topic's `message_thread_id`; it also
  posts the service message `forum_topic_created` (its id is the thread's id). Closing,
  reopening, editing and deleting a topic work the same way; a closed topic takes no messages
  from members, but administrators (the bot) may still write there;
- a send with a `message_thread_id` that is not a live topic of the chat is refused with
  "Bad Request: message thread not found" (a deleted topic, or one that never was);
- at most 20 messages per minute in a group (a sliding minute here), beyond which Telegram
  answers 429 with `retry_after`.

The service messages the bot would receive are kept in `service_updates` (the emulator feeds
them when a test asks: bot/tools/emulator.py).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TOPIC_NAME_LIMIT = 128
GROUP_MESSAGES_PER_MINUTE = 20
THREAD_NOT_FOUND = "Bad Request: message thread not found"


class ForumError(Exception):
    """A refusal of Telegram (status, description, optional retry_after)."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


@dataclass
class Topic:
    thread_id: int
    name: str
    icon_color: int = 7322096
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False


@dataclass
class Group:
    """A group chat as Telegram holds it, and the bot's place in it."""

    chat_id: int
    title: str
    supergroup: bool = True
    is_forum: bool = True
    bot_status: str = "administrator"  # administrator, member, left
    can_manage_topics: bool = True
    members: dict[int, str] = field(default_factory=dict)  # user id → creator/administrator/…
    topics: dict[int, Topic] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return "supergroup" if self.supergroup else "group"

    def live_topics(self) -> list[Topic]:
        return [topic for topic in self.topics.values() if not topic.deleted]


class ForumMixin:
    """Groups, topics and the group flood limit, for `FakeBotAPI`."""

    known_chats: set[int]
    bot_id: int
    chats: dict[int, list[Any]]  # FakeBotAPI's messages per chat (`Sent`)

    def _init_forum(self) -> None:
        self.groups: dict[int, Group] = {}
        self.service_updates: list[dict[str, Any]] = []
        self.deleted_messages: list[Any] = []  # what went with deleted topics
        # The fake's own time, for the group flood limit (tests set the application's clock).
        self.clock: Callable[[], float] = time.monotonic
        self.group_limit: int | None = GROUP_MESSAGES_PER_MINUTE
        self._group_sends: dict[int, deque[float]] = defaultdict(deque)
        self.group_send_times: dict[int, list[float]] = defaultdict(list)

    # -- setting up -------------------------------------------------------------------------

    def add_group(self, chat_id: int, title: str, **state: Any) -> Group:
        """A group the bot was added to (negative id); `state` sets `Group`'s fields."""
        if chat_id >= 0:
            raise ValueError("a group's id is negative")
        group = self.groups[chat_id] = Group(chat_id, title, **state)
        self.known_chats.add(chat_id)
        return group

    def next_message_id(self, chat_id: int) -> int:
        raise NotImplementedError  # FakeBotAPI's

    def _group(self, params: dict[str, Any]) -> Group:
        group = self.groups.get(int(params["chat_id"]))
        if group is None:
            raise ForumError(400, "Bad Request: chat not found")
        return group

    # -- what sends in a group must respect -------------------------------------------------

    def check_group_send(self, chat_id: int, params: dict[str, Any]) -> int | None:
        """The thread a send goes to (None: the general one), after the group's checks."""
        group = self.groups.get(chat_id)
        raw = params.get("message_thread_id")
        if group is None:
            return None
        thread = int(raw) if raw is not None else None
        if thread is not None:
            topic = group.topics.get(thread)
            if not group.is_forum or topic is None or topic.deleted:
                raise ForumError(400, THREAD_NOT_FOUND)
        self._count(group)
        return thread

    def _count(self, group: Group) -> None:
        if self.group_limit is None:
            return
        now = self.clock()
        sends = self._group_sends[group.chat_id]
        while sends and sends[0] <= now - 60:
            sends.popleft()
        if len(sends) >= self.group_limit:
            wait = max(1, math.ceil(sends[0] + 60 - now))
            raise ForumError(429, f"Too Many Requests: retry after {wait}", wait)
        sends.append(now)
        self.group_send_times[group.chat_id].append(now)

    def chat_json(self, chat_id: int) -> dict[str, Any]:
        group = self.groups.get(chat_id)
        if group is None:
            return {"id": chat_id, "type": "private", "first_name": "Person"}
        chat: dict[str, Any] = {"id": chat_id, "type": group.type, "title": group.title}
        if group.supergroup and group.is_forum:
            chat["is_forum"] = True
        return chat

    # -- the Bot API ------------------------------------------------------------------------

    def _api_getChat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        if chat_id not in self.groups and chat_id not in self.known_chats:
            raise ForumError(400, "Bad Request: chat not found")
        return {**self.chat_json(chat_id), "accent_color_id": 0, "max_reaction_count": 11}

    def _api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group(params)
        user_id = int(params["user_id"])
        user = {"id": user_id, "is_bot": user_id == self.bot_id, "first_name": "Member"}
        bot = user_id == self.bot_id
        status = group.bot_status if bot else group.members.get(user_id, "left")
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "administrator":
            rights = ("can_manage_chat", "can_delete_messages", "can_restrict_members")
            member.update({right: True for right in rights})
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_video_chats": False,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                    "can_pin_messages": True,
                    "can_manage_topics": (
                        group.can_manage_topics if user_id == self.bot_id else True
                    ),
                }
            )
        elif status == "creator":
            member["is_anonymous"] = False
        elif status == "restricted":
            raise ForumError(400, "Bad Request: restricted members are not modelled")
        return member

    def _forum(self, params: dict[str, Any]) -> Group:
        """The group, if the bot may manage topics there (Telegram's errors otherwise)."""
        group = self._group(params)
        if not group.supergroup or not group.is_forum:
            raise ForumError(400, "Bad Request: the chat is not a forum")
        if group.bot_status != "administrator" or not group.can_manage_topics:
            raise ForumError(400, "Bad Request: not enough rights to manage topics")
        return group

    def _topic(self, group: Group, params: dict[str, Any]) -> Topic:
        topic = group.topics.get(int(params["message_thread_id"]))
        if topic is None or topic.deleted:
            raise ForumError(400, "Bad Request: TOPIC_ID_INVALID")
        return topic

    @staticmethod
    def _check_name(name: object) -> str:
        text = str(name or "")
        if not 1 <= len(text) <= TOPIC_NAME_LIMIT:
            raise ForumError(400, f"Bad Request: TOPIC_TITLE_{'INVALID' if text else 'EMPTY'}")
        return text

    def _service(self, group: Group, thread_id: int, message_id: int, **content: Any) -> None:
        self.service_updates.append(
            {
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": self.chat_json(group.chat_id),
                    "from": {"id": self.bot_id, "is_bot": True, "first_name": "Intake CREC"},
                    "message_thread_id": thread_id,
                    "is_topic_message": True,
                    **content,
                }
            }
        )

    def _api_createForumTopic(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self._forum(params)
        name = self._check_name(params.get("name"))
        self._count(group)  # the topic's first message is a service message of the group
        thread_id = self.next_message_id(group.chat_id)
        topic = Topic(
            thread_id,
            name,
            int(params.get("icon_color") or 7322096),
            params.get("icon_custom_emoji_id"),
        )
        group.topics[thread_id] = topic
        created = {"name": name, "icon_color": topic.icon_color}
        self._service(group, thread_id, thread_id, forum_topic_created=created)
        answer: dict[str, Any] = {"message_thread_id": thread_id, **created}
        if topic.icon_custom_emoji_id:
            answer["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
        return answer

    def _api_editForumTopic(self, params: dict[str, Any]) -> bool:
        group = self._forum(params)
        topic = self._topic(group, params)
        if params.get("name") is not None:
            topic.name = self._check_name(params["name"])
        if params.get("icon_custom_emoji_id") is not None:
            topic.icon_custom_emoji_id = str(params["icon_custom_emoji_id"]) or None
        return True

    def _api_closeForumTopic(self, params: dict[str, Any]) -> bool:
        group = self._forum(params)
        topic = self._topic(group, params)
        if topic.closed:
            raise ForumError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic.closed = True
        message_id = self.next_message_id(group.chat_id)
        self._service(group, topic.thread_id, message_id, forum_topic_closed={})
        return True

    def _api_reopenForumTopic(self, params: dict[str, Any]) -> bool:
        group = self._forum(params)
        topic = self._topic(group, params)
        if not topic.closed:
            raise ForumError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic.closed = False
        message_id = self.next_message_id(group.chat_id)
        self._service(group, topic.thread_id, message_id, forum_topic_reopened={})
        return True

    def _api_deleteForumTopic(self, params: dict[str, Any]) -> bool:
        group = self._forum(params)
        self.delete_topic(group.chat_id, self._topic(group, params).thread_id)
        return True

    # -- what a person in the group does to it ----------------------------------------------

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Someone deleted a topic in the group's interface: its messages go with it."""
        self.groups[chat_id].topics[thread_id].deleted = True
        self.deleted_messages.extend(m for m in self.chats[chat_id] if m.thread_id == thread_id)
        self.chats[chat_id] = [m for m in self.chats[chat_id] if m.thread_id != thread_id]

    def topic_named(self, chat_id: int, start: str) -> list[Topic]:
        """The live topics of a group whose name starts with `start`."""
        group = self.groups[chat_id]
        return [topic for topic in group.live_topics() if topic.name.startswith(start)]
