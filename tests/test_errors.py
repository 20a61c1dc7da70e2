"""When Telegram misbehaves: a direct reply is tried again, and the admins get few reports.

A share of `sendMessage` calls failing (5xx, timeouts) used to lose the replies and raise one
report per failed update (18 to 38 for 9 requests).
"""

from __future__ import annotations

import logging
import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import errorreports
from bot.clock import ManualClock
from bot.config import Settings
from bot.delivery import retry
from bot.delivery.retry import Failure, done_already, pause_before_retry
from bot.errorreports import ReportGroups
from bot.tools.emulator import Emulator, Person
from bot.tools.fakeapi import FakeBotAPI
from tests import flows
from tests.conftest import ADMIN_ID

NOTHING_YET = "aucune demande"
SORRY = "quelque chose n'a pas fonctionné"
REPEATED = "⚠️ Erreurs répétées, la dernière :"
SIMILAR = re.compile(r"(\d+) autres? erreurs? du même type depuis")


class Flaky(FakeBotAPI):
    """Telegram failing a share of the `sendMessage` calls to some chats: 5xx and timeouts."""

    def __init__(self) -> None:
        super().__init__()
        self.broken: set[int] = set()
        self.share = 0.0
        self._random = random.Random(10)

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, bytes]:
        broken = method == "sendMessage" and params.get("chat_id") in self.broken
        if broken and self._random.random() < self.share:
            if self._random.random() < 0.5:
                self.fail(method, timeout=True)
            else:
                self.fail(method, status=502, description="Bad Gateway")
        return super().answer(method, params)


@pytest.fixture
def api() -> Flaky:
    return Flaky()


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same retries, 50 times faster (the outage tests make a hundred of them)."""
    monkeypatch.setattr(retry, "PAUSES", (0.01, 0.02))


def reports(admin: Person) -> list[str]:
    return [m.text for m in admin.chat if m.text.startswith("⚠️ Erreur")]


def counted(texts: list[str]) -> int:
    """How many errors the reports stand for: each report's own (a summary has none), and the
    similar ones it counts."""
    return sum(
        (0 if text.startswith(REPEATED) else 1) + sum(int(n) for n in SIMILAR.findall(text))
        for text in texts
    )


def errors_logged(caplog: pytest.LogCaptureFixture) -> int:
    return sum(r.getMessage() == "error while handling an update" for r in caplog.records)


async def summaries(bot: Emulator) -> int:
    """Run the job that reports the errors counted when no new error came to report them."""
    errorreports.schedule_jobs(bot.app)
    assert bot.app.job_queue is not None
    [job] = bot.app.job_queue.get_jobs_by_name(errorreports.JOB_NAME)
    try:
        assert job.job.trigger.interval == timedelta(minutes=1)
        await job.run(bot.app)
    finally:
        job.schedule_removal()
    return await bot.deliver()


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 502, "description": "Bad Gateway"},
        {"status": 500},
        {"timeout": True},
        {"status": 429, "retry_after": 1},
    ],
    ids=["502", "500", "timeout", "429"],
)
async def test_a_reply_that_fails_once_reaches_the_person(
    bot: Emulator, api: Flaky, failure: dict[str, Any]
) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    api.fail("sendMessage", chat_id=marie.id, **failure)
    replies = await marie.send("/mytickets")
    assert len(replies) == 1 and NOTHING_YET in replies[0].text
    assert reports(boss) == []


async def test_a_reply_refused_for_good_is_not_tried_again(bot: Emulator, api: Flaky) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    api.fail("sendMessage", chat_id=marie.id, status=400, description="Bad Request: nope")
    tries = len(api.calls_to("sendMessage"))
    replies = await marie.send("/mytickets")
    assert [SORRY in r.text for r in replies] == [True]
    # The refused reply, the apology, the report: one try each.
    assert len(api.calls_to("sendMessage")) == tries + 3
    assert "BadRequest: Nope" in reports(boss)[0]


@pytest.mark.usefixtures("quick")
async def test_an_outage_sends_one_report_then_a_summary(
    bot: Emulator, api: Flaky, clock: ManualClock
) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    # Telegram answers none of the replies to Marie: each one and its apology, tried 3 times.
    api.fail("sendMessage", chat_id=marie.id, status=502, description="Bad Gateway", times=54)
    for _ in range(9):
        await marie.send("/mytickets")
    [report] = reports(boss)
    assert "NetworkError: Bad Gateway" in report
    assert "Dans handlers.common.reply." in report
    # Five minutes later, nothing new: the job says how many came meanwhile.
    clock.advance(minutes=5)
    await summaries(bot)
    summary = reports(boss)[-1]
    assert summary.startswith(REPEATED)
    assert counted(reports(boss)) == 9 and "depuis 14 h" in summary
    await summaries(bot)  # nothing more to say
    assert len(reports(boss)) == 2


@pytest.mark.usefixtures("quick")
async def test_a_share_of_replies_failing_gives_a_few_reports_that_count_every_error(
    bot: Emulator, api: Flaky, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    api.broken.add(marie.id)
    api.share = 0.7
    for _ in range(9):
        await marie.send("/mytickets")
        clock.advance(seconds=30)
    errors = errors_logged(caplog)
    answered = sum(NOTHING_YET in text for text in marie.texts())
    assert errors >= 3 and answered >= 5  # most requests were answered despite Telegram
    grouped = reports(boss)
    assert len(grouped) <= 2  # at most one per kind (502 or timeout) in five minutes
    clock.advance(minutes=5)
    await summaries(bot)
    assert counted(reports(boss)) == errors  # none went unmentioned


@pytest.mark.usefixtures("quick")
async def test_kinds_are_reported_apart(
    bot: Emulator, api: Flaky, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import parts  # noqa: PLC0415

    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    api.fail("sendMessage", chat_id=marie.id, status=500, times=6)
    await marie.send("/mytickets")

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(parts, "contact_requests", broken)
    await marie.send("/mytickets")
    await marie.send("/mytickets")
    first, second = reports(boss)
    assert "NetworkError" in first and "RuntimeError: database on fire" in second


@pytest.mark.usefixtures("quick")
async def test_errors_counted_at_a_stop_reach_the_admins_after_the_restart(
    settings: Settings, clock: ManualClock
) -> None:
    api = FakeBotAPI()
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        boss = await flows.admin(bot, language_code="en")
        await flows.federation(boss)
        marie = await flows.contact(bot, boss)
        api.fail("sendMessage", chat_id=marie.id, status=503, times=2 * 3 * 2)
        await marie.send("/mytickets")
        clock.advance(minutes=1)
        await marie.send("/mytickets")
        assert len([m for m in boss.chat if m.text.startswith("⚠️ Error")]) == 1
    clock.advance(minutes=1)
    async with Emulator.running(settings, clock=clock, api=api) as bot:
        await bot.deliver()
        last = bot.person(ADMIN_ID, "Claire").last.text
        assert last.startswith("⚠️ Repeated errors, the latest:")
        assert "NetworkError" in last
        assert last.endswith("1 more error of the same kind since 2 p.m.")


async def test_the_outbox_is_not_retried_at_once(bot: Emulator, api: Flaky) -> None:
    """The outbox has its own backoff: a failed notification waits for it, tried once."""
    _, marie, jean, _ = await flows.world(bot)
    api.fail("sendMessage", chat_id=jean.id, status=502, description="Bad Gateway")
    tries = len(api.calls_to("sendMessage"))
    await flows.file_request(marie)
    to_jean = [c for c in api.calls_to("sendMessage")[tries:] if c.params["chat_id"] == jean.id]
    assert [c.error for c in to_jean] == ["502"]


# -- the rules, without Telegram ------------------------------------------------------------


def test_the_retry_schedule() -> None:
    assert [pause_before_retry(Failure.PASSING, n) for n in (1, 2, 3)] == [0.5, 1.0, None]
    assert [pause_before_retry(Failure.TIMEOUT, n) for n in (1, 2, 3)] == [0.5, 1.0, None]
    assert pause_before_retry(Failure.FINAL, 1) is None
    assert pause_before_retry(Failure.FLOOD, 1, 3.0) == 3.0
    assert pause_before_retry(Failure.FLOOD, 1, 30.0) is None  # the person would wait too long
    assert pause_before_retry(Failure.FLOOD, 3, 1.0) is None
    assert done_already("Bad Request: message is not modified: specified new message content")
    assert not done_already("Bad Request: chat not found")


def test_reports_are_grouped_by_kind_for_five_minutes() -> None:
    groups = ReportGroups()
    start = datetime(2026, 11, 24, 19, tzinfo=UTC)
    network = ("NetworkError", "handlers.common.reply")
    first = groups.note(network, "NetworkError: Bad Gateway", 7, start)
    assert first is not None and (first.similar, first.since) == (0, None)
    for seconds in (10, 20, 30):
        assert groups.note(network, "x", 7, start + timedelta(seconds=seconds)) is None
    other = groups.note(("RuntimeError", "storage.tickets.get"), "y", 7, start)
    assert other is not None
    assert groups.due(start + timedelta(minutes=4)) == []
    later = groups.note(network, "NetworkError: 500", 8, start + timedelta(minutes=5))
    assert later is not None and (later.similar, later.since) == (3, start)
    # No new error: the summary comes from the job once the window has ended.
    assert groups.note(network, "z", 8, start + timedelta(minutes=6)) is None
    [summary] = groups.due(start + timedelta(minutes=10))
    assert (summary.similar, summary.since, summary.detail, summary.user_id) == (
        1,
        start + timedelta(minutes=5),
        "z",
        None,
    )
    assert groups.due(start + timedelta(minutes=20)) == []
