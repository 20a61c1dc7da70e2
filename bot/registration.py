"""Invites and registration: random tokens (192 bits), stored hashed, single-use, 7 days."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.logs import log_event
from bot.rules.limits import INVITE_FAILURES_PER_HOUR
from bot.services import Services
from bot.tickets import message_payload
from bot.ui.commands import menu
from bot.ui.i18n import t
from storage import outbox, people
from storage.db import Connection
from storage.models import ExpertiseField, Federation, Invite, Role, User

log = logging.getLogger(__name__)

INVITE_TTL = timedelta(days=7)
TOKEN_BYTES = 24  # 192 random bits; 32 URL-safe characters, within Telegram's 64 for ?start=
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """What is stored: the token itself never is."""
    return hashlib.sha256(token.encode()).hexdigest()


def invite_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


async def create_invite(
    services: Services,
    admin: User,
    *,
    federation: Federation | None = None,
    fields: Sequence[ExpertiseField] = (),
    manager: bool = False,
) -> str:
    """A contact invite (for a federation; `manager`: a manager of it) or a lead invite (for
    fields); returns the token."""
    token = new_token()
    now = services.clock.now()
    async with services.db.transaction() as conn:
        await people.create_invite(
            conn,
            token_hash=hash_token(token),
            role=Role.CONTACT if federation else Role.LEAD,
            created_by=admin.id,
            now=now,
            expires_at=now + INVITE_TTL,
            federation_id=federation.id if federation else None,
            field_ids=[f.id for f in fields],
            manager=manager and federation is not None,
        )
    return token


@dataclass(frozen=True)
class Registration:
    user: User | None = None
    problem: str | None = None  # unknown, used, expired, revoked, already, slow_down
    federation: Federation | None = None
    fields: tuple[ExpertiseField, ...] = ()


async def register(
    services: Services,
    *,
    user_id: int,
    full_name: str,
    username: str | None,
    language: str,
    token: str,
) -> Registration:
    """Redeem an invite: the person becomes a contact or a lead, in one transaction."""
    now = services.clock.now()
    async with services.db.transaction() as conn:
        if await people.get_user(conn, user_id) is not None:
            return Registration(problem="already")
        recent = await people.invite_failures_since(conn, user_id, now - timedelta(hours=1))
        if recent >= INVITE_FAILURES_PER_HOUR:
            return Registration(problem="slow_down")
        redeemed = await _redeem(conn, token, user_id, now)
        if isinstance(redeemed, str):
            await people.record_invite_failure(conn, user_id, now)
            log_event(log, "invite.refused", user=user_id, reason=redeemed)
            return Registration(problem=redeemed)
        invite = redeemed
        user = await people.create_user(
            conn,
            user_id=user_id,
            role=invite.role,
            full_name=full_name,
            username=username,
            language=language,
            now=now,
            federation_id=invite.federation_id,
        )
        for field_id in invite.field_ids:
            await people.add_lead(conn, field_id, user_id)
        if invite.manager and await people.set_manager(conn, user_id, True):
            user = user.model_copy(update={"manager": True})
        federation = (
            await people.federation_by_id(conn, invite.federation_id)
            if invite.federation_id
            else None
        )
        fields = tuple(
            f
            for f in await people.list_fields(conn, active_only=False)
            if f.id in invite.field_ids
        )
        await _tell_inviter(conn, services, invite.created_by, user, federation, fields)
        await queue_menu(conn, services, user)
    services.wake_outbox()
    log_event(log, "user.registered", user=user.id, role=user.role.value)
    return Registration(user=user, federation=federation, fields=fields)


async def _redeem(conn: Connection, token: str, user_id: int, now: datetime) -> Invite | str:
    """The invite behind a token, used once now; or why not (unknown, revoked, used, expired)."""
    invite = (
        await people.invite_by_hash(conn, hash_token(token)) if TOKEN_SHAPE.match(token) else None
    )
    if invite is None:
        return "unknown"
    if invite.revoked_at is not None:
        return "revoked"
    if invite.uses >= invite.max_uses:
        return "used"
    if invite.expires_at <= now or not await people.consume_invite(conn, invite.id, user_id, now):
        return "expired"
    return invite


async def queue_menu(conn: Connection, services: Services, user: User) -> None:
    """Queue the user's own command menu (their role, their language)."""
    await outbox.enqueue(
        conn,
        chat_id=user.id,
        method="set_my_commands",
        payload={"commands": menu(user.role, user.language, manager=user.manager)},
        purpose="menu",
        now=services.clock.now(),
    )


async def _tell_inviter(
    conn: Connection,
    services: Services,
    admin_id: int,
    user: User,
    federation: Federation | None,
    fields: Sequence[ExpertiseField],
) -> None:
    admin = await people.get_user(conn, admin_id)
    language = admin.language if admin else services.settings.default_language
    where = federation.code if federation else ", ".join(f.name(language) for f in fields)
    kind = "manager" if user.manager else user.role.value
    text = t(language, f"notify.joined_{kind}", name=user.full_name, where=where)
    await outbox.enqueue(
        conn,
        chat_id=admin_id,
        method="send_message",
        payload=message_payload(text),
        purpose="joined",
        now=services.clock.now(),
    )
