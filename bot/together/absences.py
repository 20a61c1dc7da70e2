"""Absence and cover: setting and ending absences, and who acts for an absent lead now.

Nothing is reassigned while a lead is away: who covers is computed from the standing absences
of the day (bot/rules/absences.py), so the requests are theirs again once the absence ends, and
what the delegate did (messages, time, actions) stays the delegate's.
"""

from __future__ import annotations

from datetime import date

from bot.rules.absences import AwayRequest, covering, standing, upcoming
from bot.services import Services
from bot.ui import render
from bot.ui.i18n import Html, format_day, t
from storage import absences as repo
from storage import outbox, people
from storage.db import Connection
from storage.models import Absence, Role, Ticket, User

STAFF = frozenset({Role.LEAD, Role.ADMIN})


def is_staff(user: User | None) -> bool:
    """Whether `user` may cover someone: an active lead or admin."""
    return user is not None and user.active and user.role in STAFF


async def away_on(conn: Connection, today: date) -> dict[int, int | None]:
    """Each person away `today` and who they named (None: nobody, or nobody who may cover)."""
    found: dict[int, int | None] = {}
    for absence in await repo.absences_on(conn, today):
        delegate = (
            await people.get_user(conn, absence.delegate_id) if absence.delegate_id else None
        )
        found[absence.user_id] = (
            delegate.id if delegate is not None and is_staff(delegate) else None
        )
    return found


async def stand_in(conn: Connection, user_id: int, today: date) -> int | None:
    """Who acts for `user_id` today: themselves when present, else their delegate (or the
    delegate's); None: nobody named who is present (the admins then)."""
    return covering(user_id, await away_on(conn, today))


async def readers_for(conn: Connection, services: Services, user_id: int) -> list[tuple[int, str]]:
    """Who reads what is meant for `user_id` today (id, language): them, their cover, or the
    admins when they are away with nobody present to cover."""
    holder = await stand_in(conn, user_id, services.today())
    if holder is None:
        settings = services.settings
        return await people.admins_to_tell(conn, settings.admin_ids, settings.default_language)
    person = await people.get_user(conn, holder)
    return [(person.id, person.language)] if person else []


async def offer_takers(conn: Connection, field_id: int, today: date) -> list[User]:
    """Who is offered a new request of the field: its present leads; when every lead is away,
    those covering them (none: the admins)."""
    leads = await people.leads_of_field(conn, field_id)
    away = await away_on(conn, today)
    present = [lead for lead in leads if lead.id not in away]
    if present or not leads:
        return present
    takers: list[User] = []
    for lead in leads:
        cover = covering(lead.id, away)
        if cover is not None and cover not in {u.id for u in takers}:
            person = await people.get_user(conn, cover)
            if person is not None:
                takers.append(person)
    return takers


async def coverage(conn: Connection, user: User, today: date) -> tuple[frozenset[int], set[int]]:
    """What `user` covers today: the people whose requests they act on as their lead, and the
    fields whose new requests are offered to them because every lead of the field is away."""
    away = await away_on(conn, today)
    if not away:
        return frozenset(), set()
    covered = frozenset(p for p in away if p != user.id and covering(p, away) == user.id)
    fields: set[int] = set()
    for person_id in covered:
        for field_id in await people.field_ids_of_lead(conn, person_id):
            takers = await offer_takers(conn, field_id, today)
            if any(taker.id == user.id for taker in takers):
                fields.add(field_id)
    return covered, fields


def period(absence: Absence, language: str) -> Html:
    """« du 20 décembre 2026 au 5 janvier 2027 inclusivement » / "from … to … inclusive"; a
    single day: « le 3 décembre 2026 » / "on December 3, 2026"."""
    if absence.starts_on == absence.ends_on:
        return t(language, "away.period_day", day=format_day(absence.starts_on, language))
    return t(
        language,
        "away.period",
        start=format_day(absence.starts_on, language),
        end=format_day(absence.ends_on, language),
    )


def away_flag(absence: Absence, language: str, today: date) -> Html:
    """What `/users` and the cards say of someone away: « absence jusqu'au … », or, still to
    come, « absence prévue du … au … inclusivement »."""
    if absence.starts_on > today:
        return t(language, "away.flag_planned", period=period(absence, language))
    return t(language, "away.flag", until=format_day(absence.ends_on, language))


async def flags_of(
    conn: Connection, user_ids: list[int], language: str, today: date
) -> dict[int, str]:
    """« 🌴 absence jusqu'au … » of each of these people away `today` (the reassign list)."""
    found = await repo.upcoming_of(conn, user_ids, today)
    return {
        person: str(away_flag(absence, language, today))
        for person, absence in found.items()
        if standing(absence, today)
    }


async def _tell(conn: Connection, services: Services, person_id: int, text_for: object) -> None:
    """Queue a message to one person, in their language (`text_for(language)`)."""
    person = await people.get_user(conn, person_id)
    if person is None:
        return
    assert callable(text_for)
    await outbox.enqueue(
        conn,
        chat_id=person.id,
        method="send_message",
        payload={"text": str(text_for(person.language)), "parse_mode": "HTML"},
        purpose="absence",
        now=services.clock.now(),
    )


async def set_away(
    services: Services, by: User, person: User, request: AwayRequest, delegate: User | None
) -> tuple[Absence, Absence | None]:
    """Record `person`'s absence (replacing a standing one, returned second); the delegate is
    told, and so is the person when an admin set it for them."""
    now = services.clock.now()
    async with services.db.transaction() as conn:
        replaced = await repo.standing_absence(conn, person.id)
        absence = await repo.add_absence(
            conn,
            user_id=person.id,
            starts_on=request.starts_on,
            ends_on=request.ends_on,
            delegate_id=delegate.id if delegate else None,
            created_by=by.id,
            now=now,
        )
        name = render.person(person)
        if delegate is not None and delegate.id != by.id:
            await _tell(
                conn,
                services,
                delegate.id,
                lambda lang: t(
                    lang, "away.to_delegate", person=name, period=period(absence, lang)
                ),
            )
        if by.id != person.id:
            cover = render.person(delegate) if delegate else None
            await _tell(
                conn,
                services,
                person.id,
                lambda lang: t(
                    lang,
                    "away.set_for_you",
                    admin=render.person(by),
                    period=period(absence, lang),
                    delegate=cover or t(lang, "away.nobody"),
                ),
            )
    services.wake_outbox()
    return absence, replaced


async def come_back(services: Services, person: User) -> Absence | None:
    """End `person`'s absence now (under way or to come); the delegate is told. None: no
    absence stood."""
    now = services.clock.now()
    today = services.today()
    async with services.db.transaction() as conn:
        absence = await repo.standing_absence(conn, person.id)
        if absence is None or absence.ends_on < today:
            return None
        await repo.end_absence(conn, absence.id, now)
        if absence.delegate_id is not None and absence.starts_on <= today:
            name = render.person(person)
            await _tell(
                conn,
                services,
                absence.delegate_id,
                lambda lang: t(lang, "away.back_to_delegate", person=name),
            )
    services.wake_outbox()
    return absence


async def tell_contact_once(
    conn: Connection, services: Services, ticket: Ticket, contact: User
) -> None:
    """The contact wrote on a request whose lead is away: say once per absence who covers it
    and until when."""
    if ticket.assignee_id is None:
        return
    today = services.today()
    absence = next(
        (a for a in await repo.absences_on(conn, today) if a.user_id == ticket.assignee_id), None
    )
    if absence is None or not await repo.mark_told(
        conn, absence.id, contact.id, services.clock.now()
    ):
        return
    lead = await people.get_user(conn, ticket.assignee_id)
    holder = await stand_in(conn, ticket.assignee_id, today)
    cover = await people.get_user(conn, holder) if holder is not None else None
    until = format_day(absence.ends_on, contact.language)
    key = "away.notice" if cover is not None else "away.notice_team"
    text = t(
        contact.language,
        key,
        reference=ticket.reference,
        lead=render.person(lead),
        until=until,
        delegate=render.person(cover),
    )
    await outbox.enqueue(
        conn,
        chat_id=contact.id,
        method="send_message",
        payload={"text": str(text), "parse_mode": "HTML"},
        purpose="absence_notice",
        now=services.clock.now(),
        ticket_id=ticket.id,
    )


async def away_note(conn: Connection, user_id: int, language: str, today: date | None) -> Html:
    """What a card adds to the name of its lead when they are away or will be: « · 🌴 absence
    jusqu'au 5 janvier 2027 · relais : Marie Roy »; empty otherwise."""
    absence = await repo.standing_absence(conn, user_id) if today is not None else None
    if absence is None or today is None or not upcoming(absence, today):
        return Html("")
    parts = [away_flag(absence, language, today)]
    delegate = await people.get_user(conn, absence.delegate_id) if absence.delegate_id else None
    if delegate is not None:
        parts.append(t(language, "away.relay_by", delegate=render.person(delegate)))
    return Html("".join(f" · {part}" for part in parts))
