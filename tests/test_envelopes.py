"""Envelopes (issue 14): an admin sets a federation's envelope of a year (hours or dollars, all
fields or one); /envelope shows used (time logged at the entries' rates), committed (approved
estimates not yet logged) and remaining; managers and admins are told once at 80 % and once
at 100 %, however often the job runs and across a restart. Contacts see nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from bot.federation.envelopes import check_envelopes
from bot.rules.estimates import quote
from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import FakeBotAPI
from storage import estimates, people, tickets
from storage.models import TicketStatus
from tests import admin_helpers as h
from tests import flows
from tests.conftest import make_settings

MONTREAL = ZoneInfo("America/Montreal")
NOVEMBER = datetime(2026, 11, 2, 10, tzinfo=MONTREAL)


def spaced(text: str) -> str:
    """Babel's no-break spaces as plain ones, to compare with what a person reads."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


@dataclass
class Members:
    """The admin, two federations with a manager each, a plain contact, a lead."""

    boss: Person
    marie: Person
    gisele: Person
    roger: Person
    jean: Person


async def members(bot: Emulator) -> Members:
    boss, marie, jean, _ = await flows.world(bot)
    await flows.federation(boss, "FCAQ")
    gisele = await flows.contact(bot, boss, 2003, "Gisèle")
    roger = await flows.contact(bot, boss, 2004, "Roger", code="FCAQ")
    async with bot.services.db.transaction() as conn:
        assert await people.set_manager(conn, gisele.id, True)
        assert await people.set_manager(conn, roger.id, True)
    assert "100,00" in (await boss.send("/domain rate legal 100"))[-1].text
    return Members(boss, marie, gisele, roger, jean)


async def request(bot: Emulator, who: Members, federation: str = "CQCH") -> int:
    contact = who.marie if federation == "CQCH" else who.roger
    ticket_id, _ = await h.insert_ticket(
        bot,
        contact=contact.id,
        created_at=NOVEMBER,
        federation=federation,
        status="in_progress",
        assignee=who.jean.id,
        first_response_at=NOVEMBER,
    )
    return ticket_id


async def log(bot: Emulator, who: Members, ticket_id: int, day: date, minutes: int) -> None:
    await h.log_time(bot, ticket=ticket_id, lead=who.jean.id, work_date=day, minutes=minutes)


async def approve(bot: Emulator, ticket_id: int, high_minutes: int, rate_cents: int) -> None:
    """An estimate up to `high_minutes` at `rate_cents`, approved (as the policy would)."""
    async with bot.services.db.transaction() as conn:
        ticket = await tickets.get_ticket(conn, ticket_id)
        assert ticket is not None
        await estimates.add_estimate(
            conn,
            ticket=ticket,
            quote=quote(high_minutes // 2, high_minutes, rate_cents),
            created_by=3001,
            now=bot.services.clock.now(),
            to_status=TicketStatus.IN_PROGRESS,
            approved=True,
        )


async def test_set_and_show_used_committed_remaining(bot: Emulator) -> None:
    who = await members(bot)
    replies = await who.boss.send("/envelope CQCH 2026 10h")
    assert replies[-1].text == "Enveloppe 2026 de CQCH (toutes les expertises) : 10 h."
    replies = await who.boss.send("/envelope cqch 2026 1 000 $ legal")
    assert spaced(replies[-1].text) == "Enveloppe 2026 de CQCH (Services juridiques) : 1 000,00 $."
    t1, t2 = await request(bot, who), await request(bot, who)
    await h.log_time(bot, ticket=t1, lead=who.jean.id, work_date=date(2026, 11, 2), minutes=120)
    # t2: approved up to 3 h at 100 $/h; 1 h logged on it, 2 h (200 $) still committed.
    await approve(bot, t2, 180, 10000)
    await h.log_time(bot, ticket=t2, lead=who.jean.id, work_date=date(2026, 11, 3), minutes=60)
    # Another federation's time and last year's count for nothing here.
    other = await request(bot, who, "FCAQ")
    await h.log_time(bot, ticket=other, lead=who.jean.id, work_date=date(2026, 11, 3), minutes=300)
    await h.log_time(bot, ticket=t1, lead=who.jean.id, work_date=date(2025, 12, 31), minutes=300)
    expected = [
        "Enveloppes de CQCH — Confédération québécoise des coopératives",
        "• 2026, toutes les expertises : 10 h",
        "Utilisé : 3 h · Engagé : 2 h · Utilisé ou engagé : 50 % · Reste : 5 h",
        "• 2026, Services juridiques : 1 000,00 $",
        "Utilisé : 300,00 $ · Engagé : 200,00 $ · Utilisé ou engagé : 50 % · Reste : 500,00 $",
    ]
    shown = spaced((await who.boss.send("/envelope CQCH 2026"))[-1].text).split("\n")
    assert [line.strip() for line in shown] == expected
    # The manager sees their own federation's, without naming it.
    shown = spaced((await who.gisele.send("/envelope"))[-1].text).split("\n")
    assert [line.strip() for line in shown] == expected
    assert (await who.roger.send("/envelope"))[-1].text == "FCAQ n'a pas d'enveloppe."
    assert (await who.boss.send("/envelope CQCH 2025"))[-1].text == (
        "CQCH n'a pas d'enveloppe en 2025."
    )


async def test_wrong_arguments_get_the_usage_line(bot: Emulator) -> None:
    who = await members(bot)
    assert "Syntaxe" in (await who.boss.send("/envelope"))[-1].text
    assert "Syntaxe" in (await who.boss.send("/envelope CQCH deux-mille"))[-1].text
    assert "n'est pas un montant" in (await who.boss.send("/envelope CQCH 2026 beaucoup"))[-1].text
    assert "Aucune fédération" in (await who.boss.send("/envelope NOPE 2026 10h"))[-1].text
    assert "Aucune expertise" in (await who.boss.send("/envelope CQCH 2026 10h nope"))[-1].text
    assert "Syntaxe" in (await who.gisele.send("/envelope CQCH 2026"))[-1].text
    async with bot.services.db.read() as conn:
        assert not list(await conn.execute_fetchall("SELECT * FROM envelopes"))


async def test_a_contact_cannot_see_or_set_an_envelope(bot: Emulator) -> None:
    who = await members(bot)
    await who.boss.send("/envelope CQCH 2026 10h")
    for text in ("/envelope", "/envelope 2026", "/envelope CQCH 2026 99h"):
        assert (await who.marie.send(text))[-1].text == "Vous n'avez pas accès à cette action."
    assert (await who.jean.send("/envelope CQCH"))[-1].text == (
        "Vous n'avez pas accès à cette action."
    )
    async with bot.services.db.read() as conn:
        rows = list(await conn.execute_fetchall("SELECT amount FROM envelopes"))
    assert [r[0] for r in rows] == [600]
    # /help names /envelope and /statement to managers and admins, not to contacts.
    for person, shown in [(who.gisele, True), (who.boss, True), (who.marie, False)]:
        text = (await person.send("/help"))[-1].text
        assert ("/envelope" in text and "/statement" in text) is shown, person.first_name


def _alerts(person: Person) -> list[str]:
    return [spaced(text) for text in person.texts() if "L'enveloppe 2026" in text]


async def test_alerts_at_80_and_100_percent_once_across_runs_and_a_restart(
    tmp_path: Path, clock: ManualClock
) -> None:
    settings, api = make_settings(tmp_path), FakeBotAPI()
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        who = await members(bot)
        await who.boss.send("/envelope CQCH 2026 10h")
        t1 = await request(bot, who)
        await log(bot, who, t1, date(2026, 11, 2), 420)
        assert await check_envelopes(bot.services) == 0  # 70 %: nothing yet
        # 7 h used and 1 h committed: 80 %.
        await approve(bot, t1, 480, 10000)
        assert await check_envelopes(bot.services) == 1
        assert await check_envelopes(bot.services) == 0  # the job runs twice
        await bot.deliver()
        told = (
            "🟠 L'enveloppe 2026 de CQCH (toutes les expertises) atteint 80 % : 8 h sur 10 h,"
            " utilisé ou engagé (utilisé : 7 h · engagé : 1 h)."
        )
        assert _alerts(who.gisele) == [told]
        assert _alerts(who.boss) == [told]
        assert _alerts(who.roger) == [] and _alerts(who.marie) == []
    clock.advance(hours=1)
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        assert await check_envelopes(bot.services) == 0  # after a restart: still told once
        await log(bot, who, t1, date(2026, 11, 5), 180)
        assert await check_envelopes(bot.services) == 1
        assert await check_envelopes(bot.services) == 0
        await bot.deliver()
        gisele = bot.person(who.gisele.id, "Gisèle")
        assert _alerts(gisele)[-1] == (
            "🔴 L'enveloppe 2026 de CQCH (toutes les expertises) est atteinte (100 %) : 10 h sur"
            " 10 h, utilisé ou engagé (utilisé : 10 h · engagé : 0 h)."
        )
        assert len(_alerts(gisele)) == 2
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        assert await check_envelopes(bot.services) == 0
        await bot.deliver()
        assert len(_alerts(bot.person(who.gisele.id, "Gisèle"))) == 2


async def test_a_jump_past_both_thresholds_is_one_message(bot: Emulator) -> None:
    who = await members(bot)
    await who.boss.send("/envelope CQCH 2026 1000$")
    t1 = await request(bot, who)
    await h.log_time(bot, ticket=t1, lead=who.jean.id, work_date=date(2026, 11, 2), minutes=660)
    assert await check_envelopes(bot.services) == 1
    await bot.deliver()
    [alert] = _alerts(who.gisele)
    assert alert.startswith("🔴") and "1 100,00 $ sur 1 000,00 $" in alert and "(110 %)" in alert
    assert await check_envelopes(bot.services) == 0


SPENT = "L'enveloppe de votre fédération pour cette année est épuisée."


async def test_the_review_says_when_the_envelope_is_spent_and_the_request_still_goes(
    bot: Emulator,
) -> None:
    who = await members(bot)
    reference = await flows.file_request(who.marie)  # no envelope: nothing to say
    assert not any(SPENT in text for text in who.marie.texts())
    await who.boss.send("/envelope CQCH 2026 2h legal")
    async with bot.services.db.read() as conn:
        ticket = await tickets.ticket_by_reference(conn, reference)
    assert ticket is not None
    t1 = ticket.id
    await log(bot, who, t1, date(2026, 11, 2), 90)
    await flows.fill_form(who.marie)
    assert SPENT not in who.marie.last.text  # 1 h 30 of 2 h: not spent yet
    await who.marie.click("Annuler")
    await log(bot, who, t1, date(2026, 11, 3), 30)
    # Another federation's contact, and a request in another field, are told nothing.
    await flows.fill_form(who.roger)
    assert SPENT not in who.roger.last.text
    await flows.fill_form(who.marie, field="Gestion des ressources humaines")
    assert SPENT not in who.marie.last.text
    await who.marie.click("Annuler")
    await flows.fill_form(who.marie)
    review = who.marie.last.text
    assert "Révision des règlements généraux" in review and review.endswith(
        SPENT + " Vous pouvez tout de même envoyer la demande : la coordination du Consortium"
        " en discutera avec votre fédération."
    )
    replies = await who.marie.click("Envoyer")
    assert "CREC-2026-0002" in replies[-1].text  # sent all the same


async def test_an_alert_due_after_log_is_told_at_once(bot: Emulator) -> None:
    who = await members(bot)
    await who.boss.send("/envelope CQCH 2026 10h")
    reference = await flows.file_request(who.marie)
    await who.jean.click("Prendre")
    assert "consigné" in (await who.jean.send(f"/log {reference} 8h"))[-1].text
    await bot.deliver()  # no check of the job's in between
    assert [alert[:40] for alert in _alerts(who.gisele)] == [
        "🟠 L'enveloppe 2026 de CQCH (toutes les e"
    ]
    assert await check_envelopes(bot.services) == 0


async def test_a_manager_reads_the_envelope_in_english(bot: Emulator) -> None:
    who = await members(bot)
    await who.boss.send("/envelope CQCH 2026 1500$")
    t1 = await request(bot, who)
    await log(bot, who, t1, date(2026, 11, 2), 90)
    await who.gisele.send("/language")
    await who.gisele.click("English")
    shown = spaced((await who.gisele.send("/envelope 2026"))[-1].text).split("\n")
    assert [line.strip() for line in shown] == [
        "Envelopes of CQCH — Confédération québécoise des coopératives",
        "• 2026, all fields: $1,500.00",
        "Used: $150.00 · Committed: $0.00 · Used or committed: 10% · Remaining: $1,350.00",
    ]
    assert (await who.gisele.send("/envelope 20x"))[-1].text.startswith("Usage: /envelope")
