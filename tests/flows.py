"""Whole flows, written as a person would do them, shared by the tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.tools.emulator import Emulator, Person
from storage.models import Ticket, TicketStatus, Urgency
from tests.conftest import ADMIN_ID

LINK = re.compile(r"https://t\.me/(\w+)\?start=([A-Za-z0-9_-]+)")


def token_in(text: str) -> str:
    match = LINK.search(text)
    assert match is not None, f"no invite link in {text!r}"
    return match.group(2)


async def admin(bot: Emulator, language_code: str = "fr") -> Person:
    """The bootstrap admin (from ADMIN_IDS), who has said /start."""
    person = bot.person(ADMIN_ID, "Claire", last_name="Gagnon", language_code=language_code)
    await person.send("/start")
    return person


async def federation(admin: Person, code: str = "CQCH") -> None:
    replies = await admin.send(f"/addfederation {code} Confédération québécoise des coopératives")
    assert code in replies[-1].text


async def contact(
    bot: Emulator,
    admin: Person,
    user_id: int = 2001,
    name: str = "Marie",
    code: str = "CQCH",
    language_code: str = "fr",
) -> Person:
    """A contact of federation `code`, registered through an invite link."""
    replies = await admin.send(f"/invite {code}")
    person = bot.person(user_id, name, last_name="Tremblay", language_code=language_code)
    await person.send(f"/start {token_in(replies[-1].text)}")
    return person


async def lead(
    bot: Emulator, admin: Person, user_id: int, name: str, *codes: str, language_code: str = "fr"
) -> Person:
    """A lead of the fields `codes`, registered through an invite link."""
    replies = await admin.send("/invitelead " + " ".join(codes))
    person = bot.person(user_id, name, username=name.lower(), language_code=language_code)
    await person.send(f"/start {token_in(replies[-1].text)}")
    return person


async def fill_form(
    contact: Person,
    field: str = "Services juridiques",
    subject: str = "Révision des règlements généraux",
    description: str = "Nous devons réviser nos règlements avant l'assemblée générale de mars.",
    urgency: str = "Urgente",
) -> None:
    """Go through the form up to the review, without attachments or date."""
    await contact.send("/new")
    await contact.click(field)
    await contact.send(subject)
    await contact.send(description)
    await contact.click(urgency)
    await contact.click("Pas de date")
    await contact.click("Continuer sans")


async def file_request(contact: Person, **form: str) -> str:
    """File a complete request; its reference."""
    await fill_form(contact, **form)
    replies = await contact.click("Envoyer")
    match = re.search(r"[A-Z]+-\d{4}-\d{4}", replies[-1].text)
    assert match is not None, replies[-1].text if replies else "no reply"
    return match.group(0)


async def world(bot: Emulator) -> tuple[Person, Person, Person, Person]:
    """Admin, a federation, a contact and two leads of legal services."""
    boss = await admin(bot)
    await federation(boss)
    marie = await contact(bot, boss)
    jean = await lead(bot, boss, 3001, "Jean", "legal")
    luc = await lead(bot, boss, 3002, "Luc", "legal", "hr")
    return boss, marie, jean, luc


def ticket_record(status: TicketStatus, assignee: int | None = 20) -> Ticket:
    """A ticket as stored (contact 10, field 1), for the rules tested without Telegram."""
    now = datetime(2026, 11, 24, tzinfo=UTC)
    return Ticket(
        id=1,
        reference="CREC-2026-0001",
        draft_id=1,
        contact_id=10,
        federation_id=1,
        field_id=1,
        subject="s" * 5,
        description="d" * 20,
        urgency=Urgency.NORMAL,
        desired_date=None,
        status=status,
        assignee_id=assignee,
        created_at=now,
        updated_at=now,
        first_response_at=None,
        resolved_at=None,
        closed_at=None,
    )
