"""Where leads are told (`/notify`), and the first press of *Prendre la demande*, in the group
or in private, wins (issue 15, part 1)."""

from __future__ import annotations

import asyncio

from bot.tools.emulator import Emulator
from tests import flows
from tests.test_team_topics import linked_group


async def test_notify_modes(bot: Emulator) -> None:
    boss, marie, jean, luc = await flows.world(bot)
    replies = await jean.send("/notify")
    assert "en privé et dans le groupe de l'équipe" in replies[-1].text
    for wrong in ("/notify partout", "/notify group private"):
        assert (await jean.send(wrong))[-1].text.startswith("Syntaxe : /notify privé")
    assert "seulement" in (await jean.send("/notify group"))[-1].text
    # No group yet for legal: Jean is still told in private.
    first = await flows.file_request(marie)
    assert any(first in text for text in jean.texts())
    group = await linked_group(bot, boss, "legal")
    second = await flows.file_request(marie, subject="Assemblée générale annuelle")
    assert not any(second in text for text in jean.texts())  # in the group only
    assert any(second in text for text in luc.texts())  # both, by default
    assert group.topics(second)
    replies = await jean.send("/notify private")
    assert "en privé seulement" in replies[-1].text
    third = await flows.file_request(marie, subject="Contrat de travail")
    assert any(third in text for text in jean.texts())
    replies = await marie.send("/notify group")
    assert "Syntaxe" not in replies[-1].text and "seulement" not in replies[-1].text


async def test_take_from_the_group_and_from_private_at_once_one_wins(bot: Emulator) -> None:
    boss, marie, jean, luc = await flows.world(bot)
    group = await linked_group(bot, boss, "legal")
    reference = await flows.file_request(marie)
    (topic,) = group.topics(reference)
    card = group.in_topic(topic.thread_id)[0]
    offer, data = luc.find_button("Prendre")
    await asyncio.gather(
        group.member(jean).click("Prendre la demande", card), luc.press(data, offer)
    )
    async with bot.services.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT assignee_id FROM tickets")
        takes = await conn.execute_fetchall(
            "SELECT COUNT(*) FROM ticket_events WHERE kind = 'take'"
        )
    (winner,) = (rows[0][0],)
    assert winner in {jean.id, luc.id} and takes[0][0] == 1
    loser = luc if winner == jean.id else jean
    assert loser.last_answer is not None and "déjà" in (loser.last_answer.text or "")
    lines = [p.text for p in group.in_topic(topic.thread_id) if "prise en charge" in p.text]
    assert len(lines) == 1


async def test_a_late_press_in_the_group_leaves_the_teams_card_as_it_is(bot: Emulator) -> None:
    boss, marie, jean, luc = await flows.world(bot)
    group = await linked_group(bot, boss, "legal")
    reference = await flows.file_request(marie)
    (topic,) = group.topics(reference)
    card = group.in_topic(topic.thread_id)[0]
    stale = bot.api._message_json(card)  # the card as Luc's Telegram still shows it
    await luc.click("Prendre")  # from private
    assert card.button("Écrire au contact") and card.button("Prendre la demande") is None
    before = card.html
    await group.member(jean).press(
        stale["reply_markup"]["inline_keyboard"][0][0]["callback_data"], card
    )
    assert jean.last_answer is not None and "déjà" in (jean.last_answer.text or "")
    assert card.html == before and card.button("Écrire au contact")


async def test_help_and_menus_name_the_new_commands(bot: Emulator) -> None:
    boss, _marie, jean, _luc = await flows.world(bot)
    assert "/notify privé|groupe|les deux" in (await jean.send("/help"))[-1].text
    assert "notify" in [c for c, _ in bot.api.commands[f"chat:{jean.id}:"]]
    assert "/teamgroup code-domaine" in (await boss.send("/help"))[-1].text
