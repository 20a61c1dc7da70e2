-- A manager's monthly statement whose send got no answer (a timeout: Telegram may have
-- delivered it) is 'unsure': not sent again, the admins told once. A passing failure (5xx,
-- connection error, 429) is kept as 'retry' with the number of checks it failed at (`tries`),
-- tried again at the next check until 'given_up' (the admins told once). A 'sending' row found
-- stale at a check (a crash between the send and its record) becomes 'unsure' too.
CREATE TABLE statement_deliveries_new (
    federation_id  INTEGER NOT NULL REFERENCES federations(id),
    month          TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]'),
    user_id        INTEGER NOT NULL REFERENCES users(id),
    status         TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'blocked', 'failed',
                                                   'unsure', 'retry', 'given_up')),
    at             TEXT NOT NULL,
    tries          INTEGER NOT NULL DEFAULT 0 CHECK (tries >= 0),
    PRIMARY KEY (federation_id, month, user_id)
) WITHOUT ROWID;
INSERT INTO statement_deliveries_new (federation_id, month, user_id, status, at)
    SELECT federation_id, month, user_id, status, at FROM statement_deliveries;
DROP TABLE statement_deliveries;
ALTER TABLE statement_deliveries_new RENAME TO statement_deliveries;
