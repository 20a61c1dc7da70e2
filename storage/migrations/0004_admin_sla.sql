-- Running the consortium: service-level targets, the reminders already sent, and the indexes
-- the admin commands and reports need (a month's report reads that month's rows, not the table).

-- Targets per urgency, in minutes of the urgency's clock: every minute for `critical`,
-- business minutes (Mon-Fri 8:30-17:00, Québec holidays off; a business day is 510) otherwise.
CREATE TABLE sla_targets (
    urgency                 TEXT PRIMARY KEY CHECK (urgency IN ('normal', 'urgent', 'critical')),
    first_response_minutes  INTEGER NOT NULL CHECK (first_response_minutes > 0),
    resolution_minutes      INTEGER NOT NULL CHECK (resolution_minutes > 0),
    updated_by              INTEGER,
    updated_at              TEXT
);
INSERT INTO sla_targets (urgency, first_response_minutes, resolution_minutes) VALUES
    ('critical', 240, 2880),   -- 4 hours / 2 days, every hour counts
    ('urgent', 510, 2550),     -- 1 / 5 business days
    ('normal', 1530, 7650);    -- 3 / 15 business days

-- One row per reminder or alert sent: written in the transaction that queues the message, so
-- that each is sent once per ticket and target, whatever the number of runs or restarts.
CREATE TABLE sla_alerts (
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    target     TEXT NOT NULL CHECK (target IN ('first_response', 'resolution')),
    kind       TEXT NOT NULL CHECK (kind IN ('reminder', 'missed')),
    sent_at    TEXT NOT NULL,
    PRIMARY KEY (ticket_id, target, kind)
) WITHOUT ROWID;

-- /users: by role, by federation, by @username.
CREATE INDEX users_role ON users(role, id);
CREATE INDEX users_federation ON users(federation_id, id);
CREATE INDEX users_username ON users(username COLLATE NOCASE) WHERE username IS NOT NULL;

-- /invites: the pending ones.
CREATE INDEX invites_pending ON invites(expires_at) WHERE revoked_at IS NULL AND uses < max_uses;

-- /revoke and /role: the open tickets of a contact (tickets_contact) or of an assignee
-- (tickets_assignee_status) are already indexed; /domain off counts open tickets of a field
-- with tickets_field_status. Stats and exports read tickets by created_at (tickets_created),
-- billing reads time entries by work_date (time_entries_date) and sums them per ticket
-- (time_entries_ticket).
