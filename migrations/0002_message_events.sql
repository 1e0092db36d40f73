-- Messages change in place: edits, deletes (a tombstone keeps the seq), reactions and
-- reply counts. `rev` is the room's change counter at the row's last change: a write
-- from the room takes a change only if it is newer, so retried batches are harmless.
ALTER TABLE messages ADD COLUMN edited_ts INTEGER;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
-- JSON: [{"emoji": "👍", "names": ["Ann", "Bo"]}], NULL when there are none.
ALTER TABLE messages ADD COLUMN reactions TEXT;
ALTER TABLE messages ADD COLUMN reply_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;

-- A message's thread: its replies in seq order.
CREATE INDEX messages_replies ON messages (room, reply_to, seq) WHERE reply_to IS NOT NULL;
