-- Indexes the benchmark (bench/, `make bench`) found missing.

-- The daily request limit (bot/tickets.py over_daily_limit, on /new and on Send) counts a
-- contact's tickets of the last 24 hours: with tickets_contact alone SQLite reads every ticket
-- the contact ever filed (a row lookup each, to compare created_at); this one answers from the
-- index, whatever the length of the history.
CREATE INDEX tickets_contact_created ON tickets(contact_id, created_at);
