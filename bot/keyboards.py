"""Inline keyboards, built from (label, callback data) rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks as cb
from bot.forms import MAX_ATTACHMENTS
from bot.i18n import t
from storage.models import Draft, ExpertiseField, FormStep, Urgency

Rows: TypeAlias = Sequence[Sequence[tuple[str, str]]]


def keyboard(rows: Rows) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def _cancel(draft: Draft, language: str) -> list[tuple[str, str]]:
    return [(t(language, "button.cancel_request"), cb.pack(cb.FORM, "cancel", draft.id))]


def form_step(
    draft: Draft, language: str, fields: Sequence[ExpertiseField]
) -> InlineKeyboardMarkup:
    """The buttons under the question of the draft's current step."""
    rows: list[list[tuple[str, str]]] = []
    step = draft.step
    if step is FormStep.FIELD:
        rows += [[(f.name(language), cb.pack(cb.FORM, "field", draft.id, f.id))] for f in fields]
    elif step is FormStep.URGENCY:
        rows += [
            [(t(language, f"urgency.{u.value}"), cb.pack(cb.FORM, "urgency", draft.id, u.value))]
            for u in Urgency
        ]
    elif step is FormStep.DATE:
        rows.append([(t(language, "button.no_date"), cb.pack(cb.FORM, "nodate", draft.id))])
    elif step is FormStep.ATTACHMENTS:
        count = len(draft.attachments)
        label = "button.attachments_done" if count else "button.no_attachments"
        rows.append(
            [
                (
                    t(language, label, count=count, max=MAX_ATTACHMENTS),
                    cb.pack(cb.FORM, "attdone", draft.id),
                )
            ]
        )
        if count and draft.editing:
            rows.append(
                [
                    (
                        t(language, "button.remove_attachments"),
                        cb.pack(cb.FORM, "attclear", draft.id),
                    )
                ]
            )
    elif step is FormStep.REVIEW:
        rows.append([(t(language, "button.send"), cb.pack(cb.FORM, "send", draft.id))])
        rows.append([(t(language, "button.edit"), cb.pack(cb.FORM, "edit", draft.id))])
    if draft.editing and step is not FormStep.REVIEW:
        rows.append([(t(language, "button.back_to_review"), cb.pack(cb.FORM, "review", draft.id))])
    rows.append(_cancel(draft, language))
    return keyboard(rows)


EDITABLE_STEPS = (
    FormStep.FIELD,
    FormStep.SUBJECT,
    FormStep.DESCRIPTION,
    FormStep.URGENCY,
    FormStep.DATE,
    FormStep.ATTACHMENTS,
)


def edit_menu(draft: Draft, language: str) -> InlineKeyboardMarkup:
    """Which part of the request to change, from the review."""
    rows = [
        [(t(language, f"button.edit_{s.value}"), cb.pack(cb.FORM, "goto", draft.id, s.value))]
        for s in EDITABLE_STEPS
    ]
    rows.append([(t(language, "button.back_to_review"), cb.pack(cb.FORM, "review", draft.id))])
    return keyboard(rows)


def take(ticket_id: int, language: str) -> InlineKeyboardMarkup:
    return keyboard([[(t(language, "button.take"), cb.pack(cb.TICKET, "take", ticket_id))]])


def new_request(language: str) -> InlineKeyboardMarkup:
    return keyboard([[(t(language, "button.new_request"), cb.pack(cb.MENU, "new"))]])


def languages() -> InlineKeyboardMarkup:
    return keyboard(
        [
            [
                ("Français", cb.pack(cb.LANGUAGE, "set", "fr")),
                ("English", cb.pack(cb.LANGUAGE, "set", "en")),
            ]
        ]
    )
