-- A team's group (issue 15, part 1): a forum supergroup is the workspace of some fields; each
-- ticket of those fields has its topic there.
CREATE TABLE team_groups (
    chat_id INTEGER PRIMARY KEY CHECK (chat_id < 0),
    title TEXT NOT NULL,
    language TEXT NOT NULL CHECK (language IN ('fr', 'en')),  -- the linking admin's
    linked_by INTEGER NOT NULL REFERENCES users(id),
    linked_at TEXT NOT NULL
);

-- A field works in at most one group.
CREATE TABLE team_group_fields (
    field_id INTEGER PRIMARY KEY REFERENCES expertise_fields(id),
    chat_id INTEGER NOT NULL REFERENCES team_groups(chat_id) ON DELETE CASCADE
);

-- A ticket's topic. The row is the intent, committed before createForumTopic is called (in the
-- transaction that announces the ticket); `attempted_at` is set, committed, just before each
-- call; `thread_id` once the answer is recorded. A topic Telegram says is gone gets
-- `deleted_at`, and a new row takes its place (at most one live row per ticket and group).
CREATE TABLE ticket_topics (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    chat_id INTEGER NOT NULL,
    thread_id INTEGER,
    shown_state TEXT NOT NULL DEFAULT 'open' CHECK (shown_state IN ('open', 'waiting', 'resolved')),
    closed INTEGER NOT NULL DEFAULT 0 CHECK (closed IN (0, 1)),
    attempted_at TEXT,
    deleted_at TEXT,
    created_at TEXT NOT NULL,
    last_event_id INTEGER NOT NULL DEFAULT 0  -- the ticket's events posted in the topic so far
);
CREATE UNIQUE INDEX ticket_topics_live ON ticket_topics (ticket_id, chat_id)
    WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX ticket_topics_thread ON ticket_topics (chat_id, thread_id)
    WHERE thread_id IS NOT NULL AND deleted_at IS NULL;

-- Where a lead is told of their fields' new requests (no row: both, when the field has a group).
CREATE TABLE lead_notify (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    mode TEXT NOT NULL CHECK (mode IN ('private', 'group', 'both'))
);

-- Someone pressed « Écrire au contact » in a ticket's topic: their next message there goes to
-- the contact (one row per person and group).
CREATE TABLE topic_inputs (
    user_id INTEGER NOT NULL REFERENCES users(id),
    chat_id INTEGER NOT NULL,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, chat_id)
);

-- The outbox learns the topics' methods: posts in a topic (whose thread is known only once the
-- topic is recorded) and the topic's creation, renaming, closing and reopening. The CHECK is
-- rebuilt as in 0007: the table is copied, dropped and created again, columns named in order,
-- foreign keys checked at COMMIT.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE outbox_before AS SELECT * FROM outbox;
DROP TABLE outbox;
CREATE TABLE outbox (
    id                 INTEGER PRIMARY KEY,
    chat_id            INTEGER NOT NULL,
    method             TEXT NOT NULL CHECK (method IN
                           ('send_message', 'send_document', 'send_photo', 'edit_message_text',
                            'edit_message_caption', 'set_my_commands', 'topic_create',
                            'topic_message', 'topic_document', 'topic_photo', 'topic_edit',
                            'topic_close', 'topic_reopen')),
    payload            TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    ticket_id          INTEGER REFERENCES tickets(id),
    edit_of            INTEGER REFERENCES outbox(id),
    status             TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                           ('pending', 'sent', 'failed', 'blocked', 'cancelled')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    TEXT NOT NULL,
    last_error         TEXT,
    message_id         INTEGER,
    created_at         TEXT NOT NULL,
    sent_at            TEXT,
    ticket_message_id  INTEGER REFERENCES ticket_messages(id)
);
INSERT INTO outbox (id, chat_id, method, payload, purpose, ticket_id, edit_of, status, attempts,
    next_attempt_at, last_error, message_id, created_at, sent_at, ticket_message_id)
    SELECT id, chat_id, method, payload, purpose, ticket_id, edit_of, status, attempts,
        next_attempt_at, last_error, message_id, created_at, sent_at, ticket_message_id
    FROM outbox_before;
DROP TABLE outbox_before;
CREATE INDEX outbox_due ON outbox(next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_ticket ON outbox(ticket_id, purpose);
CREATE INDEX outbox_chat_message ON outbox(chat_id, message_id) WHERE message_id IS NOT NULL;
