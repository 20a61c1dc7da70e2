"""A 429 holds one chat, not the outbox (bot/delivery/outbox.py): a busy group delays its own
rows, in order, while the private notifications go on; none is lost, none doubled."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.tools.emulator import Emulator
from bot.tools.fakeapi import FakeBotAPI
from storage import outbox as repo
from tests import flows

GROUP = -100_900
PEOPLE = list(range(7001, 7021))  # 20 private chats


async def queue(bot: Emulator, chat_id: int, text: str) -> None:
    async with bot.services.db.transaction() as conn:
        await repo.enqueue(
            conn,
            chat_id=chat_id,
            method="send_message",
            payload={"text": text},
            purpose="test",
            now=bot.services.clock.now(),
        )


def texts(api: FakeBotAPI, chat_id: int) -> list[str]:
    return [m.text for m in api.chats[chat_id]]


async def statuses(bot: Emulator) -> dict[str, int]:
    async with bot.services.db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT status, COUNT(*) FROM outbox WHERE purpose = 'test' GROUP BY status"
        )
    return {str(r[0]): int(r[1]) for r in rows}


async def test_a_group_answering_429_holds_only_its_own_rows(
    bot: Emulator, api: FakeBotAPI, clock: ManualClock
) -> None:
    bot.group(GROUP, "Équipe juridique")
    api.group_limit = None  # the 429 is the one asked for below, not the fake's 20 a minute
    api.known_chats.update(PEOPLE)
    # The group's rows come first, the private notifications queued between them.
    for n, person in enumerate(PEOPLE):
        if n % 4 == 0:
            await queue(bot, GROUP, f"groupe {n // 4 + 1}")
        await queue(bot, person, f"avis {person}")
    api.fail("sendMessage", chat_id=GROUP, status=429, retry_after=30)
    await bot.deliver()
    assert all(texts(api, person) == [f"avis {person}"] for person in PEOPLE)
    assert texts(api, GROUP) == []
    assert [c.params["text"] for c in api.calls_to("sendMessage")].count("groupe 1") == 1

    # During the wait: more for the group (more than a fetch holds) and for a person.
    for n in range(6, 6 + 250):
        await queue(bot, GROUP, f"groupe {n}")
    await queue(bot, PEOPLE[0], "avis suivant")
    clock.advance(seconds=29)
    calls = len(api.calls_to("sendMessage"))
    await bot.deliver()
    assert texts(api, PEOPLE[0])[-1] == "avis suivant"  # the group held back nobody else
    assert texts(api, GROUP) == []
    assert len(api.calls_to("sendMessage")) == calls + 1  # nothing to the group in the window

    clock.advance(seconds=1)
    await bot.deliver()
    assert texts(api, GROUP) == [f"groupe {n}" for n in range(1, 6 + 250)]  # in order, once
    await bot.deliver()
    assert len(texts(api, GROUP)) == 255
    assert await statuses(bot) == {"sent": 20 + 1 + 255}


async def test_a_persons_429_holds_only_that_person(
    bot: Emulator, api: FakeBotAPI, clock: ManualClock
) -> None:
    _boss, marie, jean, luc = await flows.world(bot)
    api.fail("sendMessage", chat_id=jean.id, status=429, retry_after=30)
    first = await flows.file_request(marie)
    second = await flows.file_request(marie)  # queued for Jean while he is held
    assert any(first in text for text in luc.texts()) and any(second in t for t in luc.texts())
    assert not any("CREC" in text for text in jean.texts())
    clock.advance(seconds=30)
    await bot.deliver()
    cards = [text for text in jean.texts() if first in text or second in text]
    assert len(cards) == 2 and first in cards[0] and second in cards[1]
