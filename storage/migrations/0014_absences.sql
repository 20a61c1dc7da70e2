-- Absence and cover (issue 15, part 3). A lead (or an admin) is away for whole days, from
-- `starts_on` to `ends_on` inclusive, in the bot's time zone (local dates, YYYY-MM-DD); their
-- delegate, if named, receives meanwhile what the contact writes on their requests and their
-- service-level reminders, and may act on those requests as their lead. Nothing is reassigned:
-- cover is computed from these rows, so the requests are the absent person's again once the
-- absence ends, and what the delegate did stays the delegate's.
CREATE TABLE absences (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL,
    delegate_id INTEGER REFERENCES users(id),
    created_by  INTEGER NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL,
    -- Ended early (/back) or replaced by a newer absence: the moment, UTC text.
    ended_at    TEXT,
    CHECK (starts_on <= ends_on),
    CHECK (delegate_id IS NULL OR delegate_id <> user_id)
);
-- At most one absence of a person still stands (a new /away replaces it).
CREATE UNIQUE INDEX absences_standing ON absences(user_id) WHERE ended_at IS NULL;

-- The contact has been told who covers during this absence (once per absence and contact).
CREATE TABLE absence_notices (
    absence_id INTEGER NOT NULL REFERENCES absences(id),
    contact_id INTEGER NOT NULL REFERENCES users(id),
    told_at    TEXT NOT NULL,
    PRIMARY KEY (absence_id, contact_id)
) WITHOUT ROWID;
