-- The moderation audit: every kick, ban, unban, and deletion of someone else's message
-- by a room's creator, in the order the room did them (`id` counts per room).
CREATE TABLE moderation (
  room    TEXT    NOT NULL,
  id      INTEGER NOT NULL,
  ts      INTEGER NOT NULL,
  action  TEXT    NOT NULL,  -- kick | ban | unban | delete
  by      TEXT    NOT NULL,  -- the moderator
  name    TEXT    NOT NULL,  -- who was acted on (the author, for a delete)
  seq     INTEGER,           -- the deleted message
  until   INTEGER,           -- when a ban ends
  reason  TEXT,
  PRIMARY KEY (room, id)
) WITHOUT ROWID;
