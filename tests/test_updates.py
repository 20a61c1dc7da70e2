"""Different chats are handled at the same time; each chat's updates in order."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update

from bot.delivery.updates import PerChatUpdateProcessor


def _update(update_id: int, chat_id: int) -> Update:
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "text": "x",
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "P"},
            },
        },
        None,
    )


async def test_one_chat_in_order_chats_concurrently() -> None:
    processor = PerChatUpdateProcessor(16)
    log: list[tuple[str, int, int]] = []
    running = 0
    most = 0

    async def handle(update_id: int, chat_id: int, delay: float) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        log.append(("start", chat_id, update_id))
        await asyncio.sleep(delay)
        log.append(("end", chat_id, update_id))
        running -= 1

    tasks: list[asyncio.Task[Any]] = []
    plan = [(1, 100, 0.03), (2, 200, 0.01), (3, 100, 0.0), (4, 200, 0.0), (5, 100, 0.01)]
    for update_id, chat_id, delay in plan:
        coroutine = handle(update_id, chat_id, delay)
        tasks.append(
            asyncio.create_task(processor.process_update(_update(update_id, chat_id), coroutine))
        )
    await asyncio.gather(*tasks)
    for chat_id in (100, 200):
        mine = [(kind, uid) for kind, chat, uid in log if chat == chat_id]
        ids = [uid for _, uid in mine]
        # Never two of the same chat at once, and in arrival order.
        assert all(
            mine[i][0] == "start" and mine[i + 1] == ("end", mine[i][1])
            for i in range(0, len(mine), 2)
        )
        assert ids[::2] == sorted(ids[::2])
    assert most == 2  # the two chats overlapped
    assert processor._locks == {} and processor._users == {}  # nothing kept once idle


async def test_a_chat_waiting_for_its_turn_holds_no_slot() -> None:
    # Two slots; one chat's first update is stuck (a reply Telegram paces), four more of it wait.
    processor = PerChatUpdateProcessor(2)
    stuck = asyncio.Event()
    done: list[int] = []

    async def handle(update_id: int, wait: bool) -> None:
        if wait:
            await stuck.wait()
        done.append(update_id)

    flood = [
        asyncio.create_task(processor.process_update(_update(n, 100), handle(n, n == 1)))
        for n in range(1, 6)
    ]
    await asyncio.sleep(0)
    # Another chat is handled at once, on the slot the flood's waiting updates do not take.
    await asyncio.wait_for(processor.process_update(_update(6, 200), handle(6, False)), 1)
    assert done == [6] and processor.current_concurrent_updates == 1
    stuck.set()
    await asyncio.gather(*flood)
    assert done == [6, 1, 2, 3, 4, 5]
    assert processor._locks == {} and processor._users == {}
