-- Pinned messages (issue 13): the room's owner and moderators pin messages, at most 50
-- a room. Who pinned a message and when is one JSON column of its row,
-- {"by": name, "ts": ms}, NULL when it is not pinned; it arrives with the message's
-- other changes (the room's batch upsert, in rev order), and deleting a message clears
-- it. Rooms read their pins from their own storage, so no index is needed here.
ALTER TABLE messages ADD COLUMN pinned TEXT;
