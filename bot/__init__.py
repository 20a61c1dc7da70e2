"""Intake bot: requests for expert help, for the Consortium de ressources et d'expertises coopératives."""
