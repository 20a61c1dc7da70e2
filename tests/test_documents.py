"""The PDF documents read back as their readers would: a federation's monthly statement (amounts
to the cent across a rate change, the period in words, the envelopes, page numbers on a long
month) and the governance reports (by field, by federation, with their chart), in French and
English, from data built by hand."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from pypdf import PdfReader

from bot.documents.data import (
    EntryLine,
    EnvelopeLine,
    Estimate,
    FederationRow,
    FieldRow,
    Figures,
    Member,
    ReportData,
    RequestLine,
    StatementData,
)
from bot.documents.report import governance_report_pdf
from bot.documents.statement import statement_pdf, totals
from bot.rules.periods import Period, parse_period
from bot.ui.i18n import placeholders, texts

ROOT = Path(__file__).resolve().parent.parent
CONSORTIUM = "Consortium de ressources et d’expertises coopératives"
CQCH = Member("CQCH", "Confédération québécoise des coopératives d’habitation")
FCDQ = Member("FCDQ", "Fédération des coopératives de développement régional du Québec")
LEGAL = "CREC-2026-0012"
GOVERNANCE = "CREC-2026-0015"


def period(text: str) -> Period:
    found = parse_period(text, date(2026, 12, 1))
    assert found is not None
    return found


def pages(pdf: bytes) -> list[str]:
    """Each page's text, its spaces (babel's no-break ones too) made single spaces."""
    reader = PdfReader(io.BytesIO(pdf))
    return [re.sub(r"[^\S\n]+", " ", page.extract_text()) for page in reader.pages]


def words(pdf: bytes) -> str:
    """The whole document's text on one line."""
    return re.sub(r"\s+", " ", " ".join(pages(pdf)))


# November 2026: the legal field's rate goes from $95 to $102.50 on the 16th; governance is at
# $80. Each entry costs minutes × rate ÷ 60, to the cent, half up:
#   Nov  3  LEGAL       95 min × $95.00  = 150.4166… → 150.42
#   Nov 10  GOVERNANCE  50 min × $80.00  =  66.6666… →  66.67
#   Nov 17  LEGAL      130 min × $102.50 = 222.0833… → 222.08
#   Nov 24  LEGAL        7 min × $102.50 =  11.9583… →  11.96
#   Nov 26  GOVERNANCE 600 min × $80.00  = 800.00
# LEGAL: 232 min (3 h 52), $384.46; GOVERNANCE: 650 min (10 h 50), $866.67;
# the month: 882 min (14 h 42, 14.7 hours), $1,251.13.
ENTRIES = (
    EntryLine(date(2026, 11, 3), LEGAL, "Jean Tremblay", 95, 9500, "Lecture des règlements"),
    EntryLine(date(2026, 11, 10), GOVERNANCE, "Sophie Gagnon", 50, 8000, "Appel"),
    EntryLine(date(2026, 11, 17), LEGAL, "Jean Tremblay", 130, 10250, "Projet d’avis"),
    EntryLine(date(2026, 11, 24), LEGAL, "Jean Tremblay", 7, 10250),
    EntryLine(date(2026, 11, 26), GOVERNANCE, "Sophie Gagnon", 600, 8000, "Atelier"),
)
REQUESTS = (
    RequestLine(
        LEGAL, "Révision des règlements généraux", "Droit coopératif", Estimate(240, 360, 57000)
    ),
    RequestLine(GOVERNANCE, "Politique sur les conflits d’intérêts", "Gouvernance"),
)
ENVELOPES = (
    # 120 h; used 66 h 40, committed 6 h: 47 h 20 left, 61 % used or committed.
    EnvelopeLine("Banque d’heures 2026", "hours", 7200, 4000, 360),
    # $15,000; used $13,123.45, committed $570: $1,306.55 left, 91 %.
    EnvelopeLine("Budget juridique 2026", "dollars", 1_500_000, 1_312_345, 57_000),
)


def november(**changes: object) -> StatementData:
    values: dict[str, object] = {
        "consortium": CONSORTIUM,
        "federation": CQCH,
        "period": period("2026-11"),
        "produced": date(2026, 12, 1),
        "requests": REQUESTS,
        "entries": ENTRIES,
        "envelopes": ENVELOPES,
    }
    return StatementData(**(values | changes))  # type: ignore[arg-type]


def test_totals_price_each_entry_at_its_own_rate_half_up() -> None:
    sums = totals(ENTRIES)
    assert sums.entries == tuple(
        Decimal(v) for v in ("150.42", "66.67", "222.08", "11.96", "800.00")
    )
    assert sums.by_request[LEGAL].minutes == 232
    assert sums.by_request[LEGAL].amount == Decimal("384.46")
    assert sums.by_request[GOVERNANCE].amount == Decimal("866.67")
    assert (sums.total.minutes, sums.total.amount) == (882, Decimal("1251.13"))


def test_totals_add_the_rounded_amounts_and_round_half_up() -> None:
    # 6 min at $48.65 is exactly $4.865: half up gives 4.87 (half even would give 4.86).
    assert totals([EntryLine(date(2026, 11, 2), LEGAL, "J", 6, 4865)]).total.amount == Decimal(
        "4.87"
    )
    # Three minutes at $95 are 1.58 each: the statement says 4.74, as its lines add up,
    # not the 4.75 of the unrounded sum.
    three = [EntryLine(date(2026, 11, 2), LEGAL, "J", 1, 9500)] * 3
    assert totals(three).total.amount == Decimal("4.74")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            [
                "Relevé juste coût",
                "novembre 2026",
                "Émis par : Consortium de ressources et d’expertises coopératives",
                "Destinataire : CQCH — Confédération québécoise des coopératives d’habitation",
                "Période : du 1er novembre 2026 au 30 novembre 2026",
                "Produit le : 1er décembre 2026",
                "Total du mois : 1 251,13 $",
                "Demandes : 2 demandes",
                "Temps consigné : 5 entrées de temps, 14 h 42",
                "4 h à 6 h 570,00 $ 3 h 52 384,46 $",
                "Gouvernance — 10 h 50 866,67 $",
                "Total 14 h 42 1 251,13 $",
                "3 nov. CREC-2026-0012 Jean Tremblay 1 h 35 95,00 $ 150,42 $ Lecture",
                "10 nov. CREC-2026-0015 Sophie Gagnon 50 min 80,00 $ 66,67 $ Appel",
                "17 nov. CREC-2026-0012 Jean Tremblay 2 h 10 102,50 $ 222,08 $",
                "24 nov. CREC-2026-0012 Jean Tremblay 7 min 102,50 $ 11,96 $",
                "26 nov. CREC-2026-0015 Sophie Gagnon 10 h 80,00 $ 800,00 $ Atelier",
                "Enveloppes 2026 — cumul au 30 novembre 2026",
                "Banque d’heures 2026 120 h 66 h 40 6 h 47 h 20 61 %",
                "Budget juridique 2026 15 000,00 $ 13 123,45 $ 570,00 $ 1 306,55 $ 91 %",
                "Page 1 de 1",
            ],
        ),
        (
            "en",
            [
                "Cost statement (juste coût)",
                "November 2026",
                "Issued by: Consortium de ressources et d’expertises coopératives",
                "To: CQCH — Confédération québécoise des coopératives d’habitation",
                "Period: November 1, 2026 to November 30, 2026",
                "Produced on: December 1, 2026",
                "Total for the month: $1,251.13",
                "Requests: 2 requests",
                "Time logged: 5 time entries, 14.7 hours",
                "4 hours to 6 hours $570.00 3.87 hours $384.46",
                "Gouvernance — 10.83 hours $866.67",
                "Total 14.7 hours $1,251.13",
                "Nov 3 CREC-2026-0012 Jean Tremblay 1.58 hours $95.00 $150.42",
                "Nov 10 CREC-2026-0015 Sophie Gagnon 50 minutes $80.00 $66.67",
                "Nov 17 CREC-2026-0012 Jean Tremblay 2.17 hours $102.50 $222.08",
                "Nov 24 CREC-2026-0012 Jean Tremblay 7 minutes $102.50 $11.96",
                "Nov 26 CREC-2026-0015 Sophie Gagnon 10 hours $80.00 $800.00",
                "2026 envelopes — year to date, November 30, 2026",
                "Banque d’heures 2026 120 hours 66.67 hours 6 hours 47.33 hours 61%",
                "Budget juridique 2026 $15,000.00 $13,123.45 $570.00 $1,306.55 91%",
                "Page 1 of 1",
            ],
        ),
    ],
)
def test_the_statement_reads_back_to_the_cent(language: str, expected: list[str]) -> None:
    text = words(statement_pdf(november(), language))
    for line in expected:
        assert line in text
    assert "{" not in text and "}" not in text  # no placeholder left unfilled


FRENCH_WORDS = re.compile(
    r"Relevé|Période|Montant|Demandes|Domaine|Responsable|Enveloppe|Produit le|consigné"
    r"|Engagé|Restant|Page \d+ de|novembre|décembre|trimestre|\d h \d|\d h\b|\d,\d\d ?\$|\d %"
)


def test_the_english_statement_has_no_french_words_but_the_users() -> None:
    text = words(statement_pdf(november(), "en"))
    assert FRENCH_WORDS.findall(text) == []


def test_a_long_month_numbers_its_pages_and_repeats_the_header() -> None:
    """80 entries, half at each rate: every page says "Page n de N"; every page of the table
    starts with its header row; the totals still add up."""
    # 12, 24, 36, 48 or 60 minutes, each an exact amount: at $95, 12 min are $19.00; at
    # $102.50, $20.50. Each half is 8 rounds of 12 × (1 + 2 + 3 + 4 + 5) = 1,440 minutes:
    # $2,280.00 at $95, $2,460.00 at $102.50; the month: 48 h, $4,740.00.
    start = date(2026, 11, 1)
    entries = tuple(
        EntryLine(
            start + timedelta(days=i % 30),
            LEGAL if i % 2 else GOVERNANCE,
            "Jean Tremblay",
            12 * (1 + i % 5),
            9500 if i < 40 else 10250,
            f"Séance {i + 1}",
        )
        for i in range(80)
    )
    assert totals(entries).total.amount == Decimal("4740.00")
    pdf = statement_pdf(november(entries=entries), "fr")
    text = pages(pdf)
    assert len(text) >= 3
    for number, page in enumerate(text, start=1):
        assert f"Page {number} de {len(text)}" in page
    table_pages = [page for page in text if "Séance" in page]
    assert len(table_pages) >= 2
    for page in table_pages:
        assert "Date Référence Responsable Temps Taux horaire Montant Note" in page
    whole = words(pdf)
    assert "Séance 1 " in whole and "Séance 80" in whole
    assert "Total du mois : 4 740,00 $" in whole
    assert "Total 48 h 4 740,00 $" in whole
    english = pages(statement_pdf(november(entries=entries), "en"))
    assert f"Page {len(english)} of {len(english)}" in english[-1]


def test_user_text_never_breaks_the_layout() -> None:
    """A subject of 600 characters is cut with …; newlines, tabs, control characters and a word
    longer than a column stay inside their cell; "{nb}" is printed as it was typed."""
    long_subject = "Demande très détaillée " * 25 + "FIN"
    odd = RequestLine(GOVERNANCE, "Ligne 1\nLigne 2\tTab\x07 {nb} " + "x" * 150, "Gouvernance")
    data = november(
        requests=(RequestLine(LEGAL, long_subject, "Droit coopératif"), odd),
        entries=(EntryLine(date(2026, 11, 3), LEGAL, "Jean\nTremblay", 60, 9500, "a\n" * 50),),
    )
    text = words(statement_pdf(data, "fr"))
    assert "Demande très détaillée Demande" in text and "FIN" not in text
    assert "…" in text
    assert "Ligne 1 Ligne 2 Tab {nb}" in text
    assert "\x07" not in text
    assert "Jean Tremblay" in text


def test_a_month_without_time_says_so() -> None:
    text = words(statement_pdf(november(requests=(), entries=(), envelopes=()), "fr"))
    assert "Total du mois : 0,00 $" in text
    assert "Aucun temps consigné en novembre 2026." in text
    assert "Enveloppes" not in text


def test_statement_data_is_checked() -> None:
    with pytest.raises(ValueError, match="month"):
        november(period=period("2026-Q4"))
    with pytest.raises(ValueError, match="CREC-2026-0099"):
        november(entries=(EntryLine(date(2026, 11, 3), "CREC-2026-0099", "J", 60, 9500),))


# -- governance reports -----------------------------------------------------------------------

# Legal: 5 requests, 10 h 05, $1,023.45, 4 of 5 within targets (80 %), ratings 13/3 (4.3),
# estimates 10 h against 11 h 12 logged (+12 %). Governance: 3, 2 h 30, $200.00, 2 of 2,
# ratings 9/2 (4.5), 4 h against 3 h 48 (-5 %). Totals: 8 requests, 12 h 35, $1,223.45,
# 6 of 7 (86 %), 22/5 (4.4), 14 h against 15 h (+7 %).
LEGAL_FIGURES = Figures(5, 605, 102_345, 4, 5, 13, 3, 600, 672)
GOVERNANCE_FIGURES = Figures(3, 150, 20_000, 2, 2, 9, 2, 240, 228)
FIELDS = (FieldRow("Droit coopératif", LEGAL_FIGURES), FieldRow("Gouvernance", GOVERNANCE_FIGURES))


def board_report(**changes: object) -> ReportData:
    values: dict[str, object] = {
        "consortium": CONSORTIUM,
        "period": period("2026-Q4"),
        "produced": date(2027, 1, 4),
        "fields": FIELDS,
        "federation": CQCH,
        "envelopes": ENVELOPES,
    }
    return ReportData(**(values | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            [
                "Rapport de gouvernance",
                "coopératives d’habitation — 4e trimestre 2026",
                "Pour : Conseil d’administration — Confédération québécoise",
                "Période : du 1er octobre 2026 au 31 décembre 2026",
                "Demandes reçues : 8",
                "Temps consigné : 12 h 35",
                "Montant : 1 223,45 $",
                "Dans les cibles de service : 86 % (6 sur 7)",
                "Satisfaction moyenne : 4,4/5 (5 évaluations)",
                "Droit coopératif 5 10 h 05 1 023,45 $ 80 % 4,3",
                "Gouvernance 3 2 h 30 200,00 $ 100 % 4,5",
                "Total 8 12 h 35 1 223,45 $ 86 % 4,4",
                "Heures consignées par domaine",
                "Droit coopératif 10 h 11 h 12 +12 %",
                "Gouvernance 4 h 3 h 48 -5 %",
                "Total 14 h 15 h +7 %",
                "Enveloppes 2026 — cumul au 31 décembre 2026",
                "Budget juridique 2026 15 000,00 $ 13 123,45 $ 570,00 $ 1 306,55 $ 91 %",
            ],
        ),
        (
            "en",
            [
                "Governance report",
                "CQCH — Confédération québécoise des coopératives d’habitation — Q4 2026",
                "For: Board of directors — Confédération québécoise",
                "Period: October 1, 2026 to December 31, 2026",
                "Requests received: 8",
                "Time logged: 12.58 hours",
                "Amount: $1,223.45",
                "Within service targets: 86% (6 of 7)",
                "Average rating: 4.4/5 (5 ratings)",
                "Droit coopératif 5 10.08 hours $1,023.45 80% 4.3",
                "Gouvernance 3 2.5 hours $200.00 100% 4.5",
                "Total 8 12.58 hours $1,223.45 86% 4.4",
                "Hours logged by field",
                "Droit coopératif 10 hours 11.2 hours +12%",
                "Gouvernance 4 hours 3.8 hours -5%",
                "Total 14 hours 15 hours +7%",
                "2026 envelopes — year to date, December 31, 2026",
                "Banque d’heures 2026 120 hours 66.67 hours 6 hours 47.33 hours 61%",
            ],
        ),
    ],
)
def test_a_federations_report_reads_back(language: str, expected: list[str]) -> None:
    pdf = governance_report_pdf(board_report(), language)
    text = words(pdf)
    for line in expected:
        assert line in text
    assert "{" not in text
    if language == "en":
        assert FRENCH_WORDS.findall(text) == []
    images = [image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images]
    assert len(images) == 1 and images[0].data.startswith(b"\x89PNG")
    assert images[0].image is not None and images[0].image.width > 600


def test_the_consortium_report_sets_the_federations_side_by_side() -> None:
    other = Figures(2, 90, 13_500, 1, 2, 4, 1, 0, 0)
    data = board_report(
        period=period("2026"),
        federation=None,
        envelopes=(),
        federations=(
            FederationRow(FCDQ, other),
            FederationRow(CQCH, LEGAL_FIGURES + GOVERNANCE_FIGURES),
        ),
    )
    pdf = governance_report_pdf(data, "fr")
    text = words(pdf)
    for line in [
        "Toutes les fédérations membres — 2026",
        "Pour : Conseil d’administration — Consortium de ressources",
        "Période : du 1er janvier 2026 au 31 décembre 2026",
        "Demandes reçues : 10",  # the federations' figures: 8 + 2
        "Montant : 1 358,45 $",
        "Dans les cibles de service : 78 % (7 sur 9)",
        "Par fédération",
        "CQCH — Confédération québécoise des coopératives d’habitation"
        " 8 12 h 35 1 223,45 $ 86 % 4,4",
        "FCDQ — Fédération des coopératives de développement régional du Québec"
        " 2 1 h 30 135,00 $ 50 % 4",
        "Total 10 14 h 05 1 358,45 $ 78 % 4,3",
        "Par domaine",
        "Heures consignées par fédération",
    ]:
        assert line in text
    assert text.index("CQCH — Conf") < text.index("FCDQ — Féd")  # by code
    assert "Enveloppes" not in text
    assert sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages) == 1


def test_a_report_without_estimates_or_time_says_so() -> None:
    quiet = board_report(fields=(FieldRow("Droit coopératif", Figures(requests=1)),), envelopes=())
    pdf = governance_report_pdf(quiet, "en")
    text = words(pdf)
    assert "No estimate approved in the period." in text
    assert "Within service targets: —" in text and "Average rating: —" in text
    assert sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages) == 0


def test_report_data_is_checked() -> None:
    with pytest.raises(ValueError, match="quarter or a year"):
        board_report(period=period("2026-11"))
    with pytest.raises(ValueError, match="other federations"):
        board_report(federations=(FederationRow(FCDQ, Figures()),))


# -- the catalogue ----------------------------------------------------------------------------


def catalogue_file(language: str) -> dict[str, tuple[str, ...]]:
    """documents.po of a language: each key's forms (one, or the plural ones)."""
    path = ROOT / "bot" / "locale" / language / "LC_MESSAGES" / "documents.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    found: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        if not message.id:
            continue
        key = str(message.id[0] if isinstance(message.id, tuple) else message.id)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        found[key] = tuple(str(form) for form in forms)
    return found


def test_every_documents_text_is_in_both_languages_with_the_same_placeholders() -> None:
    french, english = catalogue_file("fr"), catalogue_file("en")
    assert french and set(french) == set(english)
    for key, forms in french.items():
        assert key.startswith("document."), key
        assert len(forms) == len(english[key]), key
        assert all(form.strip() for form in forms + english[key]), key
        expected = placeholders(forms[0])
        for form in forms + english[key]:
            assert placeholders(form) == expected, key


def test_the_documents_catalogue_has_the_plural_rule_of_messages_po() -> None:
    for language in ("fr", "en"):
        folder = ROOT / "bot" / "locale" / language / "LC_MESSAGES"
        rule = re.compile(r'"Plural-Forms: [^"]*"')
        documents = rule.findall((folder / "documents.po").read_text(encoding="utf-8"))
        assert documents == rule.findall((folder / "messages.po").read_text(encoding="utf-8"))


def test_every_key_the_documents_use_exists_and_every_text_is_used() -> None:
    code = "\n".join(path.read_text(encoding="utf-8") for path in ROOT.glob("bot/documents/*.py"))
    used = set(re.findall(r'"(document\.[a-z_]+)"', code))
    defined = set(catalogue_file("fr"))
    assert used - defined == set()
    assert defined - used == set()
    assert {key for key in used if key in texts("fr").plural} == {
        "document.request_count",
        "document.entry_count",
        "document.rating_value",
    }
