"""A deleted topic heals (issue 15, part 1): at the ticket's next event the topic is created
again, with the card and a note that the earlier topic was deleted; nothing is lost."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.tools.emulator import Emulator
from bot.tools.fakeapi import FakeBotAPI
from tests import flows
from tests.test_team_topics import GROUP, linked_group, topic_rows


async def test_a_deleted_topic_is_created_again_at_the_next_event(
    bot: Emulator, api: FakeBotAPI, clock: ManualClock
) -> None:
    boss, marie, jean, _luc = await flows.world(bot)
    group = await linked_group(bot, boss, "legal")
    reference = await flows.file_request(marie)
    (first,) = group.topics(reference)
    api.delete_topic(GROUP, first.thread_id)  # someone deleted it in the group
    await jean.click("Prendre")  # from private: the next event of the ticket
    clock.advance(seconds=5)
    await bot.deliver()
    (second,) = group.topics(reference)
    assert second.thread_id != first.thread_id
    posts = group.in_topic(second.thread_id)
    assert posts[0].text.startswith("ℹ️ Le sujet précédent de cette demande a été supprimé")
    assert reference in posts[0].text and posts[0].button("Écrire au contact")
    assert posts[-1].text == "Jean (@jean) · prise en charge"
    rows = await topic_rows(bot)
    assert [(r[1], r[2] is not None) for r in rows] == [
        (first.thread_id, True),
        (second.thread_id, False),
    ]
    # Later events go to the new topic, without healing again.
    await jean.send(f"/log {reference} 30 min")
    assert "30 min" in group.in_topic(second.thread_id)[-1].text
    assert len(api.calls_to("createForumTopic")) == 2


async def test_a_topic_refused_by_telegram_is_tried_again_at_the_next_event(
    bot: Emulator, api: FakeBotAPI
) -> None:
    boss, marie, jean, _luc = await flows.world(bot)
    group = await linked_group(bot, boss, "legal")
    group.state.can_manage_topics = False  # someone took the bot's right away
    reference = await flows.file_request(marie)
    assert group.topics() == []
    async with bot.services.db.read() as conn:
        pending = await conn.execute_fetchall(
            "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND chat_id = ?", (GROUP,)
        )
    assert pending[0][0] == 0  # given up, not retried forever
    group.state.can_manage_topics = True
    await jean.click("Prendre")
    (topic,) = group.topics(reference)
    posts = group.in_topic(topic.thread_id)
    assert posts[0].text.startswith(f"📋 {reference}")  # no topic was deleted: no such note
    assert posts[-1].text == "Jean (@jean) · prise en charge"
