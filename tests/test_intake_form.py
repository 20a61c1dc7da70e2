"""The request form, step by step, with every kind of wrong input."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.tools.emulator import Emulator, Person
from storage import drafts, tickets
from storage.models import FormStep, Urgency
from tests import flows


async def _contact(bot: Emulator) -> Person:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    await flows.lead(bot, boss, 3001, "Jean", "legal")
    return await flows.contact(bot, boss)


async def _step(bot: Emulator, person: Person) -> FormStep | None:
    async with bot.services.db.read() as conn:
        draft = await drafts.open_draft(conn, person.id)
    return draft.step if draft else None


async def test_form_offers_only_active_fields(bot: Emulator) -> None:
    marie = await _contact(bot)
    async with bot.services.db.transaction() as conn:
        await conn.execute("UPDATE expertise_fields SET active = 0 WHERE code = 'web'")
    replies = await marie.send("/new")
    labels = [label for label, _ in replies[-1].buttons]
    assert "Services juridiques" in labels and "Autre" in labels
    assert "Développement Web" not in labels
    assert any("Annuler" in label for label in labels)


async def test_welcome_button_starts_the_form(bot: Emulator) -> None:
    marie = await _contact(bot)
    replies = await marie.click("Nouvelle demande")
    assert "Dans quel domaine" in replies[-1].text
    assert await _step(bot, marie) is FormStep.FIELD


async def test_complete_form_with_date_and_attachments(bot: Emulator) -> None:
    marie = await _contact(bot)
    await marie.send("/new")
    await marie.click("Services juridiques")
    await marie.send("Révision des règlements")
    await marie.send("Nous devons réviser nos règlements avant l'assemblée générale.")
    await marie.click("Critique")
    replies = await marie.send("15 décembre")
    assert "Pièces jointes" in replies[-1].text
    replies = await marie.send_document("statuts.pdf")
    assert "1/5" in replies[-1].text
    await marie.send_photo()
    replies = await marie.click("Continuer")
    review = replies[-1].text
    for expected in (
        "Services juridiques",
        "Révision des règlements",
        "Critique",
        "15 décembre 2026",
        "Pièces jointes : 2",
    ):
        assert expected in review
    replies = await marie.click("Envoyer")
    assert "CREC-2026-0001" in replies[-1].text
    async with bot.services.db.read() as conn:
        ticket = await tickets.ticket_by_reference(conn, "CREC-2026-0001")
        assert ticket is not None
        assert ticket.urgency is Urgency.CRITICAL and str(ticket.desired_date) == "2026-12-15"
        assert len(await tickets.ticket_attachments(conn, ticket.id)) == 2
        assert await drafts.open_draft(conn, marie.id) is None


async def test_wrong_input_is_explained_and_the_question_asked_again(bot: Emulator) -> None:
    marie = await _contact(bot)
    await marie.send("/new")
    # Field step: buttons expected.
    replies = await marie.send("juridique")
    assert "boutons" in replies[0].text and "Dans quel domaine" in replies[-1].text
    await marie.click("Services juridiques")
    # Subject: too short, too long, a sticker, a location.
    replies = await marie.send("abc")
    assert "trop court" in replies[0].text and "Objet" in replies[-1].text
    replies = await marie.send("x" * 121)
    assert "trop long (121 caractères)" in replies[0].text
    replies = await marie.send_sticker()
    assert "texte" in replies[0].text and "Objet" in replies[-1].text
    replies = await marie.send_location()
    assert "texte" in replies[0].text
    replies = await marie.send("   \u200b   ")
    assert "trop court" in replies[0].text or "valide" in replies[0].text
    assert await _step(bot, marie) is FormStep.SUBJECT
    await marie.send("Un objet correct")
    # Description: too short, too long.
    replies = await marie.send("Trop court")
    assert "trop courte" in replies[0].text
    replies = await marie.send("d" * 3001)
    assert "trop longue (3\u00a0001 caractères)" in replies[0].text
    replies = await marie.send_document()
    assert "texte" in replies[0].text
    await marie.send("Une description suffisamment longue pour être acceptée.")
    # Urgency: buttons expected.
    replies = await marie.send("urgent")
    assert "boutons" in replies[0].text
    await marie.click("Normale")
    # Date: past, impossible, unreadable.
    replies = await marie.send("2020-01-01")
    assert "passée" in replies[0].text
    replies = await marie.send("31/02/2027")
    assert "n'existe pas" in replies[0].text
    replies = await marie.send("demain matin")
    assert "reconnais pas" in replies[0].text
    assert await _step(bot, marie) is FormStep.DATE
    await marie.click("Pas de date")
    # Attachments: text is not a file.
    replies = await marie.send("voici le fichier")
    assert "document ou une photo" in replies[0].text
    for _ in range(5):
        await marie.send_document()
    replies = await marie.send_document()
    assert "maximum" in replies[-1].text
    await marie.click("Continuer")
    async with bot.services.db.read() as conn:
        draft = await drafts.open_draft(conn, marie.id)
    assert draft is not None and draft.step is FormStep.REVIEW and len(draft.attachments) == 5
    # Review: buttons expected.
    replies = await marie.send("ok envoie")
    assert "boutons" in replies[0].text and "Récapitulatif" in replies[-1].text


async def test_edit_from_review_changes_one_field_and_returns(bot: Emulator) -> None:
    marie = await _contact(bot)
    await flows.fill_form(marie)
    replies = await marie.click("Modifier")
    assert "Que voulez-vous modifier" in replies[-1].text
    replies = await marie.click("Objet")
    assert "Valeur actuelle : Révision des règlements généraux" in replies[-1].text
    replies = await marie.send("ab")
    assert "trop court" in replies[0].text
    replies = await marie.send("Nouvel objet de la demande")
    assert "Récapitulatif" in replies[-1].text and "Nouvel objet de la demande" in replies[-1].text
    # Edit the field of expertise, then the urgency, then the date.
    await marie.click("Modifier")
    await marie.click("Domaine d'expertise")
    replies = await marie.click("Ressources humaines")
    assert "Gestion des ressources humaines" in replies[-1].text
    await marie.click("Modifier")
    await marie.click("Date souhaitée")
    replies = await marie.send("2027-01-10")
    assert "10 janvier 2027" in replies[-1].text
    await marie.click("Modifier")
    await marie.click("Pièces jointes")
    await marie.send_document()
    replies = await marie.click("Retirer les pièces jointes")
    assert "Pièces jointes : 0" in replies[-1].text
    # Back to the review without changing anything.
    await marie.click("Modifier")
    replies = await marie.click("Retour au récapitulatif")
    assert "Récapitulatif" in replies[-1].text
    await marie.click("Envoyer")
    async with bot.services.db.read() as conn:
        ticket = await tickets.ticket_by_reference(conn, "CREC-2026-0001")
    assert ticket is not None and ticket.subject == "Nouvel objet de la demande"
    assert ticket.field_id == 2


async def test_cancel_at_every_step(bot: Emulator) -> None:
    marie = await _contact(bot)
    steps: list[Callable[[], Awaitable[object]]] = [
        lambda: marie.click("Services juridiques"),
        lambda: marie.send("Un objet correct"),
        lambda: marie.send("Une description suffisamment longue pour passer."),
        lambda: marie.click("Normale"),
        lambda: marie.click("Pas de date"),
        lambda: marie.click("Continuer"),
    ]
    for done in range(len(steps) + 1):
        await marie.send("/new")
        for step in steps[:done]:
            await step()
        replies = await marie.send("/cancel")
        assert "Demande annulée" in replies[-1].text
        assert await _step(bot, marie) is None
    replies = await marie.send("/cancel")
    assert "rien à annuler" in replies[-1].text
    # And the button on the review cancels too.
    await flows.fill_form(marie)
    replies = await marie.click("Annuler la demande")
    assert "Demande annulée" in replies[-1].text
    async with bot.services.db.read() as conn:
        assert await tickets.count_contact_tickets(conn, marie.id) == 0


async def test_new_resumes_the_draft_in_progress(bot: Emulator) -> None:
    marie = await _contact(bot)
    await marie.send("/new")
    await marie.click("Services juridiques")
    await marie.send("Un objet correct")
    replies = await marie.send("/new")
    assert "on reprend" in replies[0].text and "Description" in replies[-1].text


async def test_stale_form_buttons_are_refused(bot: Emulator) -> None:
    marie = await _contact(bot)
    first = (await marie.send("/new"))[-1]
    await marie.click("Services juridiques", first)
    for forged in (
        "f:send:999",
        "f:urgency:1:urgent",
        "f:goto:1:subject",
        "f:review:1",
        "f:x",
        "f:field:1:99",
        "f:urgency:1:panic",
        "zz:top",
        "",
        "f:" + "9" * 70,
    ):
        await marie.press(forged)
        assert await _step(bot, marie) is FormStep.SUBJECT, forged


async def test_someone_elses_draft_buttons_do_nothing(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    paul = await flows.contact(bot, boss, 2002, "Paul")
    await flows.fill_form(marie)
    await paul.press("f:send:1")
    await paul.press("f:cancel:1")
    assert paul.last_answer and "plus valide" in (paul.last_answer.text or "")
    async with bot.services.db.read() as conn:
        assert await tickets.ticket_by_draft(conn, 1) is None
        draft = await drafts.open_draft(conn, marie.id)
    assert draft is not None and draft.step is FormStep.REVIEW


async def test_leads_and_admins_cannot_use_the_form(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    jean = await flows.lead(bot, boss, 3001, "Jean", "legal")
    for person in (boss, jean):
        replies = await person.send("/new")
        assert "pas accès" in replies[-1].text


async def test_an_old_button_of_the_open_draft_shows_its_current_step(bot: Emulator) -> None:
    marie = await _contact(bot)
    first = (await marie.send("/new"))[-1]
    old_field = first.button("Services juridiques")
    assert old_field is not None
    press = marie.callback(old_field, first)
    await bot.feed(press)
    # The same press comes again, as when the bot is restarted after a crash mid-way: the
    # step was saved, the contact is shown where the draft is, not a dead end.
    await bot.feed(press)
    assert "Objet" in marie.last.text and marie.last.button("✖️ Annuler la demande")
    answer = bot.api.answers[press["callback_query"]["id"]]
    assert "plus valide" not in (answer.text or "") and "étape précédente" in (answer.text or "")
    assert await _step(bot, marie) is FormStep.SUBJECT
    await marie.send("Un objet correct")
    await marie.send("Une description suffisamment longue pour passer.")
    urgency = marie.last
    old_urgency = urgency.button("Critique")
    assert old_urgency is not None
    await marie.click("Normale", urgency)
    await marie.click("Pas de date")
    await marie.click("Continuer sans")
    # At the review, an old button of earlier steps (left on screen): the review again, as is.
    for data, message in ((old_urgency, urgency), (old_field, first)):
        replies = await marie.press(data, message)
        assert "Récapitulatif" in replies[-1].text and "Normale" in replies[-1].text, data
        assert marie.last.button("Envoyer") is not None
    # The old Send of the review, while an edit is under way: the step being edited, no ticket.
    review = marie.last
    old_send = review.button("Envoyer")
    assert old_send is not None
    await marie.click("Modifier")
    await marie.click("Objet")
    replies = await marie.press(old_send, review)
    assert "Objet" in replies[-1].text and "Valeur actuelle" in replies[-1].text
    async with bot.services.db.read() as conn:
        assert await tickets.count_contact_tickets(conn, marie.id) == 0
    replies = await marie.send("Un autre objet correct")
    assert "Récapitulatif" in replies[-1].text and "Un autre objet correct" in replies[-1].text


async def test_a_field_switched_off_before_send_takes_the_contact_back_to_it(
    bot: Emulator,
) -> None:
    boss, marie, jean, luc = await flows.world(bot)
    await flows.file_request(marie)  # an open request: switching the field off is confirmed
    await flows.fill_form(marie, subject="Deuxième demande juridique")
    review = marie.last
    await boss.send("/domain off legal")
    await boss.click("Désactiver quand même")
    seen_by_jean = len(jean.chat)
    replies = await marie.click("Envoyer", review)
    assert "Services juridiques" in replies[0].text and "n'est plus offert" in replies[0].text
    assert "pas été envoyée" in replies[0].text
    assert "Dans quel domaine" in replies[-1].text
    labels = [label for label, _ in replies[-1].buttons]
    assert not any("juridiques" in label for label in labels)
    assert any("ressources humaines" in label for label in labels)
    assert not review.buttons
    async with bot.services.db.read() as conn:
        assert await tickets.count_contact_tickets(conn, marie.id) == 1
        draft = await drafts.open_draft(conn, marie.id)
    assert draft is not None and draft.step is FormStep.FIELD
    assert draft.subject == "Deuxième demande juridique" and draft.urgency is Urgency.URGENT
    assert len(jean.chat) == seen_by_jean
    # Back to the review without another field: the field is asked again.
    replies = await marie.click("Retour au récapitulatif")
    assert "n'est plus offert" in replies[0].text and "Dans quel domaine" in replies[-1].text
    # Another field: back at the review with everything else as it was, then sent.
    replies = await marie.click("Ressources humaines")
    review_text = replies[-1].text
    assert "Récapitulatif" in review_text and "Gestion des ressources humaines" in review_text
    assert "Deuxième demande juridique" in review_text and "Urgente" in review_text
    replies = await marie.click("Envoyer")
    assert "CREC-2026-0002" in replies[-1].text
    async with bot.services.db.read() as conn:
        ticket = await tickets.ticket_by_reference(conn, "CREC-2026-0002")
    assert ticket is not None and ticket.field_id == 2
    assert ticket.subject == "Deuxième demande juridique"
    assert "CREC-2026-0002" in luc.last.text and len(jean.chat) == seen_by_jean


INVISIBLE = [
    "\u200b" * 10,  # zero-width spaces
    "\u200d\u200c" * 5,  # joiners
    "\ufeff" * 6,  # byte-order marks
    "\u2060\u00ad" * 4,  # word joiner, soft hyphen
    "\u200e\u200f\u202a\u202c\u2066\u2069" * 2,  # bidi marks and isolates
    "\ufe0f\ufe0e\U000e0100" * 3,  # variation selectors
    "\u3000\u2007\u00a0\u205f" * 3,  # spaces
    "\u3164\u2800\u115f" * 3,  # a Hangul filler, the blank Braille pattern
    "\U000e0041\U000e0042\u180e" * 3,  # tags, Mongolian vowel separator
    "abc\u200b\u200b\u200b\u200b",  # three visible characters
]


async def test_a_text_of_invisible_characters_is_not_a_subject_or_a_description(
    bot: Emulator,
) -> None:
    marie = await _contact(bot)
    await marie.send("/new")
    await marie.click("Services juridiques")
    for text in INVISIBLE:
        replies = await marie.send(text)
        assert "trop court" in replies[0].text and "Objet" in replies[-1].text, ascii(text)
    assert await _step(bot, marie) is FormStep.SUBJECT
    await marie.send("Un objet \u200bcorrect")
    for text in INVISIBLE:
        replies = await marie.send(text * 3)
        assert "trop courte" in replies[0].text, ascii(text)
    replies = await marie.send("Courte \u200b" * 3)  # 18 visible characters
    assert "trop courte" in replies[0].text
    assert await _step(bot, marie) is FormStep.DESCRIPTION
    # Accents, emoji and joined emoji count as what they look like.
    await marie.send("Révision des règlements 👨\u200d👩\u200d👧 ❤\ufe0f, e\u0301te\u0301")
    async with bot.services.db.read() as conn:
        draft = await drafts.open_draft(conn, marie.id)
    assert draft is not None and draft.step is FormStep.URGENCY
