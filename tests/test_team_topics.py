"""A topic per request in the team's group (issue 15, part 1): opened once, even across a crash
between creating and recording it; its card and buttons; within 20 messages a minute."""

from __future__ import annotations

from pathlib import Path

from bot.clock import ManualClock
from bot.rules.teams import TopicState, topic_name
from bot.tickets import file_draft
from bot.tools.emulator import Emulator, Person, TeamGroup
from bot.tools.fakeapi import FakeBotAPI
from storage import drafts, people
from storage.models import TicketStatus, Urgency
from tests import flows
from tests.conftest import make_settings

GROUP = -100_800
SUBJECT = "Révision des règlements généraux"


async def linked_group(bot: Emulator, boss: Person, *codes: str) -> TeamGroup:
    group = bot.group(GROUP, "Équipe juridique")
    replies = await group.member(boss, "creator").send("/teamgroup " + " ".join(codes))
    assert "l'espace de l'équipe" in replies[-1].text
    return group


async def topic_rows(bot: Emulator) -> list[tuple[int, int | None, str | None]]:
    async with bot.services.db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT ticket_id, thread_id, deleted_at FROM ticket_topics ORDER BY id"
        )
    return [(r[0], r[1], r[2]) for r in rows]


async def test_a_request_opens_its_topic_with_card_buttons_and_attachments(bot: Emulator) -> None:
    boss, marie, jean, _luc = await flows.world(bot)
    group = await linked_group(bot, boss, "legal")
    await marie.send("/new")
    await marie.click("Services juridiques")
    await marie.send(SUBJECT)
    await marie.send("Nous devons réviser nos règlements avant l'assemblée générale de mars.")
    await marie.click("Urgente")
    await marie.click("Pas de date")
    await marie.send_document("statuts.pdf")
    await marie.send_photo()
    await marie.click("Continuer")
    await marie.click("Envoyer")
    (topic,) = group.topics()
    assert topic.name == f"CREC-2026-0001 · {SUBJECT}"
    posts = group.in_topic(topic.thread_id)
    assert [p.kind for p in posts] == ["text", "document", "photo"]
    assert SUBJECT in posts[0].text and posts[0].button("Prendre la demande")
    assert "1/2" in posts[1].text
    assert await topic_rows(bot) == [(1, topic.thread_id, None)]
    assert any("CREC-2026-0001" in text for text in jean.texts())  # private too (default)
    # A lead of the field takes it from the group: the first press wins.
    replies = await group.member(jean).click("Prendre la demande", posts[0])
    assert jean.last_answer is not None and "CREC-2026-0001" in (jean.last_answer.text or "")
    async with bot.services.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT status, assignee_id FROM tickets")
    assert tuple(rows[0]) == (TicketStatus.ASSIGNED.value, jean.id)
    assert replies == [] or all(r.thread_id in (None, topic.thread_id) for r in replies)


async def test_no_topic_for_a_field_without_group_nor_in_another_fields_group(
    bot: Emulator,
) -> None:
    boss, marie, _jean, _luc = await flows.world(bot)
    group = await linked_group(bot, boss, "hr")
    await flows.file_request(marie)  # legal: not this group's field
    assert group.topics() == [] and group.chat[-1].thread_id is None
    assert await topic_rows(bot) == []


async def test_a_stranger_in_the_group_changes_nothing(bot: Emulator) -> None:
    boss, marie, _jean, _luc = await flows.world(bot)
    group = await linked_group(bot, boss, "legal")
    await flows.file_request(marie)
    (topic,) = group.topics()
    card = group.in_topic(topic.thread_id)[0]
    stranger = group.member(bot.person(9999, "Inconnu"))
    await stranger.click("Prendre la demande", card)
    await group.member(marie).click("Prendre la demande", card)  # the contact, in the group
    await stranger.press("wf:take:1", card)  # forged
    await stranger.send("Je prends !", thread_id=topic.thread_id)
    async with bot.services.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT status, assignee_id FROM tickets")
    assert tuple(rows[0]) == (TicketStatus.NEW.value, None)
    assert group.in_topic(topic.thread_id) == [card]


def test_topic_names_are_cut_to_128_characters() -> None:
    name = topic_name("CREC-2026-0042", "x" * 200)
    assert len(name) == 128 and name.startswith("CREC-2026-0042 · x") and name.endswith("…")
    assert topic_name("CREC-2026-0042", "Congrès  annuel\n") == "CREC-2026-0042 · Congrès annuel"
    assert topic_name("CREC-2026-0042", "Congrès", TopicState.RESOLVED).startswith("✅ CREC")


async def test_a_crash_between_creating_and_recording_gives_one_topic(
    tmp_path: Path, clock: ManualClock
) -> None:
    settings, api = make_settings(tmp_path), FakeBotAPI()
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        boss, marie, _jean, _luc = await flows.world(bot)
        group = await linked_group(bot, boss, "legal")
        api.lost_answers.add("createForumTopic")  # done by Telegram; the bot never hears back
        await flows.file_request(marie)
        assert len(group.topics()) == 1 and group.in_topic(group.topics()[0].thread_id) == []
        assert await topic_rows(bot) == [(1, None, None)]
    clock.advance(seconds=10)
    async with Emulator.running(settings, clock=clock, api=api) as bot:  # the restart
        group = TeamGroup(bot, GROUP, "Équipe juridique")
        await bot.deliver()
        assert len(group.topics()) == 1  # not created again while its service message may come
        assert await group.service_messages() == 1  # forum_topic_created: adopted
        clock.advance(seconds=10)
        await bot.deliver()
        (topic,) = group.topics()
        assert await topic_rows(bot) == [(1, topic.thread_id, None)]
        assert group.in_topic(topic.thread_id)[0].button("Prendre la demande")
        assert len(api.calls_to("createForumTopic")) == 1


async def test_a_late_service_message_deletes_the_duplicate(
    bot: Emulator, api: FakeBotAPI, clock: ManualClock
) -> None:
    boss, marie, _jean, _luc = await flows.world(bot)
    group = await linked_group(bot, boss, "legal")
    api.lost_answers.add("createForumTopic")
    await flows.file_request(marie)
    late, api.service_updates = api.service_updates, []  # its service message is slow to come
    clock.advance(seconds=61)
    await bot.deliver()
    assert len(group.topics()) == 2  # created again: the first one was never heard of
    ((_, thread, _),) = await topic_rows(bot)
    api.service_updates = late
    await group.service_messages()
    (topic,) = group.topics()  # the orphan is gone
    assert topic.thread_id == thread
    assert [p.kind for p in group.in_topic(thread)] == ["text"]


async def test_200_requests_in_a_burst_reach_the_group_within_its_limit(
    bot: Emulator, api: FakeBotAPI, clock: ManualClock
) -> None:
    api.clock = lambda: clock.now().timestamp()
    boss, marie, _jean, _luc = await flows.world(bot)
    group = await linked_group(bot, boss, "legal")
    services = bot.services
    now = clock.now()
    async with services.db.transaction() as conn:
        field = (await people.fields_by_codes(conn, ["legal"]))["legal"]
        user = await people.get_user(conn, marie.id)
    assert user is not None
    for n in range(200):
        async with services.db.transaction() as conn:
            draft = await drafts.start_draft(conn, marie.id, now)
            await drafts.update_draft(
                conn,
                draft.id,
                now,
                field_id=field.id,
                subject=f"Demande {n:03}",
                description="Une demande parmi deux cents, envoyée d'un coup.",
                urgency=Urgency.NORMAL.value,
            )
        assert await file_draft(services, user, draft.id) is not None
    for _ in range(100):
        await bot.deliver()
        if len(group.topics("CREC")) == 200 and len(group.chat) >= 200 + 1:
            break
        clock.advance(seconds=30)
    topics = group.topics("CREC")
    assert len(topics) == 200
    assert all(len(group.in_topic(t.thread_id)) == 1 for t in topics)  # one card each
    times = api.group_send_times[GROUP]
    assert len(times) == 401  # /teamgroup's answer, 200 topics, 200 cards
    for first, later in zip(times, times[20:], strict=False):
        assert later - first >= 60  # never 21 in a minute
    async with services.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT status, COUNT(*) FROM outbox GROUP BY status")
    assert dict((r[0], r[1]) for r in rows).keys() <= {"sent", "cancelled"}


async def test_the_bots_own_service_messages_are_not_a_flood(
    tmp_path: Path, clock: ManualClock
) -> None:
    settings, api = make_settings(tmp_path, rate_limit_per_minute=3), FakeBotAPI()
    api.group_limit = None  # the group's 20 a minute is another test's
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        boss, marie, _jean, _luc = await flows.world(bot)
        group = await linked_group(bot, boss, "legal")
        services = bot.services
        now = clock.now()
        async with services.db.transaction() as conn:
            field = (await people.fields_by_codes(conn, ["legal"]))["legal"]
            user = await people.get_user(conn, marie.id)
        assert user is not None
        api.lost_answers.add("createForumTopic")  # the first one's answer is lost
        for n in range(10):
            async with services.db.transaction() as conn:
                draft = await drafts.start_draft(conn, marie.id, now)
                await drafts.update_draft(
                    conn, draft.id, now, field_id=field.id, subject=f"Demande {n}",
                    description="Dix demandes d'un coup, et leurs sujets.",
                    urgency=Urgency.NORMAL.value,
                )  # fmt: skip
            await file_draft(services, user, draft.id)
        await bot.deliver()
        posted = len(group.chat)
        assert await group.service_messages() == 10  # the bot's own, ten in a row
        assert len(group.chat) == posted  # no "you write too fast" in the group
        clock.advance(seconds=10)
        await bot.deliver()
        assert len(group.topics("CREC")) == 10
        assert all(thread is not None for _, thread, _ in await topic_rows(bot))
        assert all(len(group.in_topic(t.thread_id)) == 1 for t in group.topics("CREC"))
