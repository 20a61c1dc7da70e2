"""The request form: field → subject → description → urgency → date → attachments → review.

The draft in SQLite is the state of the conversation: every step is saved, so a restart of the
bot, or a contact coming back the next day, resumes where they were.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.federation.envelopes import spent_warning
from bot.rules.forms import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    MAX_ATTACHMENTS,
    SUBJECT_MAX,
    SUBJECT_MIN,
    InvalidInput,
    parse_desired_date,
    validate_description,
    validate_subject,
)
from bot.rules.limits import MAX_FILE_BYTES, MAX_FILE_MB
from bot.services import Services, get_services
from bot.tickets import (
    DailyLimit,
    FederationInactive,
    FieldInactive,
    IncompleteDraft,
    file_draft,
    may_file,
)
from bot.together.linked import review_lines as also
from bot.together.parts import sent_text
from bot.ui import callbacks as cb
from bot.ui import keyboards, render
from bot.ui.i18n import Html, format_number, t, tn
from handlers.common import PRIVATE, Context, current_member, drop_buttons, members, refuse, reply
from storage import conversation, drafts, people
from storage.models import (
    Attachment,
    Draft,
    DraftStatus,
    ExpertiseField,
    FormStep,
    Role,
    Urgency,
    User,
)

ORDER = list(FormStep)
TEXT_STEPS = {FormStep.SUBJECT, FormStep.DESCRIPTION, FormStep.DATE}


def next_step(draft: Draft) -> FormStep:
    """After a step is answered: the next one, or back to the review when editing."""
    if draft.editing:
        return FormStep.REVIEW
    return ORDER[ORDER.index(draft.step) + 1]


async def ask(update: Update, context: Context, user: User, draft: Draft) -> None:
    """Ask the question of the draft's current step (or show the review)."""
    services = get_services(context)
    step = draft.step
    # Read only what this step shows: the fields to choose from, or the one chosen.
    choosing = step is FormStep.FIELD
    shown = draft.field_id if step is FormStep.REVIEW or (draft.editing and choosing) else None
    fields: list[ExpertiseField] = []
    field: ExpertiseField | None = None
    if choosing or shown is not None:
        async with services.db.read() as conn:
            if choosing:
                fields = await people.list_fields(conn, active_only=True)
            if shown is not None:
                field = await people.get_field(conn, shown)
    language = user.language
    if step is FormStep.REVIEW:
        async with services.db.read() as conn:  # and the other fields picked, if any
            text = Html(
                render.draft_review(draft, field, language) + await also(conn, draft, language)
            )
        warning = await spent_warning(services, user, draft.field_id)  # it may still be sent
        if warning is not None:
            text = Html(f"{text}\n\n{warning}")
    else:
        text = _question(draft, language)
        if draft.editing:
            text = Html(f"{text}\n\n{_current_value(draft, field, language)}")
    await reply(update, context, text, keyboards.form_step(draft, language, fields))


def _bounds(language: str, low: int, high: int) -> dict[str, str]:
    """A text's length limits as the reader writes numbers (« 3 000 caractères »)."""
    return {"min": format_number(low, language), "max": format_number(high, language)}


def _question(draft: Draft, language: str) -> Html:
    step = draft.step
    if step is FormStep.SUBJECT:
        return t(language, "form.ask_subject", **_bounds(language, SUBJECT_MIN, SUBJECT_MAX))
    if step is FormStep.DESCRIPTION:
        return t(
            language, "form.ask_description", **_bounds(language, DESCRIPTION_MIN, DESCRIPTION_MAX)
        )
    if step is FormStep.ATTACHMENTS:
        return tn(language, "form.ask_attachments", len(draft.attachments), max=MAX_ATTACHMENTS)
    return t(language, f"form.ask_{step.value}")


def _current_value(draft: Draft, field: ExpertiseField | None, language: str) -> Html:
    values: dict[FormStep, object] = {
        FormStep.FIELD: field.name(language) if field else "—",
        FormStep.SUBJECT: draft.subject or "—",
        FormStep.DESCRIPTION: (draft.description or "—")[:300],
        FormStep.URGENCY: t(language, f"urgency.{draft.urgency.value}") if draft.urgency else "—",
        FormStep.DATE: render.day(draft.desired_date, language)
        if draft.desired_date
        else t(language, "form.no_date"),
        FormStep.ATTACHMENTS: len(draft.attachments),
    }
    return t(language, "form.current", value=values.get(draft.step, "—"))


async def _save(services: Services, draft: Draft, **values: object) -> Draft:
    """Write the answer and move to the next step, in one transaction; the draft as saved."""
    async with services.db.transaction() as conn:
        await drafts.update_draft(
            conn,
            draft.id,
            services.clock.now(),
            step=next_step(draft),
            editing=False,
            **values,  # type: ignore[arg-type]
        )
        saved = await drafts.get_draft(conn, draft.id)
    assert saved is not None
    return saved


# -- entry and exit ---------------------------------------------------------------------------


@members(Role.CONTACT)
async def new_request(update: Update, context: Context, user: User) -> None:
    """/new (or the button on the welcome): start a request, or resume the one in progress."""
    services = get_services(context)
    await drop_buttons(update)
    if update.callback_query:
        await update.callback_query.answer()
    try:
        async with services.db.read() as conn:
            await may_file(conn, services, user)
    except (DailyLimit, FederationInactive) as refusal:
        await reply(update, context, _refusal_text(services, user, refusal))
        return
    async with services.db.transaction() as conn:
        await conversation.clear_input(conn, user.id)  # a reply or comment it was waiting for
        draft = await drafts.open_draft(conn, user.id)
        resumed = draft is not None
        if draft is None:
            draft = await drafts.start_draft(conn, user.id, services.clock.now())
    if resumed:
        await reply(update, context, t(user.language, "form.resumed"))
    await ask(update, context, user, draft)


@members()
async def cancel_command(update: Update, context: Context, user: User) -> None:
    """/cancel: stop what the bot was waiting for (a reply, a note…), else drop the draft."""
    services = get_services(context)
    async with services.db.transaction() as conn:
        waited = await conversation.clear_input(conn, user.id)
        draft = None if waited else await drafts.open_draft(conn, user.id)
        if draft is not None:
            await drafts.close_draft(conn, draft.id, DraftStatus.CANCELLED)
    key = "input.cancelled" if waited else "form.cancelled" if draft else "form.nothing_to_cancel"
    await reply(update, context, t(user.language, key))


# -- typed answers ----------------------------------------------------------------------------


async def on_message(update: Update, context: Context) -> None:
    """Any message from a contact with a draft open is an answer to the current step."""
    user = await current_member(update, context)
    if user is None or user.role is not Role.CONTACT or not user.active:
        return
    services = get_services(context)
    async with services.db.read() as conn:
        draft = await drafts.open_draft(conn, user.id)
    if draft is None:
        return
    message = update.effective_message
    assert message is not None
    if draft.last_message_id is not None and message.message_id <= draft.last_message_id:
        raise ApplicationHandlerStop  # an update replayed after a crash: already taken
    language = user.language
    if draft.step in TEXT_STEPS:
        if not message.text:
            await reply(update, context, t(language, "form.expect_text"))
            await ask(update, context, user, draft)
        else:
            await _text_answer(update, context, user, draft, message.text)
    elif draft.step is FormStep.ATTACHMENTS:
        await _attachment(update, context, user, draft, message)
    else:  # field, urgency, review: answered with buttons
        await reply(update, context, t(language, "form.use_buttons"))
        await ask(update, context, user, draft)
    raise ApplicationHandlerStop


async def _text_answer(
    update: Update, context: Context, user: User, draft: Draft, text: str
) -> None:
    services = get_services(context)
    language = user.language
    assert update.effective_message is not None
    seen = update.effective_message.message_id
    try:
        if draft.step is FormStep.SUBJECT:
            saved = await _save(
                services, draft, subject=validate_subject(text), last_message_id=seen
            )
        elif draft.step is FormStep.DESCRIPTION:
            description = validate_description(text)
            saved = await _save(services, draft, description=description, last_message_id=seen)
        else:
            when = parse_desired_date(text, services.today())
            saved = await _save(services, draft, desired_date=when, last_message_id=seen)
    except InvalidInput as problem:
        limits = {
            FormStep.SUBJECT: (SUBJECT_MIN, SUBJECT_MAX),
            FormStep.DESCRIPTION: (DESCRIPTION_MIN, DESCRIPTION_MAX),
        }.get(draft.step, (0, 0))
        await reply(
            update,
            context,
            t(
                language,
                f"invalid.{draft.step.value}.{problem.problem}",
                **_bounds(language, *limits),
                length=format_number(len(text.strip()), language),
            ),
        )
        await ask(update, context, user, draft)
        return
    await ask(update, context, user, saved)


def _attachment_of(message: Message) -> Attachment | None:
    if message.document is not None:
        doc = message.document
        return Attachment(
            kind="document",
            file_id=doc.file_id,
            file_unique_id=doc.file_unique_id,
            file_name=doc.file_name,
            mime_type=doc.mime_type,
            file_size=doc.file_size,
        )
    if message.photo:
        photo = message.photo[-1]  # the largest size
        return Attachment(
            kind="photo",
            file_id=photo.file_id,
            file_unique_id=photo.file_unique_id,
            file_size=photo.file_size,
        )
    return None


async def _attachment(
    update: Update, context: Context, user: User, draft: Draft, message: Message
) -> None:
    services = get_services(context)
    language = user.language
    attachment = _attachment_of(message)
    if attachment is None:
        await reply(update, context, t(language, "form.expect_file"))
        await ask(update, context, user, draft)
        return
    if (attachment.file_size or 0) > MAX_FILE_BYTES:
        await reply(update, context, t(language, "limit.file_size", max=MAX_FILE_MB))
        return
    async with services.db.transaction() as conn:
        current = await drafts.open_draft(conn, user.id)
        assert current is not None
        if len(current.attachments) >= MAX_ATTACHMENTS:
            full = True
        else:
            full = False
            await drafts.add_draft_attachment(conn, draft.id, attachment)
            await drafts.update_draft(
                conn, draft.id, services.clock.now(), last_message_id=message.message_id
            )
        saved = await drafts.get_draft(conn, draft.id)
    assert saved is not None
    count = len(saved.attachments)
    key = "form.attachments_full" if full else "form.attachment_added"
    async with services.db.read() as conn:
        fields = await people.list_fields(conn, active_only=True)
    await reply(
        update,
        context,
        t(language, key, count=count, max=MAX_ATTACHMENTS),
        keyboards.form_step(saved, language, fields),
    )


# -- buttons ----------------------------------------------------------------------------------

# Which step each form button answers (None: any step).
BUTTON_STEPS: dict[str, FormStep | None] = {
    "field": FormStep.FIELD,
    "urgency": FormStep.URGENCY,
    "nodate": FormStep.DATE,
    "attdone": FormStep.ATTACHMENTS,
    "attclear": FormStep.ATTACHMENTS,
    "send": FormStep.REVIEW,
    "edit": FormStep.REVIEW,
    "goto": FormStep.REVIEW,
    "review": None,
    "cancel": None,
}


@members(Role.CONTACT)
async def on_button(update: Update, context: Context, user: User) -> None:
    """A form button: checked against the open draft and its step, then applied."""
    query = update.callback_query
    assert query is not None
    services = get_services(context)
    language = user.language
    data = cb.unpack(query.data)
    draft_id = data.int_arg(0) if data else None
    if data is None or draft_id is None or data.action not in BUTTON_STEPS:
        await refuse(update, context, t(language, "button.stale"))
        return
    async with services.db.read() as conn:
        draft = await drafts.open_draft(conn, user.id)
    if draft is None or draft.id != draft_id:
        if data.action == "send":  # pressed again once sent: says which ticket it became
            await _send(update, context, user, draft_id)
        else:
            await refuse(update, context, t(language, "button.stale"))
        return
    if not _answers_step(data.action, draft):
        # An older button of this draft (a step since answered, or left on screen by a crash):
        # show where the draft is rather than strand the contact.
        await query.answer(t(language, "form.where_you_are"))
        await drop_buttons(update)
        await ask(update, context, user, draft)
        return
    if data.action == "send":
        await _send(update, context, user, draft_id)
        return
    await query.answer()
    await drop_buttons(update)
    await _apply(update, context, user, draft, data)


def _answers_step(action: str, draft: Draft) -> bool:
    """Whether a button with `action` answers the step the draft is at now."""
    if action == "review":
        return draft.editing or draft.step is FormStep.REVIEW
    expected = BUTTON_STEPS[action]
    return expected is None or draft.step is expected


async def _apply(
    update: Update, context: Context, user: User, draft: Draft, data: cb.Callback
) -> None:
    services = get_services(context)
    language = user.language
    action = data.action
    if action == "cancel":
        async with services.db.transaction() as conn:
            await drafts.close_draft(conn, draft.id, DraftStatus.CANCELLED)
        await reply(update, context, t(language, "form.cancelled"))
        return
    if action == "edit":
        await reply(
            update, context, t(language, "form.edit_which"), keyboards.edit_menu(draft, language)
        )
        return
    if (
        action == "review"
        and draft.step is FormStep.FIELD
        and not await _field_offered(services, draft)
    ):
        await reply(update, context, t(language, "form.field_unavailable"))
        await ask(update, context, user, draft)
        return
    if action in {"review", "goto"}:
        target = data.args[1] if len(data.args) > 1 else ""
        editable = {s.value for s in keyboards.EDITABLE_STEPS}
        step = FormStep(target) if action == "goto" and target in editable else FormStep.REVIEW
        async with services.db.transaction() as conn:
            await drafts.update_draft(
                conn,
                draft.id,
                services.clock.now(),
                step=step,
                editing=step is not FormStep.REVIEW,
            )
            draft = await drafts.get_draft(conn, draft.id) or draft
        await ask(update, context, user, draft)
        return
    if action == "field":
        field_id = data.int_arg(1)
        async with services.db.read() as conn:
            field = await people.get_field(conn, field_id) if field_id else None
        if field is None or not field.active:
            await reply(update, context, t(language, "form.field_unavailable"))
            await ask(update, context, user, draft)
            return
        saved = await _save(services, draft, field_id=field.id)
    elif action == "urgency":
        value = data.args[1] if len(data.args) > 1 else ""
        if value not in {u.value for u in Urgency}:
            await ask(update, context, user, draft)
            return
        saved = await _save(services, draft, urgency=Urgency(value))
    elif action == "nodate":
        saved = await _save(services, draft, desired_date=None)
    elif action == "attclear":
        async with services.db.transaction() as conn:
            await drafts.clear_draft_attachments(conn, draft.id)
        saved = await _save(services, draft)
    else:  # attdone
        saved = await _save(services, draft)
    await ask(update, context, user, saved)


async def _field_offered(services: Services, draft: Draft) -> bool:
    """Whether the draft's field of expertise is still one a request may be filed in."""
    async with services.db.read() as conn:
        field = await people.get_field(conn, draft.field_id) if draft.field_id else None
    return field is not None and field.active


def _refusal_text(services: Services, user: User, refusal: Exception) -> Html:
    if isinstance(refusal, FederationInactive):
        return t(user.language, "form.federation_inactive")
    return t(user.language, "limit.daily", count=services.settings.max_requests_per_day)


async def _send(update: Update, context: Context, user: User, draft_id: int) -> None:
    """Send: file the ticket (once, however often it is pressed) and tell the contact."""
    query = update.callback_query
    assert query is not None
    services = get_services(context)
    language = user.language
    try:
        filed = await file_draft(services, user, draft_id)
    except IncompleteDraft:
        await refuse(update, context, t(language, "form.incomplete"))
        return
    except (DailyLimit, FederationInactive) as refusal:
        await refuse(update, context, _refusal_text(services, user, refusal))
        return
    except FieldInactive:
        await _field_withdrawn(update, context, user, draft_id)
        return
    if filed is None:
        await refuse(update, context, t(language, "button.stale"))
        return
    if not filed.created:
        await query.answer(t(language, "form.already_sent", reference=filed.ticket.reference))
        return
    await query.answer()
    await drop_buttons(update)
    await reply(update, context, await sent_text(services, filed, language))


async def _field_withdrawn(update: Update, context: Context, user: User, draft_id: int) -> None:
    """The field was switched off after it was chosen: nothing is sent; back to the field step,
    the rest of the draft kept, and to the review once another field is chosen."""
    services = get_services(context)
    async with services.db.transaction() as conn:
        draft = await drafts.get_draft(conn, draft_id)
        assert draft is not None
        field = await people.get_field(conn, draft.field_id) if draft.field_id else None
        await drafts.update_draft(
            conn, draft.id, services.clock.now(), step=FormStep.FIELD, editing=True
        )
        draft = await drafts.get_draft(conn, draft.id) or draft
    assert update.callback_query is not None
    await update.callback_query.answer()
    await drop_buttons(update)
    name = field.name(user.language) if field else "—"
    await reply(update, context, t(user.language, "form.field_withdrawn", field=name))
    await ask(update, context, user, draft)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("new", new_request, filters=PRIVATE))
    app.add_handler(CommandHandler("cancel", cancel_command, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(new_request, pattern=rf"^{cb.MENU}:new$"))
    app.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{cb.FORM}:"))
    # Answers to the form: after messages for a ticket (group 1), before the catch-all.
    app.add_handler(MessageHandler(PRIVATE & ~filters.COMMAND, on_message), group=2)
