"""Intake bot: requests for expert help to the Consortium de ressources et d'expertises
coopératives."""

import os

# Opt in to PTB's future behaviour (durations as timedelta, e.g. RetryAfter.retry_after) and
# out of its deprecation warnings; must be set before `telegram` reads it.
os.environ.setdefault("PTB_TIMEDELTA", "1")
