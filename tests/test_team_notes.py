"""What the team writes in a ticket's topic (issue 15, part 1): internal notes stay in the
team; a reply to the contact's message, or a message after « Écrire au contact », reaches the
contact, and the topic says so; nobody else acts there."""

from __future__ import annotations

from bot.tools.emulator import Emulator, Person, TeamGroup
from tests import flows
from tests.test_team_topics import linked_group


async def _taken(bot: Emulator) -> tuple[Person, Person, Person, Person, TeamGroup, int, str]:
    boss, marie, jean, luc = await flows.world(bot)
    group = await linked_group(bot, boss, "legal")
    reference = await flows.file_request(marie)
    (topic,) = group.topics(reference)
    await group.member(jean).click("Prendre la demande", group.in_topic(topic.thread_id)[0])
    return boss, marie, jean, luc, group, topic.thread_id, reference


async def _events(bot: Emulator) -> list[tuple[str, str | None]]:
    async with bot.services.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT kind, note FROM ticket_events ORDER BY id")
    return [(r[0], r[1]) for r in rows]


async def test_a_note_stays_in_the_team_and_a_reply_reaches_the_contact(bot: Emulator) -> None:
    _boss, marie, jean, luc, group, thread, reference = await _taken(bot)
    seen_by_marie = len(marie.chat)
    luc_in_group = group.member(luc)
    await luc_in_group.send("Attention : l'article 12 a changé en 2024.", thread_id=thread)
    assert ("note", "Attention : l'article 12 a changé en 2024.") in await _events(bot)
    assert len(marie.chat) == seen_by_marie  # never reaches the contact
    await marie.send(f"/ticket {reference}")
    await marie.click("Historique")
    assert not any("article 12" in text for text in marie.texts())
    await jean.send(f"/ticket {reference}")
    await jean.click("Historique")
    assert "article 12" in jean.last.text  # staff see it in the history
    # Marie writes; Jean answers by replying to her message in the topic.
    await marie.click("Répondre", marie.find_button("Répondre")[0])
    await marie.send("Nous tenons l'assemblée le 15 mars.")
    relayed = group.in_topic(thread)[-1]
    assert "Marie Tremblay (contact) écrit" in relayed.text
    await group.member(jean).send("Parfait, je m'en occupe.", reply_to=relayed)
    assert "Parfait, je m'en occupe." in marie.last.text
    assert group.in_topic(thread)[-1].text == "✅ Envoyé à Marie Tremblay."


async def test_write_to_the_contact_from_the_card(bot: Emulator) -> None:
    _boss, marie, jean, _luc, group, thread, _reference = await _taken(bot)
    card = group.in_topic(thread)[0]
    jean_in_group = group.member(jean)
    await jean_in_group.click("Écrire au contact", card)
    assert jean.last_answer is not None and "il ira au contact" in (jean.last_answer.text or "")
    await jean_in_group.send("Pouvez-vous m'envoyer les règlements actuels ?", thread_id=thread)
    assert "les règlements actuels" in marie.last.text
    assert group.in_topic(thread)[-1].text == "✅ Envoyé à Marie Tremblay."
    await jean_in_group.send("Note : relancer vendredi.", thread_id=thread)  # a note again
    assert "relancer" not in marie.last.text


async def test_a_lead_who_does_not_hold_it_cannot_write_to_the_contact(bot: Emulator) -> None:
    _boss, marie, _jean, luc, group, thread, _reference = await _taken(bot)
    await group.member(luc).click("Écrire au contact", group.in_topic(thread)[0])
    replies = await group.member(luc).send("Bonjour Marie", thread_id=thread)
    assert "seule la personne responsable" in replies[-1].text
    assert not any("Bonjour Marie" in text for text in marie.texts())


async def test_strangers_change_nothing_in_the_topic(bot: Emulator) -> None:
    _boss, marie, _jean, _luc, group, thread, _reference = await _taken(bot)
    before_events, before_posts = await _events(bot), len(group.chat)
    card = group.in_topic(thread)[0]
    for person in (bot.person(9999, "Inconnu"), marie):
        member = group.member(person)
        await member.send("Je peux aider ?", thread_id=thread)
        await member.click("Écrire au contact", card)
        assert person.last_answer is not None and person.last_answer.text is None
        await member.send("Un message", thread_id=thread)
        await member.press("tw:write:999", card)  # forged
    assert await _events(bot) == before_events
    assert len(group.chat) == before_posts
    assert not any("Un message" in text for text in marie.texts())
