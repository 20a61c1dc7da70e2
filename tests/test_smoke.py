from bot.tools.emulator import Emulator
from tests.conftest import ADMIN_ID


async def test_admin_start(bot: Emulator) -> None:
    admin = bot.person(ADMIN_ID, "Claire", language_code="fr")
    replies = await admin.send("/start")
    print([m.text for m in replies])
    assert "admin du bot" in replies[-1].text
