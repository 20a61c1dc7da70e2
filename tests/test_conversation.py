"""The conversation on a ticket: relayed both ways, kept, limited, private."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.rules.durations import MAX_MINUTES, BadDuration, format_duration, parse_duration
from bot.tools.emulator import Emulator, Person
from storage import conversation, tickets
from tests import flows


async def _taken(bot: Emulator) -> tuple[Person, Person, Person, Person, str]:
    boss, marie, jean, luc = await flows.world(bot)
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    return boss, marie, jean, luc, reference


async def _messages(bot: Emulator) -> list[tuple[int, str | None]]:
    async with bot.services.db.read() as conn:
        return [(m.author_id, m.body) for m in await conversation.ticket_messages(conn, 1)]


async def test_both_ways_with_reply_buttons_and_telegram_replies(bot: Emulator) -> None:
    _, marie, jean, luc, reference = await _taken(bot)
    await marie.send(f"/ticket {reference}")
    await marie.click("Répondre")
    replies = await marie.send("Bonjour, une précision sur notre demande.")
    assert "Transmis" in replies[-1].text
    assert reference in jean.last.text and "une précision" in jean.last.text
    # Jean answers by replying (Telegram's reply) to the relayed message, with a photo.
    await jean.send_photo(caption="Voir la capture", reply_to=jean.last)
    assert marie.last.kind == "photo" and "Voir la capture" in marie.last.text
    assert reference in marie.last.text
    # Luc, a lead of the field who does not hold it, saw none of it.
    assert not any("une précision" in text for text in luc.texts())
    assert await _messages(bot) == [
        (marie.id, "Bonjour, une précision sur notre demande."),
        (jean.id, "Voir la capture"),
    ]
    # The conversation is the ticket's last activity, in /mytickets.
    bot.services.clock.advance(hours=3)
    await jean.send("Et une dernière chose.", reply_to=jean.chat[-2])
    async with bot.services.db.read() as conn:
        ticket = await tickets.get_ticket(conn, 1)
    assert ticket is not None and ticket.updated_at == bot.services.clock.now()


async def test_message_to_an_unassigned_ticket_reaches_the_field_leads(bot: Emulator) -> None:
    _, marie, jean, luc = await flows.world(bot)
    reference = await flows.file_request(marie)
    await marie.send(f"/ticket {reference}")
    await marie.click("Écrire un message")
    await marie.send("Petite précision avant que quelqu'un la prenne.")
    assert "Petite précision" in jean.last.text and "Petite précision" in luc.last.text


async def test_limits_are_stated(bot: Emulator) -> None:
    _, marie, jean, _, _ = await _taken(bot)
    await jean.click("Poser une question")
    replies = await jean.send("x" * 4096)
    assert "(4\xa0096 caractères) : Telegram limite un message à 4\xa0096" in replies[-1].text
    replies = await jean.send_document(caption="c" * 1024)
    assert "1\xa0024 caractères" in replies[-1].text
    replies = await jean.send_sticker()
    assert "texte, un document ou une photo" in replies[-1].text
    # Still waiting for the question: a right one goes through.
    await jean.send("Une question de la bonne longueur?")
    assert "bonne longueur" in marie.last.text
    assert await _messages(bot) == [(jean.id, "Une question de la bonne longueur?")]


async def test_edits_are_relayed_as_edits(bot: Emulator) -> None:
    _, marie, jean, _, _ = await _taken(bot)
    await jean.click("Poser une question")
    await jean.send("Avez-vous le budget 2025?")
    relayed = marie.last
    await jean.edit("Avez-vous le budget 2026?")
    assert relayed.edits == 1 and "budget 2026" in relayed.text and "(modifié)" in relayed.text
    assert await _messages(bot) == [(jean.id, "Avez-vous le budget 2026?")]
    # Editing a message that was never relayed does nothing.
    await marie.send("/mytickets")
    assert await marie.edit("/mytickets bis") == []


async def test_the_same_update_twice_relays_once(bot: Emulator) -> None:
    _, marie, jean, _, _ = await _taken(bot)
    await jean.click("Poser une question")
    await jean.send("Question unique?")
    question = jean.written[-1]
    # Telegram delivers the same message again (same chat, same message id).
    await jean.click("Poser une question")
    await bot.feed({"message": question})
    assert sum("Question unique?" in text for text in marie.texts()) == 1
    assert len(await _messages(bot)) == 1


async def test_outsiders_cannot_write_or_read(bot: Emulator) -> None:
    boss, marie, jean, luc, _ = await _taken(bot)
    paul = await flows.contact(bot, boss, 2002, "Paul")
    for person in (paul, luc):
        await person.press("t:reply:1")
        assert (person.last_answer and "pas accès" in (person.last_answer.text or "")) or (
            person.last_answer and "plus valide" in (person.last_answer.text or "")
        )
        await person.send("Je m'immisce dans cette demande.")
    # Paul replies (Telegram reply) to a message of his own chat that is not about ticket 1.
    await paul.send("Toujours rien", reply_to=paul.chat[-1])
    assert not any("immisce" in text or "Toujours rien" in text for text in marie.texts())
    assert not any("immisce" in text for text in jean.texts())
    assert await _messages(bot) == []


async def test_closed_ticket_takes_no_more_messages(bot: Emulator) -> None:
    _, marie, jean, _, _ = await _taken(bot)
    await jean.click("Poser une question")
    await jean.send("Une question?")
    relayed = marie.last
    await jean.click("Résoudre", jean.find_button("Résoudre")[0])
    await jean.send("Résolu.")
    await marie.click("C'est réglé")
    replies = await marie.send("Encore une chose", reply_to=relayed)
    assert "fermée" in replies[-1].text
    assert not any("Encore une chose" in text for text in jean.texts())


async def test_cancel_stops_waiting_for_input(bot: Emulator) -> None:
    _, _, jean, _, _ = await _taken(bot)
    await jean.click("Poser une question")
    assert "annulé" in (await jean.send("/cancel"))[-1].text
    replies = await jean.send("Ceci n'est plus une question")
    assert "n'attends pas de message" in replies[-1].text
    assert await _messages(bot) == []


async def test_log_command_and_button_refuse_bad_durations(bot: Emulator) -> None:
    boss, marie, jean, luc, reference = await _taken(bot)
    for typed in ("0h", "-1h", "25h", "beaucoup", "90"):
        replies = await jean.send(f"/log {reference} {typed}")
        assert "consigné" not in replies[-1].text, typed
    assert "Syntaxe" in (await jean.send("/log"))[-1].text
    assert "Syntaxe" in (await jean.send(f"/log {reference}"))[-1].text
    assert "Aucune demande" in (await jean.send("/log CREC-2026-0999 1h"))[-1].text
    # Luc is a lead of the field but does not hold the ticket; a contact may not log.
    assert "pas accès" in (await luc.send(f"/log {reference} 1h"))[-1].text
    assert "pas accès" in (await marie.send(f"/log {reference} 1h"))[-1].text
    replies = await jean.send(f"/log {reference} 1 h 30 relecture du contrat")
    assert "consigné sur CREC-2026-0001 : 1 h 30." in replies[-1].text
    await boss.send(f"/log {reference} 2h")
    async with bot.services.db.read() as conn:
        entries = await conversation.time_entries(conn, 1)
    assert [(e.lead_id, e.minutes, e.note) for e in entries] == [
        (jean.id, 90, "relecture du contrat"),
        (boss.id, 120, None),
    ]


async def test_time_keeps_the_rate_of_the_day(bot: Emulator) -> None:
    _, _, jean, _, reference = await _taken(bot)
    async with bot.services.db.transaction() as conn:
        await conn.execute("UPDATE expertise_fields SET hourly_rate_cents = 9500 WHERE id = 1")
    await jean.send(f"/log {reference} 1h")
    async with bot.services.db.transaction() as conn:
        await conn.execute("UPDATE expertise_fields SET hourly_rate_cents = 12000 WHERE id = 1")
    await jean.send(f"/log {reference} 1h")
    async with bot.services.db.read() as conn:
        rates = [e.hourly_rate_cents for e in await conversation.time_entries(conn, 1)]
        ticket = await tickets.get_ticket(conn, 1)
    assert rates == [9500, 12000] and ticket is not None


@given(st.integers(min_value=1, max_value=MAX_MINUTES))
def test_durations_round_trip(minutes: int) -> None:
    hours, rest = divmod(minutes, 60)
    assert parse_duration(f"{hours}h{rest:02d}") == minutes
    assert parse_duration(f"{minutes}m") == minutes
    for language in ("fr", "en"):  # what the bot shows reads back as what was logged
        assert parse_duration(format_duration(minutes, language).replace(" ", "")) == minutes


@given(st.text(max_size=20))
def test_any_text_is_a_duration_in_range_or_refused(text: str) -> None:
    try:
        minutes = parse_duration(text)
    except BadDuration as bad:
        assert bad.problem in {"unreadable", "zero", "negative", "too_long"}
    else:
        assert 0 < minutes <= MAX_MINUTES


def test_durations_people_write() -> None:
    cases = {
        "1h30": 90,
        "45m": 45,
        "2h": 120,
        "1,5 h": 90,
        "1.25h": 75,
        "0h45": 45,
        "1 h 30 min": 90,
        "2 heures": 120,
        "30 minutes": 30,
        "24h": 1440,
    }
    for typed, minutes in cases.items():
        assert parse_duration(typed) == minutes, typed
    for typed, problem in {
        "0h": "zero",
        "-2h": "negative",
        "24h01": "too_long",
        "90": "unreadable",
        "1h75": "unreadable",
        "": "unreadable",
        "h": "unreadable",
    }.items():
        try:
            parse_duration(typed)
        except BadDuration as bad:
            assert bad.problem == problem, typed
        else:
            raise AssertionError(typed)


async def test_a_file_after_a_text_reaches_the_same_ticket(bot: Emulator) -> None:
    _, marie, jean, luc, reference = await _taken(bot)
    await jean.click("Poser une question")
    await jean.send("Pouvez-vous nous envoyer vos statuts?")
    # The lead's document right after his text: to the contact, on the same ticket.
    replies = await jean.send_document("grille.pdf", caption="La grille à remplir")
    assert "Transmis" in replies[-1].text and reference in replies[-1].text
    assert marie.last.kind == "document" and reference in marie.last.text
    # The contact answers with a text (Reply), then sends the document and a photo on its own.
    await marie.click("Répondre", marie.chat[-2])
    await marie.send("Oui, les voici.")
    replies = await marie.send_document("statuts.pdf")
    assert "Transmis" in replies[-1].text and reference in replies[-1].text
    assert jean.last.kind == "document" and reference in jean.last.text
    await marie.send_photo(caption="Et la page signée")
    assert jean.last.kind == "photo" and "page signée" in jean.last.text
    # A Telegram reply to her own message of the ticket reaches it too.
    answered = next(m for m in marie.written if m.get("text") == "Oui, les voici.")
    file_id, unique = bot.api.new_file_id("doc")
    document = {"file_id": file_id, "file_unique_id": unique, "file_name": "annexe.pdf"}
    await bot.feed({"message": marie._message(document=document, reply_to_message=answered)})
    assert jean.last.kind == "document" and jean.last.file_id == file_id
    assert not any(m.file_id == file_id for m in luc.chat)
    async with bot.services.db.read() as conn:
        kept = await conversation.ticket_messages(conn, 1)
    assert [(m.kind, m.file_name) for m in kept] == [
        ("text", None),
        ("document", "grille.pdf"),
        ("text", None),
        ("document", "statuts.pdf"),
        ("photo", None),
        ("document", "annexe.pdf"),
    ]


async def test_a_file_goes_to_the_form_or_nowhere_when_the_ticket_is_not_being_written(
    bot: Emulator,
) -> None:
    _, marie, jean, _, reference = await _taken(bot)
    await marie.send(f"/ticket {reference}")
    await marie.click("Répondre")
    await marie.send("Une précision.")
    # A request form started since: at the attachments step, the file is an attachment.
    await marie.send("/new")
    await marie.click("Ressources humaines")
    await marie.send("Un objet correct")
    await marie.send("Une description suffisamment longue pour passer.")
    await marie.click("Normale")
    await marie.click("Pas de date")
    replies = await marie.send_document("cv.pdf")
    assert "Fichier reçu (1/5)" in replies[-1].text
    assert not any(m.kind == "document" for m in jean.chat)
    await marie.send("/cancel")
    # Once the ticket is closed, a file is not for it.
    await jean.click("Résoudre", jean.find_button("Résoudre")[0])
    await jean.send("Résolu.")
    await marie.click("C'est réglé")
    replies = await marie.send_document("tard.pdf")
    assert "/new" in replies[-1].text
    assert len(await _messages(bot)) == 1
    assert not any(m.kind == "document" for m in jean.chat)


async def test_a_blank_note_is_asked_again(bot: Emulator) -> None:
    _, marie, jean, _, reference = await _taken(bot)
    await jean.click("Résoudre", jean.find_button("Résoudre")[0])
    for blank in ("\u200b\u200b\u200b", "\u2060\ufeff\u00ad", "\u200e \u3164"):
        replies = await jean.send(blank)
        assert "résolution" in replies[-1].text and reference in replies[-1].text
    async with bot.services.db.read() as conn:
        ticket = await tickets.get_ticket(conn, 1)
    assert ticket is not None and ticket.status.value == "assigned"
    await jean.send("Réglé avec le conseil.")
    assert "Réglé avec le conseil" in marie.last.text
