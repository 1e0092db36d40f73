-- Direct messages: the private room of two claimed names. `room` is "dm--" and 40 hex
-- digits of a hash of the two folded names, so a pair has one room; a and b are the two
-- names in folded order. Only they may open it (checked by the Worker).
CREATE TABLE dms (
  room       TEXT    PRIMARY KEY,
  a_key      TEXT    NOT NULL,
  a_name     TEXT    NOT NULL,
  b_key      TEXT    NOT NULL,
  b_name     TEXT    NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX dms_by_a ON dms (a_key);
CREATE INDEX dms_by_b ON dms (b_key);
