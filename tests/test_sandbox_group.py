"""The sandbox's team group (bot/tools/sandbox_group.py): a legal request opens its topic in
« Équipe juridique », where the legal lead takes it, writes a note and writes to the contact."""

from __future__ import annotations

from pathlib import Path

from tests.test_sandbox import demo_db, kept_db, run_sandbox

__all__ = ["demo_db", "kept_db"]  # the seeded database's fixtures, shared with test_sandbox


def test_a_legal_request_is_worked_in_its_topic(kept_db: Path) -> None:
    script = "\n".join(
        [
            "/as group",
            "Rien encore",  # no topic yet
            "/topic",  # nor to list
            "/as contact",
            "/new",
            "1",  # Services juridiques
            "Contrat de travail",
            "Nous devons revoir le contrat de travail de notre directrice.",
            "1",  # Normale
            "1",  # Pas de date souhaitée
            "1",  # Continuer sans pièce jointe
            "1",  # ✅ Envoyer la demande
            "/as group",
            "/topic",
            "1",  # 🙋 Prendre la demande, in the topic
            "Note pour l'équipe : vérifier la convention collective.",
            "1",  # ✍️ Écrire au contact
            "Bonjour Camille, je m'en occupe.",
            "/reply Merci",  # the contact wrote nothing in the topic yet
        ]
    )
    done = run_sandbox(script + "\n", "--db", str(kept_db))
    out, err = done.stdout, done.stderr
    assert done.returncode == 0, err
    assert "Traceback" not in out + err and "NETWORK" not in err
    for expected in (
        "sandbox: no topic yet",
        "── in the group · CREC-",
        "· Contrat de travail ──",
        "[1] 🙋 Prendre la demande",
        "prise en charge",
        "(alert) Écrivez votre message dans ce sujet",
        "── to Contact · Camille Gagnon ──",
        "Bonjour Camille, je m'en occupe.",
        "✅ Envoyé à Camille Gagnon.",
        "sandbox: the contact has written nothing in this topic yet",
    ):
        assert expected in out, expected
    assert out.count("sandbox: no topic yet") == 2  # a note, and /topic, before any topic
    contact_part = out.split("── to Contact · Camille Gagnon ──")[-1]
    assert "convention collective" not in contact_part.split("── in the group")[0]
