-- Hourly quotas (issue 10): how many rooms a claim or an address made, and how many
-- files and bytes a claim uploaded, in one hour-long window. `key` never holds a raw
-- address: it is "rooms:addr:" + an HMAC-SHA-256 of the address under DM_SECRET, or
-- "rooms:claim:" / "uploads:claim:" + a claim id. `window_start` is the window's start (ms
-- since the epoch, a multiple of 3,600,000). Each increment is one upsert; the same
-- batch deletes that key's windows older than two hours, a range of the primary key.
CREATE TABLE quotas (
  key     TEXT    NOT NULL,
  window_start INTEGER NOT NULL,
  count   INTEGER NOT NULL DEFAULT 0,
  bytes   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (key, window_start)
) WITHOUT ROWID;

-- The room list ranks real activity: rooms with messages first, by their last message's
-- time, then rooms made but still empty. Pages are keyset ranges of this index (the
-- expression and columns are exactly those of the list's ORDER BY).
CREATE INDEX rooms_by_rank ON rooms ((last_seq > 0), last_activity, id)
  WHERE visibility = 'public' AND id NOT LIKE 'dm--%';
