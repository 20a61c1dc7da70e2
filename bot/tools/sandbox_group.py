"""The team's group in the sandbox (issue 15): « Équipe juridique », a forum supergroup where
the bot is an administrator that manages topics, linked to legal services once the demo data is
there. Each new legal request then opens its topic, with its card, its events and the
conversation with the contact.

`/as group` plays the legal lead in that group: what you type goes to the current topic (a note
for the team, or, after « Écrire au contact », to the contact), `/reply TEXT` answers the
contact's latest message there, `/topic` lists the topics and `/topic N` picks one; 1, 2, 3…
press the buttons of the topic's latest message with buttons. What the bot posts in the group
is shown under « in the group ».
"""

from __future__ import annotations

from collections.abc import Callable

from bot.tools.demo import BY_KEY, Persona
from bot.tools.emulator import Emulator, GroupMember, Person, TeamGroup
from bot.tools.fakeapi import Sent

GROUP_ID = -1_009_000_000_100
GROUP_TITLE = "Équipe juridique"
GROUP_FIELD = "legal"
GROUP_HELP = """\
  /as group        the legal lead in the team's group « Équipe juridique » (topics)
                   la personne responsable juridique dans le groupe de l'équipe (sujets)
    /topic [N]     list the topics, or pick one / liste les sujets, ou en choisit un
    /reply TEXT    answer the contact's latest message in the topic / répond au contact
    TEXT           a note for the team in the topic / une note pour l'équipe dans le sujet"""


class GroupSeat:
    """The sandbox's team group, and the legal lead sitting in it."""

    def __init__(self, emulator: Emulator, persons: dict[str, Person]) -> None:
        # The sandbox has no flood limit (a piped script types fast): nor has its group.
        emulator.api.group_limit = None
        self.group: TeamGroup = emulator.group(GROUP_ID, GROUP_TITLE)
        self.admin = self.group.member(persons["admin"], "creator")
        self.lead: GroupMember = self.group.member(persons[f"lead {GROUP_FIELD}"], "administrator")
        self.active = False
        self.thread: int | None = None
        self._seen: dict[int, str] = {}

    async def link(self) -> None:
        """The admin makes the group the legal team's workspace (again: it is idempotent)."""
        await self.admin.send(f"/teamgroup {GROUP_FIELD}")

    @property
    def label(self) -> str:
        topic = self.group.state.topics.get(self.thread) if self.thread else None
        return f"group · {BY_KEY[f'lead {GROUP_FIELD}'].label}" + (
            f" · {topic.name[:40]}" if topic else ""
        )

    def enter(self, note: Callable[[str], None]) -> Persona:
        """`/as group`: the legal lead, in the group (and in their private chat)."""
        self.active = True
        note(f"you are now {self.label}")
        return BY_KEY[f"lead {GROUP_FIELD}"]

    def show_new(
        self,
        say: Callable[[str], None],
        paint: Callable[[str, str], str],
        show: Callable[..., None],
    ) -> None:
        """What the bot posted or edited in the group since last time, under its topic."""
        for sent, edited in self.fresh():
            say(paint("1;33", f"── in the group · {self.topic_of(sent)} ──"))
            show(sent, edited=edited)

    def fresh(self) -> list[tuple[Sent, bool]]:
        """The group's messages not shown yet, or edited since."""
        found = []
        for sent in self.group.chat:
            before = self._seen.get(sent.message_id)
            self._seen[sent.message_id] = sent.html
            if before != sent.html:
                found.append((sent, before is not None))
        return found

    def topic_of(self, sent: Sent) -> str:
        topic = self.group.state.topics.get(sent.thread_id) if sent.thread_id else None
        return topic.name if topic else "General"

    def _current(self) -> int | None:
        live = [t.thread_id for t in self.group.state.live_topics()]
        if self.thread not in live:
            self.thread = live[-1] if live else None
        return self.thread

    async def handle(self, text: str, say: Callable[[str], None]) -> bool:
        """Act on a line typed in the group; False if it is not for the group."""
        command, _, rest = text.partition(" ")
        thread = self._current()
        if command == "/topic":
            topics = self.group.state.live_topics()
            if not topics:
                say("sandbox: no topic yet; file a legal request as the contact first")
            if rest.strip().isdigit() and 1 <= int(rest) <= len(topics):
                self.thread = topics[int(rest) - 1].thread_id
            for n, topic in enumerate(topics, start=1):
                mark = "*" if topic.thread_id == self.thread else " "
                say(f" {mark} /topic {n}  {topic.name}{' (closed)' if topic.closed else ''}")
            return True
        if thread is None:
            say("sandbox: no topic yet; file a legal request as the contact first")
            return True
        posts = self.group.in_topic(thread)
        if text.isdigit():
            with_buttons = [p for p in posts if p.buttons]
            if not with_buttons or not 1 <= int(text) <= len(with_buttons[-1].buttons):
                say("sandbox: no such button in this topic")
                return True
            await self.lead.press(with_buttons[-1].buttons[int(text) - 1][1], with_buttons[-1])
            answer = self.lead.person.last_answer
            if answer is not None and answer.text:
                say(f"» (alert) {answer.text}")
            return True
        if command == "/reply":
            contact = [p for p in posts if "(contact)" in p.text]
            if not contact:
                say("sandbox: the contact has written nothing in this topic yet")
                return True
            await self.lead.send(rest, reply_to=contact[-1])
            return True
        await self.lead.send(text, thread_id=thread)
        return True
