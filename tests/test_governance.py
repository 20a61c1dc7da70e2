"""Governance reports (issue 14): /report sends a quarter's or a year's figures as a PDF, by
field, with the requests received, the time logged and its amount at the entries' rates
(computed by hand below); the Consortium-wide report sets the federations side by side; a
manager gets their own federation's only; contacts and leads may not."""

from __future__ import annotations

from datetime import date, datetime

from bot.tools.emulator import Emulator
from tests.test_envelopes import approve, log, members
from tests.test_statements import MONTREAL, at, documents, documents_after, november, pdf_of

# CQCH's fourth quarter (tests.test_statements.november), all in legal services:
#   t1  Oct 30   60 min × 100,00 $ = 100,00 $
#   t1  Nov  3   95 min × 100,00 $ = 158,333… → 158,33 $
#   t1  Nov 17  130 min × 102,50 $ = 222,083… → 222,08 $
#   t2  Nov 24    7 min × 102,50 $ =  11,958… →  11,96 $
# 2 requests, 292 min (4 h 52), 492,37 $. t1 approved up to 6 h; 4 h 45 logged on it.
# FCAQ's: 1 request, 45 min at 100 $/h = 75,00 $.
CQCH_ROW = "Services juridiques 2 4 h 52 492,37 $"
FCAQ_ROW = "FCAQ — Confédération québécoise des coopératives 1 45 min 75,00 $"


async def test_the_admins_report_of_a_federation_adds_up_by_field(bot: Emulator) -> None:
    who = await members(bot)
    t1, t2 = await november(bot, who)
    async with bot.services.db.transaction() as conn:
        await conn.execute("UPDATE tickets SET rating = 4 WHERE id = ?", (t1,))
        await conn.execute("UPDATE tickets SET rating = 5 WHERE id = ?", (t2,))
    await who.boss.send("/envelope CQCH 2026 10h")
    [document] = documents_after(who.boss, await who.boss.send("/report 2026-Q4 cqch"))
    assert document.file_name == "rapport-CQCH-2026-T4.pdf"
    assert document.text == "Rapport de gouvernance de CQCH — 4e trimestre 2026"
    text = pdf_of(document)
    assert f"{CQCH_ROW} 0 % 4,5" in text, text
    assert "Satisfaction moyenne : 4,5" in text, text
    # Both got their first response on arrival; by November 24 (the clock) their resolution
    # is late: decided, and missed.
    assert "Dans les cibles de service : 0 % (0 sur 2)" in text, text
    assert "Services juridiques 6 h 4 h 45 -21 %" in text, text
    # The envelope to the end of the quarter, as on November's statement (nothing in December).
    assert "toutes les expertises 10 h 4 h 52 1 h 15 3 h 53 61 %" in text, text
    # The quarter is not over on November 24: the figures stand as of today, not December 31.
    assert "Enveloppes 2026 — cumul au 24 novembre 2026" in text, text
    assert "FCAQ" not in text


async def test_a_past_quarters_estimates_against_actuals_stand_as_at_its_end(
    bot: Emulator,
) -> None:
    who = await members(bot)
    t1, _ = await november(bot, who)
    await who.boss.send("/envelope CQCH 2026 20h")
    # In January, t1 is revised (up to 10 h, approved) and 2 more hours are logged on it.
    at(bot.services.clock, datetime(2027, 1, 12, 10, tzinfo=MONTREAL))
    await approve(bot, t1, 600, 10000)
    await log(bot, who, t1, date(2027, 1, 11), 120)
    [document] = documents_after(who.boss, await who.boss.send("/report 2026-Q4 CQCH"))
    text = pdf_of(document)
    # As at December 31: t1 approved up to 6 h, 4 h 45 logged on it.
    assert "Services juridiques 6 h 4 h 45 -21 %" in text, text
    assert "10 h" not in text and "6 h 45" not in text, text
    assert "cumul au 31 décembre 2026" in text, text  # the quarter is over
    [year] = documents_after(who.boss, await who.boss.send("/report 2027 CQCH"))
    # 2027 received no request: its report has no estimate of t1 at all.
    assert "6 h 45" not in pdf_of(year)


async def test_the_consortium_wide_report_sets_the_federations_side_by_side(
    bot: Emulator,
) -> None:
    who = await members(bot)
    await november(bot, who)
    await who.boss.send("/envelope CQCH 2026 10h")
    await who.boss.send("/envelope FCAQ 2026 500$")
    [document] = documents_after(who.boss, await who.boss.send("/report 2026-T4"))
    assert document.file_name == "rapport-consortium-2026-T4.pdf"
    text = pdf_of(document)
    # Each federation's envelopes, side by side: allotted, used, committed, remaining, share.
    assert "Enveloppes 2026 — cumul au 24 novembre 2026" in text, text
    assert "CQCH — toutes les expertises 10 h 4 h 52 1 h 15 3 h 53 61 %" in text, text
    assert "FCAQ — toutes les expertises 500,00 $ 75,00 $ 0,00 $ 425,00 $ 15 %" in text
    assert "CQCH — Confédération québécoise des coopératives 2 4 h 52 492,37 $" in text, text
    assert FCAQ_ROW in text, text
    # By field, both federations together: 3 requests, 5 h 37, 567,37 $.
    assert "Services juridiques 3 5 h 37 567,37 $" in text, text
    [year] = documents_after(who.boss, await who.boss.send("/report 2026"))
    assert year.file_name == "rapport-consortium-2026.pdf"


async def test_a_manager_gets_their_own_federations_report_only(bot: Emulator) -> None:
    who = await members(bot)
    await november(bot, who)
    [mine] = documents_after(who.gisele, await who.gisele.send("/report 2026-T4"))
    text = pdf_of(mine)
    assert CQCH_ROW in text and "FCAQ" not in text
    [his] = documents_after(who.roger, await who.roger.send("/report 2026-Q4"))
    text = pdf_of(his)
    assert "Services juridiques 1 45 min 75,00 $" in text and "CQCH" not in text
    # Another federation's code (existing or not): their own federation's only; theirs is fine.
    for code in ("CQCH", "NOPE"):
        replies = await who.roger.send(f"/report 2026-Q4 {code}")
        assert replies[-1].text == "Vous ne voyez que les rapports de FCAQ : /report 2026-T4."
    assert documents_after(who.roger, await who.roger.send("/report 2026-Q4 fcaq"))
    for person in (who.marie, who.jean):
        assert (await person.send("/report 2026-Q4"))[-1].text == (
            "Vous n'avez pas accès à cette action."
        )
    assert not documents(who.marie) and not documents(who.jean)


async def test_a_wrong_period_gets_the_usage_line(bot: Emulator) -> None:
    who = await members(bot)
    for text in (
        "/report",
        "/report 2026-11",
        "/report 2026-Q5",
        "/report demain",
        "/report 2026 CQCH x",
    ):
        assert (await who.boss.send(text))[-1].text.startswith("Syntaxe : "), text
    assert (await who.gisele.send("/report 2026-13"))[-1].text.startswith("Syntaxe : ")
    assert "Aucune fédération" in (await who.boss.send("/report 2026-Q4 NOPE"))[-1].text


async def test_an_english_manager_reads_it_in_english(bot: Emulator) -> None:
    who = await members(bot)
    await november(bot, who)
    await who.gisele.send("/language")
    await who.gisele.click("English")
    [document] = documents_after(who.gisele, await who.gisele.send("/report 2026-Q4"))
    assert document.file_name == "report-CQCH-2026-Q4.pdf"
    assert document.text == "Governance report of CQCH — Q4 2026"
    text = pdf_of(document)
    assert "Legal services 2 4.87 hours $492.37" in text, text


async def test_help_names_report_to_managers_and_admins_only(bot: Emulator) -> None:
    who = await members(bot)
    for person, shown in [(who.gisele, True), (who.boss, True), (who.marie, False)]:
        text = "\n".join(sent.text for sent in await person.send("/help"))
        assert ("/report" in text) is shown, person.first_name
