"""A ticket's life in its topic (issue 15, part 1): every later event posted there, relayed
messages both ways, time logged; the topic's name shows the state, it closes when the ticket is
resolved and reopens with it."""

from __future__ import annotations

from bot.tools.emulator import Emulator
from bot.ui.i18n import t
from tests import flows
from tests.test_team_topics import linked_group


async def test_the_topic_follows_the_ticket(bot: Emulator) -> None:
    boss, marie, jean, _luc = await flows.world(bot)
    group = await linked_group(bot, boss, "legal")
    reference = await flows.file_request(marie)
    (topic,) = group.topics(reference)
    thread = topic.thread_id
    card = group.in_topic(thread)[0]
    await group.member(jean).click("Prendre la demande", card)
    posts = group.in_topic(thread)
    assert posts[0].button("Prendre la demande") is None  # the card shows it is taken
    assert "Jean (@jean)" in posts[0].text
    assert any(p.text == "Jean (@jean) · prise en charge" for p in posts)
    # A question to the contact, from private: in the topic too; the topic shows it waits.
    await jean.send(f"/ticket {reference}")
    await jean.click("Poser une question")
    await jean.send("Quelle date pour l'assemblée ?")
    assert "a écrit au contact" in group.in_topic(thread)[-1].text
    assert group.topics(f"⏳ {reference}")
    await marie.send("Le 15 mars.", reply_to=marie.last)
    assert "Marie Tremblay (contact) écrit :\nLe 15 mars." in group.in_topic(thread)[-1].text
    assert group.topics(reference)  # open again: no mark
    await jean.send(f"/log {reference} 1h30 lecture des règlements")
    assert "1 h 30" in group.in_topic(thread)[-1].text
    await jean.click("Résoudre", jean.find_button("Résoudre")[0])
    await jean.send("Règlements révisés.")
    assert group.topics(f"✅ {reference}") and group.state.topics[thread].closed
    await marie.click("Pas réglé")
    assert group.topics(reference) and not group.state.topics[thread].closed
    assert all(p.thread_id == thread for p in group.chat[1:])  # all of it in its topic


async def test_an_estimate_shows_in_the_topic(bot: Emulator) -> None:
    boss, marie, jean, _luc = await flows.world(bot)
    group = await linked_group(bot, boss, "legal")
    reference = await flows.file_request(marie)
    (topic,) = group.topics(reference)
    await group.member(jean).click("Prendre la demande", group.in_topic(topic.thread_id)[0])
    await jean.send(f"/estimate {reference} 3h")
    assert t("fr", "event.estimate") in group.in_topic(topic.thread_id)[-1].text
    assert group.topics(f"⏳ {reference}")  # waits for the federation's approval
