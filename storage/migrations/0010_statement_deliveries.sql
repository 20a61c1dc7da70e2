-- Each manager's monthly statement (issue 14), recorded per recipient: 'sending' is written
-- and committed before the PDF goes to Telegram, then 'sent', 'blocked' (403) or 'failed'
-- (400). A passing failure removes the row, to be tried at the next check. A row still
-- 'sending' was interrupted by a crash between the send and its record: it is not sent again
-- (at most once: a statement is never doubled; the manager can still ask /statement).
CREATE TABLE statement_deliveries (
    federation_id  INTEGER NOT NULL REFERENCES federations(id),
    month          TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]'),
    user_id        INTEGER NOT NULL REFERENCES users(id),
    status         TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'blocked', 'failed')),
    at             TEXT NOT NULL,
    PRIMARY KEY (federation_id, month, user_id)
) WITHOUT ROWID;
