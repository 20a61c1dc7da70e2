-- Working a ticket: the conversation, time entries, ratings, pending inputs, search.

CREATE TABLE ticket_messages (
    id                 INTEGER PRIMARY KEY,
    ticket_id          INTEGER NOT NULL REFERENCES tickets(id),
    author_id          INTEGER NOT NULL REFERENCES users(id),
    kind               TEXT NOT NULL CHECK (kind IN ('text', 'document', 'photo')),
    body               TEXT,                  -- the text, or the caption
    file_id            TEXT,
    file_unique_id     TEXT,
    file_name          TEXT,
    source_chat_id     INTEGER NOT NULL,      -- where the author wrote it (to relay edits)
    source_message_id  INTEGER NOT NULL,
    created_at         TEXT NOT NULL,
    edited_at          TEXT,
    UNIQUE (source_chat_id, source_message_id)
);
CREATE INDEX ticket_messages_ticket ON ticket_messages(ticket_id, id);

-- Which outbox row carried a relayed message (to relay its edits to the same message).
ALTER TABLE outbox ADD COLUMN ticket_message_id INTEGER REFERENCES ticket_messages(id);
-- A person's reply to a bot message finds its ticket through the message it replies to.
CREATE INDEX outbox_chat_message ON outbox(chat_id, message_id) WHERE message_id IS NOT NULL;

CREATE TABLE time_entries (
    id                 INTEGER PRIMARY KEY,
    ticket_id          INTEGER NOT NULL REFERENCES tickets(id),
    lead_id            INTEGER NOT NULL REFERENCES users(id),
    field_id           INTEGER NOT NULL REFERENCES expertise_fields(id),
    work_date          TEXT NOT NULL,         -- local date (TIMEZONE) of the entry
    minutes            INTEGER NOT NULL CHECK (minutes > 0 AND minutes <= 1440),
    hourly_rate_cents  INTEGER NOT NULL CHECK (hourly_rate_cents >= 0),  -- the rate then
    note               TEXT,
    created_at         TEXT NOT NULL
);
CREATE INDEX time_entries_ticket ON time_entries(ticket_id);
CREATE INDEX time_entries_date ON time_entries(work_date);

ALTER TABLE tickets ADD COLUMN rating INTEGER CHECK (rating BETWEEN 1 AND 5);
ALTER TABLE tickets ADD COLUMN rating_comment TEXT;
ALTER TABLE tickets ADD COLUMN resolution_note TEXT;
CREATE INDEX tickets_status_updated ON tickets(status, updated_at);

-- What the bot waits for from a person outside the form: a question for the contact, a
-- resolution note, a rating comment, a time entry, a reply.
CREATE TABLE pending_inputs (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id),
    kind        TEXT NOT NULL,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    created_at  TEXT NOT NULL
);

-- Full-text search over subjects and descriptions.
CREATE VIRTUAL TABLE tickets_fts USING fts5(
    subject, description, content='tickets', content_rowid='id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO tickets_fts (rowid, subject, description) SELECT id, subject, description FROM tickets;
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
