"""Working together in the demo history (issue 15): a request across three fields, and a lead
away with a colleague covering.

CQCH's annual congress touches event organisation, communications and the legal side of its
general assembly: its contact picks the two other fields at the review (« Ce besoin touche
aussi… »), the request is filed in three parts, and each part is taken by its field's lead;
the legal part is resolved, the event part in progress, the communications part taken. The
web lead is away this week, the IT lead covering: the absence is set with `/away` as the
sandbox starts, after the rest of the history (which it leaves as it was), then the contact
writes on her online housing request; her message reaches the IT lead, and she is told who
covers it and until when (« … prend le relais »).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from bot.tools.demo_plan import (
    DemoError,
    Moments,
    Planned,
    Step,
    day_start,
    last_working_minute,
    office,
)
from bot.tools.demo_requests import BY_KEY, CONTACT_OF, LEAD_OF, Request
from storage import absences, parts, people
from storage.models import TicketStatus, Urgency

if TYPE_CHECKING:
    from bot.tools.demo import Demo

S = TicketStatus

CONGRESS = Request(
    6.2, "CQCH", "events", Urgency.NORMAL, S.IN_PROGRESS,
    "Congrès annuel et assemblée générale 2027",
    "Notre congrès annuel aura lieu les 6 et 7 mai à Trois-Rivières, avec l'assemblée générale "
    "annuelle le deuxième jour. Il nous faut l'organisation (salle, hébergement, traiteur), un "
    "plan de communication pour les coopératives membres et la validation de l'avis de "
    "convocation et des propositions de résolution.",
)  # fmt: skip
# The other fields the contact picks at the review, and the state each of their parts ends in.
ALSO = {"marketing": S.ASSIGNED, "legal": S.RESOLVED}

ABSENT, DELEGATE = "lead web", "lead it"  # the personas (`/as lead web`, `/as lead it`)
AWAY_DAYS = 7  # from the day the sandbox starts to a week later, inclusive
COVERED = "Demande de logement en ligne"  # the absent lead's request the contact writes on
MESSAGE = (
    "Bonjour, deux autres coopératives veulent leur liste d'attente en ligne. Je vous envoie "
    "leurs coordonnées par courriel."
)


def plan(demo: Demo, now: datetime, planned: list[Planned]) -> tuple[list[Planned], list[Step]]:
    """The congress's three parts (to check as the other requests are) and the steps of the
    congress and of the absence; `planned`: the other requests, already in the plan."""
    tz = demo.tz
    today = day_start(now, tz)
    number = len(planned)  # the steps' order after the other requests'
    contact = demo.persons[CONTACT_OF[CONGRESS.federation].key]
    congress = [
        Planned(request, contact, demo.persons[LEAD_OF[request.field].key])
        for request in (CONGRESS, *(replace(CONGRESS, field=f, state=s) for f, s in ALSO.items()))
    ]
    filed = office(today - timedelta(days=CONGRESS.days), tz)
    end = last_working_minute(today, tz)
    steps = [Step(filed, (number, 0), partial(_file, demo, congress))]
    for part in congress:  # each taken and worked on by its lead, as the other requests are
        life = demo.life(part, Moments(filed, end, tz, demo.rng))[1:]  # filed once, above
        steps += [Step(moment, (number, len(steps)), run) for moment, run in life]
    covered = next(p for p in planned if p.request.subject == COVERED)
    away = now - timedelta(minutes=1)  # when the newest requests' last steps are, after them
    steps.append(Step(away, (number + 1, 0), partial(_away, demo, today)))
    steps.append(Step(away, (number + 1, 1), partial(_write, demo, covered)))
    return congress, steps


async def _file(demo: Demo, congress: list[Planned]) -> None:
    """The contact files the congress with its two other fields: three linked tickets."""
    first, *others = congress
    await demo.file(first, also=tuple(part.request.field for part in others))
    async with demo.emulator.services.db.read() as conn:
        codes = {f.id: f.code for f in await people.list_fields(conn, active_only=False)}
        filed = {codes[t.field_id]: t for t in await parts.parts_of(conn, first.id)}
    for part in others:
        ticket = filed.get(part.request.field)
        if ticket is None:
            raise DemoError(f"{first.reference} has no {part.request.field} part")
        part.id, part.reference = ticket.id, ticket.reference


async def _away(demo: Demo, today: datetime) -> None:
    """The web lead sets their absence, from today, the IT lead covering."""
    absent, delegate = BY_KEY[ABSENT], BY_KEY[DELEGATE]
    until = today + timedelta(days=AWAY_DAYS)
    lead = demo.persons[ABSENT]
    await lead.send(f"/away {today:%Y-%m-%d} {until:%Y-%m-%d} @{delegate.user_id}")
    async with demo.emulator.services.db.read() as conn:
        absence = await absences.standing_absence(conn, absent.user_id)
    if absence is None or absence.delegate_id != delegate.user_id:
        said = lead.last.text if lead.chat else "nothing"
        raise DemoError(f"{absent.label}'s absence was not recorded; the bot said: {said}")


async def _write(demo: Demo, ticket: Planned) -> None:
    """The contact writes on the absent lead's request: it reaches who covers, and she is
    told who that is and until when."""
    await demo.press(ticket.contact, ticket, "reply")
    told = await ticket.contact.send(MESSAGE)
    delegate = BY_KEY[DELEGATE]
    name = f"{delegate.first_name} {delegate.last_name}"
    if not any(ticket.reference in m.text and name in m.text for m in told):
        said = told[-1].text if told else "nothing"
        raise DemoError(f"{ticket.reference}: the contact was not told who covers; got: {said}")
