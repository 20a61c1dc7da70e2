"""Juste-coût billing: /billing <YYYY-MM> sends a spreadsheet per federation and a summary;
amounts are exact to the cent, each time entry at the rate it was logged with. Time logged on a
field with no rate is listed apart. The file is one people keep: dollars and durations formatted
as such, headers whole, frozen and repeated on printed pages."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.rules.money import dollars, entry_amount, hours, parse_rate
from bot.tools.emulator import Emulator, Person
from tests import admin_helpers as h
from tests import flows
from tests.sheets import CURRENCY, DURATION, assert_for_print, assert_headers_fit, minutes, table

MONTREAL = ZoneInfo("America/Montreal")


def money(value: Any) -> Decimal:
    """A cell read back (openpyxl gives floats) as the exact amount it shows."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def section(rows: list[list[Any]], title: str) -> list[list[Any]]:
    """The rows of the table under a section title, up to its Total line (included)."""
    start = next(i for i, row in enumerate(rows) if row and row[0] == title) + 2
    end = next(i for i in range(start, len(rows)) if rows[i][0] == "Total")
    return rows[start : end + 1]


async def _month_of_work(bot: Emulator) -> tuple[Person, dict[str, int]]:
    """November 2026: legal at $95/h, then $100.50/h from the 10th; hr at $80/h."""
    boss, marie, jean, luc = await flows.world(bot)
    await flows.federation(boss, "FCDQ")
    paul = await flows.contact(bot, boss, 2002, "Paul", code="FCDQ")
    ids: dict[str, int] = {}
    for name, contact, field, created in (
        ("t1", marie, "legal", datetime(2026, 11, 2, 10, tzinfo=MONTREAL)),
        ("t2", paul, "legal", datetime(2026, 11, 10, 9, tzinfo=MONTREAL)),
        ("t3", marie, "hr", datetime(2026, 11, 11, 20, tzinfo=MONTREAL)),
        ("t4", marie, "hr", datetime(2026, 11, 16, 9, tzinfo=MONTREAL)),
        ("t6", marie, "legal", datetime(2026, 10, 30, 10, tzinfo=MONTREAL)),  # October's request
    ):
        federation = "FCDQ" if contact is paul else "CQCH"
        ids[name], _ = await h.insert_ticket(
            bot, contact=contact.id, field=field, federation=federation, created_at=created
        )
    assert "95,00" in (await boss.send("/domain rate legal 95"))[-1].text
    await boss.send("/domain rate hr 80")
    log = h.log_time
    await log(bot, ticket=ids["t1"], lead=jean.id, work_date=date(2026, 11, 2), minutes=90)
    await log(bot, ticket=ids["t1"], lead=jean.id, work_date=date(2026, 11, 3), minutes=20)
    await log(bot, ticket=ids["t6"], lead=jean.id, work_date=date(2026, 11, 5), minutes=30)
    await log(bot, ticket=ids["t6"], lead=jean.id, work_date=date(2026, 10, 31), minutes=60)
    # The rate of legal services changes in the middle of the month.
    assert "100,50" in (await boss.send("/domain rate legal 100,50"))[-1].text
    await log(bot, ticket=ids["t2"], lead=jean.id, work_date=date(2026, 11, 12), minutes=45)
    await log(
        bot, ticket=ids["t1"], lead=jean.id, work_date=date(2026, 11, 16), minutes=10, note="=1+1"
    )
    await log(bot, ticket=ids["t3"], lead=luc.id, work_date=date(2026, 11, 13), minutes=7)
    await log(bot, ticket=ids["t4"], lead=luc.id, work_date=date(2026, 11, 30), minutes=60)
    await log(bot, ticket=ids["t4"], lead=luc.id, work_date=date(2026, 12, 1), minutes=60)
    return boss, ids


async def test_billing_a_month_to_the_cent(bot: Emulator) -> None:
    boss, _ = await _month_of_work(bot)
    replies = await boss.send("/billing 2026-11")
    summary, document = replies[-2], replies[-1]
    assert summary.text.split("\n") == [
        "💰 Relevé juste coût — novembre 2026",
        "2 fédérations, 4 h 22, 403,13\xa0$",  # hours as a French reader says them
        "CQCH : 3 h 37 — 327,75\xa0$",
        "FCDQ : 45 min — 75,38\xa0$",
    ]
    assert document.kind == "document"
    assert h.upload_of(bot.api, document).file_name == "releve-juste-cout-2026-11.xlsx"
    book = h.workbook_of(bot.api, document)
    assert book.sheetnames == ["Sommaire", "CQCH", "FCDQ"]  # no time without a rate

    rows = table(book["Sommaire"])
    assert rows[0][0] == "Relevé juste coût — novembre 2026"
    by_federation = section(rows, "Par fédération")
    assert [(r[0], r[2], minutes(r[3]), money(r[4])) for r in by_federation] == [
        ("CQCH", 4, 217, Decimal("327.75")),
        ("FCDQ", 1, 45, Decimal("75.38")),
        ("Total", 5, 262, Decimal("403.13")),
    ]
    by_field = section(rows, "Par domaine")
    assert [(r[1], minutes(r[3]), money(r[4])) for r in by_field] == [
        ("Services juridiques", 195, Decimal("313.80")),
        ("Gestion des ressources humaines", 67, Decimal("89.33")),
        (None, 262, Decimal("403.13")),
    ]

    cqch = table(book["CQCH"])
    assert cqch[0][0].startswith("Relevé juste coût — novembre 2026 — CQCH — Confédération")
    assert cqch[1][:3] == ["Date", "Demande", "Objet"]  # the header, under the title
    detail = cqch[2 : next(i for i, r in enumerate(cqch) if r[0] == "Total") + 1]
    entries = [(r[0].date(), r[6], minutes(r[7]), money(r[8]), money(r[9])) for r in detail[:-1]]
    assert entries == [
        (date(2026, 11, 2), 90, 90, Decimal("95.00"), Decimal("142.50")),
        (date(2026, 11, 3), 20, 20, Decimal("95.00"), Decimal("31.67")),
        (date(2026, 11, 16), 10, 10, Decimal("100.50"), Decimal("16.75")),  # the new rate
        (date(2026, 11, 13), 7, 7, Decimal("80.00"), Decimal("9.33")),
        (date(2026, 11, 30), 60, 60, Decimal("80.00"), Decimal("80.00")),
        (date(2026, 11, 5), 30, 30, Decimal("95.00"), Decimal("47.50")),  # October's request
    ]
    assert detail[2][5] == "=1+1"  # a note is text, never a formula
    assert (detail[-1][6], minutes(detail[-1][7]), money(detail[-1][9])) == (
        217,
        217,
        Decimal("327.75"),
    )
    tickets = section(cqch, "Par demande")
    assert [(minutes(r[7]), money(r[9])) for r in tickets] == [
        (120, Decimal("190.92")),
        (7, Decimal("9.33")),
        (60, Decimal("80.00")),
        (30, Decimal("47.50")),
        (217, Decimal("327.75")),
    ]
    fcdq = table(book["FCDQ"])
    assert [(r[6], r[8], money(r[9])) for r in fcdq[2:4]] == [
        (45, 100.5, Decimal("75.38")),
        (45, None, Decimal("75.38")),
    ]


async def test_the_statement_is_a_file_people_keep(bot: Emulator) -> None:
    boss, _ = await _month_of_work(bot)
    book = h.workbook_of(bot.api, (await boss.send("/billing 2026-11"))[-1])
    summary = book["Sommaire"]
    header = next(r for r in summary.iter_rows() if r[0].value == "Code")[0].row
    assert_headers_fit(summary, header)
    assert_headers_fit(summary, header + 6)  # the table by field
    assert summary.cell(header + 1, 4).number_format == DURATION["fr"]
    assert summary.cell(header + 1, 5).number_format == CURRENCY["fr"]
    assert summary.freeze_panes == "A2"
    assert_for_print(summary, title_rows=1)
    # The note spans the table, wrapped: a printed page does not cut it off.
    assert "A2:E2" in {str(merged) for merged in summary.merged_cells.ranges}
    assert summary["A2"].value.startswith("Montants en dollars canadiens")
    assert summary["A2"].alignment.wrap_text
    for code in ("CQCH", "FCDQ"):
        sheet = book[code]
        assert_headers_fit(sheet, 2)
        assert sheet.freeze_panes == "A3"  # the title and the header stay in view
        assert_for_print(sheet, title_rows=2)  # and are repeated on each printed page
        first = {cell.column: cell for cell in sheet[3]}
        assert first[1].number_format == "yyyy-mm-dd"
        assert first[8].number_format == DURATION["fr"]  # 1 h 30, adds up as time
        assert first[9].number_format == CURRENCY["fr"] == first[10].number_format
        by_ticket = next(r for r in sheet.iter_rows() if r[0].value == "Par demande")[0].row
        assert_headers_fit(sheet, by_ticket + 1)
        assert sheet.cell(by_ticket + 2, 10).number_format == CURRENCY["fr"]


async def test_billing_in_english(bot: Emulator) -> None:
    boss, _ = await _month_of_work(bot)
    await boss.send("/language")
    await boss.click("English")
    replies = await boss.send("/billing 2026-11")
    assert replies[-2].html.split("\n")[1:] == [
        "2 federations, 4.37 hours, <b>$403.13</b>",  # decimal hours, real plurals
        "CQCH: 3.62 hours — $327.75",
        "FCDQ: 45 minutes — $75.38",
    ]
    book = h.workbook_of(bot.api, replies[-1])
    assert book.sheetnames == ["Summary", "CQCH", "FCDQ"]
    assert h.upload_of(bot.api, replies[-1]).file_name == "cost-statement-2026-11.xlsx"
    cqch = book["CQCH"]
    assert cqch["A2"].value == "Date" and cqch["A3"].value == datetime(2026, 11, 2)
    assert cqch["H3"].number_format == DURATION["en"] and minutes(cqch["H3"].value) == 90
    assert cqch["J3"].number_format == CURRENCY["en"]
    assert_headers_fit(cqch, 2)
    # One hour is singular; December has only the entry of December 1.
    assert "1 federation, 1 hour, <b>$80.00</b>" in (await boss.send("/billing 2026-12"))[-2].html


async def test_time_without_a_rate_is_listed_apart(bot: Emulator) -> None:
    boss, _ = await _month_of_work(bot)
    marie = (await h.rows(bot, "SELECT id FROM users WHERE full_name LIKE 'Marie%'"))[0][0]
    web, _ = await h.insert_ticket(
        bot, contact=marie, field="web", created_at=datetime(2026, 11, 3, 9, tzinfo=MONTREAL)
    )
    other, _ = await h.insert_ticket(
        bot, contact=marie, field="other", created_at=datetime(2026, 11, 4, 9, tzinfo=MONTREAL)
    )
    # Web development and "Other" have no rate yet: this time is worth 0 $.
    await h.log_time(bot, ticket=web, lead=3001, work_date=date(2026, 11, 3), minutes=60)
    await h.log_time(bot, ticket=web, lead=3001, work_date=date(2026, 11, 4), minutes=30)
    await h.log_time(bot, ticket=other, lead=3001, work_date=date(2026, 11, 5), minutes=15)
    replies = await boss.send("/billing 2026-11")
    lines = replies[-2].text.split("\n")
    assert lines[1:4] == [  # the amounts billed are unchanged...
        "2 fédérations, 4 h 22, 403,13\xa0$",
        "CQCH : 3 h 37 — 327,75\xa0$",
        "FCDQ : 45 min — 75,38\xa0$",
    ]
    warning = lines[-1]  # ...and the time without a rate is told apart
    assert warning.startswith(
        "⚠️ Temps sans taux : 1 h 45 (3 entrées) consigné sur un domaine sans taux horaire"
        " (Développement Web, Autre) : il n'est facturé à personne."
    )
    assert "/domain taux code montant" in warning and "« Temps sans taux »" in warning
    book = h.workbook_of(bot.api, replies[-1])
    assert book.sheetnames == ["Sommaire", "CQCH", "FCDQ", "Temps sans taux"]
    assert table(book["Sommaire"])[2][0].startswith("⚠ Temps sans taux : 1 h 45 (3 entrées)")
    web_ref, other_ref = await refs(bot, web, other)
    billed = {r[1] for r in table(book["CQCH"])}
    assert web_ref not in billed and other_ref not in billed
    sheet = book["Temps sans taux"]
    rows = table(sheet)
    assert rows[0][0] == "Temps sans taux — novembre 2026"
    assert "sans taux horaire (0 $)" in rows[1][0] and "n'est facturé à personne" in rows[1][0]
    assert rows[2][0].startswith("Un taux doit être fixé : /domain taux code montant")
    assert rows[3] == [
        "Date",
        "Fédération",
        "Demande",
        "Objet",
        "Domaine",
        "Responsable",
        "Note",
        "Minutes",
        "Heures",
    ]
    assert [(r[0].date(), r[1], r[2], r[4], r[7], minutes(r[8])) for r in rows[4:-1]] == [
        (date(2026, 11, 3), "CQCH", web_ref, "Développement Web", 60, 60),
        (date(2026, 11, 4), "CQCH", web_ref, "Développement Web", 30, 30),
        (date(2026, 11, 5), "CQCH", other_ref, "Autre", 15, 15),
    ]
    assert (rows[-1][0], rows[-1][7], minutes(rows[-1][8])) == ("Total", 105, 105)
    assert {"A2:I2", "A3:I3"} <= {str(merged) for merged in sheet.merged_cells.ranges}
    assert sheet.freeze_panes == "A5"
    assert_headers_fit(sheet, 4)
    assert_for_print(sheet, title_rows=4)


async def refs(bot: Emulator, *ids: int) -> list[str]:
    """The references of tickets, in the order of their ids."""
    found = dict(await h.rows(bot, "SELECT id, reference FROM tickets"))
    return [found[i] for i in ids]


async def test_a_month_with_only_time_without_a_rate(bot: Emulator) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    web, _ = await h.insert_ticket(
        bot, contact=marie.id, field="web", created_at=datetime(2026, 11, 3, 9, tzinfo=MONTREAL)
    )
    await h.log_time(bot, ticket=web, lead=jean.id, work_date=date(2026, 11, 3), minutes=60)
    replies = await boss.send("/billing 2026-11")
    lines = replies[-2].text.split("\n")
    assert lines[:2] == [
        "💰 Relevé juste coût — novembre 2026",
        "Rien à facturer : tout le temps consigné l'a été sur des domaines sans taux horaire.",
    ]
    assert lines[-1].startswith("⚠️ Temps sans taux : 1 h (1 entrée) consigné")
    book = h.workbook_of(bot.api, replies[-1])
    assert book.sheetnames == ["Sommaire", "Temps sans taux"]
    await boss.send("/language")
    await boss.click("English")
    replies = await boss.send("/billing 2026-11")
    assert (
        replies[-2]
        .text.split("\n")[-1]
        .startswith(
            "⚠️ Time without a rate: 1 hour (1 entry) logged on a field with no hourly rate"
            " (Web development): it is billed to nobody."
        )
    )
    assert h.workbook_of(bot.api, replies[-1]).sheetnames == ["Summary", "Time without a rate"]


async def test_billing_bad_arguments_and_an_empty_month(bot: Emulator) -> None:
    boss, _ = await _month_of_work(bot)
    for command in (
        "/billing",
        "/billing 2026-13",
        "/billing 2026",
        "/billing 2026-Q4",
        "/billing abc",
        "/billing 2026-11 2026-12",
        "/billing 11-2026",
    ):
        replies = await boss.send(command)
        assert len(replies) == 1 and "<code>/billing AAAA-MM</code>" in replies[0].html, command
    replies = await boss.send("/billing 2025-01")
    assert [r.text for r in replies] == [
        "Aucun temps consigné en janvier 2025 : pas de relevé à produire."
    ]
    # December has only the entry of December 1: one federation, one hour.
    replies = await boss.send("/billing 2026-12")
    assert "1 fédération, 1 h, 80,00\xa0$" in replies[-2].text


def test_amounts_are_exact_decimals() -> None:
    assert entry_amount(20, 9500) == Decimal("31.67")
    assert entry_amount(45, 10050) == Decimal("75.38")  # 75.375: half up
    assert entry_amount(1, 1) == Decimal("0.00")
    assert entry_amount(1440, 1_000_000) == Decimal("240000.00")
    # Ten entries of 6 minutes at $1/h are exactly $1.00, where floats drift.
    assert sum((entry_amount(6, 100) for _ in range(10)), Decimal(0)) == Decimal("1.00")
    assert sum(0.1 for _ in range(10)) != 1.0
    assert dollars(12345) == Decimal("123.45") and hours(217) == Decimal("3.62")


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("95", 9500),
        ("95.5", 9550),
        ("95,50", 9550),
        ("$95", 9500),
        ("95 $", 9500),
        ("95\u00a0$", 9500),
        ("95$/h", 9500),
        ("0", 0),
        ("10000", 1_000_000),
        ("-95", None),
        ("abc", None),
        ("95.555", None),
        ("10000.01", None),
        ("", None),
        ("9 5", None),
        ("1e3", None),
        ("NaN", None),
    ],
)
def test_rates_as_people_type_them(typed: str, cents: int | None) -> None:
    assert parse_rate(typed) == cents
