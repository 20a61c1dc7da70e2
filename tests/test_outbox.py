"""Notifications survive Telegram's errors: retried with backoff, never lost, never doubled."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.delivery.outbox import backoff
from bot.tools.emulator import Emulator
from bot.tools.fakeapi import FakeBotAPI
from storage import people
from tests import flows


def _cards(api: FakeBotAPI, chat_id: int, reference: str) -> int:
    return sum(reference in m.text and m.kind == "text" for m in api.chats[chat_id])


async def _outbox_rows(bot: Emulator, purpose: str) -> list[tuple[str, int, str | None]]:
    async with bot.services.db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT status, attempts, last_error FROM outbox WHERE purpose = ? ORDER BY id",
            (purpose,),
        )
    return [(r[0], r[1], r[2]) for r in rows]


async def test_5xx_then_429_then_success_delivers_once(
    bot: Emulator, api: FakeBotAPI, clock: ManualClock
) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    jean = await flows.lead(bot, boss, 3001, "Jean", "legal")
    api.fail("sendMessage", chat_id=jean.id, status=502, description="Bad Gateway")
    reference = await flows.file_request(marie)
    assert _cards(api, jean.id, reference) == 0
    assert await _outbox_rows(bot, "new_ticket") == [("pending", 1, "NetworkError: Bad Gateway")]

    api.fail("sendMessage", chat_id=jean.id, status=429, retry_after=30)
    clock.advance(seconds=backoff(0).total_seconds())
    await bot.deliver()
    assert _cards(api, jean.id, reference) == 0
    # Inside the retry_after window nothing is sent to Jean (nor to anyone: nothing else waits).
    calls = len(api.calls)
    clock.advance(seconds=29)
    await bot.deliver()
    assert len(api.calls) == calls
    clock.advance(seconds=1)
    await bot.deliver()
    assert _cards(api, jean.id, reference) == 1
    assert (await _outbox_rows(bot, "new_ticket"))[0][:2] == ("sent", 3)
    await bot.deliver()
    assert _cards(api, jean.id, reference) == 1


async def test_timeouts_are_retried_with_growing_backoff(
    bot: Emulator, api: FakeBotAPI, clock: ManualClock
) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    jean = await flows.lead(bot, boss, 3001, "Jean", "legal")
    api.fail("sendMessage", chat_id=jean.id, timeout=True, times=3)
    reference = await flows.file_request(marie)
    for attempt in range(3):
        assert _cards(api, jean.id, reference) == 0
        clock.advance(seconds=backoff(attempt).total_seconds())
        await bot.deliver()
    assert _cards(api, jean.id, reference) == 1
    assert backoff(1) > backoff(0) and backoff(50).total_seconds() == 600


async def test_a_failing_chat_does_not_hold_up_the_others(bot: Emulator, api: FakeBotAPI) -> None:
    _, marie, jean, luc = await flows.world(bot)
    api.fail("sendMessage", chat_id=jean.id, status=500, times=100)
    reference = await flows.file_request(marie)
    assert _cards(api, luc.id, reference) == 1
    assert _cards(api, jean.id, reference) == 0


async def test_blocked_lead_is_recorded_and_admins_told(bot: Emulator, api: FakeBotAPI) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    api.fail("sendMessage", chat_id=jean.id, status=403)
    reference = await flows.file_request(marie)
    statuses = [row[0] for row in await _outbox_rows(bot, "new_ticket")]
    assert sorted(statuses) == ["blocked", "sent"]
    async with bot.services.db.read() as conn:
        user = await people.get_user(conn, jean.id)
    assert user is not None and user.blocked_at is not None
    assert "Jean" in boss.last.text and "bloqué" in boss.last.text and reference in boss.last.text
    # Not retried: draining again sends nothing more to Jean.
    calls = len(api.calls_to("sendMessage"))
    await bot.deliver()
    assert len(api.calls_to("sendMessage")) == calls
    # Jean comes back: he is no longer marked as blocked.
    await jean.send("/help")
    async with bot.services.db.read() as conn:
        user = await people.get_user(conn, jean.id)
    assert user is not None and user.blocked_at is None


async def test_blocked_admin_report_does_not_loop(bot: Emulator, api: FakeBotAPI) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    api.fail("sendMessage", chat_id=jean.id, status=403)
    api.fail("sendMessage", chat_id=boss.id, status=403)
    await flows.file_request(marie)
    assert [r[0] for r in await _outbox_rows(bot, "delivery_report")] == ["blocked"]


async def test_bad_request_is_recorded_as_failed(bot: Emulator, api: FakeBotAPI) -> None:
    _, marie, jean, _ = await flows.world(bot)
    api.fail("sendMessage", chat_id=jean.id, status=400, description="Bad Request: chat not found")
    await flows.file_request(marie)
    rows = await _outbox_rows(bot, "new_ticket")
    assert ("failed", 1, "BadRequest: Chat not found") in rows


async def test_the_application_uses_ptbs_rate_limiter(bot: Emulator) -> None:
    from telegram.ext import AIORateLimiter  # noqa: PLC0415

    from bot.delivery.retry import RetryingRateLimiter  # noqa: PLC0415

    limiter = bot.app.bot.rate_limiter
    assert isinstance(limiter, RetryingRateLimiter) and isinstance(limiter.inner, AIORateLimiter)


async def test_background_worker_delivers_without_being_asked(settings, api) -> None:  # type: ignore[no-untyped-def]
    import asyncio  # noqa: PLC0415

    from bot.app import build_application, services_of  # noqa: PLC0415
    from bot.runner import running  # noqa: PLC0415

    app = build_application(settings, request=api)  # the worker is on, as in production
    async with running(app):  # the worker starts with the application, not before
        services = services_of(app)
        api.known_chats.add(4242)
        async with services.db.transaction() as conn:
            from storage import outbox  # noqa: PLC0415

            await outbox.enqueue(
                conn,
                chat_id=4242,
                method="send_message",
                payload={"text": "ping"},
                purpose="test",
                now=services.clock.now(),
            )
        assert services.outbox is not None
        services.outbox.wake()
        for _ in range(100):
            if api.chats[4242]:
                break
            await asyncio.sleep(0.01)
        assert [m.text for m in api.chats[4242]] == ["ping"]
