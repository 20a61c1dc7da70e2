"""The request form, step by step, with every kind of wrong input."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.emulator import Emulator, Person
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
    assert "trop longue (3001 caractères)" in replies[0].text
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
    # Pressing a field again on the old question (its buttons are gone; forge the press).
    replies = await marie.press("f:field:1:3", first)
    assert replies == [] and marie.last_answer and "plus valide" in (marie.last_answer.text or "")
    assert await _step(bot, marie) is FormStep.SUBJECT
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
