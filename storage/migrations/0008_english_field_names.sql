-- Canadian English spells it "organization" (0002 said "Event organisation"). Only the default
-- name is corrected: a name an admin gave the field (/domain rename) stays as they wrote it.
UPDATE expertise_fields
   SET name_en = 'Event organization'
 WHERE code = 'events' AND name_en = 'Event organisation';
