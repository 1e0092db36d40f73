-- Each name's read position per room: the last seq it has read there. Written by the
-- room (never backwards); read for the unread counts of GET /api/rooms?name=N.
CREATE TABLE reads (
  name_key TEXT    NOT NULL,  -- the name, lowercased
  room     TEXT    NOT NULL,
  seq      INTEGER NOT NULL,
  PRIMARY KEY (name_key, room)
) WITHOUT ROWID;
