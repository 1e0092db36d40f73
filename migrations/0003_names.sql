-- Name claims (global across rooms): the first connection with a free name claims it.
-- Only a SHA-256 hash of the claim's secret token is kept. A claim lives while it is
-- used: `last_used` (ms since the epoch) is refreshed by connects that bring the token,
-- and a claim unused for NAME_CLAIM_TTL_SECS (30 days by default) may be taken over.
CREATE TABLE IF NOT EXISTS names (
  name_key   TEXT PRIMARY KEY,  -- the name folded to lowercase, as rooms compare names
  name       TEXT NOT NULL,     -- as the claiming connection spelled it
  token_hash TEXT NOT NULL,     -- lowercase hex SHA-256 of the token
  claimed_at INTEGER NOT NULL,
  last_used  INTEGER NOT NULL
) WITHOUT ROWID;
