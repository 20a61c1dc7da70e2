"""Requests across several fields (issue 15, part 2): at the review the contact adds other
fields; Send files one ticket per field, in one transaction, linked as one request; every card
shows the other parts; /mytickets shows one request, done once every part is resolved; each
part is billed at its own field's rate."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bot import tickets as bot_tickets
from bot.tools.emulator import Emulator, Person
from storage import people
from tests import admin_helpers as h
from tests import flows
from tests.sheets import minutes, table
from tests.test_statements import words

LEGAL, HR, EVENTS = "Services juridiques", "Gestion des ressources humaines", "Organisation"


async def _three_leads(bot: Emulator) -> tuple[Person, Person, list[Person]]:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    jean = await flows.lead(bot, boss, 3001, "Jean", "legal")
    luc = await flows.lead(bot, boss, 3002, "Luc", "hr")
    sophie = await flows.lead(bot, boss, 3003, "Sophie", "events")
    return boss, marie, [jean, luc, sophie]


async def _pick_two(marie: Person) -> None:
    """At the review: « Ce besoin touche aussi… » → human resources and events → back."""
    await flows.fill_form(marie, subject="Congrès annuel 2027")
    picker = (await marie.click("Ce besoin touche aussi"))[-1]
    assert "Quels autres domaines" in picker.text
    labels = [label for label, _ in picker.buttons]
    assert LEGAL not in " ".join(labels)  # the request's own field is not offered again
    await marie.click(HR)
    assert f"✅ {HR}" in [label for label, _ in marie.chat[-1].buttons]
    await marie.click(EVENTS)
    await marie.click("Marketing")  # picked…
    await marie.click("Marketing")  # …and unpicked
    review = (await marie.click("Revenir au récapitulatif"))[-1]
    assert f"Touche aussi : {HR}, Organisation d'événements" in review.text
    assert "Marketing" not in review.text


async def test_a_request_in_three_fields(bot: Emulator) -> None:
    boss, marie, leads = await _three_leads(bot)
    await _pick_two(marie)
    send = marie.find_button("Envoyer")
    sent = (await marie.click("Envoyer"))[-1]
    assert sent.text.split("\n") == [
        "✅ Demande envoyée en 3 volets :",
        f"  • CREC-2026-0001 · {LEGAL}",
        f"  • CREC-2026-0002 · {HR}",
        "  • CREC-2026-0003 · Organisation d'événements",
        "La personne responsable de chaque domaine en est avisée. Chaque étape vous sera"
        " signalée ici. Suivi : /mytickets",
    ]
    # A second press of Send (the old button) files nothing more.
    await marie.press(send[1], send[0])
    assert marie.last_answer is not None and "déjà envoyée" in (marie.last_answer.text or "")
    rows = await h.rows(
        bot,
        "SELECT t.reference, f.code, t.draft_id IS NOT NULL, p.request_id FROM tickets t"
        " JOIN expertise_fields f ON f.id = t.field_id"
        " JOIN ticket_parts p ON p.ticket_id = t.id ORDER BY t.id",
    )
    assert rows == [
        ("CREC-2026-0001", "legal", 1, 1),
        ("CREC-2026-0002", "hr", 0, 1),
        ("CREC-2026-0003", "events", 0, 1),
    ]
    await bot.deliver()
    # Each lead is offered their own part, and reads the others on the card.
    for lead, reference in zip(leads, ["0001", "0002", "0003"], strict=True):
        offers = [m for m in lead.chat if "CREC-2026-" in m.text and m.button("Prendre")]
        assert len(offers) == 1, lead.first_name
        card = offers[0].text
        assert card.startswith(f"📋 CREC-2026-{reference}")
        assert "🧩 Demande en 3 volets :" in card
        others = [f"CREC-2026-{n}" for n in ["0001", "0002", "0003"] if n != reference]
        assert all(f"{o} · " in card for o in others)
    # Each lead takes their part; the contact sees one request.
    for lead in leads:
        await lead.click("Prendre")
    mine = (await marie.send("/mytickets"))[-1].text
    assert "Vos demandes (1)" in mine
    assert "CREC-2026-0001 · demande en 3 volets" in mine
    assert "0 volet sur 3 terminé. Encore en cours :" in mine
    # A lead's /ticket shows who holds the other parts.
    card = (await leads[0].send("/ticket CREC-2026-0001"))[-1].text
    assert f"CREC-2026-0002 · {HR} — " in card and "(Luc" in card

    # Billing: each part at its own field's rate.
    await boss.send("/domain rate legal 95")
    await boss.send("/domain rate hr 80")
    await boss.send("/domain rate events 60")
    ids = [r[0] for r in await h.rows(bot, "SELECT id FROM tickets ORDER BY id")]
    for ticket, lead in zip(ids, leads, strict=True):
        await h.log_time(
            bot, ticket=ticket, lead=lead.id, work_date=date(2026, 11, 25), minutes=60
        )
    book = h.workbook_of(bot.api, (await boss.send("/billing 2026-11"))[-1])
    rows_ = table(book["Sommaire"])
    start = next(i for i, row in enumerate(rows_) if row and row[0] == "Par domaine") + 2
    by_field = {r[1]: (minutes(r[3]), Decimal(str(r[4]))) for r in rows_[start : start + 3]}
    assert by_field == {
        LEGAL: (60, Decimal("95")),
        HR: (60, Decimal("80")),
        "Organisation d'événements": (60, Decimal("60")),
    }

    # The federation's statement (PDF): each part on its line, at its field's rate.
    [pdf] = [m for m in await boss.send("/statement cqch 2026-11") if m.kind == "document"]
    text = words(pdf.content or b"")
    for line in (
        "CREC-2026-0001 Jean 1 h 95,00 $ 95,00 $",
        "CREC-2026-0002 Luc 1 h 80,00 $ 80,00 $",
        "CREC-2026-0003 Sophie 1 h 60,00 $ 60,00 $",
        "Total du mois : 235,00 $",
    ):
        assert line in text, text

    # Resolved one by one: the request reads as done once every part is.
    async with bot.services.db.transaction() as conn:
        await conn.execute("UPDATE tickets SET status = 'resolved' WHERE id IN (?, ?)", ids[:2])
    card = (await marie.send("/ticket CREC-2026-0001"))[-1].text
    assert "2 volets sur 3 terminés. Encore en cours : Organisation d'événements" in card
    async with bot.services.db.transaction() as conn:
        await conn.execute("UPDATE tickets SET status = 'closed' WHERE id = ?", (ids[2],))
    mine = (await marie.send("/mytickets"))[-1].text
    assert "✅ Demande terminée : chacun de ses volets est résolu." in mine


async def test_the_picker_refuses_forged_and_stale_presses(bot: Emulator) -> None:
    boss, marie, leads = await _three_leads(bot)
    await flows.fill_form(marie)
    await marie.click("Ce besoin touche aussi")
    draft = (await h.rows(bot, "SELECT id FROM drafts"))[0][0]
    legal, hr = await h.field_id(bot, "legal"), await h.field_id(bot, "hr")
    await boss.send("/domain off web")
    web = await h.field_id(bot, "web")
    for data in (
        f"p:tog:{draft}:{legal}",  # its own field
        f"p:tog:{draft}:{web}",  # an inactive field
        f"p:tog:{draft}:9999",  # no such field
        f"p:tog:{draft + 1}:{hr}",  # another draft
        f"p:tog:{draft}",
        f"p:zap:{draft}",
    ):
        await marie.press(data)
        assert marie.last_answer is not None and marie.last_answer.show_alert, data
    assert await h.rows(bot, "SELECT * FROM draft_fields") == []
    # Someone else (a lead) pressing the contact's button changes nothing.
    await leads[0].press(f"p:tog:{draft}:{hr}")
    assert await h.rows(bot, "SELECT * FROM draft_fields") == []
    # Once sent (a single field), the picker's buttons are stale.
    await marie.click("Revenir au récapitulatif")
    await marie.click("Envoyer")
    await marie.press(f"p:tog:{draft}:{hr}")
    assert marie.last_answer is not None and "plus possible" in (marie.last_answer.text or "")
    assert await h.rows(bot, "SELECT COUNT(*) FROM tickets") == [(1,)]
    assert await h.rows(bot, "SELECT COUNT(*) FROM ticket_parts") == [(0,)]


async def test_in_english(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    anna = await flows.contact(bot, boss, 2005, "Anna", language_code="en")
    await flows.lead(bot, boss, 3001, "Jean", "legal")
    await anna.send("/new")
    await anna.click("Legal services")
    await anna.send("Annual congress 2027")
    await anna.send("We need legal advice and event organisation for our congress in May.")
    await anna.click("Urgent")
    await anna.click("No desired date")
    await anna.click("Continue without")
    await anna.click("This need also involves")
    await anna.click("Event organization")
    review = (await anna.click("Back to the summary"))[-1]
    assert "Also involves: Event organization" in review.text
    sent = (await anna.click("Send"))[-1]
    assert sent.text.startswith("✅ Request sent in 2 parts:")
    mine = (await anna.send("/mytickets"))[-1].text
    assert "request in 2 parts" in mine and "0 of 2 parts done. Still in progress:" in mine


async def test_a_message_reaches_the_part_it_is_for(bot: Emulator) -> None:
    _, marie, leads = await _three_leads(bot)
    await _pick_two(marie)
    await marie.click("Envoyer")
    await bot.deliver()
    jean, luc, sophie = leads
    await luc.click("Prendre")
    await luc.click("Poser une question")
    await luc.send("Combien de personnes embauchez-vous pour le congrès ?")
    await bot.deliver()
    question = next(m for m in reversed(marie.chat) if "Combien de personnes" in m.text)
    # A Telegram reply to part 0002's message goes to its lead only.
    await marie.send("Trois personnes à temps partiel.", reply_to=question)
    await bot.deliver()
    assert any("Trois personnes" in m.text for m in luc.chat)
    assert not any("Trois personnes" in m.text for m in jean.chat + sophie.chat)
    # A plain message while three parts are open: which part is it for?
    asked = (await marie.send("Le congrès aura lieu à Québec."))[-1]
    assert "lequel des volets" in asked.text
    assert [label for label, _ in asked.buttons] == [
        f"✉️ CREC-2026-0001 · {LEGAL}",
        f"✉️ CREC-2026-0002 · {HR}",
        "✉️ CREC-2026-0003 · Organisation d'événements",
    ]
    _, data = marie.find_button("CREC-2026-0003")
    assert "Transmis (CREC-2026-0003)" in (await marie.click("CREC-2026-0003"))[-1].text
    await bot.deliver()
    assert any("lieu à Québec" in m.text for m in sophie.chat)
    assert not any("lieu à Québec" in m.text for m in jean.chat + luc.chat)
    # Pressed again, or forged for someone else's message: nothing more is sent.
    await marie.press(data, asked)
    assert marie.last_answer is not None and marie.last_answer.show_alert
    await marie.send("Autre précision.")
    await marie.press("p:to:9999:1")
    assert marie.last_answer is not None and marie.last_answer.show_alert
    assert (await h.rows(bot, "SELECT COUNT(*) FROM ticket_messages WHERE ticket_id = 3")) == [
        (1,)
    ]


async def test_a_lead_adds_a_part_in_another_field(bot: Emulator) -> None:
    _, marie, leads = await _three_leads(bot)
    jean, luc, _ = leads
    reference = await flows.file_request(marie)  # legal only
    await bot.deliver()
    # Not taken yet: no « Ajouter un domaine »; forged, it is refused.
    assert jean.find_button("Prendre")[0].button("Ajouter un domaine") is None
    await jean.press("p:add:1")
    assert jean.last_answer is not None and jean.last_answer.show_alert
    await jean.click("Prendre")
    await jean.send(f"/ticket {reference}")
    await jean.click("Ajouter un domaine")
    picker = jean.last
    assert "Services juridiques" not in [label for label, _ in picker.buttons]
    # Someone else (another lead, the contact) cannot add a part to Jean's ticket.
    hr = await h.field_id(bot, "hr")
    await luc.press(f"p:fld:1:{hr}")
    assert luc.last_answer is not None and luc.last_answer.show_alert
    await marie.press(f"p:fld:1:{hr}")
    assert marie.last_answer is not None and marie.last_answer.show_alert
    hr_button = picker.button(HR)
    assert hr_button is not None
    await jean.press(hr_button, picker)
    assert "décrivez ce qu'il faut y faire" in jean.last.text
    assert "trop courte" in (await jean.send("Paie"))[-1].text
    note = "Revoir les contrats des personnes embauchées pour le congrès."
    added = (await jean.send(note))[-1].text
    assert "Volet ajouté : CREC-2026-0002 · Gestion des ressources humaines" in added
    await bot.deliver()
    offer = next(m for m in luc.chat if m.button("Prendre"))
    assert offer.text.startswith("📋 CREC-2026-0002") and note in offer.text
    assert "Volet ajouté par Jean" in offer.text and "CREC-2026-0001 · Services" in offer.text
    assert any(
        "s'ajoute à votre demande CREC-2026-0001 : CREC-2026-0002" in m.text for m in marie.chat
    )
    # The same field again (a stale picker) adds nothing.
    await jean.press(hr_button, picker)
    assert jean.last_answer is not None and "déjà un volet" in (jean.last_answer.text or "")
    assert await h.rows(bot, "SELECT ticket_id, request_id, added_by FROM ticket_parts") == [
        (1, 1, None),
        (2, 1, jean.id),
    ]
    mine = (await marie.send("/mytickets"))[-1].text
    assert "Vos demandes (1)" in mine and "demande en 2 volets" in mine


async def test_send_is_all_or_nothing_and_once(
    bot: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash while filing the third part leaves nothing filed (the draft stays open, Send
    works again); two Sends at once file one set."""
    _, marie, _ = await _three_leads(bot)
    await _pick_two(marie)
    calls = 0
    real = bot_tickets.announce_new_ticket

    async def crashing(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("crash while filing")
        await real(*args, **kwargs)

    monkeypatch.setattr(bot_tickets, "announce_new_ticket", crashing)
    await marie.click("Envoyer")
    assert await h.rows(bot, "SELECT COUNT(*) FROM tickets") == [(0,)]
    assert await h.rows(bot, "SELECT COUNT(*) FROM ticket_parts") == [(0,)]
    assert await h.rows(bot, "SELECT COUNT(*) FROM outbox WHERE ticket_id IS NOT NULL") == [(0,)]
    monkeypatch.setattr(bot_tickets, "announce_new_ticket", real)
    async with bot.services.db.read() as conn:
        user = await people.get_user(conn, marie.id)
    draft = (await h.rows(bot, "SELECT id FROM drafts WHERE status = 'open'"))[0][0]
    assert user is not None
    first, second = await asyncio.gather(
        bot_tickets.file_draft(bot.services, user, draft),
        bot_tickets.file_draft(bot.services, user, draft),
    )
    assert first is not None and second is not None
    assert sorted([first.created, second.created]) == [False, True]
    assert await h.rows(bot, "SELECT COUNT(*) FROM tickets") == [(3,)]
    assert await h.rows(bot, "SELECT COUNT(*) FROM ticket_parts") == [(3,)]
