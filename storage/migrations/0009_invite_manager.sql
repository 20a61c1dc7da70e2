-- An invite may register a federation's manager (`/invite CODE manager`): a contact with the
-- manager's flag, set when the invite is used (storage.people.set_manager). Contacts only.
ALTER TABLE invites ADD COLUMN manager INTEGER NOT NULL DEFAULT 0
    CHECK (manager IN (0, 1) AND (manager = 0 OR role = 'contact'));
