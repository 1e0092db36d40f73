-- A claim is an identity (issue 9). Each claim has its own id, and what a person owns
-- (DM membership, read positions; in each room's own storage: authorship, files,
-- ownership and moderator roles) is bound to that id, never to the bare name, so a name
-- released and claimed again by someone else inherits nothing.
--
-- Claims made before this migration get the id "legacy:" + their key. Each room's log
-- gives what it bound to a name the same id by the same rule, so a current claim keeps
-- everything it had. New claims get 24 random hex digits.
ALTER TABLE names ADD COLUMN claim_id TEXT;
UPDATE names SET claim_id = 'legacy:' || name_key;
-- A fresh claim is pending (0) until its client shows it kept the token; unconfirmed,
-- it lapses after NAME_PENDING_SECS. Claims from before were used as they were: kept.
ALTER TABLE names ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 1;
-- The UTS #39 confusable skeletons of the name, of its spelling and of its folded key
-- (some look-alikes show only in capitals, some only in lower case): a new claim that
-- shares either with a live one is refused. Rows from before are filled in by the
-- Worker (it has the Unicode data).
ALTER TABLE names ADD COLUMN skeleton TEXT;
ALTER TABLE names ADD COLUMN key_skeleton TEXT;
CREATE UNIQUE INDEX names_by_claim ON names (claim_id);
CREATE INDEX names_by_token ON names (token_hash);
CREATE INDEX names_by_skeleton ON names (skeleton);
CREATE INDEX names_by_key_skeleton ON names (key_skeleton);

-- Direct messages are between two claims; each party may leave (hide) the DM.
ALTER TABLE dms ADD COLUMN a_claim TEXT;
ALTER TABLE dms ADD COLUMN b_claim TEXT;
ALTER TABLE dms ADD COLUMN a_left INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dms ADD COLUMN b_left INTEGER NOT NULL DEFAULT 0;
UPDATE dms SET a_claim = 'legacy:' || a_key, b_claim = 'legacy:' || b_key;
CREATE INDEX dms_by_a_claim ON dms (a_claim);
CREATE INDEX dms_by_b_claim ON dms (b_claim);

-- Read positions belong to claims.
ALTER TABLE reads RENAME TO reads_by_name;
CREATE TABLE reads (
  claim TEXT    NOT NULL,
  room  TEXT    NOT NULL,
  seq   INTEGER NOT NULL,
  PRIMARY KEY (claim, room)
) WITHOUT ROWID;
INSERT INTO reads (claim, room, seq) SELECT 'legacy:' || name_key, room, seq FROM reads_by_name;
DROP TABLE reads_by_name;
