"""The people and requests of the sandbox's demo history (bot/tools/demo.py replays them).

Forty requests of five federations over three months, newest first, each with the state it
ends in: 3 new, 1 assigned, 1 awaiting approval, 3 in progress, 3 waiting on the contact,
4 resolved, 22 closed (most rated) and 3 cancelled. Two federations have a manager, who
approved (or refused once) the estimates of some of their requests. Every lead has open
requests in `/queue`. What people write is what they would write, in Québec French; it is
data, like the names, not texts of the bot.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.models import Role, TicketStatus, Urgency

S = TicketStatus
NORMAL, URGENT, CRITICAL = Urgency.NORMAL, Urgency.URGENT, Urgency.CRITICAL


# Telegram user ids of the demo personas: far from the fake bot's own id (7_000_000_001) and
# fixed, so that `--db PATH` finds the same people again in a later session.
ADMIN = 9_000_000_001
CONTACT = 9_000_000_002
LEAD_BASE = 9_000_000_010
MANAGER_BASE = 9_000_000_020

FEDERATIONS: tuple[tuple[str, str], ...] = (
    ("CQCH", "Confédération québécoise des coopératives d'habitation"),
    ("FCFQ", "Fédération des coopératives funéraires du Québec"),
    ("FQCMS", "Fédération québécoise des coopératives en milieu scolaire"),
    ("FCAQ", "Fédération des coopératives d'alimentation du Québec"),
    ("FCSDSQ", "Fédération des coopératives de services à domicile et de santé du Québec"),
)
# Every default field but `other`, which the bot routes to the admins.
LEAD_FIELDS = ("legal", "hr", "marketing", "events", "web", "it")
# Hourly rates as the admin types them (`/domain rate <code> <rate>`), in dollars.
RATES = {
    "legal": "140",
    "hr": "110",
    "marketing": "95",
    "events": "85",
    "web": "115",
    "it": "125",
    "other": "90",
}


@dataclass(frozen=True)
class Persona:
    """Someone you can play: a demo user of the bot."""

    key: str  # what `/as` takes and the prompt shows: "contact", "lead legal", "admin"
    title: str  # how headers name them: "Lead (legal)"
    user_id: int
    first_name: str
    last_name: str
    role: Role
    field: str | None = None  # the field code of a lead
    federation: str | None = None  # the federation code of a contact
    manager: bool = False  # a contact who manages their federation (approves its estimates)

    @property
    def label(self) -> str:
        """Title and name, e.g. `Lead (legal) · Louis Roy`."""
        return f"{self.title} · {self.first_name} {self.last_name}"


_CONTACT_NAMES = {
    "CQCH": ("Camille", "Gagnon"),
    "FCFQ": ("Julie", "Bergeron"),
    "FQCMS": ("Olivier", "Pelletier"),
    "FCAQ": ("Sophie", "Fortin"),
    "FCSDSQ": ("Nathalie", "Lévesque"),
}
# Federations with a manager (/invite CODE gestionnaire): their estimates wait for approval.
_MANAGER_NAMES = {"CQCH": ("Marc-André", "Dubé"), "FCAQ": ("Geneviève", "Paquette")}
_LEAD_NAMES = {
    "legal": ("Louis", "Roy"),
    "hr": ("Héloïse", "Côté"),
    "marketing": ("Mathieu", "Bouchard"),
    "events": ("Émilie", "Gauthier"),
    "web": ("William", "Morin"),
    "it": ("Isabelle", "Lavoie"),
}


def _contact(n: int, code: str) -> Persona:
    # The first federation's contact is "contact", as before there were several.
    key = "contact" if n == 0 else f"contact {code.lower()}"
    title = "Contact" if n == 0 else f"Contact ({code})"
    first, last = _CONTACT_NAMES[code]
    return Persona(key, title, CONTACT + n, first, last, Role.CONTACT, federation=code)


PERSONAS: tuple[Persona, ...] = (
    *(_contact(n, code) for n, (code, _name) in enumerate(FEDERATIONS)),
    *(
        Persona(
            f"lead {code}", f"Lead ({code})", LEAD_BASE + n, *_LEAD_NAMES[code], Role.LEAD, code
        )
        for n, code in enumerate(LEAD_FIELDS, start=1)
    ),
    *(
        Persona(
            "manager" if n == 0 else f"manager {code.lower()}",
            f"Manager ({code})",
            MANAGER_BASE + n,
            *names,
            Role.CONTACT,
            federation=code,
            manager=True,
        )
        for n, (code, names) in enumerate(_MANAGER_NAMES.items())
    ),
    Persona("admin", "Admin", ADMIN, "Claire", "Tremblay", Role.ADMIN),
)
BY_KEY = {p.key: p for p in PERSONAS}
CONTACT_OF = {p.federation: p for p in PERSONAS if p.federation and not p.manager}
LEAD_OF = {p.field: p for p in PERSONAS if p.field}


@dataclass(frozen=True)
class Request:
    """One request of the history and what becomes of it."""

    days: float  # how long before the sandbox's start it was filed
    federation: str
    field: str
    urgency: Urgency
    state: TicketStatus  # the state it ends in
    subject: str
    description: str
    question: bool = False  # the lead asks the contact something (waiting: not answered yet)
    reopened: bool = False  # the contact found it not solved once
    taken: bool = False  # a cancelled request: taken by its lead before
    stars: int | None = None  # the contact's rating (closed requests)
    comment: str | None = None  # with the rating
    # The lead's `/estimate` once taken (a federation with a manager): approved by the
    # manager, unless the request ends awaiting approval; `refusal`: the manager refuses it
    # first with that reason, and the lead sends `revised` instead.
    estimate: str | None = None
    refusal: str | None = None
    revised: str | None = None


REQUESTS: tuple[Request, ...] = (
    Request(0.03, "FCSDSQ", "it", CRITICAL, S.NEW, "Rançongiciel sur le poste de la comptabilité",
            "Ce matin, un message exige une rançon sur le poste de notre adjointe à la "
            "comptabilité. Nous l'avons débranché du réseau; les autres postes semblent "
            "fonctionner. Que devons-nous faire maintenant?"),
    Request(0.2, "FCAQ", "marketing", URGENT, S.NEW, "Circulaire de la semaine prochaine",
            "Notre graphiste est absente et la circulaire des 14 épiceries membres doit partir "
            "à l'imprimeur jeudi. Pouvez-vous faire la mise en page à partir de nos gabarits?"),
    Request(0.8, "CQCH", "other", NORMAL, S.NEW, "Formation des nouveaux administrateurs",
            "Plusieurs coopératives membres ont renouvelé leur conseil d'administration. "
            "Offrez-vous une formation sur le rôle et les responsabilités des administrateurs?"),
    Request(1.2, "CQCH", "legal", URGENT, S.AWAITING_APPROVAL,
            "Avis de non-renouvellement de bail",
            "Une coopérative membre veut envoyer un avis de non-renouvellement de bail à un "
            "membre qui ne respecte pas ses engagements. Nous voulons valider la procédure et "
            "les délais avant l'envoi.",
            estimate="2-3h Lecture du bail et de la correspondance, puis un avis écrit."),
    Request(1.9, "FCFQ", "events", NORMAL, S.ASSIGNED, "Journée de formation régionale à Rimouski",
            "Nous organisons une journée de formation pour les coopératives funéraires de l'Est "
            "du Québec. Il faut une salle, un traiteur et le transport des personnes inscrites."),
    Request(2.6, "FQCMS", "hr", NORMAL, S.IN_PROGRESS, "Affichage de postes étudiants",
            "Nos coopératives en milieu scolaire embauchent une trentaine d'étudiantes et "
            "d'étudiants. Nous voulons un modèle d'affichage et une grille d'entrevue communs.",
            question=True),
    Request(3.3, "FCSDSQ", "marketing", NORMAL, S.WAITING, "Plan de communication du colloque",
            "Le colloque annuel des entreprises d'économie sociale en aide à domicile approche. "
            "Nous avons besoin d'un plan de communication : annonce, relances aux membres et "
            "publications."),
    Request(4.1, "CQCH", "web", NORMAL, S.IN_PROGRESS, "Demande de logement en ligne",
            "Nous voulons remplacer le formulaire papier de demande de logement par un "
            "formulaire sur notre site, avec une liste d'attente par coopérative.",
            question=True, estimate="8-14h Formulaire, liste d'attente et mise en ligne."),
    Request(4.9, "FCAQ", "legal", URGENT, S.WAITING, "Convention collective d'une épicerie",
            "Le syndicat d'une épicerie membre a déposé ses demandes pour le renouvellement de "
            "la convention collective. La coopérative veut un avis avant la première rencontre "
            "de négociation."),
    Request(5.6, "FQCMS", "other", NORMAL, S.CANCELLED, "Commandite d'un gala étudiant",
            "Une coopérative étudiante demande si le Consortium peut commanditer son gala de fin "
            "d'année. À qui devons-nous adresser cette demande?"),
    Request(6.4, "FCFQ", "it", URGENT, S.IN_PROGRESS, "Migration de la messagerie",
            "Notre serveur de courriel arrive en fin de vie. Nous voulons migrer les 25 boîtes "
            "de la fédération vers Microsoft 365 sans perdre l'historique."),
    Request(7.2, "FCSDSQ", "hr", NORMAL, S.WAITING, "Politique de télétravail",
            "Notre personnel administratif demande une politique de télétravail claire : nombre "
            "de jours, équipement fourni, remboursement des frais. Pouvez-vous proposer un "
            "projet?"),
    Request(8.0, "CQCH", "marketing", NORMAL, S.RESOLVED, "Semaine de la coopération",
            "Nous voulons une campagne sur les réseaux sociaux pour la Semaine de la "
            "coopération : messages, visuels et calendrier de publication.",
            estimate="12-16h", refusal="C'est plus que notre budget pour cette campagne; "
            "pouvez-vous vous en tenir aux publications Facebook?", revised="6-12h Publications "
            "Facebook seulement."),
    Request(9.1, "FQCMS", "web", URGENT, S.RESOLVED, "Paiements refusés en ligne",
            "Depuis hier, les paiements par carte sont refusés sur le site transactionnel de "
            "nos coopératives. La clientèle voit un message d'erreur à la dernière étape."),
    Request(10.2, "FCAQ", "it", NORMAL, S.RESOLVED, "Terminaux de paiement qui se déconnectent",
            "Dans trois épiceries, les terminaux de paiement perdent la connexion plusieurs fois "
            "par jour. Le fournisseur dit que le problème vient de notre réseau.",
            reopened=True, estimate="6-16h"),
    Request(11.0, "FCFQ", "legal", NORMAL, S.RESOLVED, "Contrat de préarrangements funéraires",
            "Nous voulons mettre à jour notre modèle de contrat de préarrangements pour tenir "
            "compte des changements réglementaires récents."),
    Request(12.5, "CQCH", "hr", NORMAL, S.CLOSED, "Médiation entre deux employées",
            "Un conflit entre deux employées du bureau de la confédération nuit à l'équipe. "
            "Nous souhaitons une médiation par une personne de l'extérieur.",
            stars=5, comment="Intervention délicate, très bien menée. Merci!",
            estimate="6-12h Deux rencontres individuelles, puis une rencontre commune."),
    Request(14.9, "FCSDSQ", "web", NORMAL, S.CANCELLED, "Refonte de la page Carrières",
            "Nous aimerions refaire la page Carrières de notre site pour attirer plus de "
            "préposées et de préposés d'aide à domicile.", taken=True),
    Request(17.4, "FQCMS", "marketing", NORMAL, S.CLOSED, "Logo du 40e anniversaire",
            "Notre fédération aura 40 ans l'an prochain. Nous voulons une déclinaison de notre "
            "logo et une signature pour l'anniversaire.", stars=4),
    Request(19.8, "FCAQ", "events", URGENT, S.CLOSED, "Remplacement de l'organisatrice du congrès",
            "L'organisatrice de notre congrès annuel a quitté ses fonctions et le congrès a lieu "
            "dans deux semaines. Il faut reprendre la logistique tout de suite : fournisseurs, "
            "horaire, inscriptions.", question=True,
            stars=5, comment="Vous nous avez sauvé le congrès. Merci à toute l'équipe!"),
    Request(22.3, "CQCH", "legal", NORMAL, S.CLOSED, "Révision des règlements généraux",
            "Nous devons réviser nos règlements généraux avant l'assemblée générale annuelle, "
            "notamment le quorum et le vote à distance.", question=True, stars=4),
    Request(24.7, "FCFQ", "hr", NORMAL, S.CLOSED, "Grille salariale des conseillers funéraires",
            "Nous voulons revoir la grille salariale des conseillères et conseillers funéraires "
            "pour rester concurrentiels en région.", reopened=True,
            stars=3, comment="Bon travail au final, mais il a fallu s'y reprendre."),
    Request(27.1, "FCSDSQ", "it", URGENT, S.CLOSED, "Portables pour les préposées",
            "Nous devons configurer 20 portables pour les préposées qui consignent les visites à "
            "domicile : comptes, chiffrement et logiciel de dossiers.", stars=5),
    Request(29.6, "FQCMS", "legal", NORMAL, S.CANCELLED, "Contrat avec un fournisseur de manuels",
            "Un fournisseur de manuels scolaires propose un contrat d'exclusivité de trois ans à "
            "nos coopératives. Pouvez-vous le relire avant la signature?"),
    Request(32.0, "CQCH", "events", NORMAL, S.CLOSED, "Assemblée générale en mode hybride",
            "Notre assemblée générale se tiendra en personne et en ligne. Il faut prévoir la "
            "technique, le vote électronique et l'accueil.", stars=4),
    Request(34.4, "FCAQ", "web", NORMAL, S.CLOSED, "Circulaire en ligne des épiceries",
            "Nous voulons publier la circulaire hebdomadaire sur le site de chaque épicerie "
            "membre, à partir d'un seul fichier.",
            stars=5, comment="Simple à utiliser pour nos gérants. Bravo!"),
    Request(36.9, "FCFQ", "marketing", NORMAL, S.CLOSED, "Brochure sur les services funéraires",
            "Nous voulons une brochure claire sur les services des coopératives funéraires, à "
            "remettre aux familles et à distribuer dans les résidences.", stars=4),
    Request(39.3, "FCSDSQ", "legal", URGENT, S.CLOSED, "Plainte d'une usagère",
            "Une usagère a déposé une plainte formelle contre une entreprise membre. Nous "
            "voulons connaître nos obligations et les délais de réponse.", question=True,
            stars=5),
    Request(41.8, "FQCMS", "it", NORMAL, S.CLOSED, "Mise à jour du logiciel de caisse",
            "La mise à jour annuelle du logiciel de caisse doit être faite dans nos 12 "
            "coopératives avant la période achalandée."),
    Request(44.2, "CQCH", "it", NORMAL, S.CLOSED, "Accès à distance pour le personnel",
            "Le personnel veut accéder aux dossiers partagés depuis la maison, de façon "
            "sécuritaire.", stars=4),
    Request(46.7, "FCAQ", "hr", NORMAL, S.CLOSED, "Programme d'accueil du personnel",
            "Nous voulons un programme d'accueil commun pour le nouveau personnel de nos "
            "épiceries : trousse, formation de base et suivi après trois mois.",
            stars=5, comment="Exactement ce qu'il nous fallait."),
    Request(49.1, "FCFQ", "web", URGENT, S.CLOSED, "Site Web inaccessible",
            "Notre site affiche une erreur depuis ce matin et les familles ne trouvent plus les "
            "avis de décès.", stars=4),
    Request(51.6, "FCSDSQ", "marketing", NORMAL, S.CLOSED, "Campagne de recrutement de préposées",
            "Nos entreprises membres manquent de préposées et de préposés. Nous voulons une "
            "campagne de recrutement commune pour les régions.",
            stars=3, comment="Les visuels sont beaux, mais les délais ont été longs."),
    Request(54.0, "FQCMS", "events", NORMAL, S.CLOSED, "Congrès des coopératives scolaires",
            "Notre congrès réunit les coopératives en milieu scolaire à Québec. Nous avons "
            "besoin d'aide pour l'hébergement et l'horaire des ateliers.", stars=5),
    Request(58.5, "CQCH", "legal", NORMAL, S.CLOSED, "Assurance des administrateurs",
            "Nos coopératives membres se demandent si leur assurance responsabilité couvre les "
            "administrateurs bénévoles. Pouvez-vous nous éclairer?", question=True, stars=5),
    Request(63.0, "FCAQ", "other", NORMAL, S.CLOSED, "Statistiques pour le rapport annuel",
            "Pour notre rapport annuel, nous cherchons des données sur le nombre de membres et "
            "le chiffre d'affaires des coopératives d'alimentation au Québec.", stars=4),
    Request(68.4, "FCFQ", "it", NORMAL, S.CLOSED, "Sauvegardes du serveur",
            "Nous ne sommes pas certains que les sauvegardes du serveur de la fédération "
            "fonctionnent. Pouvez-vous les vérifier et faire un test de restauration?",
            stars=4, comment="Rassurant. Merci pour le rapport détaillé."),
    Request(74.0, "FCSDSQ", "hr", URGENT, S.CLOSED, "Maintien de l'équité salariale",
            "Nous devons produire l'évaluation du maintien de l'équité salariale avant "
            "l'échéance. Pouvez-vous nous accompagner?", stars=5),
    Request(80.7, "CQCH", "marketing", NORMAL, S.CLOSED, "Infolettre des membres",
            "Nous voulons relancer notre infolettre mensuelle aux coopératives membres : "
            "gabarit, ligne éditoriale et liste d'envoi.", stars=4),
    Request(87.2, "FQCMS", "web", NORMAL, S.CLOSED, "Mise à jour du site de la fédération",
            "Notre site WordPress n'a pas été mis à jour depuis deux ans. Nous voulons le mettre "
            "à jour et le sécuriser sans perdre de contenu.",
            stars=5, comment="Site plus rapide qu'avant. Merci!"),
)  # fmt: skip

# Time entries, in minutes (one to three per request worked on).
WORK_MINUTES = (30, 45, 60, 90, 90, 120, 150, 180, 240)

WORK_NOTES = {
    "legal": ("analyse du dossier", "rédaction de l'avis", "appel avec la coopérative"),
    "hr": ("rencontre avec la direction", "rédaction du document", "suivi avec l'équipe"),
    "marketing": ("concepts et messages", "production des visuels", "révisions"),
    "events": ("appels aux fournisseurs", "horaire et inscriptions", "coordination sur place"),
    "web": ("diagnostic", "développement", "tests et mise en ligne"),
    "it": ("diagnostic à distance", "configuration", "vérification avec l'équipe"),
    "other": ("recherche", "rédaction de la réponse", "suivi"),
}

# The lead's question, then the contact's answer.
QUESTIONS = {
    "legal": ("Pouvez-vous m'envoyer la version en vigueur des documents visés?",
              "Oui, je vous les envoie par courriel aujourd'hui. La dernière mise à jour date "
              "de 2021."),
    "hr": ("Combien de personnes sont visées, et à temps plein ou à temps partiel?",
           "Quatorze personnes, dont cinq à temps partiel."),
    "marketing": ("Quel budget prévoyez-vous, production comprise?",
                  "Environ 8 000 $, production comprise."),
    "events": ("Combien de personnes attendez-vous, et sur combien de jours?",
               "Environ 180 personnes, sur deux jours."),
    "web": ("Pouvez-vous me donner un accès administrateur temporaire au site?",
            "C'est fait : vous devriez avoir reçu un courriel d'invitation."),
    "it": ("Combien de postes sont touchés, et avez-vous une sauvegarde récente?",
           "Douze postes; la dernière sauvegarde complète date de vendredi."),
    "other": ("Pouvez-vous préciser l'échéance?", "Idéalement avant la fin du mois."),
}  # fmt: skip

# The lead's resolution note, then the one after a reopening.
RESOLUTIONS = {
    "legal": ("Avis juridique transmis par courriel, avec un modèle de résolution.",
              "Avis complété selon vos questions; la version finale est dans votre courriel."),
    "hr": ("Document final transmis à la direction; je reste disponible pour la présentation.",
           "Grille révisée avec les données régionales, transmise à la direction."),
    "marketing": ("Visuels et calendrier livrés dans le dossier partagé.",
                  "Version corrigée livrée dans le dossier partagé."),
    "events": ("Fournisseurs confirmés et horaire final envoyé aux personnes inscrites.",
               "Logistique ajustée; tout est confirmé."),
    "web": ("Correctif en ligne; tout fonctionne à nouveau.",
            "Second correctif en ligne après vos essais; tout fonctionne."),
    "it": ("Configuration terminée et vérifiée avec l'équipe.",
           "Borne Wi-Fi remplacée dans les trois épiceries; plus aucune déconnexion depuis."),
    "other": ("Réponse et documents transmis par courriel.",
              "Réponse complétée et transmise par courriel."),
}  # fmt: skip
