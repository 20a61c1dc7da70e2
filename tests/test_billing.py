"""Juste-coût billing: /billing <YYYY-MM> sends a spreadsheet per federation and a summary;
amounts are exact to the cent, each time entry at the rate it was logged with."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.emulator import Emulator, Person
from bot.reports import dollars, entry_amount, hours, parse_rate
from tests import admin_helpers as h
from tests import flows

MONTREAL = ZoneInfo("America/Montreal")


def money(value: Any) -> Decimal:
    """A cell read back (openpyxl gives floats) as the exact amount it shows."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def table(sheet: Any) -> list[list[Any]]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def after(rows: list[list[Any]], title: str) -> list[list[Any]]:
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
    assert "Relevé juste coût — novembre 2026" in summary.text
    assert "2 fédérations, 4,37 h, 403,13\xa0$" in summary.text
    assert "CQCH : 3,62 h — 327,75\xa0$" in summary.text
    assert "FCDQ : 0,75 h — 75,38\xa0$" in summary.text
    assert document.kind == "document"
    assert h.upload_of(bot.api, document).file_name == "releve-juste-cout-2026-11.xlsx"
    book = h.workbook_of(bot.api, document)
    assert book.sheetnames == ["Sommaire", "CQCH", "FCDQ"]

    rows = table(book["Sommaire"])
    assert rows[0][0] == "Relevé juste coût — novembre 2026"
    by_federation = after(rows, "Par fédération")
    assert [(r[0], r[2], money(r[3]), money(r[4])) for r in by_federation] == [
        ("CQCH", 4, Decimal("3.62"), Decimal("327.75")),
        ("FCDQ", 1, Decimal("0.75"), Decimal("75.38")),
        ("Total", 5, Decimal("4.37"), Decimal("403.13")),
    ]
    by_field = after(rows, "Par domaine")
    assert [(r[1], money(r[3]), money(r[4])) for r in by_field] == [
        ("Services juridiques", Decimal("3.25"), Decimal("313.80")),
        ("Gestion des ressources humaines", Decimal("1.12"), Decimal("89.33")),
        (None, Decimal("4.37"), Decimal("403.13")),
    ]

    cqch = table(book["CQCH"])
    assert cqch[0][0].startswith("Relevé juste coût — novembre 2026 — CQCH — Confédération")
    detail = after(cqch, "Entrées de temps")
    entries = [(r[0].date(), r[6], money(r[8]), money(r[9])) for r in detail[:-1]]
    assert entries == [
        (date(2026, 11, 2), 90, Decimal("95.00"), Decimal("142.50")),
        (date(2026, 11, 3), 20, Decimal("95.00"), Decimal("31.67")),
        (date(2026, 11, 16), 10, Decimal("100.50"), Decimal("16.75")),  # the new rate
        (date(2026, 11, 13), 7, Decimal("80.00"), Decimal("9.33")),
        (date(2026, 11, 30), 60, Decimal("80.00"), Decimal("80.00")),
        (date(2026, 11, 5), 30, Decimal("95.00"), Decimal("47.50")),  # October's request
    ]
    assert detail[2][5] == "=1+1"  # a note is text, never a formula
    assert (detail[-1][6], money(detail[-1][7]), money(detail[-1][9])) == (
        217,
        Decimal("3.62"),
        Decimal("327.75"),
    )
    tickets = after(cqch, "Par demande")
    assert [money(r[9]) for r in tickets] == [
        Decimal("190.92"),
        Decimal("9.33"),
        Decimal("80.00"),
        Decimal("47.50"),
        Decimal("327.75"),
    ]
    fcdq = after(table(book["FCDQ"]), "Entrées de temps")
    assert [(r[6], r[8], money(r[9])) for r in fcdq] == [
        (45, 100.5, Decimal("75.38")),
        (45, None, Decimal("75.38")),
    ]


async def test_billing_in_english(bot: Emulator) -> None:
    boss, _ = await _month_of_work(bot)
    await boss.send("/language")
    await boss.click("English")
    replies = await boss.send("/billing 2026-11")
    assert "2 federations, 4.37 h, <b>$403.13</b>" in replies[-2].html
    book = h.workbook_of(bot.api, replies[-1])
    assert book.sheetnames == ["Summary", "CQCH", "FCDQ"]
    assert h.upload_of(bot.api, replies[-1]).file_name == "cost-statement-2026-11.xlsx"
    detail = after(table(book["CQCH"]), "Time entries")
    assert detail[0][0] == datetime(2026, 11, 2) and detail[-1][0] == "Total"


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
        assert len(replies) == 1 and "Syntaxe : /billing AAAA-MM" in replies[0].text, command
    replies = await boss.send("/billing 2025-01")
    assert [r.text for r in replies] == [
        "Aucun temps consigné en janvier 2025 : pas de relevé à produire."
    ]
    # December has only the entry of December 1.
    replies = await boss.send("/billing 2026-12")
    assert "1 fédération, 1,00 h, 80,00\xa0$" in replies[-2].text


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
