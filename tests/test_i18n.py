"""Every text exists in French and English, with the same placeholders and valid markup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.emulator import html_to_text
from bot.i18n import LANGUAGES, Html, catalogue, normalise_language, placeholders, t

ROOT = Path(__file__).resolve().parent.parent


def test_both_catalogues_have_the_same_keys() -> None:
    french, english = catalogue("fr"), catalogue("en")
    assert set(french) - set(english) == set(), "missing in English"
    assert set(english) - set(french) == set(), "missing in French"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_filled_and_valid_html(language: str) -> None:
    for key, text in catalogue(language).items():
        assert text.strip(), key
        html_to_text(text.replace("{", "").replace("}", ""))  # raises on broken markup


def test_placeholders_match_between_languages() -> None:
    french, english = catalogue("fr"), catalogue("en")
    for key in french:
        assert placeholders(french[key]) == placeholders(english[key]), key


def test_every_literal_key_in_the_code_exists() -> None:
    keys = set(catalogue("fr"))
    pattern = re.compile(r"""\bt\(\s*[\w.]+,\s*"([a-z_]+\.[a-z_.]+)\"""")
    used = set()
    for path in [*ROOT.glob("bot/*.py"), *ROOT.glob("handlers/*.py")]:
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert used, "the scan found no keys"
    assert used - keys == set()


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
