"""The demo data of `intake-bot sandbox`: the people you can play, their federations, the
fields' hourly rates, and three months of requests in every state, with time and ratings;
and working together (demo_together.py): a request in three fields' parts, a lead away.

Nothing is written behind the bot's back. The admin types `/addfederation`, `/invite`,
`/invitelead`, `/domain rate` and `/envelope`; each persona opens the link of their invite
(`/invite CODE gestionnaire` for the managers); contacts fill in the request form; leads press
the buttons of their cards and type `/estimate` and `/log`; managers press *Approuver* (or
*Refuser*, and say why); contacts answer, confirm and rate. These are the updates Telegram
would deliver, replayed in time order on a clock set to each moment of the past
(`ReplayClock`), then given back to real time. The plan is fixed and its choices drawn from
a seeded generator. The history is anchored to the day the sandbox starts, not to its minute:
two runs on the same day make the same past (the same figures for last month, to compare
notes), and only the newest requests, those of the last three days, and the absence (from
the day the sandbox starts) are placed relative to the moment itself.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial

from bot.tools import demo_requests as requests
from bot.tools import demo_together as together
from bot.tools.demo_plan import (
    Action,
    DemoError,
    Moments,
    Planned,
    Step,
    day_start,
    last_working_minute,
    office,
)
from bot.tools.demo_requests import (
    ADMIN,
    BY_KEY,
    CONTACT_OF,
    FEDERATIONS,
    LEAD_FIELDS,
    LEAD_OF,
    PERSONAS,
    RATES,
    Persona,
)
from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import Sent
from storage import conversation, estimates, people, tickets
from storage.models import EstimateStatus, TicketStatus, Urgency

__all__ = [
    "ADMIN",
    "BY_KEY",
    "FEDERATIONS",
    "LEAD_FIELDS",
    "PERSONAS",
    "RATES",
    "Demo",
    "DemoError",
    "Persona",
    "ReplayClock",
    "Summary",
]
S = TicketStatus
MANAGER_OF = {p.federation: p for p in PERSONAS if p.manager}
HISTORY_DAYS = 92  # three months, and the day the people were invited
# Envelopes of the year (`/envelope CODE YEAR AMOUNT [field]`): hours, dollars, one field's.
ENVELOPES = ("CQCH {year} 120h", "FCAQ {year} 15000$", "CQCH {year} 30h legal")


class ReplayClock:
    """Real time, except while the demo history is replayed: then the moment it is set to."""

    def __init__(self) -> None:
        self._moment: datetime | None = None

    def now(self) -> datetime:
        return self._moment or datetime.now(UTC)

    def set(self, moment: datetime) -> None:
        """Stand still at `moment` until set again or released."""
        self._moment = moment

    def release(self) -> None:
        """Back to real time."""
        self._moment = None


@dataclass
class Summary:
    """What the demo history holds, for the sandbox's first lines."""

    since: date
    states: Counter[TicketStatus]
    minutes: int
    ratings: int

    @property
    def requests(self) -> int:
        return sum(self.states.values())


# -- the replay -------------------------------------------------------------------------------


class Demo:
    """Creates the demo data through the bot, as the personas would."""

    def __init__(self, emulator: Emulator, persons: dict[str, Person], clock: ReplayClock) -> None:
        self.emulator = emulator
        self.persons = persons
        self.clock = clock
        self.tz = emulator.services.settings.tz
        self.rng = random.Random(12)  # noqa: S311 - the same history on every run, no secret
        self._tickets: list[Planned] = []

    @property
    def admin(self) -> Person:
        return self.persons["admin"]

    async def _registered(self, persona: Persona) -> bool:
        async with self.emulator.services.db.read() as conn:
            return await people.get_user(conn, persona.user_id) is not None

    async def _open_invite(self, command: str, persona: Persona) -> None:
        """The admin asks for an invite; the persona opens the link from the admin's reply."""
        replies = await self.admin.send(command)
        found = next((m for r in replies if (m := _START_TOKEN.search(r.text))), None)
        if found is None:
            said = replies[-1].text if replies else "nothing"
            raise DemoError(f"{command!r} gave no invite link; the bot said: {said}")
        await self.persons[persona.key].send(f"/start {found.group(1)}")
        if not await self._registered(persona):
            raise DemoError(f"{persona.label} could not register with the invite of {command}")

    async def register(self) -> bool:
        """The federations and the personas, through the admin's commands; False if everyone
        was there already. Only people missing from the database are invited (`--db`)."""
        missing = [p for p in PERSONAS if not await self._registered(p)]
        if not missing:
            return False
        await self.admin.send("/start")
        for persona in missing:
            if persona.federation is not None:
                name = dict(FEDERATIONS)[persona.federation]
                # The bot answers "exists" for a federation already there: nothing lost.
                await self.admin.send(f"/addfederation {persona.federation} {name}")
                kind = " gestionnaire" if persona.manager else ""
                await self._open_invite(f"/invite {persona.federation}{kind}", persona)
            elif persona.field is not None:
                await self._open_invite(f"/invitelead {persona.field}", persona)
        return True

    async def seed(self, now: datetime | None = None) -> Summary | None:
        """Register everyone, then replay the history if the database has no request yet.

        The history ends at `now` (the sandbox's start); None if it was not replayed.
        """
        now = now or datetime.now(UTC)
        start = office(day_start(now, self.tz) - timedelta(days=HISTORY_DAYS), self.tz)
        self.clock.set(start)
        try:
            await self.register()
            async with self.emulator.services.db.read() as conn:
                if await tickets.get_ticket(conn, 1) is not None:
                    return None
            for code, rate in RATES.items():
                await self.admin.send(f"/domain rate {code} {rate}")
            for envelope in ENVELOPES:
                await self.admin.send(
                    f"/envelope {envelope.format(year=now.astimezone(self.tz).year)}"
                )
            plan = self._plan(now)
            for step in sorted(plan):
                self.clock.set(step.moment)
                await step.run()
            return await self._check(start)
        finally:
            self.clock.release()

    # -- the plan ---------------------------------------------------------------------------

    def _plan(self, now: datetime) -> list[Step]:
        """Every step of every request, each at its moment (to be run in time order)."""
        self._tickets = []
        steps: list[Step] = []
        today = day_start(now, self.tz)
        month_start = today.replace(day=1)
        ordered = sorted(requests.REQUESTS, key=lambda r: -r.days)
        for number, request in enumerate(ordered):
            contact = self.persons[CONTACT_OF[request.federation].key]
            lead = LEAD_OF.get(request.field)
            staff = self.persons[lead.key] if lead else self.admin
            ticket = Planned(request, contact, staff)
            self._tickets.append(ticket)
            if request.days >= 3:  # counted from midnight: the same whatever the hour
                filed = office(today - timedelta(days=request.days), self.tz)
                end = last_working_minute(today, self.tz)
            else:  # the newest requests: this month, so that /stats and /export show them
                filed = max(
                    now - timedelta(days=request.days), month_start + timedelta(minutes=number)
                )
                end = now - timedelta(minutes=1)
            moments = Moments(min(filed, end), end, self.tz, self.rng)
            for n, (moment, run) in enumerate(self.life(ticket, moments)):
                steps.append(Step(moment, (number, n), run))
        # Working together: the congress in three parts, the web lead away (demo_together.py).
        congress, together_steps = together.plan(self, now, self._tickets)
        self._tickets += congress
        return steps + together_steps

    def life(self, ticket: Planned, at: Moments) -> list[tuple[datetime, Action]]:
        """What happens to one request, and when, up to the state it ends in."""
        request, rng = ticket.request, self.rng
        state = request.state
        life: list[tuple[datetime, Action]] = [(at.moment, lambda: self.file(ticket))]
        if state is S.NEW:
            return life
        if state is S.CANCELLED and not request.taken:
            return [*life, (at.later(2, 30), lambda: self._cancel(ticket))]
        quick = request.urgency is Urgency.CRITICAL
        life.append((at.later(0.2, 1) if quick else at.later(0.5, 7), lambda: self._take(ticket)))
        if state is S.CANCELLED:
            return [*life, (at.later(3, 40), lambda: self._cancel(ticket))]
        if state is S.ASSIGNED:
            return life
        if request.estimate is not None:
            life.extend(self._estimates(ticket, at))
            if state is S.AWAITING_APPROVAL:
                return life
        else:  # approved, the work is in progress already
            life.append((at.later(0.3, 20), lambda: self.press(ticket.staff, ticket, "start")))
        entries = [rng.choice(requests.WORK_MINUTES) for _ in range(rng.choice((1, 2, 2, 3)))]
        for n, minutes in enumerate(entries):
            ticket.minutes += minutes
            note = requests.WORK_NOTES[request.field][n % 3]
            life.append((at.later(3, 40), partial(self._log, ticket, minutes, note)))
            if n == 0 and (request.question or state is S.WAITING):
                life.append((at.later(1, 24), lambda: self._ask(ticket)))
                if state is not S.WAITING:  # waiting: the contact has not answered yet
                    life.append((at.later(2, 30), lambda: self._answer(ticket)))
        if state in {S.IN_PROGRESS, S.WAITING}:
            return life
        life.append((at.later(4, 72), lambda: self._resolve(ticket)))
        if request.reopened:
            life.append((at.later(3, 30), lambda: self._reopen(ticket)))
            minutes = rng.choice(requests.WORK_MINUTES)
            ticket.minutes += minutes
            note = requests.WORK_NOTES[request.field][2]
            life.append((at.later(2, 30), partial(self._log, ticket, minutes, note)))
            life.append((at.later(1, 24), lambda: self._resolve(ticket, again=True)))
        if state is S.RESOLVED:
            return life
        life.append((at.later(3, 40), lambda: self._confirm(ticket)))
        return life

    def _estimates(self, ticket: Planned, at: Moments) -> list[tuple[datetime, Action]]:
        """The lead's estimate and the manager's decision: refused once, then a revised
        estimate approved; or approved; or left for the manager to approve."""
        request = ticket.request
        assert request.estimate is not None
        steps: list[tuple[datetime, Action]] = [
            (at.later(0.3, 6), partial(self._estimate, ticket, request.estimate))
        ]
        if request.state is S.AWAITING_APPROVAL:
            return steps
        if request.refusal is not None and request.revised is not None:
            steps.append((at.later(1, 20), partial(self._decide, ticket, request.refusal)))
            steps.append((at.later(0.5, 6), partial(self._estimate, ticket, request.revised)))
        steps.append((at.later(1, 20), partial(self._decide, ticket, None)))
        return steps

    # -- what the personas do ---------------------------------------------------------------

    async def file(self, ticket: Planned, also: tuple[str, ...] = ()) -> None:
        """The contact fills in the form and sends it; `also`: the codes of the other fields
        the request touches (one part each, bot/tools/demo_together.py)."""
        request, contact = ticket.request, ticket.contact
        async with self.emulator.services.db.read() as conn:
            fields = {f.code: f.id for f in await people.list_fields(conn, active_only=True)}
        await contact.send("/new")
        field_data = find_data(contact, rf"f:field:(\d+):{fields[request.field]}")
        draft = int(field_data.split(":")[2])
        await self.press_data(contact, field_data)
        await contact.send(request.subject)
        await contact.send(request.description)
        await self.press_data(contact, f"f:urgency:{draft}:{request.urgency.value}")
        await self.press_data(contact, f"f:nodate:{draft}")
        await self.press_data(contact, f"f:attdone:{draft}")
        if also:  # at the review, « Ce besoin touche aussi… »: the other fields, then back
            await self.press_data(contact, f"p:pick:{draft}")
            for code in also:
                await self.press_data(contact, f"p:tog:{draft}:{fields[code]}")
            await self.press_data(contact, f"p:done:{draft}")
        await self.press_data(contact, f"f:send:{draft}")
        async with self.emulator.services.db.read() as conn:
            filed = await tickets.ticket_by_draft(conn, draft)
        if filed is None:
            said = contact.last.text if contact.chat else "nothing"
            raise DemoError(f"{request.subject!r} was not filed; the bot said: {said}")
        ticket.id, ticket.reference = filed.id, filed.reference

    async def _take(self, ticket: Planned) -> None:
        await self.press(ticket.staff, ticket, "take")

    async def _log(self, ticket: Planned, minutes: int, note: str) -> None:
        hours, rest = divmod(minutes, 60)  # as people type it: 1h30, 2h, 45m
        duration = (f"{hours}h{rest:02d}" if rest else f"{hours}h") if hours else f"{rest}m"
        await ticket.staff.send(f"/log {ticket.reference} {duration} {note}")

    async def _estimate(self, ticket: Planned, text: str) -> None:
        await ticket.staff.send(f"/estimate {ticket.reference} {text}")

    async def _decide(self, ticket: Planned, refusal: str | None) -> None:
        """The federation's manager presses Approuver on the card, or Refuser and gives why."""
        manager = self.persons[MANAGER_OF[ticket.request.federation].key]
        async with self.emulator.services.db.read() as conn:
            pending = await estimates.pending_estimate(conn, ticket.id)
        if pending is None:
            raise DemoError(f"{ticket.reference} has no estimate to decide on")
        await self.press_data(manager, f"e:{'ok' if refusal is None else 'no'}:{pending.id}")
        if refusal is not None:
            await manager.send(refusal)

    async def _ask(self, ticket: Planned) -> None:
        await self.press(ticket.staff, ticket, "ask")
        await ticket.staff.send(requests.QUESTIONS[ticket.request.field][0])

    async def _answer(self, ticket: Planned) -> None:
        await self.press(ticket.contact, ticket, "reply")
        await ticket.contact.send(requests.QUESTIONS[ticket.request.field][1])

    async def _resolve(self, ticket: Planned, *, again: bool = False) -> None:
        await self.press(ticket.staff, ticket, "resolve")
        notes = requests.RESOLUTIONS[ticket.request.field]
        await ticket.staff.send(notes[1] if again else notes[0])

    async def _reopen(self, ticket: Planned) -> None:
        await self.press(ticket.contact, ticket, "reopen")

    async def _confirm(self, ticket: Planned) -> None:
        """The contact confirms, then rates (most do), with a comment or without."""
        contact, request = ticket.contact, ticket.request
        await self.press(contact, ticket, "confirm")
        if request.stars is None:
            return
        await self.press_data(contact, f"t:rate:{ticket.id}:{request.stars}")
        if request.comment:
            await contact.send(request.comment)
        else:
            await self.press(contact, ticket, "nocomment")

    async def _cancel(self, ticket: Planned) -> None:
        await ticket.contact.send(f"/ticket {ticket.reference}")
        await self.press(ticket.contact, ticket, "cancel")
        await self.press(ticket.contact, ticket, "cancelok")

    async def press(self, person: Person, ticket: Planned, action: str) -> None:
        """Press a ticket's button, on the latest message of the chat that has it; if none
        has it any more, ask the bot for the ticket's card first (`/ticket`), as people do."""
        data = f"t:{action}:{ticket.id}"
        if _message_with(person, data) is None:
            await person.send(f"/ticket {ticket.reference}")
        await self.press_data(person, data)

    async def press_data(self, person: Person, data: str) -> None:
        message = _message_with(person, data)
        if message is None:
            said = person.last.text if person.chat else "nothing"
            raise DemoError(f"{person.first_name} has no button {data!r}; the bot said: {said}")
        await person.press(data, message)

    # -- what came of it --------------------------------------------------------------------

    async def _check(self, start: datetime) -> Summary:
        """Every request in the state, with the time and rating, the plan meant."""
        states: Counter[TicketStatus] = Counter()
        wrong: list[str] = []
        async with self.emulator.services.db.read() as conn:
            for ticket in self._tickets:
                stored = await tickets.get_ticket(conn, ticket.id)
                logged = sum(e.minutes for e in await conversation.time_entries(conn, ticket.id))
                latest = await estimates.latest_estimate(conn, ticket.id)
                decided = latest.status if latest else None
                expected = (
                    ticket.request.state,
                    ticket.minutes,
                    ticket.request.stars,
                    _decided(ticket),
                )
                got = (stored.status, logged, stored.rating, decided) if stored else None
                if got != expected:
                    wrong.append(f"{ticket.reference or ticket.request.subject}: {got}")
                states[ticket.request.state] += 1
        if wrong:
            raise DemoError("the demo history did not come out as planned: " + "; ".join(wrong))
        return Summary(
            since=start.astimezone(self.tz).date(),
            states=states,
            minutes=sum(t.minutes for t in self._tickets),
            ratings=sum(1 for t in self._tickets if t.request.stars is not None),
        )


def _decided(ticket: Planned) -> EstimateStatus | None:
    """What became of the request's latest estimate, as planned."""
    if ticket.request.estimate is None:
        return None
    if ticket.request.state is S.AWAITING_APPROVAL:
        return EstimateStatus.PENDING
    return EstimateStatus.APPROVED


_START_TOKEN = re.compile(r"[?&]start=([A-Za-z0-9_-]+)")


def _message_with(person: Person, data: str) -> Sent | None:
    """The latest message of the person's chat with a button of that callback data."""
    return next((m for m in reversed(person.chat) if any(d == data for _, d in m.buttons)), None)


def find_data(person: Person, pattern: str) -> str:
    """The callback data matching `pattern` on the latest message that has one."""
    for message in reversed(person.chat):
        for _label, data in message.buttons:
            if re.fullmatch(pattern, data):
                return data
    said = person.last.text if person.chat else "nothing"
    raise DemoError(f"{person.first_name} has no button like {pattern!r}; the bot said: {said}")
