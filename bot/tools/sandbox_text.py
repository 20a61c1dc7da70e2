"""What the sandbox says of itself (bot/tools/sandbox.py): its banner and help, the flood
limit, and its first lines on the demo data, with what to try."""

from __future__ import annotations

from datetime import date, timedelta

from bot.tools.demo import BY_KEY, FEDERATIONS, LEAD_FIELDS, PERSONAS, Summary
from bot.tools.demo_together import ABSENT, ALSO, DELEGATE
from storage.models import TicketStatus

STARTING = "starting the bot and its demo data (a few seconds the first time)…"

_OTHER_CONTACTS = "|".join(p.key.split()[1] for p in PERSONAS if p.key.startswith("contact "))
BANNER = f"""\
intake-bot sandbox — the real bot, in this terminal, without Telegram.
                     Le vrai bot, dans ce terminal, sans Telegram.
You play / vous jouez : contact (Camille, CQCH) · lead <field> · manager · admin (Claire)
  /as contact [{_OTHER_CONTACTS}]   /as lead [{"|".join(LEAD_FIELDS)}]
  /as manager [fcaq]  /as admin   switch persona / changer de personnage
  1, 2, 3…         press that button of the latest message / touche ce bouton
  /file PATH       send a document / envoie un document
  /photo [PATH]    send a photo (yours, or a plain one) / envoie une photo
  /sandbox         this help / cette aide      /quit or Ctrl-D: leave / quitter
Anything else goes to the bot: try /new, /help. Tout le reste va au bot : /new, /help."""

HELP_MORE = """\
  \\TEXT            send TEXT as is (e.g. \\1, or \\/quit to the bot) / envoie TEXT tel quel
  /sticker         send a sticker (to see how the bot answers) / envoie un autocollant
  /as              list the personas / liste les personnages"""

LIMIT_OFF = """No flood limit here (RATE_LIMIT_PER_MINUTE=0 unless you set it): pipe at any speed.
Pas de limite de débit ici (RATE_LIMIT_PER_MINUTE=0 sauf si vous la fixez)."""
LIMIT_ON = """Flood limit: {n} inputs a minute per person (RATE_LIMIT_PER_MINUTE); more dropped.
Limite de débit : {n} messages par minute et par personne; les suivants sont ignorés."""


def limit_note(per_minute: int) -> str:
    """What the banner says of the flood limit: off in the sandbox unless one was set."""
    return LIMIT_ON.format(n=per_minute) if per_minute else LIMIT_OFF


def describe(summary: Summary, today: date) -> list[str]:
    """What the demo history holds, and what to try on it, in a few lines."""
    counts = summary.states
    states = ", ".join(f"{counts[s]} {s.replace('_', ' ')}" for s in TicketStatus if counts[s])
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")  # the last whole one
    return [
        f"demo data ready: {len(FEDERATIONS)} federations, a lead and an hourly rate for every "
        f"field, {summary.requests} requests since {summary.since:%Y-%m-%d}",
        f"  {states}; {summary.minutes / 60:.1f} hours logged, {summary.ratings} ratings",
        f"  try as admin: /stats, /stats {month}, /billing {month}, /export {month}; "
        f"as a lead: /queue; as the manager: /envelope, /statement {month}",
        *together(),
    ]


def together() -> list[str]:
    """What to try of working together (bot/tools/demo_together.py): the request in parts,
    the absence and who covers it."""
    absent, delegate = BY_KEY[ABSENT], BY_KEY[DELEGATE]
    return [
        "  working together: /as contact then /mytickets shows the congress, one request in "
        f"{len(ALSO) + 1} parts;",
        f"  /as {delegate.key} then /away: {delegate.first_name} covers {absent.first_name} "
        f"({absent.field}, away this week); /as {absent.key}: /away, /back",
    ]
