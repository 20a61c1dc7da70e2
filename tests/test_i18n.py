"""Every text exists in French and English, with the same placeholders and valid markup;
counted texts have real plural forms; dates, hours and numbers read as people write them."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.rules.durations import format_delay, format_duration
from bot.tools.emulator import Emulator
from bot.tools.fakeapi import html_to_text
from bot.ui.i18n import (
    LANGUAGES,
    Html,
    catalogue,
    format_day,
    format_number,
    format_when,
    normalise_language,
    placeholders,
    t,
    texts,
    tn,
)
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent
MONTREAL = ZoneInfo("America/Montreal")
PLURAL_FORMS = {"fr": "nplurals=2; plural=(n > 1);", "en": "nplurals=2; plural=(n != 1);"}


def every_text(language: str) -> dict[str, str]:
    """Every text of a language, each plural form on its own (`key[0]`, `key[1]`)."""
    found = dict(texts(language).single)
    for key, forms in texts(language).plural.items():
        found |= {f"{key}[{i}]": form for i, form in enumerate(forms)}
    return found


def test_both_catalogues_have_the_same_keys() -> None:
    french, english = texts("fr"), texts("en")
    assert set(french.single) - set(english.single) == set(), "missing in English"
    assert set(english.single) - set(french.single) == set(), "missing in French"
    assert set(french.plural) - set(english.plural) == set(), "counted, not in English"
    assert set(english.plural) - set(french.plural) == set(), "counted, not in French"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_filled_and_valid_html(language: str) -> None:
    for key, text in every_text(language).items():
        assert text.strip(), key
        html_to_text(text.replace("{", "").replace("}", ""))  # raises on broken markup


def test_placeholders_match_between_languages() -> None:
    french, english = every_text("fr"), every_text("en")
    for key in french:
        assert placeholders(french[key]) == placeholders(english[key]), key


@pytest.mark.parametrize("language", LANGUAGES)
def test_counted_texts_have_every_plural_form(language: str) -> None:
    """Each counted text has the forms its language's rule asks for, each showing the count."""
    catalog = texts(language)
    assert catalog.plural_forms == PLURAL_FORMS[language]
    assert catalog.plural, "no counted text"
    for key, forms in catalog.plural.items():
        assert len(forms) == 2 and all(form.strip() for form in forms), key
        for form in forms:
            assert placeholders(form) == placeholders(forms[0]), key
            assert "count" in placeholders(form), key


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_truncated_plural_or_doublet_in_the_catalogues(language: str) -> None:
    """Real plural forms, not "demande(s)"; epicene wording, not "averti·e" or "inscrit(e)"."""
    truncated = re.compile(r"\w\((?:s|e|es|x|ne|le)\)|\w·\w")
    for key, text in every_text(language).items():
        assert not truncated.search(text), (key, text)
    for path in (ROOT / "bot" / "locale" / language / "LC_MESSAGES").glob("*.po"):
        assert "(s)" not in path.read_text(encoding="utf-8"), path.name


def test_french_says_syntaxe_and_english_usage() -> None:
    french, english = every_text("fr"), every_text("en")
    assert not [key for key, text in french.items() if "Usage" in text]
    assert any(text.startswith("Syntaxe :") for text in french.values())
    assert not [key for key, text in english.items() if "Syntaxe" in text]


def test_english_has_no_french_leftovers() -> None:
    """Canadian spelling, "75%", hours in words, no French number or time formats."""
    leftovers = re.compile(
        r"\d+ h \d|\d+ h\b(?!our)|\d+ %|\d,\d\d(?!\d)|\b(?:recognis|summaris|organis|analys)"
        r"|\b(?:color|center|favor|canceled|behavior)\b|\d\d:\d\d(?! ?[ap]\.m\.)"
    )
    for key, text in every_text("en").items():
        assert not leftovers.search(html_to_text(re.sub(r"<code>.*?</code>", "", text))), key


def test_every_literal_key_in_the_code_exists() -> None:
    single, counted = set(catalogue("fr")), set(texts("fr").plural)
    plain = re.compile(r"""\bt\(\s*[\w.]+,\s*"([a-z_]+\.[a-z_.]+)\"""")
    plural = re.compile(r"""\btn\(\s*[\w.]+,\s*"([a-z_]+\.[a-z_.]+)\"""")
    used, used_counted = set(), set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]:
        code = path.read_text(encoding="utf-8")
        used |= set(plain.findall(code))
        used_counted |= set(plural.findall(code))
    assert used and used_counted, "the scan found no keys"
    assert used - single == set()
    assert used_counted - counted == set()


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [
        ("fr", 0, "(0 contact)"),
        ("fr", 1, "(1 contact)"),
        ("fr", 2, "(2 contacts)"),
        ("fr", 1500, "(1\xa0500 contacts)"),
        ("en", 0, "(0 contacts)"),
        ("en", 1, "(1 contact)"),
        ("en", 1500, "(1,500 contacts)"),
    ],
)
def test_the_plural_form_follows_the_count(language: str, count: int, expected: str) -> None:
    assert expected in tn(language, "federations.line", count, code="CQCH", name="Conf")


@pytest.mark.parametrize(
    ("minutes", "french", "english"),
    [
        (1, "1 min", "1 minute"),
        (45, "45 min", "45 minutes"),
        (60, "1 h", "1 hour"),
        (90, "1 h 30", "1.5 hours"),
        (135, "2 h 15", "2.25 hours"),
        (125, "2 h 05", "2.08 hours"),
        (510, "8 h 30", "8.5 hours"),
        (1440, "24 h", "24 hours"),
    ],
)
def test_durations(minutes: int, french: str, english: str) -> None:
    assert format_duration(minutes, "fr") == french
    assert format_duration(minutes, "en") == english


@pytest.mark.parametrize(
    ("delay", "french", "english"),
    [
        (timedelta(minutes=45), "45 min", "45 minutes"),
        (timedelta(hours=3), "3 h", "3 hours"),
        (timedelta(hours=9, minutes=25), "9 h 25", "9.4 hours"),
        (timedelta(hours=9, minutes=5), "9 h 05", "9.1 hours"),
        (timedelta(hours=23, minutes=59), "23 h 59", "24 hours"),
        (timedelta(days=1), "1 j", "1 day"),
        (timedelta(days=2), "2 j", "2 days"),
        (timedelta(days=6, hours=22, minutes=40), "6 j 23 h", "6.9 days"),
        (timedelta(days=6, hours=23, minutes=40), "7 j", "7 days"),
    ],
)
def test_delays_are_durations_with_days(delay: timedelta, french: str, english: str) -> None:
    """The delays of /stats read like format_duration's durations, in days past a day."""
    assert format_delay(delay, "fr") == french
    assert format_delay(delay, "en") == english


def test_a_fraction_of_hours_is_plural_in_english() -> None:
    assert tn("en", "duration.hours", Decimal("1.5")) == "1.5 hours"
    assert tn("en", "duration.hours", Decimal("1.00")) == "1 hour"


@pytest.mark.parametrize(
    ("moment", "french", "english"),
    [
        (
            datetime(2026, 12, 8, 22, 14, tzinfo=UTC),
            "8 décembre 2026 à 17 h 14",
            "December 8, 2026 at 5:14 p.m.",
        ),
        (
            datetime(2026, 12, 1, 22, 0, tzinfo=UTC),
            "1er décembre 2026 à 17 h",
            "December 1, 2026 at 5 p.m.",
        ),
        (
            datetime(2026, 7, 2, 4, 5, tzinfo=UTC),
            "2 juillet 2026 à 0 h 05",
            "July 2, 2026 at 12:05 a.m.",
        ),
        (
            datetime(2026, 7, 2, 13, 30, tzinfo=UTC),
            "2 juillet 2026 à 9 h 30",
            "July 2, 2026 at 9:30 a.m.",
        ),
    ],
)
def test_dates_and_times(moment: datetime, french: str, english: str) -> None:
    assert format_when(moment, "fr", MONTREAL) == french
    assert format_when(moment, "en", MONTREAL) == english


def test_days() -> None:
    assert format_day(date(2026, 12, 15), "fr") == "15 décembre 2026"
    assert format_day(date(2026, 12, 1), "fr") == "1er décembre 2026"
    assert format_day(date(2026, 12, 1), "en") == "December 1, 2026"


def test_values_are_escaped_but_html_fragments_are_not() -> None:
    text = t("fr", "label.subject", value="<script>&")
    assert "&lt;script&gt;&amp;" in text
    assert "<b>x</b>" in t("fr", "label.subject", value=Html("<b>x</b>"))


def test_language_of_a_new_user() -> None:
    assert normalise_language("en-US", "fr") == "en"
    assert normalise_language("fr-CA", "en") == "fr"
    assert normalise_language("de", "fr") == "fr"
    assert normalise_language(None, "fr") == "fr"


async def test_language_command_switches_texts_and_menu(bot) -> None:  # type: ignore[no-untyped-def]
    from tests import flows  # noqa: PLC0415

    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    await marie.send("/language")
    await marie.click("English")
    assert marie.chat[-1].text == "Done: I will write to you in English."
    replies = await marie.send("/new")
    assert "In which field" in replies[-1].text
    menu = bot.api.commands[f"chat:{marie.id}:"]
    assert ("mytickets", "My requests and their status") in menu
    await marie.send("/language")
    await marie.click("Français")
    assert "Dans quel domaine" in (await marie.send("/new"))[-1].text


async def test_menus_are_set_per_language_and_role(bot) -> None:  # type: ignore[no-untyped-def]
    from tests import flows  # noqa: PLC0415

    commands = bot.api.commands
    assert [c for c, _ in commands["default::"]] == ["start", "help", "language", "cancel"]
    assert commands["default::en"][1] == ("help", "What you can do")
    boss = await flows.admin(bot)
    jean = await flows.lead(bot, boss, 3001, "Jean", "legal")
    assert "invitelead" in [c for c, _ in commands[f"chat:{boss.id}:"]]
    lead_menu = [c for c, _ in commands[f"chat:{jean.id}:"]]
    assert "queue" in lead_menu and "invitelead" not in lead_menu


async def test_counts_dates_and_durations_in_the_chat(bot: Emulator) -> None:
    """What people read: "(1 contact)", "24 novembre 2026 à 14 h", "1 h 30" / "1.5 hours"."""
    from tests import flows  # noqa: PLC0415

    boss = await flows.admin(bot)
    await flows.federation(boss)
    await flows.federation(boss, "FCDQ")
    marie = await flows.contact(bot, boss)
    listing = (await boss.send("/federations"))[-1].text
    assert "CQCH — Confédération québécoise des coopératives (1 contact)" in listing
    assert "FCDQ — Confédération québécoise des coopératives (0 contact)" in listing
    kate = await flows.lead(bot, boss, 3001, "Kate", "legal", language_code="en")
    reference = await flows.file_request(marie)
    card = (await marie.send(f"/ticket {reference}"))[-1].text
    assert "Reçue le : 24 novembre 2026 à 14 h\n" in card  # 19:00 UTC, in Montréal
    await kate.click("Take this request")
    await kate.send(f"/ticket {reference}")
    history = (await kate.click("History"))[-1].text
    assert "November 24, 2026 at 2 p.m." in history
    assert "1.5 hours logged on" in (await kate.send(f"/log {reference} 1h30"))[-1].text
    assert "45 minutes logged on" in (await kate.send(f"/log {reference} 45m"))[-1].text
    logged = (await boss.send(f"/log {reference} 2h15"))[-1].text
    assert "consigné sur CREC-2026-0001 : 2 h 15." in logged


@pytest.mark.parametrize(
    ("name_before", "name_after"),
    [
        ("Event organisation", "Event organization"),  # the default of 0002: corrected
        ("Congresses and events", "Congresses and events"),  # an admin's name: kept
    ],
)
async def test_the_default_fields_are_in_canadian_english(
    tmp_path: Path, clock: ManualClock, name_before: str, name_after: str
) -> None:
    """A new database says "Event organization"; one from before the correction is corrected
    on the next start, unless an admin had renamed the field."""
    from tests import flows  # noqa: PLC0415

    settings = make_settings(tmp_path)
    async with Emulator.running(settings, clock=clock) as bot:
        boss = await flows.admin(bot, language_code="en")
        listing = (await boss.send("/domains"))[-1].text
        assert "Event organization" in listing and "organisation" not in listing
        renamed = await boss.send(
            f"/domain rename events Organisation d'événements | {name_before}"
        )
        assert name_before in renamed[-1].text
    # As if the database came from before the correction: 0008 not applied yet.
    with sqlite3.connect(settings.database_path) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = 8")
    conn.close()
    async with Emulator.running(settings, clock=clock) as bot:
        boss = await flows.admin(bot, language_code="en")
        listing = (await boss.send("/domains"))[-1].text
        assert name_after in listing and "Event organisation" not in listing


async def test_a_refusal_writes_its_numbers_one_way(bot: Emulator) -> None:
    """« Message trop long (4 100 caractères) : … 4 096 caractères…, soit 4 060 ici »: every
    number of the too-long refusal as format_number writes it, in French and in English."""
    from tests import flows  # noqa: PLC0415

    _, marie, jean, _ = await flows.world(bot)
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    await jean.click("Poser une question")
    refusal = (await jean.send("x" * 4100))[-1].text
    numbers = re.findall(r"\d[\d\s]*\d|\d", refusal)
    assert numbers[:2] == ["4\xa0100", "4\xa0096"], refusal
    assert all(n == format_number(int(re.sub(r"\D", "", n)), "fr") for n in numbers), refusal
    assert "Message trop long (4\xa0100 caractères)" in refusal
    assert "1\xa0024 caractères" in (await jean.send_document(caption="c" * 1100))[-1].text
    await jean.send("/language")
    await jean.click("English")
    await jean.send("/cancel")
    await jean.send(f"/ticket {reference}")
    await jean.click("Ask the contact")
    refusal = (await jean.send("x" * 4100))[-1].text
    numbers = re.findall(r"\d[\d,]*\d|\d", refusal)
    assert numbers[:2] == ["4,100", "4,096"], refusal
    assert all(n == format_number(int(n.replace(",", "")), "en") for n in numbers), refusal
