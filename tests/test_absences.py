"""Absence and cover through the real application: /away and /back, offers that skip the absent
lead, the delegate who receives the contact's messages and the reminders and acts on the
requests, the contact told once, the requests theirs again after /back; bad input."""

from __future__ import annotations

from datetime import date

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.rules.absences import covering, read_away, read_period
from bot.rules.forms import InvalidInput
from bot.rules.workflow import Actor, Relation, relations
from bot.sla import check_service_levels
from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import FakeBotAPI
from storage.models import Role, TicketStatus, User
from tests import admin_helpers as h
from tests import flows
from tests.flows import ticket_record

TODAY = date(2026, 11, 24)  # START, in Montréal


def count(person: Person, *words: str) -> int:
    return sum(all(w in text for w in words) for text in person.texts())


# -- rules ------------------------------------------------------------------------------------


def test_who_covers_follows_the_delegates_and_stops_on_a_loop() -> None:
    assert covering(1, {}) == 1
    assert covering(1, {1: 2}) == 2
    assert covering(1, {1: 2, 2: 3}) == 3  # the delegate is away too: their delegate
    assert covering(1, {1: None}) is None  # nobody named: the admins
    assert covering(1, {1: 2, 2: 1}) is None  # each the other's delegate


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("bientôt plus tard", "unreadable"),
        ("2026-11-01 2026-11-30", "past"),
        ("2026-12-20 2026-12-10", "before_start"),
        ("2026-12-20 2026-02-30", "invalid"),
        ("2026-12-20 2028-01-05", "too_long"),
    ],
)
def test_bad_periods(typed: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_period(typed.split(), TODAY)
    assert refused.value.problem == problem


def test_one_date_is_that_day_and_day_words_read_from_today() -> None:
    day = date(2026, 12, 20)
    assert read_period(["2026-12-20"], TODAY) == (day, day)
    assert read_period(["20", "décembre"], TODAY) == (day, day)
    tomorrow = date(2026, 11, 25)
    assert read_period(["demain"], TODAY) == (tomorrow, tomorrow)
    assert read_period(["aujourd'hui", "au", "demain"], TODAY) == (TODAY, tomorrow)
    assert read_period(["today", "December", "3"], TODAY) == (TODAY, date(2026, 12, 3))


def test_the_person_and_the_delegate_by_number_or_name() -> None:
    typed = ["9000000011", "2026-12-02", "2026-12-10", "9000000015"]
    request = read_away(typed, TODAY)
    assert (request.person, request.delegate) == ("9000000011", "9000000015")
    assert (request.starts_on, request.ends_on) == (date(2026, 12, 2), date(2026, 12, 10))
    request = read_away(["20/12", "5/1", "Claire", "Gagnon"], TODAY)
    assert (request.ends_on, request.delegate) == (date(2027, 1, 5), "Claire Gagnon")
    # The words of a date are never a name: the error is the date's.
    with pytest.raises(InvalidInput) as refused:
        read_away(["2026-12-20", "2026-12-10"], TODAY)
    assert refused.value.problem == "before_start"


def test_periods_read_as_the_form_reads_dates() -> None:
    end = (date(2026, 12, 20), date(2027, 1, 5))
    for typed in (
        "2026-12-20 2027-01-05",
        "du 20 décembre au 5 janvier",
        "20/12 5/1",
        "December 20 to January 5",
    ):
        assert read_period(typed.split(), TODAY) == end, typed


def test_the_delegate_acts_as_the_assignee_only_while_covering() -> None:
    ticket = ticket_record(TicketStatus.IN_PROGRESS, assignee=20)
    now = ticket.created_at
    marie = User(
        id=30,
        role=Role.LEAD,
        federation_id=None,
        full_name="Marie Roy",
        username="marie",
        language="fr",
        active=True,
        blocked_at=None,
        created_at=now,
    )
    assert Relation.ASSIGNEE not in relations(Actor.of(marie), ticket)
    assert Relation.ASSIGNEE in relations(Actor.of(marie, covering=frozenset({20})), ticket)
    contact = marie.model_copy(update={"role": Role.CONTACT, "id": 10})
    # A contact never covers anyone, whatever is asked.
    assert Relation.ASSIGNEE not in relations(Actor.of(contact, covering=frozenset({20})), ticket)


# -- through the application ------------------------------------------------------------------


async def test_away_alone_shows_it_and_back_ends_it(bot: Emulator) -> None:
    boss, _, jean, luc = await flows.world(bot)
    assert "Vous n'avez aucune absence" in (await jean.send("/away"))[-1].text
    replies = await jean.send("/away 20 décembre 5 janvier @luc")
    assert "Absence enregistrée du 20 décembre 2026 au 5 janvier 2027" in replies[-1].text
    assert "Luc" in replies[-1].text
    assert count(luc, "Jean", "vous confie le relais", "5 janvier 2027") == 1
    assert "Votre absence est prévue" in (await jean.send("/away"))[-1].text
    # The admin sees it in /users.
    users = (await boss.send("/users lead"))[-1].text
    assert "absence prévue du 20 décembre 2026 au 5 janvier 2027" in users
    # Replaced by a new one.
    replies = await jean.send("/away 2026-12-01 2026-12-03")
    assert "remplace" in replies[-1].text and "la coordination" in replies[-1].text
    assert await h.rows(bot, "SELECT starts_on, ended_at IS NULL FROM absences ORDER BY id") == [
        ("2026-12-20", 0),
        ("2026-12-01", 1),
    ]
    assert "annulée" in (await jean.send("/back"))[-1].text
    assert "Vous n'avez aucune absence" in (await jean.send("/back"))[-1].text


async def test_bad_arguments_get_a_reason_and_the_usage(bot: Emulator) -> None:
    boss, marie, jean, luc = await flows.world(bot)
    for typed, words in [
        ("/away 1/12 @luc 3/12", "le premier et le dernier jour"),
        ("/away bientôt plus tard", "ne se lisent pas"),
        ("/away hier demain", "dans le passé"),
        ("/away 2026-11-01 2026-11-30", "dans le passé"),
        ("/away 2026-12-20 2026-12-10", "avant le premier"),
        ("/away 2026-12-20 2028-01-10", "au plus un an"),
    ]:
        text = (await jean.send(typed))[-1].text
        assert words in text and "Syntaxe : /away" in text, typed
    assert "ne répond à « @nobody »" in (await jean.send("/away 1/12 3/12 @nobody"))[-1].text
    assert "autre personne" in (await jean.send("/away 1/12 3/12 @jean"))[-1].text
    # A contact is no delegate.
    async with bot.services.db.transaction() as conn:
        await conn.execute("UPDATE users SET username = 'mtremblay' WHERE id = ?", (marie.id,))
    text = (await jean.send("/away 1/12 3/12 @mtremblay"))[-1].text
    assert "ne peut pas prendre le relais" in text
    # Someone else's absence is for the admins; a contact has no /away at all.
    assert "Seule la coordination" in (await luc.send("/away @jean 1/12 3/12"))[-1].text
    assert "pas accès" in (await marie.send("/away 1/12 3/12"))[-1].text
    assert "pas accès" in (await marie.send("/back"))[-1].text
    stranger = bot.person(9999, "Inconnu")
    assert "lien d'invitation" in (await stranger.send("/away 1/12 3/12"))[-1].text
    # An admin names a lead, never a contact or an admin, as the absent person.
    assert "Syntaxe pour l'absence d'une personne" in (await boss.send("/away 1/12 3/12"))[-1].text
    text = (await boss.send("/away @mtremblay 1/12 3/12"))[-1].text
    assert "n'est pas une personne responsable" in text
    assert "Syntaxe : /back" in (await jean.send("/back demain"))[-1].text
    assert await h.rows(bot, "SELECT COUNT(*) FROM absences") == [(0,)]


async def test_an_admin_sets_and_ends_it_for_a_lead(bot: Emulator) -> None:
    boss, _, jean, luc = await flows.world(bot)
    replies = await boss.send("/away @jean 2026-11-24 2026-12-05 @luc")
    assert "Absence de Jean (@jean) enregistrée" in replies[-1].text
    assert count(jean, "Claire", "a enregistré votre absence", "5 décembre 2026") == 1
    assert count(luc, "vous confie le relais") == 1
    assert "Absence en cours pour Jean" in (await boss.send("/away @jean"))[-1].text
    assert "absence jusqu'au 5 décembre 2026" in (await boss.send("/users lead"))[-1].text
    assert "terminée" in (await boss.send("/back @jean"))[-1].text
    assert count(luc, "Retour de Jean") == 1


async def test_offers_skip_the_absent_lead_or_go_to_the_delegate(bot: Emulator) -> None:
    boss, marie, jean, luc = await flows.world(bot)
    await jean.send("/away 2026-11-24 2026-11-30 @luc")
    legal = await flows.file_request(marie)
    assert count(luc, legal) == 1 and count(jean, legal) == 0
    # HR has Luc alone: away, his field's requests go to his delegate, Jean, who takes one.
    await jean.send("/back")
    await luc.send("/away 2026-11-24 2026-11-30 @jean")
    hr = await flows.file_request(marie, field="Gestion des ressources humaines")
    assert count(jean, hr) == 1 and count(boss, hr) == 0
    await jean.click("Prendre", jean.find_button("Prendre")[0])
    sql = "SELECT status, assignee_id FROM tickets WHERE reference = ?"
    assert await h.rows(bot, sql, hr) == [("assigned", jean.id)]
    # Without a delegate, the admins get them.
    await luc.send("/away 2026-11-24 2026-11-30")
    other = await flows.file_request(marie, field="Gestion des ressources humaines")
    assert count(boss, other) >= 1 and count(luc, other) == 0


async def test_the_delegate_covers_then_the_requests_return(
    bot: Emulator, clock: ManualClock
) -> None:
    _, marie, jean, luc = await flows.world(bot)
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    taken = marie.last
    await jean.send("/away 2026-11-24 2026-12-31 @luc")

    # Marie writes: Luc receives it, and Marie is told once who covers, until when.
    await marie.send("Voici le document demandé.", reply_to=taken)
    assert count(luc, reference, "Voici le document demandé.") == 1
    assert count(jean, "Voici le document demandé.") == 0
    notice = "absence de Jean (@jean) jusqu'au 31 décembre 2026 inclusivement; Luc (@luc)"
    assert count(marie, reference, notice) == 1
    await marie.send("Et une précision.", reply_to=taken)
    assert count(luc, "Et une précision.") == 1
    assert count(marie, "absence de Jean") == 1  # once per absence

    # Luc answers and acts as the lead who holds it; his time stays his.
    await luc.send("Bien reçu, merci.", reply_to=luc.last)
    assert count(marie, reference, "Luc", "Bien reçu, merci.") == 1
    assert "consigné" in (await luc.send(f"/log {reference} 30m lecture"))[-1].text
    assert "Jean" in (await luc.send(f"/ticket {reference}"))[-1].text

    # The resolution target's reminder goes to Luc (5 business days; 75 % by Monday).
    clock.advance(days=6)
    assert await check_service_levels(bot.services) >= 1
    await bot.deliver()
    assert count(luc, "Rappel", reference) == 1 and count(jean, "Rappel") == 0

    # Jean is back: the request is his again, Luc's work stays Luc's.
    await jean.send("/back")
    assert count(luc, "Retour de Jean") == 1
    await marie.send("Encore une chose.", reply_to=taken)
    assert count(jean, "Encore une chose.") == 1 and count(luc, "Encore une chose.") == 0
    await luc.send(f"/log {reference} 15m")  # no longer his to log on
    assert await h.rows(bot, "SELECT assignee_id FROM tickets") == [(jean.id,)]
    assert await h.rows(bot, "SELECT lead_id, minutes FROM time_entries") == [(luc.id, 30)]
    messages = await h.rows(
        bot, "SELECT author_id FROM ticket_messages WHERE body = 'Bien reçu, merci.'"
    )
    assert messages == [(luc.id,)]


async def test_the_absence_ends_with_its_last_day_in_montreal(
    bot: Emulator, clock: ManualClock
) -> None:
    _, marie, jean, luc = await flows.world(bot)
    await jean.send("/away 2026-11-24 2026-11-25 @luc")
    clock.advance(hours=33, minutes=30)  # Wednesday the 25th, 23:30 in Montréal (04:30 UTC)
    late = await flows.file_request(marie)
    assert count(jean, late) == 0 and count(luc, late) == 1
    clock.advance(hours=1)  # Thursday the 26th, 00:30 in Montréal: Jean is back by himself
    reference = await flows.file_request(marie)
    assert count(jean, reference) == 1
    assert "Vous n'avez aucune absence" in (await jean.send("/away"))[-1].text


async def test_an_absence_survives_a_restart(
    settings: Settings, clock: ManualClock, api: FakeBotAPI
) -> None:
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        boss, marie, jean, luc = await flows.world(bot)
        assert (
            "Aucune personne « @nobody »" in (await boss.send("/away @nobody 1/12 3/12"))[-1].text
        )
        await boss.send("/away @jean 2026-11-24 2026-12-05 @luc")
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        marie = bot.person(marie.id, "Marie")
        reference = await flows.file_request(marie)
        assert count(bot.person(luc.id, "Luc"), reference) == 1
        assert count(bot.person(jean.id, "Jean"), reference) == 0


async def test_the_delegate_hears_of_the_contacts_decisions_and_sees_whom_they_cover(
    bot: Emulator,
) -> None:
    _, marie, jean, luc = await flows.world(bot)
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    await jean.send("/away 2026-11-24 2026-12-31 @luc")
    assert "relais de : Jean (@jean) (CREC-2026-0001)" in (await luc.send("/away"))[-1].text
    # Luc, covering, resolves it; Marie reopens it: Luc is told, not Jean.
    card = (await luc.send(f"/ticket {reference}"))[-1]
    assert "absence jusqu'au 31 décembre 2026 · relais : Luc (@luc)" in card.text
    await luc.click("Résoudre", card)
    await luc.send("Règlements révisés.")
    await marie.click("Pas réglé")
    assert count(luc, reference, "n'est pas réglée") == 1
    assert not [text for text in jean.texts() if reference in text and "rouv" in text]


async def test_in_english(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    ann = await flows.lead(bot, boss, 3005, "Ann", "legal", language_code="en")
    text = (await ann.send("/away 2026-12-20 @luc 2026-12-21"))[-1].text
    assert "Give the first and the last day" in text and "Usage: /away" in text
    assert "You have no absence" in (await ann.send("/away"))[-1].text
    replies = await ann.send("/away December 20 January 5")
    assert "Absence set from December 20, 2026 to January 5, 2027 inclusive" in replies[-1].text


async def test_the_federations_decision_on_an_estimate_reaches_the_delegate(
    bot: Emulator,
) -> None:
    _, marie, jean, luc = await flows.world(bot)
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    await jean.send(f"/estimate {reference} 2h")
    await jean.send("/away 2026-11-24 2026-12-31 @luc")
    await marie.click("Approuver")
    assert "approuvée par Marie" in luc.last.text and reference in luc.last.text
    assert count(jean, "approuvée par Marie") == 0


async def test_an_admin_names_the_lead_and_the_delegate_by_telegram_number(bot: Emulator) -> None:
    boss, _, jean, luc = await flows.world(bot)
    text = (await boss.send("/away"))[-1].text
    assert "Syntaxe pour l'absence d'une personne responsable" in text
    replies = await boss.send(f"/away {jean.id} 2026-11-25 2026-12-02 {luc.id}")
    assert "Absence de Jean (@jean) enregistrée du 25 novembre 2026 au 2 décembre 2026" in (
        replies[-1].text
    )
    assert count(luc, "vous confie le relais") == 1
    assert "Absence prévue pour Jean" in (await boss.send(f"/away {jean.id}"))[-1].text
    assert "Votre absence est prévue" in (await jean.send("/away"))[-1].text
    assert "annulée" in (await boss.send(f"/back {jean.id}"))[-1].text
    assert await h.rows(bot, "SELECT user_id, delegate_id, ended_at IS NULL FROM absences") == [
        (jean.id, luc.id, 0)
    ]


async def test_one_date_is_a_one_day_absence(bot: Emulator) -> None:
    _, _, jean, _ = await flows.world(bot)
    text = (await jean.send("/away demain"))[-1].text
    assert "Absence enregistrée le 25 novembre 2026. Relais" in text
    assert await h.rows(bot, "SELECT starts_on, ends_on FROM absences") == [
        ("2026-11-25", "2026-11-25")
    ]
    assert "une seule date : cette journée" in (await jean.send("/away 1/12 @x 3/12"))[-1].text


async def test_a_lead_names_the_delegate_by_name_or_is_told_whom(bot: Emulator) -> None:
    boss, _, jean, luc = await flows.world(bot)
    text = (await jean.send("/away 1/12 3/12 @claire"))[-1].text
    assert "Aucune personne responsable ni admin ne répond à « @claire »" in text
    # The field's other lead and the admins, with how to name them; never /users.
    assert "• Luc : @luc" in text and f"• Claire Gagnon : {boss.id}" in text
    assert "Jean :" not in text and "/users" not in text
    text = (await jean.send("/away 1/12 3/12 claire gagnon"))[-1].text
    assert "Absence enregistrée" in text and "Relais : Claire Gagnon" in text
    text = (await jean.send(f"/away 1/12 3/12 {boss.id}"))[-1].text
    assert "Relais : Claire Gagnon" in text
    # Two staff of the same name: by @username or number instead.
    async with bot.services.db.transaction() as conn:
        await conn.execute("UPDATE users SET full_name = 'Claire Gagnon' WHERE id = ?", (luc.id,))
    text = (await jean.send("/away 1/12 3/12 Claire Gagnon"))[-1].text
    assert "Plusieurs personnes s'appellent « Claire Gagnon »" in text
    assert await h.rows(bot, "SELECT delegate_id FROM absences ORDER BY id") == [
        (boss.id,),
        (boss.id,),
    ]
