"""A database of N tickets as the consortium would have after five years: 18 fields of
expertise, 40 federations, 50 leads, 400 contacts; volume growing over the years, weekdays in
business hours; each ticket with its audit events, time entries and some attachments.

The schema is the bot's own (its migrations run first); rows are then written with plain
`sqlite3` in one big transaction, with the indexes and full-text triggers set aside and rebuilt
at the end, and with durability off (`synchronous=OFF`, no journal) — for this generator only:
a crash only means generating again. The file is cached under bench/results/, named by size and
by a hash of the migrations and of this generator, so a second run reuses it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import sqlite3
import time
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from itertools import accumulate
from pathlib import Path
from zoneinfo import ZoneInfo

from storage import Database

from .common import ADMIN_ID, RESULTS

GENERATOR_VERSION = "1"
FIELDS = 18
FEDERATIONS = 40
LEADS = 50
CONTACTS_PER_FEDERATION = 10
FIRST_CONTACT = 2_000_001
FIRST_LEAD = 3_000_001
YEARS = 5
END = datetime(2026, 11, 1, tzinfo=UTC)
START = datetime(END.year - YEARS, END.month, 1, tzinfo=UTC)
MONTH = (2026, 10)  # the month /stats and /billing are timed on: the last one, the busiest
TZ = ZoneInfo("America/Montreal")
# At most this many tickets are open at the end, whatever the size: fifty leads hold a bounded
# backlog (about 20 each, and the unassigned ones), the history is what grows.
MAX_OPEN = 1_500
OPEN_SHARE = 0.03
PREFIX = "CREC"
BATCH = 50_000

_SUBJECTS = [
    "Révision des règlements généraux",
    "Organisation du congrès annuel",
    "Refonte du site web de la fédération",
    "Politique de télétravail des employés",
    "Campagne de recrutement de membres",
    "Migration de la messagerie vers l'infonuagique",
    "Contrat de service avec un fournisseur",
    "Plan de communication de l'assemblée",
    "Formation des administrateurs",
    "Évaluation des postes et de l'équité salariale",
    "Infolettre mensuelle aux coopératives",
    "Sécurité informatique et sauvegardes",
    "Gala reconnaissance des bénévoles",
    "Avis juridique sur une clause de bail",
    "Planification stratégique triennale",
    "Demande de subvention au ministère",
]
_SENTENCES = [
    "Nous devons réviser nos règlements avant l'assemblée générale de mars.",
    "L'organisatrice du congrès a quitté ses fonctions deux semaines avant l'événement.",
    "Le conseil d'administration souhaite un avis avant sa prochaine séance.",
    "Notre site web n'est plus à jour et le formulaire d'adhésion ne fonctionne pas.",
    "Plusieurs coopératives d'habitation nous demandent un gabarit de bail.",
    "Il faudrait revoir la politique de rémunération et l'évaluation des postes.",
    "La campagne doit joindre les membres par courriel et sur les réseaux sociaux.",
    "Nos serveurs vieillissent et la sauvegarde n'est pas testée régulièrement.",
    "Le budget prévoit une salle pour deux cents personnes à Québec.",
    "Un fournisseur conteste la résiliation du contrat d'entretien.",
    "Nous cherchons un traiteur, une salle et une animation pour le gala.",
    "La direction générale veut un tableau de bord des inscriptions.",
    "Le ministère exige un rapport financier vérifié avec la demande.",
    "Les employés réclament une politique claire sur le télétravail.",
    "La fédération regroupe soixante coopératives dans trois régions.",
    "Le quorum n'a pas été atteint à la dernière assemblée extraordinaire.",
    "La migration des boîtes courriel doit se faire sans interruption de service.",
    "Nous aimerions une formation sur la gouvernance coopérative pour les élus.",
    "Un membre a déposé une plainte formelle concernant une décision du conseil.",
    "La traduction anglaise du rapport annuel est attendue pour la fin du mois.",
    "Le logiciel de paie ne calcule plus correctement les vacances.",
    "Il faut préparer l'appel d'offres pour l'hébergement du site.",
    "Les statistiques de fréquentation du site ont chuté depuis l'automne.",
    "La caisse demande une résolution signée pour ouvrir le nouveau compte.",
]


def schema_key() -> str:
    """What the cached files depend on: every migration's text and this generator's version."""
    digest = hashlib.sha256(GENERATOR_VERSION.encode())
    folder = resources.files("storage") / "migrations"
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.name.endswith(".sql"):
            digest.update(item.name.encode())
            digest.update(item.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:10]


@dataclass(frozen=True)
class Picks:
    """Who and what the timed commands use, chosen when the data was made."""

    tickets: int
    contact_id: int
    contact_tickets: int
    lead_id: int
    lead_fields: list[int]
    reference: str
    search: list[str]
    month: str
    month_tickets: int
    month_time_entries: int


async def cached_database(size: int, folder: Path = RESULTS) -> tuple[Path, Picks, float]:
    """The generated database of `size` tickets (made now, or found in the cache); with the
    seconds it took to make (0.0 when it came from the cache)."""
    return await asyncio.to_thread(_cached_database, size, folder)


def _cached_database(size: int, folder: Path) -> tuple[Path, Picks, float]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"data-{size}-{schema_key()}.db"
    if path.exists():
        picks = read_picks(path)
        if picks is not None:
            return path, picks, 0.0
    for stale in folder.glob(f"data-{size}-*.db*"):
        stale.unlink()
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    asyncio.run(_migrate(partial))  # in this worker thread: its own event loop
    _fill(partial, size)
    for suffix in ("-wal", "-shm"):
        Path(str(partial) + suffix).unlink(missing_ok=True)
    partial.rename(path)
    picks = read_picks(path)
    assert picks is not None
    return path, picks, time.perf_counter() - started


async def _migrate(path: Path) -> None:
    """The bot's own migrations make the schema."""
    db = Database(path)
    await db.open()
    await db.close()


def read_picks(path: Path) -> Picks | None:
    """The picks stored in a generated database (None: not a complete one)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM bench_meta WHERE key = 'picks'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return Picks(**json.loads(row[0])) if row else None


# -- making the rows --------------------------------------------------------------------------


def _stamp(moment: float) -> str:
    """An epoch time as the bot stores it (storage.db.utc_text)."""
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="microseconds")


def _creation_times(rng: random.Random, count: int) -> list[float]:
    """`count` moments over the five years, denser as years go by (density 0.5 + t on [0, 1]),
    on weekdays between 8:30 and 17:00 in Montréal, sorted."""
    start, span = START.timestamp(), (END - START).total_seconds()
    days = int(span // 86_400)
    moments: list[float] = []
    while len(moments) < count:
        u = rng.random()
        t = (-1 + math.sqrt(1 + 8 * u)) / 2  # inverse of F(t) = (t + t²) / 2
        day = START + timedelta(days=min(int(t * days), days - 1))
        local = day.astimezone(TZ)
        if local.weekday() >= 5:
            continue
        opening = datetime(local.year, local.month, local.day, 8, 30, tzinfo=TZ).timestamp()
        moments.append(opening + rng.random() * 8.5 * 3600)
    moments.sort()
    return [min(m, start + span - 1) for m in moments]


def _fill(path: Path, size: int, seed: int = 6) -> None:
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in (
            "journal_mode=OFF",  # generator only: a crash means generating again
            "synchronous=OFF",
            "foreign_keys=OFF",
            "temp_store=MEMORY",
            "cache_size=-400000",
        ):
            conn.execute(f"PRAGMA {pragma}")
        tables = ("tickets", "ticket_events", "time_entries", "attachments")
        marks = ",".join("?" * len(tables))
        deferred = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')"
            f" AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY type",
            tables,
        ).fetchall()
        for kind, name, _ in deferred:
            conn.execute(f"DROP {kind.upper()} {name}")
        conn.execute("BEGIN")
        picks = _rows(conn, rng, size)
        conn.execute("COMMIT")
        for kind, _, sql in deferred:
            if kind == "index":
                conn.execute(sql)
        conn.execute("INSERT INTO tickets_fts (tickets_fts) VALUES ('rebuild')")
        for kind, _, sql in deferred:
            if kind == "trigger":
                conn.execute(sql)
        conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute(
            "INSERT OR REPLACE INTO bench_meta VALUES ('picks', ?)", (json.dumps(picks.__dict__),)
        )
        conn.execute("PRAGMA journal_mode=WAL")  # as the bot leaves its file
    finally:
        conn.close()


def _rows(conn: sqlite3.Connection, rng: random.Random, size: int) -> Picks:
    created = _stamp(START.timestamp())
    # fields: the 7 of migration 0002 (the last, "other", goes to the admins), 11 more
    for n in range(8, FIELDS + 1):
        conn.execute(
            "INSERT INTO expertise_fields (code, name_fr, name_en, position) VALUES (?, ?, ?, ?)",
            (f"f{n:02d}", f"Domaine {n}", f"Field {n}", 10 + n),
        )
    fields = conn.execute(
        "SELECT id, routes_to_admins FROM expertise_fields ORDER BY position, id"
    ).fetchall()
    rates = {fid: rng.choice([8500, 9500, 11000, 12500, 14000]) for fid, _ in fields}
    conn.executemany(
        "UPDATE expertise_fields SET hourly_rate_cents = ? WHERE id = ?",
        [(rate, fid) for fid, rate in rates.items()],
    )
    led = [fid for fid, admins in fields if not admins]
    field_ids = [fid for fid, _ in fields]
    # Some fields are much busier than others (legal, HR, web).
    weights = list(accumulate(1.0 / (1 + i * 0.35) for i in range(len(field_ids))))
    conn.executemany(
        "INSERT INTO federations (id, code, name, created_at) VALUES (?, ?, ?, ?)",
        [(f, f"FED{f:02d}", f"Fédération {f}", created) for f in range(1, FEDERATIONS + 1)],
    )
    conn.execute(
        "INSERT INTO users (id, role, full_name, language, created_at)"
        " VALUES (?, 'admin', 'Claire Gagnon', 'fr', ?)",
        (ADMIN_ID, created),
    )
    leads_of: dict[int, list[int]] = {fid: [] for fid in field_ids}
    lead_rows, lead_links = [], []
    for i in range(LEADS):
        lead = FIRST_LEAD + i
        lead_rows.append((lead, f"Lead {i}", f"lead{i}", created))
        mine = {led[i % len(led)]} | ({led[(i + 5) % len(led)]} if i < 16 else set())
        for fid in mine:
            lead_links.append((fid, lead))
            leads_of[fid].append(lead)
    conn.executemany(
        "INSERT INTO users (id, role, full_name, username, language, created_at)"
        " VALUES (?, 'lead', ?, ?, 'fr', ?)",
        lead_rows,
    )
    conn.executemany("INSERT INTO field_leads (field_id, user_id) VALUES (?, ?)", lead_links)
    everyone = range(FEDERATIONS * CONTACTS_PER_FEDERATION)
    contacts = [(FIRST_CONTACT + i, 1 + i % FEDERATIONS) for i in everyone]
    conn.executemany(
        "INSERT INTO users (id, role, federation_id, full_name, language, created_at)"
        " VALUES (?, 'contact', ?, ?, 'fr', ?)",
        [(cid, fed, f"Contact {cid - FIRST_CONTACT}", created) for cid, fed in contacts],
    )
    subjects = _SUBJECTS
    sentences = _SENTENCES
    moments = _creation_times(rng, size)
    open_count = min(MAX_OPEN, max(1, int(size * OPEN_SHARE)))
    end = END.timestamp()
    sequences: dict[int, int] = {}
    tickets: list[tuple[object, ...]] = []
    events: list[tuple[object, ...]] = []
    entries: list[tuple[object, ...]] = []
    files: list[tuple[object, ...]] = []
    month_start = datetime(*MONTH, 1, tzinfo=TZ).timestamp()
    month_end = datetime(MONTH[0] + MONTH[1] // 12, MONTH[1] % 12 + 1, 1, tzinfo=TZ).timestamp()
    month_tickets = 0
    month_entries = 0
    per_contact: dict[int, int] = {}

    def flush() -> None:
        conn.executemany(
            "INSERT INTO tickets (id, reference, contact_id, federation_id, field_id, subject,"
            " description, urgency, desired_date, status, assignee_id, created_at, updated_at,"
            " first_response_at, resolved_at, closed_at, rating)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            tickets,
        )
        conn.executemany(
            "INSERT INTO ticket_events (ticket_id, actor_id, kind, from_status, to_status,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            events,
        )
        conn.executemany(
            "INSERT INTO time_entries (ticket_id, lead_id, field_id, work_date, minutes,"
            " hourly_rate_cents, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            entries,
        )
        conn.executemany(
            "INSERT INTO attachments (ticket_id, kind, file_id, file_unique_id, file_name,"
            " mime_type, file_size, uploaded_by, created_at)"
            " VALUES (?, 'document', ?, ?, ?, 'application/pdf', ?, ?, ?)",
            files,
        )
        for batch in (tickets, events, entries, files):
            batch.clear()

    for index, at in enumerate(moments):
        ticket_id = index + 1
        year = datetime.fromtimestamp(at, TZ).year
        sequences[year] = sequences.get(year, 0) + 1
        reference = f"{PREFIX}-{year}-{sequences[year]:04d}"
        contact, federation = contacts[rng.randrange(len(contacts))]
        per_contact[contact] = per_contact.get(contact, 0) + 1
        field = field_ids[bisect_right(weights, rng.random() * weights[-1])]
        leads = leads_of[field] or [ADMIN_ID]
        roll = rng.random()
        urgency = "normal" if roll < 0.7 else "urgent" if roll < 0.95 else "critical"
        subject = f"{subjects[rng.randrange(len(subjects))]} ({index % 997})"
        description = " ".join(rng.sample(sentences, rng.randint(2, 3)))
        desired = None
        if rng.random() < 0.3:
            desired = (datetime.fromtimestamp(at, TZ).date() + timedelta(days=30)).isoformat()
        is_open = index >= size - open_count
        if is_open:
            status = rng.choices(("new", "assigned", "in_progress", "waiting"), (25, 25, 35, 15))[
                0
            ]
        elif end - at < 7 * 86_400:
            status = "resolved"
        else:
            status = "cancelled" if rng.random() < 0.07 else "closed"
        assignee = None if status in {"new", "cancelled"} else leads[rng.randrange(len(leads))]
        first = resolved = closed = None
        stamp = _stamp(at)
        events.append((ticket_id, contact, "created", None, "new", stamp))
        last = at
        if assignee is not None:
            first = min(at + rng.uniform(1800, 3 * 86_400), end - 60)
            events.append((ticket_id, assignee, "take", "new", "assigned", _stamp(first)))
            last = first
            if status != "assigned":
                last = min(first + rng.uniform(600, 86_400), end - 30)
                events.append(
                    (ticket_id, assignee, "start", "assigned", "in_progress", _stamp(last))
                )
        if status in {"resolved", "closed"}:
            resolved = min(last + rng.uniform(3600, 20 * 86_400), end - 10)
            events.append(
                (ticket_id, assignee, "resolve", "in_progress", "resolved", _stamp(resolved))
            )
            last = resolved
            if status == "closed":
                closed = resolved + 7 * 86_400
                events.append(
                    (ticket_id, None, "auto_close", "resolved", "closed", _stamp(closed))
                )
                last = closed
        elif status == "cancelled":
            closed = at + rng.uniform(600, 5 * 86_400)
            events.append((ticket_id, contact, "cancel", "new", "cancelled", _stamp(closed)))
            last = closed
        if first is not None and assignee is not None:
            until = resolved or end - 60
            for _ in range(rng.randint(1, 3)):
                worked = rng.uniform(first, max(first, until))
                work_date = datetime.fromtimestamp(worked, TZ).date()
                if month_start <= worked < month_end:
                    month_entries += 1
                entries.append(
                    (
                        ticket_id,
                        assignee,
                        field,
                        work_date.isoformat(),
                        rng.choice((15, 30, 45, 60, 90, 120, 180, 240)),
                        rates[field],
                        None,
                        _stamp(worked),
                    )
                )
        if rng.random() < 0.2:
            for n in range(rng.randint(1, 2)):
                file_id = f"{ticket_id}-{n}"
                files.append(
                    (
                        ticket_id,
                        f"doc-{file_id}",
                        f"u-{file_id}",
                        "piece.pdf",
                        80_000,
                        contact,
                        stamp,
                    )
                )
        if month_start <= at < month_end:
            month_tickets += 1
        rating = rng.randint(3, 5) if status == "closed" and rng.random() < 0.6 else None
        tickets.append(
            (
                ticket_id,
                reference,
                contact,
                federation,
                field,
                subject,
                description,
                urgency,
                desired,
                status,
                assignee,
                stamp,
                _stamp(last),
                _stamp(first) if first else None,
                _stamp(resolved) if resolved else None,
                _stamp(closed) if closed else None,
                rating,
            )
        )
        if len(tickets) >= BATCH:
            flush()
    flush()
    conn.executemany(
        "INSERT INTO ticket_sequences (year, last) VALUES (?, ?)"
        " ON CONFLICT (year) DO UPDATE SET last = excluded.last",
        list(sequences.items()),
    )
    # The picks: a contact with a typical number of tickets, a lead of two fields, a
    # reference of a ticket of that lead's field, search words found in ~1 ticket in 16.
    counts = sorted(per_contact.items(), key=lambda item: item[1])
    contact_id, contact_tickets = counts[len(counts) // 2]
    lead_id = FIRST_LEAD  # lead 0 has two fields (see above)
    lead_fields = sorted(fid for fid, lead in lead_links if lead == lead_id)
    row = conn.execute(
        "SELECT reference FROM tickets WHERE field_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
        (lead_fields[0], max(0, size // 100)),
    ).fetchone()
    reference = row[0] if row else f"{PREFIX}-{END.year}-0001"
    return Picks(
        tickets=size,
        contact_id=contact_id,
        contact_tickets=contact_tickets,
        lead_id=lead_id,
        lead_fields=lead_fields,
        reference=reference,
        search=["congrès", "annuel"],
        month=f"{MONTH[0]}-{MONTH[1]:02d}",
        month_tickets=month_tickets,
        month_time_entries=month_entries,
    )
