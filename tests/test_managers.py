"""Federation managers (issue 14, 1): made by an invite or by /role, listed by /users and
/federation; they file requests like any contact, see every request of their federation (read
only), and nothing of another federation's."""

from __future__ import annotations

from bot.tools.emulator import Emulator, Person
from bot.ui.commands import menu
from storage import people, tickets
from storage.models import Role, TicketStatus
from tests import flows

UNKNOWN = "Aucune demande {} parmi celles que vous pouvez voir."


async def _manager(
    bot: Emulator,
    boss: Person,
    user_id: int,
    name: str,
    code: str = "CQCH",
    word: str = "gestionnaire",
) -> Person:
    """A manager of `code`, registered through `/invite CODE gestionnaire`."""
    replies = await boss.send(f"/invite {code} {word}")
    person = bot.person(user_id, name, last_name="Roy")
    await person.send(f"/start {flows.token_in(replies[-1].text)}")
    return person


async def _is_manager(bot: Emulator, user_id: int) -> bool:
    async with bot.services.db.read() as conn:
        user = await people.get_user(conn, user_id)
    assert user is not None
    return user.manager


async def test_a_managers_invite(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    replies = await boss.send("/invite CQCH gestionnaire")
    assert "gestionnaire" in replies[-1].text and "CQCH" in replies[-1].text
    assert "gestionnaire de CQCH" in (await boss.send("/invites"))[-1].text
    assert "Syntaxe" in (await boss.send("/invite CQCH trésorière"))[-1].text
    gisele = bot.person(2003, "Gisèle", last_name="Roy")
    welcome = await gisele.send(f"/start {flows.token_in(replies[-1].text)}")
    assert "gestionnaire de CQCH" in welcome[-1].text
    assert await _is_manager(bot, gisele.id)
    assert "Gisèle Roy a rejoint le bot comme gestionnaire de CQCH" in boss.last.text
    assert bot.api.commands[f"chat:{gisele.id}:"] == menu(Role.CONTACT, "fr", manager=True)
    # In English, and the plain contact's invite still makes a plain contact.
    roger = await _manager(bot, boss, 2004, "Roger", word="Manager")
    assert await _is_manager(bot, roger.id)
    marie = await flows.contact(bot, boss)
    assert not await _is_manager(bot, marie.id)
    # /help says what a manager may do beyond a contact; a contact's does not.
    assert "Toute la fédération" in (await gisele.send("/help"))[-1].text
    assert "Toute la fédération" not in (await marie.send("/help"))[-1].text


async def test_role_makes_a_manager_and_a_later_role_drops_it(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    await flows.federation(boss, "FQM")
    marie = await flows.contact(bot, boss)
    paul = await flows.contact(bot, boss, 2002, "Paul")
    assert "Aucune personne gestionnaire" in (await boss.send("/federation CQCH"))[-1].text
    assert "fédération" in (await boss.send(f"/role {paul.id} gestionnaire"))[-1].text
    assert not await _is_manager(bot, paul.id)

    done = await boss.send(f"/role {paul.id} gestionnaire CQCH")
    assert "Paul Tremblay est maintenant gestionnaire (CQCH)" in done[-1].text
    assert await _is_manager(bot, paul.id)
    assert "gestionnaire" in paul.last.text  # told of the new role
    assert bot.api.commands[f"chat:{paul.id}:"] == menu(Role.CONTACT, "fr", manager=True)
    for word in ("gestionnaires", "managers", "Gestionnaire"):
        listed = (await boss.send(f"/users {word}"))[-1].text
        assert "Paul Tremblay" in listed and "gestionnaire" in listed, word
        assert "Marie" not in listed, word
    card = (await boss.send("/federation CQCH"))[-1].text
    assert "1 gestionnaire" in card and "Paul Tremblay" in card and str(paul.id) in card
    assert "Paul" not in (await boss.send("/federation FQM"))[-1].text

    # Named a plain contact again (or moved to another federation): no longer a manager.
    await boss.send(f"/role {paul.id} contact CQCH")
    assert not await _is_manager(bot, paul.id)
    assert "Aucune personne (gestionnaires)" in (await boss.send("/users gestionnaires"))[-1].text
    assert "Aucune personne gestionnaire" in (await boss.send("/federation CQCH"))[-1].text
    await boss.send(f"/role {marie.id} manager CQCH")
    await boss.send(f"/role {marie.id} contact FQM")
    assert not await _is_manager(bot, marie.id)


async def _two_federations(bot: Emulator) -> tuple[Person, Person, Person, Person, Person, str]:
    """CQCH with Marie (who filed a request), Paul and their manager Gisèle; FQM with its
    manager Roger. The request's reference last."""
    boss, marie, jean, _ = await flows.world(bot)
    await flows.federation(boss, "FQM")
    paul = await flows.contact(bot, boss, 2002, "Paul")
    gisele = await _manager(bot, boss, 2003, "Gisèle")
    roger = await _manager(bot, boss, 2004, "Roger", code="FQM")
    reference = await flows.file_request(marie)
    await jean.click("Prendre")
    return marie, paul, gisele, roger, jean, reference


async def test_a_manager_sees_every_request_of_the_federation_read_only(bot: Emulator) -> None:
    _, paul, gisele, roger, _, reference = await _two_federations(bot)
    own = await flows.file_request(gisele, subject="Organisation du congrès annuel")

    listed = (await gisele.send("/mytickets"))[-1]
    assert own in listed.text and reference not in listed.text  # their own, as a contact's
    whole = (await gisele.click("Toute la fédération"))[-1].text
    assert reference in whole and own in whole
    assert "Marie Tremblay" in whole and "Gisèle Roy" in whole  # who filed each

    # Someone else's request: the card and its history, with no button to act on it.
    card = (await gisele.send(f"/ticket {reference}"))[-1]
    assert "Demande de : Marie Tremblay" in card.text
    assert [label for label, _ in card.buttons] == ["📜 Historique"]
    history = (await gisele.click("Historique", card))[-1].text
    assert reference in history and "Jean" in history
    # Their own request keeps the contact's buttons.
    mine = (await gisele.send(f"/ticket {own}"))[-1]
    assert mine.button("Annuler ma demande") and mine.button("Écrire un message")

    # Another federation's manager, and a plain contact, see none of it: as if it did not exist.
    for person in (roger, paul):
        answer = (await person.send(f"/ticket {reference}"))[-1].text
        assert answer == UNKNOWN.format(reference), person.first_name
        await person.press("t:hist:1")
        assert person.last_answer is not None and "plus valide" in (person.last_answer.text or "")
    await roger.send("/mytickets")
    roger_list = (await roger.click("Toute la fédération"))[-1].text
    assert reference not in roger_list and "aucune demande" in roger_list
    # A plain contact has no such button, and pressing a forged one shows nothing.
    assert (await paul.send("/mytickets"))[-1].button("Toute la fédération") is None
    before = len(paul.chat)
    await paul.press("m:fed:0")
    assert len(paul.chat) == before
    assert paul.last_answer is not None and "pas accès" in (paul.last_answer.text or "")


async def test_a_managers_forged_presses_on_someone_elses_request_change_nothing(
    bot: Emulator,
) -> None:
    marie, _, gisele, roger, jean, _ = await _two_federations(bot)
    presses = [
        "t:cancel:1",
        "t:cancelok:1",
        "t:reply:1",
        "t:start:1",
        "t:ask:1",
        "t:resolve:1",
        "t:time:1",
        "t:reassign:1",
        f"t:to:1:{jean.id}",
        "t:take:1",
        "t:confirm:1",
        "t:reopen:1",
        "t:rate:1:5",
    ]
    for status in (TicketStatus.IN_PROGRESS, TicketStatus.WAITING, TicketStatus.RESOLVED):
        async with bot.services.db.transaction() as conn:
            await conn.execute("UPDATE tickets SET status = ? WHERE id = 1", (status.value,))
        for person in (gisele, roger):
            for data in presses:
                before = len(person.chat)
                await person.press(data)
                async with bot.services.db.read() as conn:
                    ticket = await tickets.get_ticket(conn, 1)
                    pending = await conn.execute_fetchall(
                        "SELECT kind FROM pending_inputs WHERE user_id = ?", (person.id,)
                    )
                assert ticket is not None
                case = f"{data} by {person.first_name} from {status.value}"
                assert ticket.status is status and ticket.assignee_id == jean.id, case
                assert ticket.rating is None and not list(pending), case
                assert len(person.chat) == before, case  # no list, no question, no card
                assert person.last_answer is not None and person.last_answer.text, case
            # Writing afterwards reaches nobody: nothing is relayed to the request.
            await person.send("Je réponds à la place de Marie.")
    async with bot.services.db.read() as conn:
        written = await conn.execute_fetchall("SELECT author_id FROM ticket_messages")
    assert {row[0] for row in written} <= {marie.id, jean.id}


async def test_the_federations_list_is_paged_and_in_english(bot: Emulator) -> None:
    boss = await flows.admin(bot)
    await flows.federation(boss)
    marie = await flows.contact(bot, boss)
    gisele = await _manager(bot, boss, 2003, "Gisèle")
    await flows.file_request(marie)
    async with bot.services.db.transaction() as conn:  # 24 more requests of Marie's
        for n in range(2, 26):
            await conn.execute(
                "INSERT INTO tickets (reference, contact_id, federation_id, field_id, subject,"
                " description, urgency, status, created_at, updated_at)"
                " SELECT ?, contact_id, federation_id, field_id, subject, description, urgency,"
                " status, created_at, updated_at FROM tickets WHERE id = 1",
                (f"CREC-2026-{n:04d}",),
            )
    await gisele.send("/mytickets")
    first = (await gisele.click("Toute la fédération"))[-1]
    assert "(25) — page 1 sur 2" in first.text and "CREC-2026-0025" in first.text
    assert "CREC-2026-0005" not in first.text
    await gisele.click("Suivant", first)  # the list is edited in place
    second = gisele.last.text
    assert "page 2 sur 2" in second and "CREC-2026-0001" in second
    assert "CREC-2026-0025" not in second
    # The same in English, and an English /help that says what a manager sees.
    await gisele.click("English", (await gisele.send("/language"))[-1])
    await gisele.send("/mytickets")
    listed = (await gisele.click("The whole federation"))[-1].text
    assert "The federation's requests" in listed and "Marie Tremblay" in listed
    assert "As your federation's manager" in (await gisele.send("/help"))[-1].text


async def test_a_manager_searches_the_federations_requests_by_words(bot: Emulator) -> None:
    _, paul, gisele, roger, jean, reference = await _two_federations(bot)
    found = (await gisele.send("/ticket règlements"))[-1].text
    assert "Recherche « règlements »" in found and reference in found
    # Another federation's manager finds nothing of it; a plain contact gets the usage.
    assert (await roger.send("/ticket règlements"))[-1].text == (
        "Aucune demande ne contient « règlements »."
    )
    assert "Syntaxe : /ticket référence" in (await paul.send("/ticket règlements"))[-1].text
    usage = (await gisele.send("/ticket"))[-1].text
    assert usage.startswith("Syntaxe : /ticket référence ou /ticket mots")
    assert usage == (await jean.send("/ticket"))[-1].text
