-- The history of every room. One row per stored message; (room, seq) is the key,
-- so every history page is a range scan of the primary key.
CREATE TABLE messages (
  room      TEXT    NOT NULL,
  seq       INTEGER NOT NULL,
  name      TEXT    NOT NULL,
  text      TEXT    NOT NULL,
  ts        INTEGER NOT NULL,
  client_id TEXT,
  reply_to  INTEGER,
  PRIMARY KEY (room, seq)
) WITHOUT ROWID;

-- One row per room that has history, kept up to date in the same batch as the
-- messages it counts, so listing rooms never scans `messages`.
CREATE TABLE rooms (
  id            TEXT    PRIMARY KEY,
  message_count INTEGER NOT NULL,
  last_seq      INTEGER NOT NULL,
  last_activity INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX rooms_by_activity ON rooms (last_activity DESC, id);
