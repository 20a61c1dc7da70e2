"""Error reports for the admins, grouped: one per kind of error every few minutes, with a count.

When Telegram misbehaved, every update that failed raised its own report (18 to 38 for 9
requests). A kind is the error's type and the place in our code it came from (`NetworkError`
in `handlers.common.reply`). The first error of a kind is reported at once; the next ones
within `WINDOW` are counted; the report that closes the window says how many there were since
the previous one: the next error of the kind after the window, or, when errors stopped, the
summary a job sends every minute, or the one queued when the bot stops.

The counts live in memory: a restart after a stop loses nothing (the summary is an outbox row
by then), a crash loses at most the current window's count, and every error is in the log.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram.ext import Application, CallbackContext

from bot.services import Services, get_services
from bot.tickets import message_payload
from bot.ui.i18n import Html, escape, format_time, format_when, t, tn
from storage import outbox, people

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=5)
SUMMARY_EVERY = 60  # seconds between two looks for windows that ended with errors counted
JOB_NAME = "error-report-summaries"
KEY = "error_reports"
PURPOSE = "error_report"
OUR_MODULES = ("bot.", "handlers.", "storage.")

Kind = tuple[str, str]  # the error's type, where it came from


@dataclass(frozen=True)
class Report:
    """A report to send: the latest error of a kind, and how many came before it unreported."""

    kind: Kind
    detail: str  # the latest error, as it may be shown (redacted, cut)
    similar: int  # errors of the kind since `since` that had no report of their own
    since: datetime | None  # when the previous report of the kind was sent
    user_id: int | None  # whose update failed; None for a summary


@dataclass
class _Window:
    opened_at: datetime  # when the report that opened it was sent
    counted: int = 0
    detail: str = ""


class ReportGroups:
    """Which errors are reported now and which are counted for a later report."""

    def __init__(self, window: timedelta = WINDOW) -> None:
        self.window = window
        self._windows: dict[Kind, _Window] = {}

    def note(self, kind: Kind, detail: str, user_id: int | None, now: datetime) -> Report | None:
        """An error happened: the report to send now, or None when it is counted for later."""
        previous = self._windows.get(kind)
        if previous is not None and now < previous.opened_at + self.window:
            previous.counted += 1
            previous.detail = detail
            return None
        self._windows[kind] = _Window(now)
        if previous is None:
            return Report(kind, detail, 0, None, user_id)
        return Report(kind, detail, previous.counted, previous.opened_at, user_id)

    def due(self, now: datetime, *, every: bool = False) -> list[Report]:
        """Summaries of the windows that ended with errors counted (`every`: all, ended or not).

        A summary opens a new window, so that a kind is never reported twice within one."""
        summaries = []
        for kind, window in list(self._windows.items()):
            if not every and now < window.opened_at + self.window:
                continue
            if window.counted:
                summaries.append(
                    Report(kind, window.detail, window.counted, window.opened_at, None)
                )
                self._windows[kind] = _Window(now)
            else:
                del self._windows[kind]
        return summaries


def groups_of(bot_data: MutableMapping[str, Any]) -> ReportGroups:
    """The running application's report groups."""
    groups = bot_data.setdefault(KEY, ReportGroups())
    assert isinstance(groups, ReportGroups)
    return groups


def kind_of(error: BaseException | None) -> Kind:
    """An error's kind: its type, and the last of our functions it went through before it left
    our code (`handlers.common.reply` for a reply Telegram refused), "—" if it never was in it."""
    place = "—"
    inside = False
    for frame, _ in traceback.walk_tb(error.__traceback__ if error else None):
        module = str(frame.f_globals.get("__name__", ""))
        if module.startswith(OUR_MODULES):
            place, inside = f"{module}.{frame.f_code.co_name}", True
        elif inside:
            break
    return type(error).__name__, place


def render(report: Report, language: str, services: Services) -> Html:
    """The report's text for an admin reading `language`."""
    detail = Html(escape(report.detail))
    if report.user_id is None:
        head = t(language, "report.repeated", detail=detail)
    else:
        head = t(language, "report.error", user=report.user_id, detail=detail)
    lines = [head, t(language, "report.place", place=report.kind[1])]
    if report.similar and report.since is not None:
        lines.append(
            tn(
                language,
                "report.similar",
                report.similar,
                since=_since(report.since, language, services),
            )
        )
    return Html("\n".join(lines))


def _since(moment: datetime, language: str, services: Services) -> str:
    """The time of day, with the date when it was not today."""
    tz = services.settings.tz
    local = moment.astimezone(tz)
    if local.date() == services.clock.now().astimezone(tz).date():
        return format_time(local.time(), language)
    return format_when(moment, language, tz)


async def queue(services: Services, report: Report) -> None:
    """Queue the report for every admin, in their language (through the outbox)."""
    settings = services.settings
    async with services.db.transaction() as conn:
        admins = await people.admins_to_tell(conn, settings.admin_ids, settings.default_language)
        for admin_id, language in admins:
            await outbox.enqueue(
                conn,
                chat_id=admin_id,
                method="send_message",
                payload=message_payload(render(report, language, services)),
                purpose=PURPOSE,
                now=services.clock.now(),
            )
    services.wake_outbox()


async def send_summaries(services: Services, groups: ReportGroups, *, every: bool = False) -> int:
    """Queue the summary of every window that ended with errors counted; how many."""
    summaries = groups.due(services.clock.now(), every=every)
    for summary in summaries:
        await queue(services, summary)
    return len(summaries)


async def _summaries_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    await send_summaries(get_services(context), groups_of(context.bot_data))


def schedule_jobs(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Look every minute for counted errors that no report has mentioned yet."""
    if app.job_queue is None:
        log.warning("no JobQueue: counted errors are reported with the next error or at stop")
        return
    app.job_queue.run_repeating(
        _summaries_job, interval=SUMMARY_EVERY, first=SUMMARY_EVERY, name=JOB_NAME
    )
