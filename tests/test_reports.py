"""/stats and /export through the real application, on a seeded month: counts by field and by
federation, medians, shares within target, ratings, the weekly chart; the spreadsheet of the
period's requests. Periods are read in TIMEZONE; bad ones get the usage line."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.reports.chart import week_labels, weekly_figure
from bot.rules.periods import describe, parse_month, parse_period
from bot.rules.service_levels import calendar_for
from bot.rules.stats import compute_stats
from bot.tools.emulator import Emulator, Person
from storage import people
from storage import reports as repo
from storage import sla as sla_repo
from tests import admin_helpers as h
from tests import flows
from tests.sheets import CURRENCY, DURATION, assert_headers_fit, minutes, width

MONTREAL = ZoneInfo("America/Montreal")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MONTREAL)


async def _seed(bot: Emulator) -> tuple[Person, dict[str, str]]:
    """November 2026 (the clock says Nov 24): six requests, and three just outside the month."""
    boss, marie, jean, luc = await flows.world(bot)
    await flows.federation(boss, "FCDQ")
    paul = await flows.contact(bot, boss, 2002, "Paul", code="FCDQ")
    refs: dict[str, str] = {}

    async def ticket(name: str, **values: object) -> None:
        refs[name] = (await h.insert_ticket(bot, **values))[1]  # type: ignore[arg-type]

    await ticket(
        "t1",
        contact=marie.id,
        created_at=local(2026, 11, 2, 10, 0),
        urgency="urgent",
        status="closed",
        assignee=jean.id,
        first_response_at=local(2026, 11, 2, 11, 0),
        resolved_at=local(2026, 11, 4, 10, 0),
        closed_at=local(2026, 11, 5, 10, 0),
        rating=5,
        subject='=HYPERLINK("http://x")',
    )
    await ticket(
        "t2",
        contact=paul.id,
        federation="FCDQ",
        created_at=local(2026, 11, 10, 9, 0),
        status="waiting",
        assignee=jean.id,
        first_response_at=local(2026, 11, 10, 12, 0),
    )
    await ticket(
        "t3",
        contact=marie.id,
        field="hr",
        created_at=local(2026, 11, 11, 20, 0),
        urgency="critical",
        status="resolved",
        assignee=luc.id,
        first_response_at=local(2026, 11, 12, 3, 0),
        resolved_at=local(2026, 11, 13, 20, 0),
        rating=3,
    )
    await ticket(
        "t4", contact=marie.id, field="hr", created_at=local(2026, 11, 16, 9, 0), urgency="urgent"
    )
    await ticket(
        "t5",
        contact=paul.id,
        federation="FCDQ",
        field="web",
        created_at=local(2026, 11, 23, 10, 0),
        status="cancelled",
    )
    # Sunday Nov 1 at 00:30 is November in Montréal (04:30 UTC)...
    await ticket("t8", contact=marie.id, created_at=local(2026, 11, 1, 0, 30))
    # ...and Saturday Oct 31 at 23:30 is October, though it is Nov 1 in UTC.
    await ticket("t9", contact=marie.id, created_at=local(2026, 10, 31, 23, 30))
    await ticket("t6", contact=marie.id, created_at=local(2026, 10, 30, 10, 0))
    await ticket("t7", contact=marie.id, created_at=local(2026, 12, 1, 10, 0))
    return boss, refs


async def test_stats_of_a_seeded_month(bot: Emulator) -> None:
    boss, _ = await _seed(bot)
    replies = await boss.send("/stats")
    text = replies[0].text
    assert "Statistiques — novembre 2026" in text
    assert "Demandes reçues : 6 · résolues : 2 · ouvertes : 3 · annulées : 1" in text
    assert "Délai médian de première réponse : 3 h" in text
    assert "Délai médian de résolution : 2 j" in text
    assert "première réponse 40\xa0% (2 sur 5) · résolution 50\xa0% (2 sur 4)" in text
    assert "Évaluation moyenne : 4,0/5 (2 évaluations)" in text
    by_field = text.split("Par domaine")[1].split("Par fédération")[0]
    assert "Services juridiques : 3 · 1 · 2" in by_field
    assert "Gestion des ressources humaines : 2 · 1 · 1" in by_field
    assert "Développement Web : 1 · 0 · 0" in by_field
    assert by_field.index("Services juridiques") < by_field.index("Gestion")
    by_federation = text.split("Par fédération")[1]
    assert "CQCH : 4 · 2 · 2" in by_federation and "FCDQ : 2 · 0 · 1" in by_federation
    chart = replies[-1]
    assert chart.kind == "photo" and "par semaine et par domaine — novembre 2026" in chart.text
    png = h.upload_of(bot.api, chart).content
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (1000, 550)
    image.verify()


async def test_stats_weeks_and_periods_follow_the_local_calendar(bot: Emulator) -> None:
    await _seed(bot)
    period = parse_period("2026-11", date(2026, 11, 24))
    assert period is not None
    start, end = period.bounds(MONTREAL)
    assert (start, end) == (
        datetime(2026, 11, 1, 4, tzinfo=UTC),
        datetime(2026, 12, 1, 5, tzinfo=UTC),
    )
    async with bot.services.db.read() as conn:
        facts = await repo.ticket_facts(conn, start, end)
        targets = await sla_repo.targets(conn)
    stats = compute_stats(period, facts, targets, calendar_for(MONTREAL), bot.services.clock.now())
    legal, hr, web = [await h.field_id(bot, c) for c in ("legal", "hr", "web")]
    assert stats.weekly == {
        # Sunday Nov 1 is in the week of Monday Oct 26: in November, that week starts on Nov 1.
        date(2026, 11, 1): {legal: 1},
        date(2026, 11, 2): {legal: 1},
        date(2026, 11, 9): {legal: 1, hr: 1},
        date(2026, 11, 16): {hr: 1},
        date(2026, 11, 23): {web: 1},
        # and the week of Monday Nov 30 is still to come on Nov 24: not there
    }


async def test_the_weekly_chart_shows_the_weeks_of_the_period_up_to_today(bot: Emulator) -> None:
    await _seed(bot)
    async with bot.services.db.read() as conn:
        fields = {f.id: f for f in await people.list_fields(conn, active_only=False)}
        targets = await sla_repo.targets(conn)

    async def chart(text: str, language: str = "fr") -> tuple[list[str], list[int]]:
        """The labels under the chart of a period, and how many bars each field has."""
        period = parse_period(text, date(2026, 11, 24))
        assert period is not None
        start, end = period.bounds(MONTREAL)
        async with bot.services.db.read() as conn:
            facts = await repo.ticket_facts(conn, start, end)
        now = bot.services.clock.now()
        stats = compute_stats(period, facts, targets, calendar_for(MONTREAL), now)
        axes = weekly_figure(stats, fields, language).axes[0]
        labels = [label.get_text() for label in axes.get_xticklabels()]
        assert set(labels) <= set(week_labels(stats, language))
        return labels, [len(container) for container in axes.containers]

    labels, bars = await chart("2026-11")
    assert labels == ["1 nov.", "2 nov.", "9 nov.", "16 nov.", "23 nov."]  # no Oct 26, no Nov 30
    assert bars == [5, 5, 5]  # three fields, a bar each week, none for a week to come
    labels, _ = await chart("2026-11", "en")
    assert labels == ["Nov 1", "Nov 2", "Nov 9", "Nov 16", "Nov 23"]
    labels, bars = await chart("2026-10")  # a month past: all its weeks, from Thursday Oct 1
    assert labels == ["1 oct.", "5 oct.", "12 oct.", "19 oct.", "26 oct."] and bars == [5]
    labels, bars = await chart("2026")  # the year so far: 48 weeks, one label in four
    assert (labels[0], labels[-1], len(labels), set(bars)) == ("1 janv.", "2 nov.", 12, {48})


async def test_stats_of_other_periods_and_in_english(bot: Emulator) -> None:
    boss, _ = await _seed(bot)
    assert "Demandes reçues : 9" in (await boss.send("/stats 2026-Q4"))[0].text
    assert "4e trimestre 2026" in (await boss.send("/stats 2026-t4"))[0].text
    assert "Statistiques — 2026" in (await boss.send("/stats 2026"))[0].text
    assert "Demandes reçues : 2 " in (await boss.send("/stats 2026-10"))[0].text
    await boss.send("/language")
    await boss.click("English")
    replies = await boss.send("/stats 2026-11")
    assert "Statistics — November 2026" in replies[0].text
    assert "Median time to resolution: 2 d" in replies[0].text
    assert "Within target: first response 40% (2 of 5)" in replies[0].text
    assert "Q4 2026" in (await boss.send("/stats 2026-Q4"))[0].text


async def test_stats_of_an_empty_period_say_so(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    replies = await boss.send("/stats")
    assert [r.text for r in replies] == [
        "📊 Aucune demande reçue en novembre 2026 : pas de statistiques pour cette période."
    ]
    assert "mars 2025" in (await boss.send("/stats 2025-03"))[-1].text


@pytest.mark.parametrize(
    "bad", ["2026-13", "2026-00", "abc", "2026-Q5", "2026-Q0", "1999", "2101", "26-11", "2026-1-1"]
)
async def test_bad_periods_get_the_usage(bot: Emulator, bad: str) -> None:
    boss = await flows.admin(bot)
    for command in ("/stats", "/export"):
        replies = await boss.send(f"{command} {bad}")
        assert len(replies) == 1 and "Syntaxe" in replies[0].text and "2026-Q4" in replies[0].text
    assert "Syntaxe" in (await boss.send("/stats 2026-11 2026-12"))[-1].text


def test_periods() -> None:
    today = date(2026, 11, 24)
    month = parse_period(None, today)
    assert month is not None and (month.label, month.first, month.after) == (
        "2026-11",
        date(2026, 11, 1),
        date(2026, 12, 1),
    )
    december = parse_period("2026-12", today)
    assert december is not None and december.after == date(2027, 1, 1)
    quarter = parse_period("2026-q1", today)
    assert quarter is not None and (quarter.label, quarter.first, quarter.after) == (
        "2026-Q1",
        date(2026, 1, 1),
        date(2026, 4, 1),
    )
    assert describe(quarter, "fr") == "1e trimestre 2026" and describe(quarter, "en") == "Q1 2026"
    assert parse_month("2026-11") is not None
    assert parse_month("2026") is None and parse_month("2026-Q4") is None
    assert parse_month("") is None and parse_month("2026-13") is None


async def test_export_has_one_row_per_request_with_local_dates(bot: Emulator) -> None:
    boss, refs = await _seed(bot)
    await boss.send("/domain rate legal 95")
    ticket_1 = (await h.rows(bot, "SELECT id FROM tickets WHERE reference = ?", refs["t1"]))[0][0]
    await h.log_time(bot, ticket=ticket_1, lead=3001, work_date=date(2026, 11, 2), minutes=20)
    replies = await boss.send("/export")
    document = replies[-1]
    assert document.kind == "document" and "Demandes reçues en novembre 2026 : 6" in document.text
    assert h.upload_of(bot.api, document).file_name == "demandes-2026-11.xlsx"
    sheet = h.workbook_of(bot.api, document)["Demandes"]
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = table[0]
    assert header[:4] == ["Référence", "Reçue le", "Code domaine", "Domaine"]
    assert len(table) == 7 and sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:V7"
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in table[1:]}
    assert list(rows) == [refs[n] for n in ("t8", "t1", "t2", "t3", "t4", "t5")]
    first = rows[refs["t1"]]
    assert first["Reçue le"] == datetime(2026, 11, 2, 10, 0)  # local time, not UTC
    assert first["Objet"] == '=HYPERLINK("http://x")'  # text, never a formula
    assert sheet.cell(row=3, column=8).data_type == "s"
    assert (first["Domaine"], first["Fédération"], first["Contact"]) == (
        "Services juridiques",
        "Confédération québécoise des coopératives",
        "Marie Tremblay",
    )
    assert (first["État"], first["Urgence"], first["Responsable"]) == ("Fermée", "Urgente", "Jean")
    # Delays and hours are durations: 1 h 00, 48 h 00, 0 h 20, that add up as time.
    assert (first["Délai de prise en charge"], first["Délai de résolution"]) == (
        timedelta(hours=1),
        timedelta(hours=48),
    )
    assert (first["Prise en charge dans la cible"], first["Résolution dans la cible"]) == (
        "Oui",
        "Oui",
    )
    assert (first["Évaluation"], Decimal(str(first["Montant ($ CA)"]))) == (5, Decimal("31.67"))
    assert minutes(first["Heures consignées"]) == 20
    critical = rows[refs["t3"]]
    assert critical["Prise en charge dans la cible"] == "Non"
    assert rows[refs["t2"]]["Résolution dans la cible"] is None  # not decided yet
    # Statuses read from the staff's side: the admin is not the one who must answer.
    assert rows[refs["t2"]]["État"] == "En attente du contact"
    assert rows[refs["t5"]]["État"] == "Annulée par le contact"


async def test_the_export_is_a_file_people_keep(bot: Emulator) -> None:
    boss, refs = await _seed(bot)
    await boss.send("/domain rate legal 95")
    ticket_1 = (await h.rows(bot, "SELECT id FROM tickets WHERE reference = ?", refs["t1"]))[0][0]
    await h.log_time(bot, ticket=ticket_1, lead=3001, work_date=date(2026, 11, 2), minutes=20)
    for language in ("fr", "en"):
        sheet = h.workbook_of(bot.api, (await boss.send("/export"))[-1]).worksheets[0]
        assert sheet.freeze_panes == "A2"  # the header stays in view
        assert_headers_fit(sheet, 1)
        cells = {cell.column: cell for cell in sheet[3]}  # t1's row
        assert cells[2].number_format == "yyyy-mm-dd hh:mm"
        assert cells[16].number_format == DURATION[language] == cells[17].number_format
        assert cells[21].number_format == DURATION[language]  # hours logged
        assert cells[22].number_format == CURRENCY[language]  # amount
        assert width(sheet, 2) >= len("2026-11-02 10:00")
        await boss.send("/language")
        await boss.click("English")


async def test_export_in_english_and_of_an_empty_period(bot: Emulator) -> None:
    boss, _ = await _seed(bot)
    await boss.send("/language")
    await boss.click("English")
    document = (await boss.send("/export 2026-Q4"))[-1]
    assert h.upload_of(bot.api, document).file_name == "requests-2026-Q4.xlsx"
    sheet = h.workbook_of(bot.api, document)["Requests"]
    header = [cell.value for cell in next(sheet.iter_rows())]
    assert header[:3] == ["Reference", "Received", "Field code"]
    assert sheet.max_row == 10
    replies = await boss.send("/export 2025-03")
    assert [r.text for r in replies] == ["No requests received in March 2025: nothing to export."]


async def test_reports_are_for_admins_only(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    for person in (marie, jean):
        for command in ("/stats", "/stats 2026", "/export", "/export 2026-11", "/billing 2026-11"):
            replies = await person.send(command)
            assert len(replies) == 1 and "pas accès" in replies[0].text, command
