"""Service levels through the real application: leads reminded at 75 % of a target, admins told
when one is missed or a request sits unassigned; each alert sent once, whatever the number of
runs or restarts. Business time across a weekend, a Québec holiday and a DST change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from bot.config import Settings
from bot.sla import JOB_NAME, check_service_levels, schedule_jobs
from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import FakeBotAPI
from tests import admin_helpers as h
from tests import flows

MONTREAL = ZoneInfo("America/Montreal")


async def check(bot: Emulator) -> int:
    """One run of the job, then the outbox delivers what it queued."""
    recorded = await check_service_levels(bot.services)
    await bot.deliver()
    return recorded


def count(person: Person, *words: str) -> int:
    return sum(all(w in text for w in words) for text in person.texts())


async def test_reminder_at_75_percent_then_unassigned_alert_each_once(
    settings: Settings, clock: ManualClock, api: FakeBotAPI
) -> None:
    # START is Tuesday Nov 24, 14:00 in Montréal. An urgent request (1 business day to a first
    # response) is due Wednesday 14:00; 75 % of it is reached Wednesday at 11:52:30.
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        boss, marie, jean, luc = await flows.world(bot)
        reference = await flows.file_request(marie)
        clock.advance(hours=21, minutes=52)
        assert await check(bot) == 0
        clock.advance(minutes=1)
        # Two runs at once (a slow run overlapping the next): one reminder.
        assert sum(await asyncio.gather(check(bot), check(bot))) == 1
        for lead in (jean, luc):
            assert count(lead, "Rappel", reference, "première réponse") == 1
            assert lead.last.button("Prendre")
        assert count(boss, reference, "dépassée") == 0
        assert await check(bot) == 0
        clock.advance(hours=2, minutes=6)  # Wednesday 13:59
        assert await check(bot) == 0
        clock.advance(minutes=1)
        assert await check(bot) == 1
        assert count(boss, "sans responsable", reference, "Urgente", "CQCH") == 1
        assert boss.last.button("Prendre")
        assert count(jean, "Rappel") == 1  # the leads get no second reminder
    # The bot restarts: nothing is sent again.
    clock.advance(hours=1)
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        assert await check(bot) == 0
        boss = bot.person(boss.id, "Claire")
        assert count(boss, "sans responsable", reference) == 1
        assert count(bot.person(jean.id, "Jean"), "Rappel", reference) == 1
        assert await h.rows(bot, "SELECT target, kind FROM sla_alerts ORDER BY 1, 2") == [
            ("first_response", "missed"),
            ("first_response", "reminder"),
        ]


async def test_the_reminder_button_takes_the_request(bot: Emulator, clock: ManualClock) -> None:
    _, marie, jean, _ = await flows.world(bot)
    await flows.file_request(marie)
    clock.advance(hours=22)
    await check(bot)
    await jean.click("Prendre", jean.last)
    assert await h.rows(bot, "SELECT status, assignee_id FROM tickets") == [("assigned", jean.id)]
    clock.advance(hours=3)
    assert await check(bot) == 0  # taken in time: no alert for the first response


async def test_resolution_target_reminds_the_assignee_only_then_tells_the_admins(
    bot: Emulator, clock: ManualClock
) -> None:
    boss, marie, jean, luc = await flows.world(bot)
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    # 5 business days from Tuesday 14:00: due Tuesday Dec 1 at 14:00; 75 % on Monday 11:52:30.
    clock.advance(days=5, hours=21, minutes=52)  # Monday Nov 30, 11:52
    assert await check(bot) == 0
    clock.advance(minutes=1)
    assert await check(bot) == 1
    assert count(jean, "Rappel", reference, "résolue d'ici") == 1
    assert count(luc, "Rappel") == 0
    clock.advance(days=1, hours=2, minutes=7)  # Tuesday Dec 1, 14:00
    assert await check(bot) == 1
    assert count(boss, "Cible de résolution dépassée", reference, "Jean") == 1
    assert await check(bot) == 0


async def test_a_resolved_or_cancelled_request_raises_no_alert(
    bot: Emulator, clock: ManualClock
) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    await flows.file_request(marie)
    await flows.file_request(marie)
    async with bot.services.db.transaction() as conn:
        await conn.execute("UPDATE tickets SET status = 'cancelled' WHERE id = 1")
        await conn.execute(
            "UPDATE tickets SET status = 'resolved', assignee_id = ?, first_response_at ="
            " created_at, resolved_at = created_at WHERE id = 2",
            (jean.id,),
        )
    clock.advance(days=30)
    assert await check(bot) == 0
    assert count(boss, "dépassée") == 0 and count(jean, "Rappel") == 0


async def test_critical_counts_every_hour_even_on_a_friday_night(
    bot: Emulator, clock: ManualClock
) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    clock.advance(days=3, hours=6)  # Friday Nov 27, 20:00 in Montréal
    critical = await flows.file_request(marie, urgency="Critique")
    urgent = await flows.file_request(marie, subject="Une demande urgente du vendredi")
    clock.advance(hours=2, minutes=59)
    assert await check(bot) == 0
    clock.advance(minutes=1)  # 23:00: 75 % of 4 hours
    assert await check(bot) == 1
    assert count(jean, "Rappel", critical) == 1
    clock.advance(hours=1)  # Saturday 00:00: the 4 hours have passed
    assert await check(bot) == 1
    assert count(boss, "sans responsable", critical, "Critique") == 1
    # The urgent request of the same evening waits for Monday's business hours.
    clock.advance(days=1, hours=7)  # Sunday 7:00
    assert await check(bot) == 0
    assert count(jean, urgent) == 1  # only the new-request notification
    clock.advance(hours=1)  # Sunday 8:00: 75 % of the critical request's 2 days
    assert await check(bot) == 1
    assert count(jean, "Rappel", critical, "résolue d'ici") == 1


async def test_a_weekend_does_not_count(bot: Emulator, clock: ManualClock) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    clock.advance(days=3, hours=2)  # Friday Nov 27, 16:00
    reference = await flows.file_request(marie)
    # 1 business day: Friday 16:00-17:00, then Monday 8:30-16:00. 75 %: Monday 13:52:30.
    clock.advance(days=2, hours=7)  # Sunday 23:00
    assert await check(bot) == 0
    clock.advance(hours=14, minutes=52)  # Monday 13:52
    assert await check(bot) == 0
    clock.advance(minutes=1)
    assert await check(bot) == 1 and count(jean, "Rappel", reference) == 1
    clock.advance(hours=2, minutes=6)  # Monday 15:59
    assert await check(bot) == 0
    clock.advance(minutes=1)
    assert await check(bot) == 1 and count(boss, "sans responsable", reference) == 1


async def test_saint_jean_baptiste_does_not_count(settings: Settings, api: FakeBotAPI) -> None:
    clock = ManualClock(datetime(2026, 6, 23, 10, 0, tzinfo=MONTREAL))  # Tuesday
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        boss, marie, jean, _ = await flows.world(bot)
        reference = await flows.file_request(marie)
        clock.advance(hours=31)  # Wednesday June 24, 17:00: a holiday, nothing counted
        assert await check(bot) == 1  # the reminder, due Tuesday 16:22:30
        assert count(jean, "Rappel", reference) == 1
        clock.advance(hours=16, minutes=59)  # Thursday 9:59
        assert await check(bot) == 0
        clock.advance(minutes=1)  # Thursday 10:00: one business day after Tuesday 10:00
        assert await check(bot) == 1
        assert count(boss, "sans responsable", reference) == 1


async def test_the_end_of_daylight_saving_time(settings: Settings, api: FakeBotAPI) -> None:
    # Friday Oct 30, 12:00 EDT; normal: 3 business days, due Wednesday Nov 4 at 12:00 EST.
    clock = ManualClock(datetime(2026, 10, 30, 16, 0, tzinfo=UTC))
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        boss, marie, _, _ = await flows.world(bot)
        reference = await flows.file_request(marie, urgency="Normale")
        clock.advance(days=5, minutes=59)  # Wednesday 16:59 UTC = 11:59 EST
        assert await check(bot) == 1  # the reminder only
        assert count(boss, reference, "dépassée") == 0
        clock.advance(minutes=1)  # 17:00 UTC = 12:00 EST
        assert await check(bot) == 1
        assert count(boss, "sans responsable", reference) == 1


async def test_sla_shows_and_changes_the_targets(bot: Emulator, clock: ManualClock) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    text = (await boss.send("/sla"))[-1].text
    assert "Critique (toutes les heures comptent)" in text
    assert "première réponse : 4 h · résolution : 2 jours" in text
    assert "première réponse : 1 jour ouvrable · résolution : 5 jours ouvrables" in text
    assert "première réponse : 3 jours ouvrables · résolution : 15 jours ouvrables" in text
    assert "Québec" in text and "America/Montreal" in text
    for command in (
        "/sla urgent",
        "/sla urgent first",
        "/sla bientot first 4h",
        "/sla urgent demain 4h",
    ):
        assert "Syntaxe" in (await boss.send(command))[-1].text, command
    for bad in ("abc", "-4h", "0h", "5min", "4", "99j"):
        assert (
            "Je ne comprends pas cette durée"
            in (await boss.send(f"/sla urgent first {bad}"))[-1].text
        ), bad
    assert "ne peut pas dépasser" in (await boss.send("/sla normal first 20j"))[-1].text
    assert await h.rows(bot, "SELECT first_response_minutes FROM sla_targets") == [
        (240,),
        (510,),
        (1530,),
    ]
    replies = await boss.send("/sla urgente première 2h")
    assert "Nouvelle cible pour 🟠 Urgente, première réponse : 2 h ouvrables" in replies[-1].text
    assert await h.rows(
        bot, "SELECT first_response_minutes, updated_by FROM sla_targets WHERE urgency = 'urgent'"
    ) == [(120, boss.id)]
    # The new target applies at once: 75 % of 2 business hours after Tuesday 14:00.
    reference = await flows.file_request(marie)
    clock.advance(hours=1, minutes=30)
    assert await check(bot) == 1 and count(jean, "Rappel", reference) == 1


async def test_sla_is_for_admins_only(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    before = await h.database_dump(bot)
    for person in (marie, jean):
        for command in ("/sla", "/sla urgent first 1h"):
            assert "pas accès" in (await person.send(command))[-1].text
    assert await h.database_dump(bot) == before


async def test_a_backlog_is_summed_up_in_one_message(bot: Emulator) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    created = datetime(2026, 11, 2, 10, 0, tzinfo=MONTREAL)
    references = [
        (await h.insert_ticket(bot, contact=marie.id, created_at=created, urgency="urgent"))[1]
        for _ in range(8)
    ]
    before = len(boss.chat)
    assert await check(bot) == 16  # both targets of the 8 requests are missed
    digest = boss.chat[before:]
    assert len(digest) == 1
    assert "16 cibles de service dépassées (dont 8 demandes encore sans responsable)" in (
        digest[0].text
    )
    assert all(reference in digest[0].text for reference in references)
    assert count(jean, "Rappel") == 0  # reminders of missed targets are never sent
    assert await check(bot) == 0 and len(boss.chat) == before + 1


async def test_the_job_queue_runs_the_check_every_five_minutes(
    bot: Emulator, clock: ManualClock
) -> None:
    _, marie, jean, _ = await flows.world(bot)
    reference = await flows.file_request(marie)
    schedule_jobs(bot.app)
    assert bot.app.job_queue is not None
    [job] = bot.app.job_queue.get_jobs_by_name(JOB_NAME)
    try:
        assert job.job.trigger.interval == timedelta(minutes=5)
        clock.advance(hours=22)
        await job.run(bot.app)
        await bot.deliver()
        assert count(jean, "Rappel", reference) == 1
    finally:
        job.schedule_removal()
