-- The core: federations, people, fields of expertise, invites, drafts, tickets, audit, outbox.
-- Timestamps are ISO 8601 text in UTC (see storage.db.utc_text).

CREATE TABLE federations (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,  -- the Telegram user id (= private chat id)
    role           TEXT NOT NULL CHECK (role IN ('contact', 'lead', 'admin')),
    federation_id  INTEGER REFERENCES federations(id),
    full_name      TEXT NOT NULL,
    username       TEXT,
    language       TEXT NOT NULL CHECK (language IN ('fr', 'en')),
    active         INTEGER NOT NULL DEFAULT 1,
    blocked_at     TEXT,                 -- set when Telegram answered 403 (they blocked the bot)
    created_at     TEXT NOT NULL,
    CHECK (role <> 'contact' OR federation_id IS NOT NULL)
);

CREATE TABLE expertise_fields (
    id                 INTEGER PRIMARY KEY,
    code               TEXT NOT NULL UNIQUE,
    name_fr            TEXT NOT NULL,
    name_en            TEXT NOT NULL,
    hourly_rate_cents  INTEGER NOT NULL DEFAULT 0 CHECK (hourly_rate_cents >= 0),
    active             INTEGER NOT NULL DEFAULT 1,
    position           INTEGER NOT NULL DEFAULT 0,
    routes_to_admins   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE field_leads (
    field_id  INTEGER NOT NULL REFERENCES expertise_fields(id),
    user_id   INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (field_id, user_id)
);
CREATE INDEX field_leads_user ON field_leads(user_id);

CREATE TABLE invites (
    id             INTEGER PRIMARY KEY,
    token_hash     TEXT NOT NULL UNIQUE,   -- sha256 of the token; the token itself is never stored
    role           TEXT NOT NULL CHECK (role IN ('contact', 'lead')),
    federation_id  INTEGER REFERENCES federations(id),
    created_by     INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    max_uses       INTEGER NOT NULL DEFAULT 1,
    uses           INTEGER NOT NULL DEFAULT 0,
    used_by        INTEGER,
    used_at        TEXT,
    revoked_at     TEXT,
    CHECK (role <> 'contact' OR federation_id IS NOT NULL)
);

CREATE TABLE invite_fields (
    invite_id  INTEGER NOT NULL REFERENCES invites(id),
    field_id   INTEGER NOT NULL REFERENCES expertise_fields(id),
    PRIMARY KEY (invite_id, field_id)
);

CREATE TABLE drafts (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'submitted', 'cancelled')),
    step          TEXT NOT NULL,
    editing       INTEGER NOT NULL DEFAULT 0,  -- 1: the step was picked from the review
    field_id      INTEGER REFERENCES expertise_fields(id),
    subject       TEXT,
    description   TEXT,
    urgency       TEXT,
    desired_date  TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX drafts_one_open_per_user ON drafts(user_id) WHERE status = 'open';

CREATE TABLE draft_attachments (
    id              INTEGER PRIMARY KEY,
    draft_id        INTEGER NOT NULL REFERENCES drafts(id),
    kind            TEXT NOT NULL CHECK (kind IN ('document', 'photo')),
    file_id         TEXT NOT NULL,
    file_unique_id  TEXT NOT NULL,
    file_name       TEXT,
    mime_type       TEXT,
    file_size       INTEGER,
    UNIQUE (draft_id, file_unique_id)
);

CREATE TABLE ticket_sequences (
    year  INTEGER PRIMARY KEY,
    last  INTEGER NOT NULL
);

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
                           ('new', 'assigned', 'in_progress', 'waiting', 'resolved', 'closed',
                            'cancelled')),
    assignee_id        INTEGER REFERENCES users(id),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    first_response_at  TEXT,
    resolved_at        TEXT,
    closed_at          TEXT
);
CREATE INDEX tickets_contact ON tickets(contact_id, id DESC);
CREATE INDEX tickets_field_status ON tickets(field_id, status);
CREATE INDEX tickets_assignee_status ON tickets(assignee_id, status);
CREATE INDEX tickets_created ON tickets(created_at);

CREATE TABLE attachments (
    id              INTEGER PRIMARY KEY,
    ticket_id       INTEGER NOT NULL REFERENCES tickets(id),
    kind            TEXT NOT NULL CHECK (kind IN ('document', 'photo')),
    file_id         TEXT NOT NULL,
    file_unique_id  TEXT NOT NULL,
    file_name       TEXT,
    mime_type       TEXT,
    file_size       INTEGER,
    uploaded_by     INTEGER NOT NULL REFERENCES users(id),
    created_at      TEXT NOT NULL
);
CREATE INDEX attachments_ticket ON attachments(ticket_id);

CREATE TABLE ticket_events (
    id           INTEGER PRIMARY KEY,
    ticket_id    INTEGER NOT NULL REFERENCES tickets(id),
    actor_id     INTEGER,              -- NULL: the bot itself (a scheduled job)
    kind         TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT,
    note         TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    chat_id          INTEGER NOT NULL,
    method           TEXT NOT NULL CHECK (method IN
                         ('send_message', 'send_document', 'send_photo', 'edit_message_text',
                          'edit_message_caption', 'set_my_commands')),
    payload          TEXT NOT NULL,             -- JSON: the call's arguments
    purpose          TEXT NOT NULL,             -- why it is sent (new_ticket, taken, report, ...)
    ticket_id        INTEGER REFERENCES tickets(id),
    edit_of          INTEGER REFERENCES outbox(id),  -- for edits: the message to edit
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                         ('pending', 'sent', 'failed', 'blocked', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    message_id       INTEGER,                   -- Telegram's id of the sent message
    created_at       TEXT NOT NULL,
    sent_at          TEXT
);
CREATE INDEX outbox_due ON outbox(next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_ticket ON outbox(ticket_id, purpose);
