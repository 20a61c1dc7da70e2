"""Abuse limits: too many updates, too many requests, invite guessing, files too big."""

from __future__ import annotations

from pathlib import Path

from bot.clock import ManualClock
from bot.rules.limits import FloodGuard
from bot.tools.emulator import Emulator
from bot.tools.fakeapi import FakeBotAPI
from storage import people, tickets
from tests import flows
from tests.conftest import START, make_settings


def test_flood_guard_window_and_single_warning() -> None:
    clock = ManualClock(START)
    guard = FloodGuard(3, clock, exempt={42})
    assert [guard.check(1) for _ in range(3)] == [(True, False)] * 3
    assert guard.check(1) == (False, True)  # told once
    assert guard.check(1) == (False, False)  # not again within the window
    assert guard.check(2) == (True, False)  # others are not affected
    assert all(guard.check(42) == (True, False) for _ in range(10))  # admins are exempt
    clock.advance(seconds=60)
    assert guard.check(1) == (True, False)
    assert FloodGuard(0, clock).check(1) == (True, False)  # 0: no limit


async def test_someone_writing_too_fast_is_told_politely_once(
    tmp_path: Path, clock: ManualClock
) -> None:
    settings = make_settings(tmp_path, rate_limit_per_minute=5)
    async with Emulator.running(settings, clock=clock, api=FakeBotAPI()) as bot:
        stranger = bot.person(5555, "Rapide")
        for _ in range(5):
            await stranger.send("/start")
        replies = await stranger.send("/start")
        assert len(replies) == 1 and "beaucoup de messages" in replies[0].text
        assert await stranger.send("/start") == []  # dropped, quietly
        await stranger.press("m:new")
        assert stranger.last_answer is not None and stranger.last_answer.text is None
        clock.advance(minutes=1)
        assert "lien d'invitation" in (await stranger.send("/start"))[-1].text


async def test_daily_request_limit(tmp_path: Path, clock: ManualClock) -> None:
    settings = make_settings(tmp_path, max_requests_per_day=2)
    async with Emulator.running(settings, clock=clock, api=FakeBotAPI()) as bot:
        _, marie, _, _ = await flows.world(bot)
        await flows.file_request(marie)
        await flows.file_request(marie)
        replies = await marie.send("/new")
        assert "limite de 2 demandes" in replies[-1].text
        clock.advance(hours=24)
        assert "Dans quel domaine" in (await marie.send("/new"))[-1].text
        async with bot.services.db.read() as conn:
            assert await tickets.count_contact_tickets(conn, marie.id) == 2


async def test_daily_limit_is_checked_at_send_too(tmp_path: Path, clock: ManualClock) -> None:
    settings = make_settings(tmp_path, max_requests_per_day=2)
    async with Emulator.running(settings, clock=clock, api=FakeBotAPI()) as bot:
        _, marie, _, _ = await flows.world(bot)
        await flows.file_request(marie, subject="Premier envoi")
        await flows.fill_form(marie)  # started while under the limit...
        bot.services.settings.max_requests_per_day = 1  # ...which is lowered meanwhile
        await marie.click("Envoyer")
        assert marie.last_answer and "limite de 1 demandes" in (marie.last_answer.text or "")
        async with bot.services.db.read() as conn:
            assert await tickets.count_contact_tickets(conn, marie.id) == 1


async def test_invite_guessing_is_slowed_down(bot: Emulator, clock: ManualClock) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    token = flows.token_in((await boss.send("/invite CQCH"))[-1].text)
    guesser = bot.person(6666, "Devin")
    for attempt in range(5):
        replies = await guesser.send(f"/start {'A' * 31}{attempt}")
        assert "pas valide" in replies[-1].text
    # Even the right token is refused for an hour after five wrong ones.
    assert "Trop d'essais" in (await guesser.send(f"/start {token}"))[-1].text
    clock.advance(hours=1, seconds=1)
    assert "Bienvenue" in (await guesser.send(f"/start {token}"))[-1].text
    async with bot.services.db.read() as conn:
        assert await people.get_user(conn, 6666) is not None


async def test_files_over_20_mb_are_refused_with_the_limit(bot: Emulator) -> None:
    _, marie, jean, _ = await flows.world(bot)
    await marie.send("/new")
    await marie.click("Services juridiques")
    await marie.send("Un objet correct")
    await marie.send("Une description suffisamment longue pour passer.")
    await marie.click("Normale")
    await marie.click("Pas de date")
    replies = await marie.send_document("video.mp4", size=21 * 1024 * 1024)
    assert "20 Mo au plus" in replies[-1].text
    await marie.send_document("ok.pdf", size=20 * 1024 * 1024)
    await marie.click("Continuer")
    await marie.click("Envoyer")
    await jean.click("Prendre")
    await jean.click("Poser une question")
    replies = await jean.send_document("archive.zip", size=50 * 1024 * 1024)
    assert "20 Mo au plus" in replies[-1].text
    assert not any("archive.zip" in (m.file_id or "") for m in marie.chat)


async def test_contacts_of_a_deactivated_federation_file_no_new_request(bot: Emulator) -> None:
    boss, marie, jean, _ = await flows.world(bot)
    reference = await flows.file_request(marie)
    await flows.fill_form(marie)  # a draft in progress when the federation is switched off
    await boss.send("/federation off CQCH")
    replies = await marie.click("Envoyer")  # too long for an alert: it comes as a message
    assert "plus active" in replies[-1].text
    assert "plus active" in (await marie.send("/new"))[-1].text
    # What was filed before is still followed, both ways.
    assert reference in (await marie.send("/mytickets"))[-1].text
    await jean.click("Prendre")
    assert "prise en charge" in marie.last.text
    async with bot.services.db.read() as conn:
        assert await tickets.count_contact_tickets(conn, marie.id) == 1
