"""`/teamgroup`: an admin makes a forum supergroup the workspace of some fields (issue 15)."""

from __future__ import annotations

from bot.tools.emulator import Emulator
from tests import flows

GROUP = -100_700


async def _linked(bot: Emulator, chat_id: int) -> list[str]:
    async with bot.services.db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT f.code FROM team_group_fields g JOIN expertise_fields f ON f.id = g.field_id"
            " WHERE g.chat_id = ? ORDER BY f.code",
            (chat_id,),
        )
    return [r[0] for r in rows]


async def test_an_admin_links_unlinks_and_asks(bot: Emulator) -> None:
    boss, _marie, _jean, _luc = await flows.world(bot)
    group = bot.group(GROUP, "Équipe juridique")
    claire = group.member(boss, "creator")
    replies = await claire.send("/teamgroup legal hr")
    assert "l'espace de l'équipe de" in replies[-1].text
    assert "Services juridiques (legal)" in replies[-1].text
    assert await _linked(bot, GROUP) == ["hr", "legal"]
    replies = await claire.send("/teamgroup@crec_intake_bot")
    assert "Ce groupe est l'espace de l'équipe de" in replies[-1].text
    assert "Gestion des ressources humaines" in replies[-1].text
    replies = await claire.send("/teamgroup off")
    assert "n'est plus l'espace d'aucune équipe" in replies[-1].text
    assert await _linked(bot, GROUP) == []
    replies = await claire.send("/teamgroup")
    assert "n'est lié à aucun domaine" in replies[-1].text


async def test_what_is_missing_is_said_clearly(bot: Emulator) -> None:
    boss, _marie, jean, _luc = await flows.world(bot)
    cases: list[tuple[int, dict[str, bool | str], str]] = [
        (-100_701, {"supergroup": False, "is_forum": False}, "activez les sujets"),
        (-100_702, {"is_forum": False}, "Les sujets sont désactivés"),
        (-100_703, {"bot_status": "member"}, "Je ne suis pas administrateur"),
        (-100_704, {"can_manage_topics": False}, "le droit de gérer les sujets"),
    ]
    for chat_id, state, words in cases:
        claire = bot.group(chat_id, "Équipe", **state).member(boss, "administrator")
        replies = await claire.send("/teamgroup legal")
        assert words in replies[-1].text, (state, replies[-1].text)
        assert await _linked(bot, chat_id) == []
    group = bot.group(GROUP, "Équipe juridique")
    replies = await group.member(jean).send("/teamgroup legal")
    assert "Seule une personne administratrice" in replies[-1].text
    # A lead may still ask which fields the group serves.
    replies = await group.member(jean).send("/teamgroup")
    assert "n'est lié à aucun domaine" in replies[-1].text
    replies = await boss.send("/teamgroup legal")
    assert "dans le groupe de l'équipe" in replies[-1].text
    assert await _linked(bot, GROUP) == []


async def test_wrong_arguments_and_unknown_fields(bot: Emulator) -> None:
    boss, _marie, _jean, _luc = await flows.world(bot)
    claire = bot.group(GROUP, "Équipe juridique").member(boss, "creator")
    for wrong in ("/teamgroup off legal", "/teamgroup <b>", "/teamgroup légal!"):
        replies = await claire.send(wrong)
        assert replies[-1].text.startswith("Syntaxe : /teamgroup code-domaine"), wrong
    replies = await claire.send("/teamgroup legal astrologie")
    assert "Domaine inconnu : astrologie. Rien n'a changé." in replies[-1].text
    assert await _linked(bot, GROUP) == []


async def test_a_field_works_in_one_group(bot: Emulator) -> None:
    boss = await flows.admin(bot, language_code="en")
    first = bot.group(GROUP, "Legal team").member(boss, "creator")
    second = bot.group(-100_799, "New legal team").member(boss, "creator")
    await first.send("/teamgroup legal hr")
    replies = await second.send("/teamgroup legal")
    assert "team's workspace for: Legal services (legal)" in replies[-1].text
    assert "“Legal services” was linked to the group “Legal team”" in replies[-1].text
    assert await _linked(bot, GROUP) == ["hr"]
    assert await _linked(bot, -100_799) == ["legal"]


async def test_a_lead_in_the_group_sees_which_fields_it_serves(bot: Emulator) -> None:
    boss, marie, jean, _luc = await flows.world(bot)
    group = bot.group(GROUP, "Équipe juridique")
    await group.member(boss, "creator").send("/teamgroup legal")
    replies = await group.member(jean).send("/teamgroup")
    assert "Ce groupe est l'espace de l'équipe de : Services juridiques (legal)." in (
        replies[-1].text
    )
    # Anything else stays an admin's; someone who is not staff gets no list.
    replies = await group.member(jean).send("/teamgroup off")
    assert "Seule une personne administratrice" in replies[-1].text
    assert await _linked(bot, GROUP) == ["legal"]
    replies = await group.member(marie).send("/teamgroup")
    assert "Seule une personne administratrice" in replies[-1].text


async def test_notify_reads_french_words(bot: Emulator) -> None:
    _boss, _marie, jean, _luc = await flows.world(bot)
    for typed, where in [
        ("/notify groupe", "dans le groupe de l'équipe seulement"),
        ("/notify privé", "en privé seulement"),
        ("/notify les deux", "en privé et dans le groupe de l'équipe"),
    ]:
        assert where in (await jean.send(typed))[-1].text, typed
    async with bot.services.db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT mode FROM lead_notify WHERE user_id = ?", (jean.id,)
        )
    assert [tuple(r) for r in rows] == [("both",)]
    assert "Pour changer : /notify privé|groupe|les deux" in (await jean.send("/notify"))[-1].text
    assert (await jean.send("/notify les trois"))[-1].text.startswith("Syntaxe : /notify privé")
