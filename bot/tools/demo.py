"""The demo data of `intake-bot sandbox`: the people you can play, their federations, the
fields' hourly rates, and three months of requests in every state, with time and ratings.

Nothing is written behind the bot's back. The admin types `/addfederation`, `/invite`,
`/invitelead`, `/domain rate` and `/envelope`; each persona opens the link of their invite
(`/invite CODE gestionnaire` for the managers); contacts fill in the request form; leads press
the buttons of their cards and type `/estimate` and `/log`; managers press *Approuver* (or
*Refuser*, and say why); contacts answer, confirm and rate. These are the updates Telegram
would deliver, replayed in time order on a clock set to each moment of the past
(`ReplayClock`), then given back to real time. The plan is fixed and its choices drawn from
a seeded generator. The history is anchored to the day the sandbox starts, not to its minute:
two runs on the same day make the same past (the same figures for last month, to compare
notes), and only the newest requests, those of the last three days, are placed relative to
the moment itself.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from bot.tools import demo_requests as requests
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
    Request,
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


class DemoError(Exception):
    """The demo data could not be created (the bot did not answer as the plan expects)."""


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


# -- when things happen -----------------------------------------------------------------------

OPENING, CLOSING = 8 * 60 + 30, 17 * 60  # the Consortium's working day, in minutes


def day_start(moment: datetime, tz: ZoneInfo) -> datetime:
    """Midnight, in `tz`, of the day of `moment`: what the history is anchored to."""
    local = moment.astimezone(tz)
    return datetime(local.year, local.month, local.day, tzinfo=tz)


def last_working_minute(day: datetime, tz: ZoneInfo) -> datetime:
    """16 h 59 on the last working day before `day` (a midnight): the latest moment of the
    requests anchored to the day, whatever time of that day the sandbox starts."""
    before = day.astimezone(tz).date() - timedelta(days=1)
    while before.weekday() >= 5:
        before -= timedelta(days=1)
    return datetime(before.year, before.month, before.day, 16, 59, tzinfo=tz)


def office(moment: datetime, tz: ZoneInfo) -> datetime:
    """`moment` if it falls in working hours (Monday to Friday, 8 h 30 to 17 h), else a moment
    early in the next working day (people answer when they are at work)."""
    local = moment.astimezone(tz)
    minute = local.hour * 60 + local.minute
    if local.weekday() < 5 and OPENING <= minute < CLOSING:
        return moment
    day = local.date() if minute < OPENING else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 8, 30, tzinfo=tz)
    return start + timedelta(minutes=(minute * 7) % 150)  # spread over the first hours


Action = Callable[[], Awaitable[None]]


@dataclass(order=True)
class _Step:
    moment: datetime
    order: tuple[int, int]  # (request, step): what happens at one moment keeps its order
    run: Action = field(compare=False)


@dataclass
class _Ticket:
    """A request of the plan, as the bot filed it."""

    request: Request
    contact: Person
    staff: Person  # the lead of its field, or the admin for `other`
    id: int = 0
    reference: str = ""
    minutes: int = 0  # time logged, as planned


# -- the replay -------------------------------------------------------------------------------


class Demo:
    """Creates the demo data through the bot, as the personas would."""

    def __init__(self, emulator: Emulator, persons: dict[str, Person], clock: ReplayClock) -> None:
        self.emulator = emulator
        self.persons = persons
        self.clock = clock
        self.tz = emulator.services.settings.tz
        self.rng = random.Random(12)  # noqa: S311 - the same history on every run, no secret
        self._tickets: list[_Ticket] = []

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

    def _plan(self, now: datetime) -> list[_Step]:
        """Every step of every request, each at its moment (to be run in time order)."""
        self._tickets = []
        steps: list[_Step] = []
        today = day_start(now, self.tz)
        month_start = today.replace(day=1)
        ordered = sorted(requests.REQUESTS, key=lambda r: -r.days)
        for number, request in enumerate(ordered):
            contact = self.persons[CONTACT_OF[request.federation].key]
            lead = LEAD_OF.get(request.field)
            staff = self.persons[lead.key] if lead else self.admin
            ticket = _Ticket(request, contact, staff)
            self._tickets.append(ticket)
            if request.days >= 3:  # counted from midnight: the same whatever the hour
                filed = office(today - timedelta(days=request.days), self.tz)
                end = last_working_minute(today, self.tz)
            else:  # the newest requests: this month, so that /stats and /export show them
                filed = max(
                    now - timedelta(days=request.days), month_start + timedelta(minutes=number)
                )
                end = now - timedelta(minutes=1)
            moments = _Moments(min(filed, end), end, self.tz, self.rng)
            for n, (moment, run) in enumerate(self._life(ticket, moments)):
                steps.append(_Step(moment, (number, n), run))
        return steps

    def _life(self, ticket: _Ticket, at: _Moments) -> list[tuple[datetime, Action]]:
        """What happens to one request, and when, up to the state it ends in."""
        request, rng = ticket.request, self.rng
        state = request.state
        life: list[tuple[datetime, Action]] = [(at.moment, lambda: self._file(ticket))]
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
            life.append((at.later(0.3, 20), lambda: self._press(ticket.staff, ticket, "start")))
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

    def _estimates(self, ticket: _Ticket, at: _Moments) -> list[tuple[datetime, Action]]:
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

    async def _file(self, ticket: _Ticket) -> None:
        """The contact fills in the form and sends it."""
        request, contact = ticket.request, ticket.contact
        async with self.emulator.services.db.read() as conn:
            fields = {f.code: f.id for f in await people.list_fields(conn, active_only=True)}
        await contact.send("/new")
        field_data = _find(contact, rf"f:field:(\d+):{fields[request.field]}")
        draft = int(field_data.split(":")[2])
        await self._press_data(contact, field_data)
        await contact.send(request.subject)
        await contact.send(request.description)
        await self._press_data(contact, f"f:urgency:{draft}:{request.urgency.value}")
        await self._press_data(contact, f"f:nodate:{draft}")
        await self._press_data(contact, f"f:attdone:{draft}")
        await self._press_data(contact, f"f:send:{draft}")
        async with self.emulator.services.db.read() as conn:
            filed = await tickets.ticket_by_draft(conn, draft)
        if filed is None:
            said = contact.last.text if contact.chat else "nothing"
            raise DemoError(f"{request.subject!r} was not filed; the bot said: {said}")
        ticket.id, ticket.reference = filed.id, filed.reference

    async def _take(self, ticket: _Ticket) -> None:
        await self._press(ticket.staff, ticket, "take")

    async def _log(self, ticket: _Ticket, minutes: int, note: str) -> None:
        hours, rest = divmod(minutes, 60)  # as people type it: 1h30, 2h, 45m
        duration = (f"{hours}h{rest:02d}" if rest else f"{hours}h") if hours else f"{rest}m"
        await ticket.staff.send(f"/log {ticket.reference} {duration} {note}")

    async def _estimate(self, ticket: _Ticket, text: str) -> None:
        await ticket.staff.send(f"/estimate {ticket.reference} {text}")

    async def _decide(self, ticket: _Ticket, refusal: str | None) -> None:
        """The federation's manager presses Approuver on the card, or Refuser and gives why."""
        manager = self.persons[MANAGER_OF[ticket.request.federation].key]
        async with self.emulator.services.db.read() as conn:
            pending = await estimates.pending_estimate(conn, ticket.id)
        if pending is None:
            raise DemoError(f"{ticket.reference} has no estimate to decide on")
        await self._press_data(manager, f"e:{'ok' if refusal is None else 'no'}:{pending.id}")
        if refusal is not None:
            await manager.send(refusal)

    async def _ask(self, ticket: _Ticket) -> None:
        await self._press(ticket.staff, ticket, "ask")
        await ticket.staff.send(requests.QUESTIONS[ticket.request.field][0])

    async def _answer(self, ticket: _Ticket) -> None:
        await self._press(ticket.contact, ticket, "reply")
        await ticket.contact.send(requests.QUESTIONS[ticket.request.field][1])

    async def _resolve(self, ticket: _Ticket, *, again: bool = False) -> None:
        await self._press(ticket.staff, ticket, "resolve")
        notes = requests.RESOLUTIONS[ticket.request.field]
        await ticket.staff.send(notes[1] if again else notes[0])

    async def _reopen(self, ticket: _Ticket) -> None:
        await self._press(ticket.contact, ticket, "reopen")

    async def _confirm(self, ticket: _Ticket) -> None:
        """The contact confirms, then rates (most do), with a comment or without."""
        contact, request = ticket.contact, ticket.request
        await self._press(contact, ticket, "confirm")
        if request.stars is None:
            return
        await self._press_data(contact, f"t:rate:{ticket.id}:{request.stars}")
        if request.comment:
            await contact.send(request.comment)
        else:
            await self._press(contact, ticket, "nocomment")

    async def _cancel(self, ticket: _Ticket) -> None:
        await ticket.contact.send(f"/ticket {ticket.reference}")
        await self._press(ticket.contact, ticket, "cancel")
        await self._press(ticket.contact, ticket, "cancelok")

    async def _press(self, person: Person, ticket: _Ticket, action: str) -> None:
        """Press a ticket's button, on the latest message of the chat that has it; if none
        has it any more, ask the bot for the ticket's card first (`/ticket`), as people do."""
        data = f"t:{action}:{ticket.id}"
        if _message_with(person, data) is None:
            await person.send(f"/ticket {ticket.reference}")
        await self._press_data(person, data)

    async def _press_data(self, person: Person, data: str) -> None:
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


class _Moments:
    """The moments of one request's life, one after the other, never after `end`."""

    def __init__(self, start: datetime, end: datetime, tz: ZoneInfo, rng: random.Random) -> None:
        self.moment = start
        self.end = end
        self.tz = tz
        self.rng = rng

    def later(self, low: float, high: float) -> datetime:
        """Between `low` and `high` hours after the previous moment, in working hours (the
        contacts are staff of their federations too)."""
        moment = office(self.moment + timedelta(hours=self.rng.uniform(low, high)), self.tz)
        self.moment = min(moment, self.end)
        return self.moment


def _decided(ticket: _Ticket) -> EstimateStatus | None:
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


def _find(person: Person, pattern: str) -> str:
    """The callback data matching `pattern` on the latest message that has one."""
    for message in reversed(person.chat):
        for _label, data in message.buttons:
            if re.fullmatch(pattern, data):
                return data
    said = person.last.text if person.chat else "nothing"
    raise DemoError(f"{person.first_name} has no button like {pattern!r}; the bot said: {said}")
