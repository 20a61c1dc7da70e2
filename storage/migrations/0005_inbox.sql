-- The durable inbox: an update is committed here before Telegram is told it arrived.
CREATE TABLE inbox (
    update_id    INTEGER PRIMARY KEY,
    chat_id      INTEGER,
    payload      TEXT NOT NULL,      -- the update as Telegram sent it (JSON)
    received_at  TEXT NOT NULL,
    handled_at   TEXT
);
CREATE INDEX inbox_pending ON inbox(update_id) WHERE handled_at IS NULL;

-- The last message of the contact that a draft step took: a replayed update is not an answer.
ALTER TABLE drafts ADD COLUMN last_message_id INTEGER;

-- Wrong invite tokens, to slow down whoever guesses.
CREATE TABLE invite_failures (
    user_id  INTEGER NOT NULL,
    at       TEXT NOT NULL
);
CREATE INDEX invite_failures_user ON invite_failures(user_id, at);
