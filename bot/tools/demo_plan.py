"""The building blocks of the demo's plan (bot/tools/demo.py): when things happen (working
hours, the day the history is anchored to), the steps replayed in time order, and each request
of the plan as the bot filed it."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.tools.demo_requests import Request
from bot.tools.emulator import Person


class DemoError(Exception):
    """The demo data could not be created (the bot did not answer as the plan expects)."""


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
class Step:
    moment: datetime
    order: tuple[int, int]  # (request, step): what happens at one moment keeps its order
    run: Action = field(compare=False)


@dataclass
class Planned:
    """A request of the plan, as the bot filed it."""

    request: Request
    contact: Person
    staff: Person  # the lead of its field, or the admin for `other`
    id: int = 0
    reference: str = ""
    minutes: int = 0  # time logged, as planned


class Moments:
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
