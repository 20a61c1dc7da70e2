-- Requests across several fields (issue 15, part 2). A request is one ticket, or several linked
-- ones ("parts"), each in its own field with its own reference, lead, service levels, time,
-- estimate and rate. Only linked tickets have a row here; the request is named after its first
-- part (request_id = that ticket's id). One part per field in a request.
CREATE TABLE ticket_parts (
    ticket_id   INTEGER PRIMARY KEY REFERENCES tickets(id),
    request_id  INTEGER NOT NULL REFERENCES tickets(id),
    field_id    INTEGER NOT NULL REFERENCES expertise_fields(id),
    added_by    INTEGER REFERENCES users(id),  -- the lead who added it; NULL: the form
    created_at  TEXT NOT NULL,
    UNIQUE (request_id, field_id)
);

-- The other fields a contact picked at the form's review (« Ce besoin touche aussi… »).
CREATE TABLE draft_fields (
    draft_id  INTEGER NOT NULL REFERENCES drafts(id),
    field_id  INTEGER NOT NULL REFERENCES expertise_fields(id),
    PRIMARY KEY (draft_id, field_id)
);

-- The field a lead picked for a new part, while they write its note (with pending_inputs).
CREATE TABLE part_choices (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id),
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    field_id    INTEGER NOT NULL REFERENCES expertise_fields(id),
    created_at  TEXT NOT NULL
);

-- A message a contact wrote, not as a reply, while several parts of theirs are open: kept
-- until they say which part it is for.
CREATE TABLE part_questions (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id),
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
