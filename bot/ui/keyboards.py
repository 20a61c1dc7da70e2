"""Inline keyboards, built from (label, callback data) rows."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import TypeAlias

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.rules.forms import MAX_ATTACHMENTS
from bot.rules.workflow import ESTIMABLE, Relation
from bot.ui import callbacks as cb
from bot.ui.i18n import t
from storage.models import Draft, ExpertiseField, FormStep, Ticket, TicketStatus, Urgency, User

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
        rows.append([(t(language, "button.parts_also"), cb.pack(cb.PART, "pick", draft.id))])
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


def _t(ticket_id: int, action: str, *args: object) -> str:
    return cb.pack(cb.TICKET, action, ticket_id, *args)


def lead_actions(
    ticket: Ticket,
    who: frozenset[Relation],
    language: str,
    *,
    drop: int | None = None,
    log: bool = True,
) -> InlineKeyboardMarkup | None:
    """The buttons of a lead's (or an admin's) card: what they may do in the ticket's state.
    `drop`: its refused estimate, under which they may cancel it (bot.rules.workflow.droppable);
    `log`: whether time may be logged as far as its estimates go (bot.lifecycle.log_block).
    """
    rows: list[list[tuple[str, str]]] = []
    status = ticket.status
    works = bool(who & {Relation.ASSIGNEE, Relation.ADMIN})
    if status is TicketStatus.NEW and who & {Relation.FIELD_LEAD, Relation.ADMIN}:
        rows.append([(t(language, "button.take"), _t(ticket.id, "take"))])
    if works and status in {TicketStatus.ASSIGNED, TicketStatus.WAITING}:
        rows.append([(t(language, "button.start"), _t(ticket.id, "start"))])
    if works and status in {TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.WAITING}:
        row: list[tuple[str, str]] = [(t(language, "button.ask"), _t(ticket.id, "ask"))]
        if log:
            row.append((t(language, "button.log_time"), _t(ticket.id, "time")))
        rows.append(row)
        rows.append([(t(language, "button.resolve"), _t(ticket.id, "resolve"))])
    if works and status in ESTIMABLE:
        rows.append([(t(language, "button.estimate"), _t(ticket.id, "estimate"))])
        rows.append([(t(language, "button.parts_add"), cb.pack(cb.PART, "add", ticket.id))])
    # Reassign: the holder of an open ticket, or an admin (who may also give a new one).
    holder = works and status in ESTIMABLE
    if holder or (status is TicketStatus.NEW and Relation.ADMIN in who):
        # Nobody holds it yet: it is given, not given again (the same list of leads).
        label = "button.reassign" if ticket.assignee_id else "button.assign"
        rows.append([(t(language, label), _t(ticket.id, "reassign"))])
    if drop is not None:
        rows.append([(t(language, "button.drop"), cb.pack(cb.APPROVAL, "drop", drop))])
    rows.append([(t(language, "button.history"), _t(ticket.id, "hist", 0))])
    return keyboard(rows)


def contact_actions(ticket: Ticket, language: str) -> InlineKeyboardMarkup:
    """The buttons under a contact's own ticket."""
    rows: list[list[tuple[str, str]]] = []
    if ticket.status is TicketStatus.RESOLVED:
        rows.append(resolution_row(ticket.id, language))
    if ticket.status is TicketStatus.NEW:  # nothing to answer yet: a message to whoever reads it
        rows.append([(t(language, "button.write"), _t(ticket.id, "reply"))])
    elif ticket.status not in {TicketStatus.CLOSED, TicketStatus.CANCELLED}:
        rows.append([(t(language, "button.reply"), _t(ticket.id, "reply"))])
    if ticket.status in {TicketStatus.NEW, *ESTIMABLE}:
        rows.append([(t(language, "button.cancel_ticket"), _t(ticket.id, "cancel"))])
    rows.append([(t(language, "button.history"), _t(ticket.id, "hist", 0))])
    return keyboard(rows)


def manager_actions(
    ticket: Ticket, who: frozenset[Relation], language: str
) -> InlineKeyboardMarkup:
    """The buttons under someone else's request of a manager's federation: they read it (its
    history), they neither cancel it nor write in it."""
    return keyboard([[(t(language, "button.history"), _t(ticket.id, "hist", 0))]])


def whole_federation(language: str) -> InlineKeyboardMarkup:
    """Under a manager's /mytickets: every request of their federation."""
    return keyboard([[(t(language, "button.whole_federation"), cb.pack(cb.MENU, "fed", 0))]])


NOTICE = "n"  # the buttons are under the resolution message, not under the card


def resolution_row(
    ticket_id: int, language: str, *, notice: bool = False
) -> list[tuple[str, str]]:
    extra = (NOTICE,) if notice else ()
    return [
        (t(language, "button.confirm"), _t(ticket_id, "confirm", *extra)),
        (t(language, "button.not_solved"), _t(ticket_id, "reopen", *extra)),
    ]


def resolution(ticket_id: int, language: str) -> InlineKeyboardMarkup:
    """The contact's answer under the resolution message (which keeps its note once pressed)."""
    return keyboard([resolution_row(ticket_id, language, notice=True)])


def reply(ticket_id: int, language: str) -> InlineKeyboardMarkup:
    return keyboard([[(t(language, "button.reply"), _t(ticket_id, "reply"))]])


def estimate_button(ticket_id: int, language: str) -> InlineKeyboardMarkup:
    """The lead's Estimate button alone (a revised estimate is due, or a question came)."""
    return keyboard([[(t(language, "button.estimate"), _t(ticket_id, "estimate"))]])


def question(question_id: int, ticket_id: int, asker: str, language: str) -> InlineKeyboardMarkup:
    """Under an approver's question to the lead: the answer goes back to who asked."""
    answer = t(language, "button.answer_approver", name=asker)
    return keyboard(
        [
            [(answer, cb.pack(cb.APPROVAL, "ans", question_id))],
            [(t(language, "button.estimate"), _t(ticket_id, "estimate"))],
        ]
    )


def approval(estimate_id: int, language: str) -> InlineKeyboardMarkup:
    """An approver's buttons on an estimate (re-checked on the server when pressed)."""
    rows = [
        [
            (t(language, "button.approve"), cb.pack(cb.APPROVAL, "ok", estimate_id)),
            (t(language, "button.refuse"), cb.pack(cb.APPROVAL, "no", estimate_id)),
        ],
        [(t(language, "button.ask_lead"), cb.pack(cb.APPROVAL, "ask", estimate_id))],
    ]
    return keyboard(rows)


def confirm_cancel(ticket_id: int, language: str) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [(t(language, "button.cancel_ticket_yes"), _t(ticket_id, "cancelok"))],
            [(t(language, "button.keep_ticket"), _t(ticket_id, "card"))],
        ]
    )


def rating(ticket_id: int) -> InlineKeyboardMarkup:
    return keyboard([[("⭐" * n, _t(ticket_id, "rate", n)) for n in range(1, 6)]])


def skip_comment(ticket_id: int, language: str) -> InlineKeyboardMarkup:
    return keyboard([[(t(language, "button.no_comment"), _t(ticket_id, "nocomment"))]])


def skip_reason(ticket_id: int, language: str) -> InlineKeyboardMarkup:
    """Under « what is left to do? » after « Pas réglé »."""
    return keyboard([[(t(language, "button.skip"), _t(ticket_id, "noreason"))]])


REASSIGN_LABEL_MAX = 60


def reassign_to(
    ticket_id: int,
    leads: Sequence[User],
    fields: Mapping[int, Sequence[str]],
    language: str,
    away: Mapping[int, str] | None = None,
) -> InlineKeyboardMarkup:
    """A button per lead, with the fields they handle (`fields`: names by lead id) and, for
    who is away, until when (`away`: « 🌴 absence jusqu'au … » by lead id; before the fields,
    which a long label cuts first)."""
    rows = []
    for lead in leads:
        # A button's label is plain text: the catalogue's escaping is undone.
        name = lead.full_name
        if away and lead.id in away:
            name = f"{name} · {html.unescape(away[lead.id])}"
        label = name
        if fields.get(lead.id):
            names = ", ".join(fields[lead.id])
            label = html.unescape(t(language, "reassign.lead", name=name, fields=names))
        if len(label) > REASSIGN_LABEL_MAX:
            label = label[: REASSIGN_LABEL_MAX - 1].rstrip(" ,") + "…"
        rows.append([(label, _t(ticket_id, "to", lead.id))])
    rows.append([(t(language, "button.back"), _t(ticket_id, "card"))])
    return keyboard(rows)


def pages(
    page: int, has_next: bool, language: str, data: Callable[[int], str]
) -> list[tuple[str, str]]:
    """Previous / next buttons of a paged list."""
    row: list[tuple[str, str]] = []
    if page > 0:
        row.append((t(language, "button.previous"), data(page - 1)))
    if has_next:
        row.append((t(language, "button.next"), data(page + 1)))
    return row
