"""What the admin commands share: replies of many lines, naming a user, the buttons' dispatch.

Every admin command answers a wrong call with its usage line; every button re-checks the
admin's rights and the record's state in the database.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence

from telegram import InlineKeyboardMarkup, Update

from bot.services import get_services
from bot.ui import callbacks as cb
from bot.ui.i18n import Html, t
from handlers.common import Context, Handler, members, refuse, reply
from storage import admin as repo
from storage.models import Role, User

USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{0,31})$")
TEXT_BUDGET = 3800  # under Telegram's 4096, with room for a closing line
SCOPE = "adm"  # callback data of the admin commands: adm:<action>:<args>


async def reply_lines(
    update: Update,
    context: Context,
    lines: Sequence[str],
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Send lines as one message, or several when they would not fit in one."""
    chunks: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if chunks[-1] and size + len(line) + 1 > TEXT_BUDGET:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line) + 1
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        await reply(update, context, Html("\n".join(chunk)), markup if last else None)


def user_ref(text: str) -> int | str | None:
    """A Telegram user id (digits) or a username (with or without @); None otherwise."""
    if text.isdigit() and len(text) <= 20 and int(text) <= cb.MAX_ID:
        return int(text)
    match = USERNAME.match(text)
    return match.group(1) if match else None


async def find_user(update: Update, context: Context, admin: User, text: str) -> User | None:
    """The user an admin named, or None after saying so."""
    who = user_ref(text)
    found = None
    if who is not None:
        async with get_services(context).db.read() as conn:
            found = await repo.find_user(conn, who)
    if found is None:
        await reply(update, context, t(admin.language, "users.unknown", who=text[:40]))
    return found


async def only_argument(update: Update, context: Context, admin: User, usage: str) -> str | None:
    """The command's one argument; None after answering with its usage line (key `usage`)."""
    args = context.args or []
    if len(args) != 1:
        await reply(update, context, t(admin.language, usage))
        return None
    return args[0]


# An admin button's action: the press, the admin, and the parsed data (scope `adm`).
ButtonHandler = Callable[[Update, Context, User, cb.Callback], Awaitable[None]]


def button_dispatch(buttons: Mapping[str, ButtonHandler]) -> Handler:
    """The one handler of the admin buttons: the data is parsed here, the action chosen by its
    name; each action checks its arguments and re-checks everything from the database."""

    @members(Role.ADMIN)
    async def on_button(update: Update, context: Context, user: User) -> None:
        query = update.callback_query
        assert query is not None
        data = cb.unpack(query.data)
        action = buttons.get(data.action) if data is not None and data.scope == SCOPE else None
        if data is None or action is None:
            await refuse(update, context, t(user.language, "button.stale"))
            return
        await action(update, context, user, data)

    return on_button
