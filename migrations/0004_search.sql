-- Full-text search over message text (GET /api/search).
--
-- `messages` is WITHOUT ROWID, so the index cannot be an external-content FTS5 table
-- over it. It is a plain FTS5 table holding its own copy of each text, kept in sync by
-- the triggers below. `search_docs` gives every message a stable integer id, which is
-- the rowid of its row in `messages_fts`: an edit or a delete then reaches its index row
-- by rowid instead of scanning the index.
--
-- The index copy of a text has U+0002 and U+0003 replaced by spaces: search snippets use
-- those two as hit markers, so they must not come from the text itself. Both are token
-- separators for the tokenizer, so matching is the same either way. A message whose text
-- is empty (a deleted message) has no index row.
--
-- The triggers test for an existing `search_docs` row instead of INSERT OR IGNORE: the
-- room writes messages with an upsert (INSERT ... ON CONFLICT DO UPDATE), and an outer
-- statement's conflict handling overrides the OR IGNORE of a statement in its triggers.
CREATE TABLE search_docs (
  id   INTEGER PRIMARY KEY,
  room TEXT    NOT NULL,
  seq  INTEGER NOT NULL,
  UNIQUE (room, seq)
);

CREATE VIRTUAL TABLE messages_fts USING fts5(
  text,
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages
BEGIN
  INSERT INTO search_docs (room, seq)
    SELECT new.room, new.seq
    WHERE NOT EXISTS (SELECT 1 FROM search_docs WHERE room = new.room AND seq = new.seq);
  INSERT INTO messages_fts (rowid, text)
    SELECT id, replace(replace(new.text, char(2), ' '), char(3), ' ')
    FROM search_docs WHERE room = new.room AND seq = new.seq AND new.text <> '';
END;

CREATE TRIGGER messages_search_update AFTER UPDATE OF text ON messages
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

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
BEGIN
  DELETE FROM messages_fts
    WHERE rowid = (SELECT id FROM search_docs WHERE room = old.room AND seq = old.seq);
  DELETE FROM search_docs WHERE room = old.room AND seq = old.seq;
END;

-- The messages stored before this migration.
INSERT OR IGNORE INTO search_docs (room, seq) SELECT room, seq FROM messages;
INSERT INTO messages_fts (rowid, text)
  SELECT d.id, replace(replace(m.text, char(2), ' '), char(3), ' ')
  FROM messages m JOIN search_docs d ON d.room = m.room AND d.seq = m.seq
  WHERE m.text <> '';
