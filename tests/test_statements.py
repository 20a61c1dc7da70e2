"""Statements to the federations (issue 14): /statement sends one federation's month as a PDF
whose amounts are those computed by hand, to the cent, across a rate change; a manager gets
their own federation's only; the monthly job sends each federation's managers the previous
month's on the first business day (a Québec holiday on the 1st), once, across a restart."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from bot.clock import ManualClock
from bot.federation.statements import check_statements
from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import FakeBotAPI, Sent
from storage import people, statements, tickets
from storage.models import TicketStatus
from tests import admin_helpers as h
from tests import flows
from tests.conftest import make_settings
from tests.sheets import assert_headers_fit, table
from tests.test_billing import money
from tests.test_envelopes import Members, approve, log, members, request

MONTREAL = ZoneInfo("America/Montreal")


def words(pdf: bytes) -> str:
    """The document's text on one line, its spaces (babel's no-break ones too) single spaces."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", text)


def documents(person: Person) -> list[Sent]:
    return [sent for sent in person.chat if sent.kind == "document"]


def pdf_of(sent: Sent) -> str:
    assert sent.content is not None and sent.content.startswith(b"%PDF")
    return words(sent.content)


async def november(bot: Emulator, who: Members) -> tuple[int, int]:
    """CQCH's November: legal at 100 $/h, then 102,50 $/h from the 17th.
    t1  Nov  3   95 min × 100,00 $ = 158,333… → 158,33 $
    t1  Nov 17  130 min × 102,50 $ = 222,083… → 222,08 $
    t2  Nov 24    7 min × 102,50 $ =  11,958… →  11,96 $
    the month: 232 min (3 h 52), 392,37 $. t1 was approved at 3 h to 6 h, 600,00 $.
    October's time on t1 and FCAQ's November are not on CQCH's November statement."""
    t1, t2 = await request(bot, who), await request(bot, who)
    other = await request(bot, who, "FCAQ")
    await approve(bot, t1, 360, 10000)
    await log(bot, who, t1, date(2026, 11, 3), 95)
    await log(bot, who, t1, date(2026, 10, 30), 60)
    await log(bot, who, other, date(2026, 11, 5), 45)
    assert "102,50" in (await who.boss.send("/domain rate legal 102,50"))[-1].text
    await log(bot, who, t1, date(2026, 11, 17), 130)
    await log(bot, who, t2, date(2026, 11, 24), 7)
    return t1, t2


async def test_the_admins_statement_adds_up_to_the_cent_across_a_rate_change(
    bot: Emulator,
) -> None:
    who = await members(bot)
    await november(bot, who)
    await who.boss.send("/envelope CQCH 2026 10h")
    [document] = documents_after(who.boss, await who.boss.send("/statement cqch 2026-11"))
    assert document.file_name == "releve-CQCH-2026-11.pdf"
    assert document.text == "Relevé de CQCH — novembre 2026"
    text = pdf_of(document)
    for line in [
        "Total du mois : 392,37 $",
        "Demandes : 2 demandes",
        "Temps consigné : 3 entrées de temps, 3 h 52",
        "3 h à 6 h 600,00 $ 3 h 45 380,41 $",
        "Total 3 h 52 392,37 $",
        "3 nov. CREC-2026-0001 Jean 1 h 35 100,00 $ 158,33 $",
        "17 nov. CREC-2026-0001 Jean 2 h 10 102,50 $ 222,08 $",
        "24 nov. CREC-2026-0002 Jean 7 min 102,50 $ 11,96 $",
        # The envelope to the end of November: 4 h 52 used (October's hour too); of t1's 6 h,
        # 4 h 45 are logged, 1 h 15 still committed: 3 h 53 left, 367 min of 600, 61 %.
        "toutes les expertises 10 h 4 h 52 1 h 15 3 h 53 61 %",
    ]:
        assert line in text, text
    assert "CREC-2026-0003" not in text and "30 oct." not in text


def documents_after(person: Person, replies: list[Sent]) -> list[Sent]:
    """The documents among a command's replies."""
    return [sent for sent in replies if sent.kind == "document" and sent.chat_id == person.id]


async def test_a_manager_gets_their_own_federations_statement_only(bot: Emulator) -> None:
    who = await members(bot)
    await november(bot, who)
    # Last month by default (the clock is in November 2026): October's hour.
    [october] = documents_after(who.gisele, await who.gisele.send("/statement"))
    assert "Total du mois : 100,00 $" in pdf_of(october)
    [mine] = documents_after(who.gisele, await who.gisele.send("/statement 2026-11"))
    assert "Total du mois : 392,37 $" in pdf_of(mine)
    # Roger manages FCAQ: his November is FCAQ's 45 min at 100 $/h, nothing of CQCH's.
    [his] = documents_after(who.roger, await who.roger.send("/statement 2026-11"))
    text = pdf_of(his)
    assert "FCAQ" in text and "CREC-2026-0003" in text and "Total du mois : 75,00 $" in text
    assert "CREC-2026-0001" not in text
    assert "Syntaxe" in (await who.roger.send("/statement CQCH 2026-11"))[-1].text
    assert "Aucun temps" in (await who.roger.send("/statement 2026-09"))[-1].text
    for person, text in [(who.marie, "/statement"), (who.marie, "/statement 2026-11")]:
        assert (await person.send(text))[-1].text == "Vous n'avez pas accès à cette action."
    assert (await who.jean.send("/statement CQCH 2026-11"))[-1].text == (
        "Vous n'avez pas accès à cette action."
    )
    assert not documents(who.marie) and not documents(who.jean)
    assert "Syntaxe" in (await who.boss.send("/statement CQCH"))[-1].text
    assert "Aucune fédération" in (await who.boss.send("/statement NOPE 2026-11"))[-1].text


async def test_an_english_manager_reads_it_in_english(bot: Emulator) -> None:
    who = await members(bot)
    await november(bot, who)
    await who.gisele.send("/language")
    await who.gisele.click("English")
    [document] = documents_after(who.gisele, await who.gisele.send("/statement 2026-11"))
    assert document.file_name == "statement-CQCH-2026-11.pdf"
    text = pdf_of(document)
    assert "Total for the month: $392.37" in text and "Nov 17" in text


def at(clock: ManualClock, moment: datetime) -> None:
    clock.advance(seconds=(moment - clock.now()).total_seconds())


async def test_the_monthly_job_sends_each_statement_once_on_the_first_business_day(
    tmp_path: Path, clock: ManualClock
) -> None:
    settings, api = make_settings(tmp_path), FakeBotAPI()
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        who = await members(bot)
        await flows.federation(who.boss, "FCDQ")  # a manager, but no time in December
        quiet = await flows.contact(bot, who.boss, 2005, "Paule", code="FCDQ")
        paul = await flows.contact(bot, who.boss, 2006, "Paul")  # a second CQCH manager
        async with bot.services.db.transaction() as conn:
            assert await people.set_manager(conn, quiet.id, True)
            assert await people.set_manager(conn, paul.id, True)
        t1, other = await request(bot, who), await request(bot, who, "FCAQ")
        await log(bot, who, t1, date(2026, 12, 10), 60)
        await log(bot, who, other, date(2026, 12, 31), 30)
        await log(bot, who, t1, date(2027, 1, 1), 30)  # January's, for February's statement
        # 2027-01-01 is New Year's Day (a Friday), then a weekend: nothing until Monday the 4th.
        for day in (1, 2, 3):
            at(clock, datetime(2027, 1, day, 9, tzinfo=MONTREAL))
            assert await check_statements(bot.services, bot.app.bot) == 0
        at(clock, datetime(2027, 1, 4, 7, 59, tzinfo=MONTREAL))  # not before 8 h
        assert await check_statements(bot.services, bot.app.bot) == 0
        at(clock, datetime(2027, 1, 4, 8, tzinfo=MONTREAL))
        assert await check_statements(bot.services, bot.app.bot) == 2
        assert await check_statements(bot.services, bot.app.bot) == 0  # the job runs twice
        for manager in (who.gisele, paul):
            [statement] = documents(manager)
            assert statement.file_name == "releve-CQCH-2026-12.pdf"
            assert statement.text == "Voici le relevé de CQCH pour décembre 2026."
            assert "Total du mois : 100,00 $" in pdf_of(statement)
        [statement] = documents(who.roger)
        assert statement.file_name == "releve-FCAQ-2026-12.pdf"
        assert "Total du mois : 50,00 $" in pdf_of(statement)
        assert not documents(quiet) and not documents(who.marie) and not documents(who.boss)
    clock.advance(hours=3)
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        assert await check_statements(bot.services, bot.app.bot) == 0  # across a restart
        at(clock, datetime(2027, 1, 20, 9, tzinfo=MONTREAL))
        assert await check_statements(bot.services, bot.app.bot) == 0
        assert len(documents(bot.person(who.gisele.id, "Gisèle"))) == 1
        # February's first business day is Monday the 1st: January's statement.
        at(clock, datetime(2027, 2, 1, 9, tzinfo=MONTREAL))
        assert await check_statements(bot.services, bot.app.bot) == 1
        names = [d.file_name for d in documents(bot.person(who.gisele.id, "Gisèle"))]
        assert names == ["releve-CQCH-2026-12.pdf", "releve-CQCH-2027-01.pdf"]


async def november_due(bot: Emulator, who: Members) -> None:
    """An hour of CQCH's in November; the clock on December 1 (a Tuesday), 9 h: it is due."""
    t1 = await request(bot, who)
    await log(bot, who, t1, date(2026, 11, 10), 60)
    at(bot.services.clock, datetime(2026, 12, 1, 9, tzinfo=MONTREAL))


async def deliveries(bot: Emulator) -> dict[int, tuple[str, int]]:
    """November's deliveries recorded: manager → (status, failed checks)."""
    sql = "SELECT user_id, status, tries FROM statement_deliveries WHERE month = '2026-11'"
    async with bot.services.db.read() as conn, conn.execute(sql) as cur:
        return {r[0]: (r[1], r[2]) for r in await cur.fetchall()}


async def admin_notices(bot: Emulator, who: Members) -> list[str]:
    """What the admin was told through the outbox, delivered now."""
    await bot.deliver()
    return [sent.text for sent in who.boss.chat if sent.text.startswith("⚠️")]


async def test_a_failed_send_is_tried_again_at_the_next_check(bot: Emulator) -> None:
    who = await members(bot)
    await november_due(bot, who)
    # Telegram answers 503, then the connection drops: nothing was delivered, no quick retry
    # (one call per check), the month is not recorded as sent.
    bot.api.fail("sendDocument", chat_id=who.gisele.id, status=503, times=2)
    for tries in (1, 2):
        assert await check_statements(bot.services, bot.app.bot) == 0
        assert await deliveries(bot) == {who.gisele.id: ("retry", tries)}
    assert not documents(who.gisele)
    assert await check_statements(bot.services, bot.app.bot) == 1
    assert len(documents(who.gisele)) == 1
    assert await check_statements(bot.services, bot.app.bot) == 0
    assert await deliveries(bot) == {who.gisele.id: ("sent", 2)}
    assert not await admin_notices(bot, who)
    sends = [c for c in bot.api.calls if c.method == "sendDocument"]
    assert len(sends) == 3


async def test_after_five_failed_checks_it_stops_and_the_admins_are_told_once(
    bot: Emulator,
) -> None:
    who = await members(bot)
    await november_due(bot, who)
    bot.api.fail("sendDocument", chat_id=who.gisele.id, status=502, times=10)
    for _ in range(4):
        assert await check_statements(bot.services, bot.app.bot) == 0
    assert not await admin_notices(bot, who)
    assert await check_statements(bot.services, bot.app.bot) == 1  # settled: given up
    for _ in range(2):
        assert await check_statements(bot.services, bot.app.bot) == 0
    assert await deliveries(bot) == {who.gisele.id: ("given_up", 5)}
    assert [c.method for c in bot.api.calls].count("sendDocument") == 5
    assert await admin_notices(bot, who) == [
        "⚠️ Le relevé de CQCH pour novembre 2026 n'a pas pu être remis à Gisèle Tremblay :"
        " Telegram était injoignable à chacune des dernières vérifications. Il n'est plus"
        " réessayé. /statement CQCH 2026-11 vous l'envoie pour le lui transmettre ; Gisèle"
        " Tremblay peut aussi l'obtenir avec /statement 2026-11."
    ]
    assert not documents(who.gisele)


async def test_billing_sets_the_approved_estimate_beside_the_actual(bot: Emulator) -> None:
    who = await members(bot)
    await november(bot, who)
    document = (await who.boss.send("/billing 2026-11"))[-1]
    sheet = h.workbook_of(bot.api, document)["CQCH"]
    rows = table(sheet)
    start = next(i for i, row in enumerate(rows) if row[0] == "Par demande")
    assert rows[start + 1][4:10] == [
        "Estimation approuvée",
        None,
        "Minutes",
        "Heures",
        "Montant estimé ($ CA)",
        "Montant ($ CA)",
    ]
    t1, t2 = rows[start + 2], rows[start + 3]
    assert t1[1] == "CREC-2026-0001" and t1[4] == "3 h à 6 h" and t1[6] == 225
    assert money(t1[8]) == Decimal("600.00") and money(t1[9]) == Decimal("380.41")
    assert t2[1] == "CREC-2026-0002" and t2[4] is None and t2[8] is None
    assert_headers_fit(sheet, start + 2)


async def _move(bot: Emulator, ticket_id: int, to: TicketStatus, kind: str) -> None:
    """A ticket moved on at the clock's time, with its audit event (as /resolve writes it)."""
    now = bot.services.clock.now()
    async with bot.services.db.transaction() as conn:
        ticket = await tickets.get_ticket(conn, ticket_id)
        assert ticket is not None and await tickets.set_status(conn, ticket, to, now)
        await tickets.add_event(
            conn,
            ticket_id=ticket_id,
            actor_id=None,
            kind=kind,
            from_status=ticket.status,
            to_status=to,
            note=None,
            now=now,
        )


async def test_a_past_statement_shows_the_envelope_as_it_stood_at_the_months_end(
    tmp_path: Path,
) -> None:
    clock = ManualClock(datetime(2026, 10, 1, 9, tzinfo=MONTREAL))
    async with Emulator.running(make_settings(tmp_path), clock=clock, api=FakeBotAPI()) as bot:
        who = await members(bot)  # legal at 100 $/h
        await who.boss.send("/envelope CQCH 2026 2000$")
        t1, t2, t3 = await request(bot, who), await request(bot, who), await request(bot, who)
        at(clock, datetime(2026, 10, 5, 10, tzinfo=MONTREAL))
        await approve(bot, t1, 360, 10000)  # up to 6 h, 600,00 $
        await log(bot, who, t1, date(2026, 10, 20), 95)  # 158,33 $
        at(clock, datetime(2026, 10, 10, 10, tzinfo=MONTREAL))
        await approve(bot, t3, 120, 10000)  # 200,00 $, but resolved before the month's end
        at(clock, datetime(2026, 10, 25, 10, tzinfo=MONTREAL))
        await _move(bot, t3, TicketStatus.RESOLVED, "resolve")
        # November changes October's estimates' state today, not October's statement.
        at(clock, datetime(2026, 11, 3, 10, tzinfo=MONTREAL))
        await approve(bot, t2, 180, 10000)  # 300,00 $
        at(clock, datetime(2026, 11, 10, 10, tzinfo=MONTREAL))
        await approve(bot, t1, 600, 10000)  # t1 revised: up to 10 h, 1 000,00 $
        await log(bot, who, t1, date(2026, 11, 12), 60)  # 100,00 $
        at(clock, datetime(2026, 11, 15, 10, tzinfo=MONTREAL))
        await _move(bot, t3, TicketStatus.IN_PROGRESS, "reopen")
        at(clock, datetime(2026, 12, 2, 10, tzinfo=MONTREAL))
        [october] = documents_after(who.boss, await who.boss.send("/statement CQCH 2026-10"))
        # End of October: 158,33 $ used; t1's 600,00 $ less 158,33 $ committed (441,67 $);
        # t3 resolved then, t2 not yet approved: 1 400,00 $ left, 600 of 2 000, 30 %.
        line = "toutes les expertises 2 000,00 $ 158,33 $ 441,67 $ 1 400,00 $ 30 %"
        assert line in pdf_of(october), pdf_of(october)
        # t1's line shows the estimate approved in October, not November's revision.
        assert "3 h à 6 h 600,00 $ 1 h 35 158,33 $" in pdf_of(october), pdf_of(october)
        assert "10 h" not in pdf_of(october).split("Entrées de temps")[0]
        # So does /billing's estimate column for October.
        sheet = h.workbook_of(bot.api, (await who.boss.send("/billing 2026-10"))[-1])["CQCH"]
        rows = table(sheet)
        start = next(i for i, row in enumerate(rows) if row[0] == "Par demande")
        assert rows[start + 2][1] == "CREC-2026-0001" and rows[start + 2][4] == "3 h à 6 h"
        [november] = documents_after(who.boss, await who.boss.send("/statement CQCH 2026-11"))
        # End of November: 258,33 $ used; t1 1 000,00 − 258,33 = 741,67 $, t2 300,00 $, t3
        # reopened 200,00 $: 1 241,67 $ committed, 500,00 $ left, 75 %.
        line = "toutes les expertises 2 000,00 $ 258,33 $ 1 241,67 $ 500,00 $ 75 %"
        assert line in pdf_of(november), pdf_of(november)
        assert "5 h à 10 h 1 000,00 $ 1 h 100,00 $" in pdf_of(november), pdf_of(november)


async def test_a_blocked_manager_is_marked_and_the_others_get_it_once(bot: Emulator) -> None:
    who = await members(bot)
    paul = await flows.contact(bot, who.boss, 2006, "Paul")  # a second CQCH manager
    async with bot.services.db.transaction() as conn:
        assert await people.set_manager(conn, paul.id, True)
    await november_due(bot, who)
    bot.api.fail("sendDocument", chat_id=paul.id, status=403)
    # Gisèle's fails for a passing reason: hers alone is tried again.
    bot.api.fail("sendDocument", chat_id=who.gisele.id, status=502)
    assert await check_statements(bot.services, bot.app.bot) == 0
    assert not documents(who.gisele) and not documents(paul)
    async with bot.services.db.read() as conn:
        blocked = await people.get_user(conn, paul.id)
    assert blocked is not None and blocked.blocked_at is not None
    assert await admin_notices(bot, who) == [
        "⚠️ Paul Tremblay a bloqué le bot : le relevé de CQCH pour novembre 2026 n'a pas pu lui"
        " être remis. Il n'est pas renvoyé ; quand le bot sera débloqué, Paul Tremblay pourra"
        " l'obtenir avec /statement 2026-11."
    ]
    assert await check_statements(bot.services, bot.app.bot) == 1
    assert await check_statements(bot.services, bot.app.bot) == 0
    assert len(documents(who.gisele)) == 1 and not documents(paul)
    sends = [c for c in bot.api.calls if c.method == "sendDocument"]
    assert [c.params["chat_id"] for c in sends].count(paul.id) == 1  # not retried
    assert [c.params["chat_id"] for c in sends].count(who.gisele.id) == 2  # 1 failed, 1 sent
    assert len(await admin_notices(bot, who)) == 1


UNSURE = (
    "⚠️ Le relevé de CQCH pour novembre 2026 envoyé à Gisèle Tremblay n'est peut-être pas"
    " arrivé : Telegram n'a pas confirmé sa remise. Il n'est pas renvoyé automatiquement, pour"
    " ne pas le doubler. /statement CQCH 2026-11 vous l'envoie pour le lui transmettre ; Gisèle"
    " Tremblay peut aussi l'obtenir avec /statement 2026-11."
)


async def test_a_send_interrupted_before_its_record_is_not_sent_again(bot: Emulator) -> None:
    who = await members(bot)
    await november_due(bot, who)
    async with bot.services.db.transaction() as conn:  # as a crash after the send leaves it
        await statements.record_delivery(
            conn, 1, "2026-11", who.gisele.id, "sending", bot.services.clock.now()
        )
    # A moment later (a restart's first check), it may still be under way: left alone.
    bot.services.clock.advance(minutes=2)
    assert await check_statements(bot.services, bot.app.bot) == 0
    assert not await admin_notices(bot, who)
    bot.services.clock.advance(hours=1)
    assert await check_statements(bot.services, bot.app.bot) == 1
    assert await check_statements(bot.services, bot.app.bot) == 0
    assert not documents(who.gisele)  # at most once: she asks /statement for it
    assert await deliveries(bot) == {who.gisele.id: ("unsure", 0)}
    assert await admin_notices(bot, who) == [UNSURE]


async def test_a_timed_out_send_is_not_sent_again_and_the_admins_are_told_once(
    bot: Emulator,
) -> None:
    who = await members(bot)
    paul = await flows.contact(bot, who.boss, 2006, "Paul")  # a second CQCH manager
    async with bot.services.db.transaction() as conn:
        assert await people.set_manager(conn, paul.id, True)
    await who.boss.send("/language")
    await who.boss.click("English")
    await november_due(bot, who)
    # Gisèle's arrives, but its answer is lost (a read timeout); Paul's times out, undelivered.
    # Neither is tried again, at once or later: the bot cannot tell them apart.
    bot.api.lost_answers.add("sendDocument")
    bot.api.fail("sendDocument", chat_id=paul.id, timeout=True)
    assert await check_statements(bot.services, bot.app.bot) == 1  # both settled
    for _ in range(2):
        assert await check_statements(bot.services, bot.app.bot) == 0
    sends = [c.params["chat_id"] for c in bot.api.calls if c.method == "sendDocument"]
    assert sorted(sends) == sorted([who.gisele.id, paul.id])
    assert len(documents(who.gisele)) == 1 and not documents(paul)
    assert await deliveries(bot) == {who.gisele.id: ("unsure", 0), paul.id: ("unsure", 0)}
    assert await admin_notices(bot, who) == [
        f"⚠️ The CQCH statement for November 2026 sent to {name} may not have arrived:"
        " Telegram did not confirm"
        " its delivery. It is not sent again automatically, so as not to send it twice."
        f" /statement CQCH 2026-11 sends it to you to forward; {name} can also get it with"
        " /statement 2026-11."
        for name in ("Gisèle Tremblay", "Paul Tremblay")
    ]


async def test_a_long_flood_wait_gives_one_delivery_at_a_later_check(bot: Emulator) -> None:
    who = await members(bot)
    await november_due(bot, who)
    bot.api.fail("sendDocument", chat_id=who.gisele.id, status=429, retry_after=60)
    assert await check_statements(bot.services, bot.app.bot) == 0
    assert not documents(who.gisele)
    assert await check_statements(bot.services, bot.app.bot) == 1
    assert await check_statements(bot.services, bot.app.bot) == 0
    assert len(documents(who.gisele)) == 1
    assert await deliveries(bot) == {who.gisele.id: ("sent", 1)}
