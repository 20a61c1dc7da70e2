-- The member federation (issue 14): its managers, its approval policy, estimates and their
-- decisions, envelopes, and what is sent once (envelope alerts, monthly statements, reminders).
-- Amounts are integer cents, durations integer minutes, timestamps UTC text (storage.db.utc_text).

-- A manager is a contact with more rights: everything a contact does keeps working.
ALTER TABLE users ADD COLUMN manager INTEGER NOT NULL DEFAULT 0 CHECK (manager IN (0, 1));
-- The managers of a federation (to tell them, to know whether it has any).
CREATE INDEX users_managers ON users(federation_id, id) WHERE manager = 1;
-- Giving someone a role (storage.admin.set_user_role writes role and federation_id) takes the
-- manager's rights away, whatever the role: a manager moved to another federation, made a lead
-- or an admin, or named a plain contact again is no longer a manager. Making one a manager is
-- a step of its own, after the role (storage.people.set_manager, which accepts contacts only).
CREATE TRIGGER users_role_drops_manager AFTER UPDATE OF role, federation_id ON users
WHEN new.manager = 1 BEGIN
    UPDATE users SET manager = 0 WHERE id = new.id;
END;

-- Which estimates the federation approves: every one (the default), those above a number of
-- hours (threshold in minutes) or of dollars (threshold in cents), or none.
ALTER TABLE federations ADD COLUMN approval TEXT NOT NULL DEFAULT 'every'
    CHECK (approval IN ('every', 'hours', 'amount', 'off'));
ALTER TABLE federations ADD COLUMN approval_threshold INTEGER NOT NULL DEFAULT 0
    CHECK (approval_threshold >= 0
           AND (approval IN ('hours', 'amount')) = (approval_threshold > 0));

-- tickets.status gains 'awaiting_approval'. SQLite cannot change a CHECK in place, so the table
-- is rebuilt (https://www.sqlite.org/lang_altertable.html#otheralter). Foreign keys cannot be
-- turned off inside the migration's transaction: they are deferred to its COMMIT instead, which
-- then checks that every row pointing at a ticket (attachments, events, messages, time, outbox,
-- pending inputs, alerts) finds it again under the same id. Columns are named, in their order.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE tickets_before AS SELECT * FROM tickets;
DROP TABLE tickets;  -- its indexes and full-text triggers go with it; tickets_fts stays
CREATE TABLE tickets (
    id                 INTEGER PRIMARY KEY,
    reference          TEXT NOT NULL UNIQUE,
    draft_id           INTEGER UNIQUE REFERENCES drafts(id),  -- one ticket per draft, at most
    contact_id         INTEGER NOT NULL REFERENCES users(id),
    federation_id      INTEGER NOT NULL REFERENCES federations(id),
    field_id           INTEGER NOT NULL REFERENCES expertise_fields(id),
    subject            TEXT NOT NULL,
    description        TEXT NOT NULL,
    urgency            TEXT NOT NULL CHECK (urgency IN ('normal', 'urgent', 'critical')),
    desired_date       TEXT,
    status             TEXT NOT NULL DEFAULT 'new' CHECK (status IN
                           ('new', 'assigned', 'in_progress', 'waiting', 'awaiting_approval',
                            'resolved', 'closed', 'cancelled')),
    assignee_id        INTEGER REFERENCES users(id),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    first_response_at  TEXT,
    resolved_at        TEXT,
    closed_at          TEXT,
    rating             INTEGER CHECK (rating BETWEEN 1 AND 5),
    rating_comment     TEXT,
    resolution_note    TEXT
);
INSERT INTO tickets (id, reference, draft_id, contact_id, federation_id, field_id, subject,
    description, urgency, desired_date, status, assignee_id, created_at, updated_at,
    first_response_at, resolved_at, closed_at, rating, rating_comment, resolution_note)
SELECT id, reference, draft_id, contact_id, federation_id, field_id, subject,
    description, urgency, desired_date, status, assignee_id, created_at, updated_at,
    first_response_at, resolved_at, closed_at, rating, rating_comment, resolution_note
FROM temp.tickets_before;
DROP TABLE temp.tickets_before;
-- The indexes of 0001, 0003 and 0006, as they were.
CREATE INDEX tickets_contact ON tickets(contact_id, id DESC);
CREATE INDEX tickets_field_status ON tickets(field_id, status);
CREATE INDEX tickets_assignee_status ON tickets(assignee_id, status);
CREATE INDEX tickets_created ON tickets(created_at);
CREATE INDEX tickets_status_updated ON tickets(status, updated_at);
CREATE INDEX tickets_contact_created ON tickets(contact_id, created_at);
-- The full-text triggers of 0003, as they were (same ids: the index itself is still right).
CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_fts (rowid, subject, description)
    VALUES (new.id, new.subject, new.description);
END;
CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject, description ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject, description)
    VALUES ('delete', old.id, old.subject, old.description);
    INSERT INTO tickets_fts (rowid, subject, description)
    VALUES (new.id, new.subject, new.description);
END;
-- A federation's requests (a manager's "whole federation", statements, reports).
CREATE INDEX tickets_federation ON tickets(federation_id, id DESC);

-- An estimate of a ticket: low and high bounds, priced at the field's rate of the day (a later
-- rate change does not rewrite it). One pending at most per ticket; a new one supersedes it.
-- decided_*: who approved or refused it and when (NULL decided_by with 'approved': the policy
-- needed no approval), or when a newer estimate superseded it.
CREATE TABLE estimates (
    id                 INTEGER PRIMARY KEY,
    ticket_id          INTEGER NOT NULL REFERENCES tickets(id),
    low_minutes        INTEGER NOT NULL CHECK (low_minutes > 0),
    high_minutes       INTEGER NOT NULL CHECK (high_minutes >= low_minutes
                                               AND high_minutes <= 120000),  -- 2,000 hours
    hourly_rate_cents  INTEGER NOT NULL CHECK (hourly_rate_cents >= 0),
    low_amount_cents   INTEGER NOT NULL CHECK (low_amount_cents >= 0),
    high_amount_cents  INTEGER NOT NULL CHECK (high_amount_cents >= low_amount_cents),
    note               TEXT,
    created_by         INTEGER NOT NULL REFERENCES users(id),
    created_at         TEXT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'pending'
                           CHECK (status IN ('pending', 'approved', 'refused', 'superseded')),
    decided_by         INTEGER REFERENCES users(id),
    decided_at         TEXT,
    reason             TEXT,                             -- why it was refused
    revision_of        INTEGER REFERENCES estimates(id), -- the estimate it replaces
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX estimates_ticket ON estimates(ticket_id, status, id);
CREATE UNIQUE INDEX estimates_one_pending ON estimates(ticket_id) WHERE status = 'pending';
-- Approval reminders look for old pending estimates.
CREATE INDEX estimates_pending_created ON estimates(created_at) WHERE status = 'pending';
-- Envelopes read approved estimates by the time of their decision.
CREATE INDEX estimates_approved ON estimates(decided_at) WHERE status = 'approved';

-- A bank of hours (amount in minutes) or of dollars (amount in cents) per federation and year,
-- for all its fields (field_id NULL) or for one field.
CREATE TABLE envelopes (
    id             INTEGER PRIMARY KEY,
    federation_id  INTEGER NOT NULL REFERENCES federations(id),
    year           INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    field_id       INTEGER REFERENCES expertise_fields(id),
    kind           TEXT NOT NULL CHECK (kind IN ('hours', 'dollars')),
    amount         INTEGER NOT NULL CHECK (amount > 0),
    created_by     INTEGER NOT NULL,
    created_at     TEXT NOT NULL
);
-- One envelope per federation, year and field; field ids start at 1, so 0 stands for "all".
CREATE UNIQUE INDEX envelopes_one ON envelopes(federation_id, year, COALESCE(field_id, 0));

-- The envelope alerts told (80 % and 100 % of used + committed): once each, across restarts.
-- Changing an envelope's amount or kind clears them (storage.envelopes.set_envelope).
CREATE TABLE envelope_alerts (
    envelope_id  INTEGER NOT NULL REFERENCES envelopes(id),
    threshold    INTEGER NOT NULL CHECK (threshold IN (80, 100)),
    sent_at      TEXT NOT NULL,
    PRIMARY KEY (envelope_id, threshold)
) WITHOUT ROWID;

-- The monthly statements sent to a federation's managers: once per federation and month.
CREATE TABLE statements_sent (
    federation_id  INTEGER NOT NULL REFERENCES federations(id),
    month          TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]'),
    sent_at        TEXT NOT NULL,
    PRIMARY KEY (federation_id, month)
) WITHOUT ROWID;

-- The reminders sent to managers about an estimate still undecided (critical requests).
CREATE TABLE approval_reminders (
    estimate_id  INTEGER PRIMARY KEY REFERENCES estimates(id),
    sent_at      TEXT NOT NULL
);
