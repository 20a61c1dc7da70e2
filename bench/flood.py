"""Part 6: one person's flood, and everyone else's latency (issue 12, defect 2); how fast a
flood is received.

Twenty contacts each send `/help` every three seconds, at different moments (bench.driver's
open loop); a person's latency is from the update put in the queue to its reply. First with
nobody else about, then while one more contact sends 100 messages at once, in the same
application: the two p99 latencies of the twenty are compared.

This is the production set-up where it matters: the flood limit at its default (30 updates a
minute: the flooder's first 30 are answered, they are told once, the other 69 dropped) and the
bot's `ChatRateLimiter` with Telegram's pace, one message a second per private chat, so that the
flood's replies take half a minute to go out. Before the fix, the flood's waiting updates held
every one of the application's processing slots meanwhile and the others waited for them all
(bot/delivery/updates.py). `--full` does it three times (calm, flood, calm, flood...) and reports
the median of the three ratios; `--tiny` once, with the pacing five times faster (faster still, the
flood would no longer arrive faster than its replies go out, and would hold no slots).

Beside it, the receipt alone (`measure_receipt`): updates received per second, on disk and
queued, when they come in getUpdates batches (one fsync for a batch) and one at a time, each on
disk before the next (as polling received them before, and the webhook one request at a time).
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Update

from bot.delivery.inbox import DurableQueue
from bot.delivery.ratelimit import CHAT_RATE, OVERALL_RATE, ChatRateLimiter
from bot.tools.fakeapi import FakeBotAPI

from .common import Report, Row, bench_settings, median, percentile
from .driver import Client, Step, WatchingAPI, open_loop, running_bot, seed_people, services

TARGET = 2.0  # the others' p99 during the flood, at most this many times their p99 without
PER_MINUTE = 30  # the flood limit's default (bot/config.py)
GET_UPDATES_LIMIT = 100  # the most updates one getUpdates returns (Telegram's limit)
STRANGER = 6_666_001


@dataclass(frozen=True)
class Sizes:
    """`others` contacts, each sending `sends` updates `every` seconds, per phase; one flood of
    `flood` messages; the pacing `speedup` times faster than Telegram's; `rounds` of both."""

    others: int
    sends: int
    every: float
    flood: int
    speedup: float
    rounds: int = 1
    received: int = 1_000  # updates of the receipt's measure, each way


# A phase (12 sends every 3 s) outlasts the flood's paced replies (29 in about 28 s).
QUICK = Sizes(others=20, sends=12, every=3.0, flood=100, speedup=1.0)
FULL = Sizes(others=20, sends=12, every=3.0, flood=100, speedup=1.0, rounds=3)
TINY = Sizes(others=3, sends=12, every=3.0, flood=100, speedup=5.0, received=200)


class TimedAPI(WatchingAPI):
    """The watching fake, noting when each reply in one chat went out."""

    def __init__(self) -> None:
        super().__init__(trim=False)
        self.watched = 0
        self.times: list[float] = []

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, bytes]:
        status, body = super().answer(method, params)
        if status == 200 and str(params.get("chat_id")) == str(self.watched):
            self.times.append(time.perf_counter())
        return status, body


@dataclass(frozen=True)
class Round:
    """One calm phase and one flooded phase: the others' latencies (seconds) in each."""

    calm: list[float]
    flooded: list[float]
    flood_replies: int
    flood_seconds: float  # from the flood's first message to its last reply
    phase_seconds: float  # how long the flooded phase lasted

    @property
    def calm_p99(self) -> float:
        return percentile(self.calm, 0.99) * 1000

    @property
    def flooded_p99(self) -> float:
        return percentile(self.flooded, 0.99) * 1000

    @property
    def ratio(self) -> float:
        return self.flooded_p99 / self.calm_p99


async def receive_as_polling(app: Any, payloads: list[dict[str, Any]]) -> None:
    """Hand updates over as polling does: in getUpdates batches of 100, each update put, then
    on disk before the next getUpdates (whose offset confirms them: KeepingJSONRequest)."""
    queue = app.update_queue
    assert isinstance(queue, DurableQueue)
    for start in range(0, len(payloads), GET_UPDATES_LIMIT):
        batch = payloads[start : start + GET_UPDATES_LIMIT]
        queue.keep_json(batch)
        for payload in batch:
            await queue.put(Update.de_json(payload, app.bot))
        await queue.durable()


async def _flood(app: Any, flooder: Client, count: int) -> None:
    """`count` messages of one person at once, queued one after the other, each on disk before
    the next (as webhook requests one at a time; polling takes a batch with one fsync)."""
    queue = app.update_queue
    assert isinstance(queue, DurableQueue)
    for n in range(count):
        payload = flooder.update(("text", f"Bonjour, encore moi ({n})"))
        await queue.put_json(Update.de_json(payload, app.bot), payload)


def _edits(update_ids: itertools.count[int], count: int) -> list[dict[str, Any]]:
    """A stranger's edits of a message: updates the bot takes without a word (nothing to
    send, little to do), so that receiving them is what is measured."""
    person = {"id": STRANGER, "is_bot": False, "first_name": "Inconnu"}
    chat = {"id": STRANGER, "type": "private", "first_name": "Inconnu"}
    edits = []
    for _ in range(count):
        update_id = next(update_ids)
        message: dict[str, Any] = {"message_id": 1, "date": 1_800_000_000}
        message["edit_date"] = 1_800_000_000 + update_id
        message |= {"chat": chat, "from": person, "text": f"Bonjour ({update_id})"}
        edits.append({"update_id": update_id, "edited_message": message})
    return edits


@dataclass(frozen=True)
class Receipt:
    """Updates received per second (on disk and queued for their handlers)."""

    batched: float  # in getUpdates batches of 100, one fsync for each
    one_by_one: float  # each on disk before the next is taken


async def measure_receipt(count: int) -> Receipt:
    """`count` updates received each way, in one application (after a few, untimed)."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        settings = bench_settings(Path(tmp) / "bot.db")
        async with running_bot(settings, FakeBotAPI(), outbox_worker=False) as app:
            queue = app.update_queue
            assert isinstance(queue, DurableQueue)
            ids = itertools.count(1)

            async def one_by_one(payloads: list[dict[str, Any]]) -> None:
                for payload in payloads:  # put_json returns once the update is on disk
                    await queue.put_json(Update.de_json(payload, app.bot), payload)

            await one_by_one(_edits(ids, 50))  # first-use costs, not timed
            await queue.join()
            rates = []
            for receive in (one_by_one, lambda edits: receive_as_polling(app, edits)):
                edits = _edits(ids, count)
                started = time.perf_counter()
                await receive(edits)
                rates.append(count / (time.perf_counter() - started))
                await queue.join()
    return Receipt(batched=rates[1], one_by_one=rates[0])


async def _phase(others: list[Client], sizes: Sizes) -> list[float]:
    """Each of the others sends `/help` `sends` times, `every` seconds; their latencies."""
    for client in others:
        client.latencies.clear()
    script: list[Step] = [("command", "/help")] * sizes.sends
    await open_loop(others, [script] * len(others), len(others) * sizes.speedup / sizes.every)
    return [x for client in others for x in client.latencies]


async def measure(sizes: Sizes) -> list[Round]:
    """The rounds, in one application."""
    api = TimedAPI()
    limiter = ChatRateLimiter(
        overall_rate=OVERALL_RATE * sizes.speedup, chat_rate=CHAT_RATE * sizes.speedup
    )
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        settings = bench_settings(Path(tmp) / "bot.db", rate_limit_per_minute=PER_MINUTE)
        async with running_bot(settings, api, outbox_worker=True, rate_limiter=limiter) as app:
            cast = await seed_people(services(app), api, sizes.others + 1 + sizes.rounds)
            ids = itertools.count(1)
            people = [Client(app, api, uid, f"C{uid}", ids) for uid in cast.contacts]
            others, warm, flooders = (
                people[: sizes.others],
                people[sizes.others],
                people[sizes.others + 1 :],
            )
            await warm.send(("command", "/help"))  # imports and first-use caches, not timed
            for flooder in flooders:  # a new one each round: out of the last one's window
                calm = await _phase(others, sizes)
                api.watched, api.times = flooder.user_id, []
                started = time.perf_counter()
                flood = asyncio.create_task(_flood(app, flooder, sizes.flood))
                flooded = await _phase(others, sizes)
                phase = time.perf_counter() - started
                await flood
                await app.update_queue.join()  # the flood's backlog, if it outlasted the phase
                last = api.times[-1] - started if api.times else float("nan")
                rounds.append(Round(calm, flooded, len(api.times), last, phase))
    return rounds


async def run(report: Report, sizes: Sizes) -> None:
    """Measure and report part 6."""
    rounds = await measure(sizes)
    receipt = await measure_receipt(sizes.received)
    ratio = median(r.ratio for r in rounds)
    flooded = median(r.flooded_p99 for r in rounds)
    calm = median(r.calm_p99 for r in rounds)
    pace = f"{sizes.speedup:g}× Telegram's pace" if sizes.speedup != 1 else "Telegram's pace"
    first = rounds[0]
    each = (
        f"median of {len(rounds)} rounds: "
        + ", ".join(f"{r.flooded_p99:.1f} vs {r.calm_p99:.1f} ms" for r in rounds)
        if len(rounds) > 1
        else f"{first.flooded_p99:.1f} vs {first.calm_p99:.1f} ms"
    )
    report.add(
        Row(
            "6",
            f"{sizes.others} contacts' p99 while one sends {sizes.flood} messages at once",
            flooded,
            "ms",
            detail=f"p50 {median(percentile(r.flooded, 0.5) * 1000 for r in rounds):.1f} ms,"
            f" worst {max(max(r.flooded) for r in rounds) * 1000:.0f} ms;"
            f" {len(first.flooded)} updates a round",
        )
    )
    report.add(
        Row(
            "6",
            "  ÷ their p99 without the flood (same run)",
            ratio,
            "×",
            f"≤ {TARGET:g}×",
            ratio <= TARGET,
            f"{each} (without: p50"
            f" {median(percentile(r.calm, 0.5) * 1000 for r in rounds):.1f} ms, worst"
            f" {max(max(r.calm) for r in rounds) * 1000:.0f} ms); the flood:"
            f" {first.flood_replies} replies at {pace} over {first.flood_seconds:.1f} s (the"
            f" phase: {first.phase_seconds:.1f} s), the rest dropped by the flood limit"
            f" ({PER_MINUTE}/min)",
            data={
                "calm_p99_ms": calm,
                "flooded_p99_ms": flooded,
                "rounds": [
                    {
                        "calm_p99_ms": r.calm_p99,
                        "flooded_p99_ms": r.flooded_p99,
                        "flood_replies": r.flood_replies,
                        "flood_seconds": r.flood_seconds,
                        "phase_seconds": r.phase_seconds,
                    }
                    for r in rounds
                ],
                "sizes": sizes.__dict__,
            },
        )
    )
    report.add(
        Row(
            "6",
            f"{sizes.received} updates received, in getUpdates batches of 100",
            receipt.batched,
            "updates/s",
            detail=f"{receipt.batched / receipt.one_by_one:.1f}× one at a time, each on disk"
            f" before the next ({receipt.one_by_one:.0f}/s: how polling received them before);"
            " a stranger's edits, on disk and queued for their handlers",
            data={"batched": receipt.batched, "one_by_one": receipt.one_by_one},
        )
    )
