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
    created_at TEXT NOT NULL
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
