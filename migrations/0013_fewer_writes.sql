-- Fewer D1 rows written per message (issue 12).
--
-- `rooms_by_activity` is read by no query (the room list pages `rooms_by_rank`, migration
-- 0011), yet every message moved the room's entry in it: gone.
DROP INDEX IF EXISTS rooms_by_activity;

-- A reaction, a reply (its parent's reply count) or a delete's other columns rewrite a
-- message row with its text unchanged; the search index then dropped and re-added the
-- same text. Now it is redone only when the text really changes (an edit, a delete).
DROP TRIGGER IF EXISTS messages_search_update;
CREATE TRIGGER messages_search_update AFTER UPDATE OF text ON messages
WHEN old.text IS NOT new.text
BEGIN
  DELETE FROM messages_fts
    WHERE rowid = (SELECT id FROM search_docs WHERE room = old.room AND seq = old.seq);
  INSERT INTO search_docs (room, seq)
    SELECT new.room, new.seq
    WHERE NOT EXISTS (SELECT 1 FROM search_docs WHERE room = new.room AND seq = new.seq);
  INSERT INTO messages_fts (rowid, text)
    SELECT id, replace(replace(new.text, char(2), ' '), char(3), ' ')
    FROM search_docs WHERE room = new.room AND seq = new.seq AND new.text <> '';
END;
