-- Search in one room that costs the same however many messages other rooms hold
-- (issue 12, data-scale target).
--
-- A search with `room=` walked the index over every match of its words in all rooms,
-- newest first, until it had found 1,000 in the room: for a common word, every match in
-- every room. Now each index row also holds its room, as one token in a second column,
-- `room`: the hex digits of the room id (a room id may hold '-' and '_', which the
-- tokenizer would split at; hex digits are letters and digits only, one token). A search
-- in one room then asks FTS5 for the room's token AND the words, and FTS5 walks the room's
-- doclist with the words' together, seeking instead of reading every other room's matches.
-- The words are matched in the `text` column alone, so a query never matches a room token.
--
-- FTS5 cannot add a column to a table: the index is made again, the same rows with the
-- same rowids (`search_docs.id`), and the triggers of migrations 0004 and 0013 are made
-- again to write the room column too, unchanged otherwise.
DROP TRIGGER IF EXISTS messages_search_insert;
DROP TRIGGER IF EXISTS messages_search_update;
DROP TRIGGER IF EXISTS messages_search_delete;
DROP TABLE messages_fts;

CREATE VIRTUAL TABLE messages_fts USING fts5(
  text,
  room,
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages
BEGIN
  INSERT INTO search_docs (room, seq)
    SELECT new.room, new.seq
    WHERE NOT EXISTS (SELECT 1 FROM search_docs WHERE room = new.room AND seq = new.seq);
  INSERT INTO messages_fts (rowid, text, room)
    SELECT id, replace(replace(new.text, char(2), ' '), char(3), ' '), hex(new.room)
    FROM search_docs WHERE room = new.room AND seq = new.seq AND new.text <> '';
END;

CREATE TRIGGER messages_search_update AFTER UPDATE OF text ON messages
WHEN old.text IS NOT new.text
BEGIN
  DELETE FROM messages_fts
    WHERE rowid = (SELECT id FROM search_docs WHERE room = old.room AND seq = old.seq);
  INSERT INTO search_docs (room, seq)
    SELECT new.room, new.seq
    WHERE NOT EXISTS (SELECT 1 FROM search_docs WHERE room = new.room AND seq = new.seq);
  INSERT INTO messages_fts (rowid, text, room)
    SELECT id, replace(replace(new.text, char(2), ' '), char(3), ' '), hex(new.room)
    FROM search_docs WHERE room = new.room AND seq = new.seq AND new.text <> '';
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
BEGIN
  DELETE FROM messages_fts
    WHERE rowid = (SELECT id FROM search_docs WHERE room = old.room AND seq = old.seq);
  DELETE FROM search_docs WHERE room = old.room AND seq = old.seq;
END;

-- The messages stored before this migration: every one with a text has its
-- `search_docs` row already (migration 0004 and the triggers since).
INSERT INTO messages_fts (rowid, text, room)
  SELECT d.id, replace(replace(m.text, char(2), ' '), char(3), ' '), hex(m.room)
  FROM messages m JOIN search_docs d ON d.room = m.room AND d.seq = m.seq
  WHERE m.text <> '';
