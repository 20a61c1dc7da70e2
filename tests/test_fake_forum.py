"""The fake Bot API's groups and forum topics (bot/tools/fakeforum.py), through PTB's `Bot`:
what Telegram checks (forums only, the bot's rights, 128-character names, deleted topics, 20
messages a minute per group) and the updates a group's people send."""

from __future__ import annotations

import pytest
from telegram import ChatMemberAdministrator, Update
from telegram.error import BadRequest, RetryAfter

from bot.tools.emulator import Emulator
from bot.tools.fakeapi import BOT_ID

GROUP = -100_500


async def test_topics_only_in_forums_where_the_bot_may_manage_them(bot: Emulator) -> None:
    tg = bot.app.bot
    bot.group(GROUP, "Équipe juridique")
    bot.group(-100_501, "Sans sujets", is_forum=False)
    bot.group(-100_502, "Petit groupe", supergroup=False, is_forum=False)
    bot.group(-100_503, "Sans droit", can_manage_topics=False)
    bot.group(-100_504, "Simple membre", bot_status="member")
    topic = await tg.create_forum_topic(GROUP, "CREC-2026-0001 · Règlements")
    assert topic.message_thread_id > 0 and topic.name == "CREC-2026-0001 · Règlements"
    for chat_id, error in [
        (-100_501, "(?i)not a forum"),
        (-100_502, "(?i)not a forum"),
        (-100_503, "(?i)not enough rights"),
        (-100_504, "(?i)not enough rights"),
    ]:
        with pytest.raises(BadRequest, match=error):
            await tg.create_forum_topic(chat_id, "Essai")
    await tg.create_forum_topic(GROUP, "x" * 128)
    with pytest.raises(BadRequest, match=r"(?i)topic_title_invalid"):
        await tg.create_forum_topic(GROUP, "x" * 129)


async def test_the_bots_rights_and_the_chat(bot: Emulator) -> None:
    tg = bot.app.bot
    bot.group(GROUP, "Équipe juridique")
    bot.group(-100_503, "Sans droit", can_manage_topics=False)
    member = await tg.get_chat_member(GROUP, BOT_ID)
    assert isinstance(member, ChatMemberAdministrator) and member.can_manage_topics
    member = await tg.get_chat_member(-100_503, BOT_ID)
    assert isinstance(member, ChatMemberAdministrator) and not member.can_manage_topics
    chat = await tg.get_chat(GROUP)
    assert chat.type == "supergroup" and chat.is_forum


async def test_messages_in_topics_and_deleted_topics(bot: Emulator) -> None:
    tg = bot.app.bot
    group = bot.group(GROUP, "Équipe juridique")
    topic = await tg.create_forum_topic(GROUP, "Sujet")
    thread = topic.message_thread_id
    sent = await tg.send_message(GROUP, "Bonjour", message_thread_id=thread)
    assert sent.message_thread_id == thread and sent.is_topic_message
    await tg.send_document(GROUP, "doc-file-1", message_thread_id=thread)
    assert [m.kind for m in group.in_topic(thread)] == ["text", "document"]
    await tg.close_forum_topic(GROUP, thread)
    assert group.state.topics[thread].closed
    await tg.reopen_forum_topic(GROUP, thread)
    await tg.edit_forum_topic(GROUP, thread, name="Sujet ✅")
    assert group.topics("Sujet")[0].name == "Sujet ✅"
    kinds = [
        next(k for k in u["message"] if k.startswith("forum_topic"))
        for u in bot.api.service_updates
    ]
    assert kinds == ["forum_topic_created", "forum_topic_closed", "forum_topic_reopened"]
    await tg.delete_forum_topic(GROUP, thread)
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await tg.send_message(GROUP, "Encore là ?", message_thread_id=thread)
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await tg.send_photo(GROUP, "photo-file-1", message_thread_id=999)
    assert group.topics() == []


async def test_twenty_messages_a_minute_per_group(bot: Emulator) -> None:
    tg = bot.app.bot
    now = [1000.0]
    bot.api.clock = lambda: now[0]
    bot.group(GROUP, "Équipe juridique")
    bot.group(-100_501, "Autre équipe")
    for n in range(20):
        await tg.send_message(GROUP, f"Message {n}")
    with pytest.raises(RetryAfter) as caught:
        await tg.send_message(GROUP, "Un de trop")
    assert caught.value.retry_after.total_seconds() == 60  # type: ignore[union-attr]
    await tg.send_message(-100_501, "Une autre équipe n'attend pas")
    now[0] += 30
    with pytest.raises(RetryAfter):
        await tg.send_message(GROUP, "Encore trop tôt")
    now[0] += 30
    await tg.send_message(GROUP, "Une minute plus tard")
    times = bot.api.group_send_times[GROUP]
    assert len(times) == 21 and times[-1] - times[0] >= 60


async def test_what_people_write_in_a_topic(bot: Emulator) -> None:
    group = bot.group(GROUP, "Équipe juridique")
    topic = await bot.app.bot.create_forum_topic(GROUP, "Sujet")
    jean = group.member(bot.person(3001, "Jean"))
    posted = await bot.app.bot.send_message(
        GROUP, "Carte", message_thread_id=topic.message_thread_id
    )
    card = group.in_topic(topic.message_thread_id)[-1]
    assert card.message_id == posted.message_id
    message = jean._message(topic.message_thread_id, None, text="Une note")
    update = Update.de_json({"update_id": 1, "message": message}, bot.app.bot)
    assert update.message is not None and update.message.is_topic_message
    assert update.message.message_thread_id == topic.message_thread_id
    assert update.message.reply_to_message is not None
    assert update.message.reply_to_message.forum_topic_created is not None
    reply = jean._message(None, card, text="Une réponse")
    update = Update.de_json({"update_id": 2, "message": reply}, bot.app.bot)
    assert update.message is not None and update.message.reply_to_message is not None
    assert update.message.reply_to_message.message_id == card.message_id
    assert update.message.chat.type == "supergroup" and update.message.chat.is_forum
    await jean.send("Bonjour l'équipe", thread_id=topic.message_thread_id)  # ignored, no crash
