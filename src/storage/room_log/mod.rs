//! The room's log in the Durable Object's own SQLite storage.
//!
//! Every message is appended here first (synchronously, in the object's transaction),
//! which fixes its seq and its client_id for deduplication; the room then writes it to
//! D1 and moves the `durable` watermark. Welcome pages, resumes and `history` frames
//! are answered from here without a round trip to D1.
//!
//! This file opens the log and brings its schema up to date; the core's `Log` traits are
//! implemented beside it, one file per concern: [`messages`] (messages, revs, pages),
//! [`moderation`], [`reads`], [`files`] (uploads and a send's attachment) and
//! [`reactions`].

mod files;
mod messages;
mod moderation;
mod reactions;
mod reads;
mod seen;

use edgechat_protocol::{
    legacy_claim_id, name_key, FileRef, Message, ModEvent, Name, Page, Reaction, REACTION_NAMES_MAX,
};
use edgechat_room::{
    AttachmentLog, Ban, ClaimId, LogError, Member, MessageLog, ModerationLog, PageLog, Positions,
    ReactionLog, ReadLog, Roles, Stored, Toggle, UploadLog,
};
use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue};

// The columns every read of messages takes.
use super::message::COLUMNS as COLS;
use super::message::{reactions_json, MessageRow, LOG_APPEND, LOG_UPDATE};
use super::{bound, fit};

pub struct SqlLog {
    sql: SqlStorage,
    room: String,
    /// Whether step 5 left reactions under a name's legacy claim id because the log
    /// knew no newer claim of that name (see [`SqlLog::adopt_legacy_reactions`]).
    legacy_reactions: bool,
    /// The room id the log keeps (meta `room`), as read when it was opened or set since.
    stored_room: Option<String>,
    /// The last-seen list (meta `last_seen`), as read when the log opened or set since.
    stored_seen: Vec<edgechat_room::SeenEntry>,
}

// Tables that the steps and [`FRESH`] declare alike (after `CREATE TABLE`).
macro_rules! log_first_columns {
    () => {
        "
        seq INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        text TEXT NOT NULL,
        ts INTEGER NOT NULL,
        client_id TEXT,
        reply_to INTEGER"
    };
}
macro_rules! bans_table {
    () => {
        "bans (
        name_key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        until INTEGER NOT NULL,
        reason TEXT,
        by TEXT NOT NULL
    )"
    };
}
macro_rules! roles_table {
    () => {
        "roles (
        claim TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL
    )"
    };
}
macro_rules! reactions_table {
    () => {
        "reactions (
        seq INTEGER NOT NULL,
        emoji TEXT NOT NULL,
        claim TEXT NOT NULL,
        name TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (seq, emoji, claim)
    ) WITHOUT ROWID"
    };
}

/// The log's tables and indexes exactly as the six steps below leave them (column order
/// included), made in one call for a room that has no tables yet: a new room's first
/// event costs one statement batch instead of eight (a test builds both on SQLite and
/// compares every table's columns and every index).
const FRESH: &str = concat!(
    "CREATE TABLE log (",
    log_first_columns!(),
    ",
        rev INTEGER NOT NULL DEFAULT 0,
        edited_ts INTEGER,
        deleted INTEGER NOT NULL DEFAULT 0,
        reactions TEXT,
        reply_count INTEGER NOT NULL DEFAULT 0,
        attachment TEXT,
        claim TEXT NOT NULL DEFAULT '',
        pinned TEXT
    );
    CREATE UNIQUE INDEX log_client ON log (name_key, client_id);
    CREATE INDEX log_pinned ON log (seq) WHERE pinned IS NOT NULL;
    CREATE INDEX log_rev ON log (rev);
    CREATE INDEX log_replies ON log (reply_to, seq) WHERE reply_to IS NOT NULL;
    CREATE TABLE meta (key TEXT PRIMARY KEY, value);
    CREATE TABLE ",
    bans_table!(),
    ";
    CREATE TABLE audit (id INTEGER PRIMARY KEY, event TEXT NOT NULL);
    CREATE TABLE reads (
        claim TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        written INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE files (
        id TEXT PRIMARY KEY,
        claim TEXT NOT NULL,
        file TEXT NOT NULL,
        seq INTEGER,
        uploaded_at INTEGER
    );
    CREATE INDEX files_unattached ON files (uploaded_at) WHERE seq IS NULL;
    CREATE TABLE ",
    roles_table!(),
    ";
    CREATE TABLE ",
    reactions_table!(),
    ";
    CREATE INDEX reactions_order ON reactions (seq, emoji, at);
    CREATE INDEX reactions_claim ON reactions (claim, seq);
    INSERT INTO meta (key, value) VALUES ('schema', 6);"
);

/// What [`SqlLog::open`] reads of `meta`, in one statement.
const OPEN_META: &str =
    "SELECT key, value FROM meta WHERE key IN ('schema', 'legacy_reactions', 'room', 'last_seen')";

/// The log's first shape (a log without `meta` gets [`FRESH`] instead; one from before
/// step 2 is brought up from here).
const SCHEMA: &str = concat!(
    "CREATE TABLE IF NOT EXISTS log (",
    log_first_columns!(),
    "
    );
    CREATE UNIQUE INDEX IF NOT EXISTS log_client ON log (name_key, client_id);
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
    CREATE TABLE IF NOT EXISTS ",
    bans_table!(),
    ";
    CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, event TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS reads (
        name_key TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        written INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE IF NOT EXISTS files (
        id TEXT PRIMARY KEY,
        name_key TEXT NOT NULL,
        file TEXT NOT NULL,
        seq INTEGER
    );"
);

/// The log's second shape: messages change in place (edits, deletes, reactions, reply
/// counts), each row marked with the rev of its last change. Rows from before it keep
/// rev = seq, which is what their order was; the `durable` watermark (a seq until
/// now) reads as a rev unchanged.
const SCHEMA_2: &str = "ALTER TABLE log ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE log ADD COLUMN edited_ts INTEGER;
    ALTER TABLE log ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE log ADD COLUMN reactions TEXT;
    ALTER TABLE log ADD COLUMN reply_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE log ADD COLUMN attachment TEXT;
    UPDATE log SET rev = seq;
    CREATE INDEX log_rev ON log (rev);
    CREATE INDEX log_replies ON log (reply_to, seq) WHERE reply_to IS NOT NULL;
    INSERT INTO meta (key, value) VALUES ('schema', 2)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value;";

/// The log's third shape: who someone is is their claim, not their name. Messages
/// keep their author's claim; read positions and files belong to claims; the owner and
/// moderators are claims. What was bound to a name before gets that name's legacy claim
/// id ("legacy:" + the name as it was keyed), which is the id the name's claim got in
/// D1 by the same rule, so a current claim keeps what it had.
const SCHEMA_3: &str = concat!(
    "ALTER TABLE log ADD COLUMN claim TEXT NOT NULL DEFAULT '';
    UPDATE log SET claim = 'legacy:' || name_key;
    ALTER TABLE files RENAME COLUMN name_key TO claim;
    UPDATE files SET claim = 'legacy:' || claim;
    ALTER TABLE reads RENAME COLUMN name_key TO claim;
    UPDATE reads SET claim = 'legacy:' || claim;
    CREATE TABLE IF NOT EXISTS ",
    roles_table!(),
    ";
    INSERT INTO meta (key, value) VALUES ('schema', 3)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value;"
);

/// The log's fourth shape: who reacted is kept per (seq, emoji, claim), one row each,
/// so that a toggle writes a row instead of rewriting everyone who reacted; the log row
/// keeps only each emoji's count and first names (a bounded summary). Files remember
/// when they were uploaded, so that one never attached is swept after its lifetime
/// (files from before count from this step).
const SCHEMA_4: &str = concat!(
    "CREATE TABLE IF NOT EXISTS ",
    reactions_table!(),
    ";
    CREATE INDEX IF NOT EXISTS reactions_order ON reactions (seq, emoji, at);
    CREATE INDEX IF NOT EXISTS reactions_claim ON reactions (claim, seq);
    ALTER TABLE files ADD COLUMN uploaded_at INTEGER;
    UPDATE files SET uploaded_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER);
    CREATE INDEX IF NOT EXISTS files_unattached ON files (uploaded_at) WHERE seq IS NULL;
    INSERT INTO meta (key, value) VALUES ('schema', 4)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value;"
);

/// The log's sixth shape: a message may be pinned (who pinned it and when, as JSON),
/// and the room reads its pins when it opens, through a partial index of the few
/// pinned rows.
const SCHEMA_6: &str = "ALTER TABLE log ADD COLUMN pinned TEXT;
    CREATE INDEX IF NOT EXISTS log_pinned ON log (seq) WHERE pinned IS NOT NULL;
    INSERT INTO meta (key, value) VALUES ('schema', 6)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value;";

/// Every step the log's tables went through, in order (a test checks that they give
/// `log` every column of [`super::message`]'s table, and `name_key` and `claim`).
#[cfg(test)]
pub(super) const SCHEMA_STEPS: [&str; 5] = [SCHEMA, SCHEMA_2, SCHEMA_3, SCHEMA_4, SCHEMA_6];

/// The schema a new room gets in one call (see [`FRESH`]).
#[cfg(test)]
pub(super) const SCHEMA_FRESH: &str = FRESH;

/// A value as JSON text, or NULL.
fn json_or_null<T: serde::Serialize>(value: Option<&T>) -> SqlStorageValue {
    value
        .and_then(|v| serde_json::to_string(v).ok())
        .map_or(SqlStorageValue::Null, SqlStorageValue::from)
}

fn err(e: worker::Error) -> LogError {
    LogError(e.to_string())
}

fn int(n: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(bound(n) as i64)
}

#[derive(Deserialize)]
struct Value {
    value: Option<serde_json::Value>,
}

impl SqlLog {
    /// Opens the log: one statement for a log that is up to date (its `meta`), three
    /// for a room without tables yet (the failed read, the check that `meta` is really
    /// missing, [`FRESH`]); an older log is brought up step by step.
    pub fn open(sql: SqlStorage) -> Result<Self, LogError> {
        #[derive(Deserialize)]
        struct Meta {
            key: String,
            value: Option<serde_json::Value>,
        }
        let mut log = SqlLog {
            sql,
            room: String::new(),
            legacy_reactions: false,
            stored_room: None,
            stored_seen: Vec::new(),
        };
        let meta: Vec<Meta> = match log.fetch(OPEN_META, None) {
            Ok(rows) => rows,
            Err(e) if log.has_meta()? => return Err(e),
            Err(_) => {
                log.sql.exec(FRESH, None).map_err(err)?;
                return Ok(log);
            }
        };
        let mut version = 1.0;
        for row in meta {
            match (row.key.as_str(), row.value) {
                ("schema", Some(v)) => version = v.as_f64().unwrap_or(1.0),
                ("legacy_reactions", Some(_)) => log.legacy_reactions = true,
                ("room", Some(v)) => log.stored_room = v.as_str().map(str::to_owned),
                ("last_seen", Some(v)) => log.stored_seen = seen::seen_of(v),
                _ => {}
            }
        }
        if version < 5.0 {
            // An older log may lack tables that step 1 gained after it was made.
            log.sql.exec(SCHEMA, None).map_err(err)?;
        }
        if version < 2.0 {
            log.sql.exec(SCHEMA_2, None).map_err(err)?;
        }
        if version < 3.0 {
            log.sql.exec(SCHEMA_3, None).map_err(err)?;
            log.migrate_creator()?;
        }
        if version < 4.0 {
            log.sql.exec(SCHEMA_4, None).map_err(err)?;
        }
        if version < 5.0 {
            // Step 5 fills step 4's table from the reactions the log rows listed; it
            // may run again after a failure (every write is idempotent). A log from
            // before step 2 had no reactions to move.
            if version >= 2.0 {
                log.migrate_reactions()?;
            }
            log.set_meta("schema", int(5))?;
            log.legacy_reactions = log.meta("legacy_reactions")?.is_some();
        }
        if version < 6.0 {
            log.sql.exec(SCHEMA_6, None).map_err(err)?;
        }
        Ok(log)
    }

    /// Whether the log has its `meta` table (a read of it failed: was it missing?).
    fn has_meta(&self) -> Result<bool, LogError> {
        #[derive(Deserialize)]
        struct Count {
            n: f64,
        }
        let rows: Vec<Count> = self.fetch(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
            None,
        )?;
        Ok(rows.first().is_some_and(|r| r.n > 0.0))
    }

    /// Gives `claim` the reactions step 5 could only file under the legacy claim id of
    /// `name` (its reactor had no message in this room to tell which claim it was), so
    /// that the person who reacted before the move can see and take back their own
    /// reactions. Reactions were by name before, so this keeps their meaning. Called when
    /// a claim joins; one indexed statement, and none in rooms that never needed it.
    pub fn adopt_legacy_reactions(&self, claim: &str, name: &Name) {
        let legacy = legacy_claim_id(name.key());
        if !self.legacy_reactions || legacy == claim {
            return;
        }
        if let Err(e) = self.run(
            "UPDATE OR IGNORE reactions SET claim = ? WHERE claim = ?",
            vec![claim.into(), legacy.into()],
        ) {
            worker::console_error!("adopting legacy reactions: {}", e.0);
        }
    }

    /// Step 3's data: the creator was a name; it becomes that name's legacy claim.
    fn migrate_creator(&mut self) -> Result<(), LogError> {
        let creator = self
            .meta("creator")?
            .and_then(|v| v.as_str().map(str::to_owned));
        if let Some(name) = creator {
            self.set_owner(&Member {
                claim: legacy_claim_id(&name.to_lowercase()).into(),
                name,
            })?;
        }
        Ok(())
    }

    /// Moves the reactions listed in log rows (every name, no count) into the
    /// reactions table, one row per name, each under the claim of that name's newest
    /// message here (else its legacy claim, as step 3 gave authorship), in the order
    /// listed; then rewrites each row's summary: exact counts, the first names.
    fn migrate_reactions(&mut self) -> Result<(), LogError> {
        #[derive(Deserialize)]
        struct Row {
            seq: f64,
            reactions: String,
        }
        #[derive(Deserialize)]
        struct Claim {
            claim: String,
        }
        let rows: Vec<Row> = self.fetch(
            "SELECT seq, reactions FROM log WHERE reactions IS NOT NULL",
            None,
        )?;
        for row in rows {
            let seq = row.seq as u64;
            let listed: Vec<Reaction> = serde_json::from_str(&row.reactions).unwrap_or_default();
            let mut summary = Vec::new();
            for r in listed {
                for (i, name) in r.names.iter().enumerate() {
                    let key = name_key(name);
                    let claims: Vec<Claim> = self.fetch(
                        "SELECT claim FROM log WHERE name_key = ? ORDER BY seq DESC LIMIT 1",
                        vec![key.as_str().into()],
                    )?;
                    let claim = match claims.into_iter().next() {
                        Some(c) => c.claim,
                        None => {
                            self.set_meta("legacy_reactions", int(1))?;
                            legacy_claim_id(&key)
                        }
                    };
                    self.run(
                        "INSERT INTO reactions (seq, emoji, claim, name, at) VALUES (?, ?, ?, ?, ?) \
                         ON CONFLICT DO NOTHING",
                        vec![
                            int(seq),
                            r.emoji.as_str().into(),
                            claim.into(),
                            name.as_str().into(),
                            int(i as u64),
                        ],
                    )?;
                }
                let (count, names) = self.reactors(seq, &r.emoji, REACTION_NAMES_MAX)?;
                if count > 0 {
                    summary.push(Reaction {
                        emoji: r.emoji,
                        count,
                        names,
                        mine: false,
                    });
                }
            }
            let json =
                reactions_json(&summary).map_or(SqlStorageValue::Null, SqlStorageValue::from);
            self.run(
                "UPDATE log SET reactions = ? WHERE seq = ?",
                vec![json, int(seq)],
            )?;
        }
        Ok(())
    }

    /// How many claims reacted to `seq` with `emoji`, and the first `limit` names.
    fn reactors(
        &self,
        seq: u64,
        emoji: &str,
        limit: usize,
    ) -> Result<(u64, Vec<String>), LogError> {
        #[derive(Deserialize)]
        struct Count {
            n: f64,
        }
        #[derive(Deserialize)]
        struct Who {
            name: String,
        }
        let count: Vec<Count> = self.fetch(
            "SELECT COUNT(*) AS n FROM reactions WHERE seq = ? AND emoji = ?",
            vec![int(seq), emoji.into()],
        )?;
        let count = count.first().map_or(0, |c| c.n as u64);
        if count == 0 || limit == 0 {
            return Ok((count, Vec::new()));
        }
        let who: Vec<Who> = self.fetch(
            "SELECT name FROM reactions WHERE seq = ? AND emoji = ? ORDER BY at LIMIT ?",
            vec![int(seq), emoji.into(), int(limit as u64)],
        )?;
        Ok((count, who.into_iter().map(|w| w.name).collect()))
    }

    /// The rows of a query, as `T`.
    fn fetch<T: serde::de::DeserializeOwned>(
        &self,
        query: &str,
        bindings: impl Into<Option<Vec<SqlStorageValue>>>,
    ) -> Result<Vec<T>, LogError> {
        self.sql
            .exec(query, bindings)
            .map_err(err)?
            .to_array()
            .map_err(err)
    }

    /// Runs a statement that answers no rows.
    fn run(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<(), LogError> {
        self.sql.exec(query, bindings).map_err(err)?;
        Ok(())
    }

    fn meta(&self, key: &str) -> Result<Option<serde_json::Value>, LogError> {
        let rows: Vec<Value> =
            self.fetch("SELECT value FROM meta WHERE key = ?", vec![key.into()])?;
        Ok(rows.into_iter().next().and_then(|r| r.value))
    }

    fn set_meta(&self, key: &str, value: SqlStorageValue) -> Result<(), LogError> {
        self.run(
            "INSERT INTO meta (key, value) VALUES (?, ?) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![key.into(), value],
        )
    }

    /// The room id this object serves, once a request has told it.
    pub fn room_id(&self) -> Option<&str> {
        self.stored_room.as_deref()
    }

    /// Serves `room` without storing it.
    pub fn use_room_id(&mut self, room: &str) {
        self.room = room.to_owned();
    }

    pub fn room(&self) -> &str {
        &self.room
    }

    pub fn set_room_id(&mut self, room: &str) -> Result<(), LogError> {
        if self.room_id() != Some(room) {
            self.set_meta("room", room.into())?;
            self.stored_room = Some(room.to_owned());
        }
        self.room = room.to_owned();
        Ok(())
    }

    fn rows(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<Vec<Message>, LogError> {
        let rows: Vec<MessageRow> = self.fetch(query, bindings)?;
        Ok(rows
            .into_iter()
            .map(|r| r.into_message(Some(&self.room)))
            .collect())
    }
}

/// A log row with what the room needs beside the message.
#[derive(Deserialize)]
struct FullRow {
    #[serde(flatten)]
    message: MessageRow,
    name_key: String,
    claim: String,
    rev: f64,
}

#[derive(Deserialize)]
struct SeqRev {
    seq: f64,
    rev: f64,
}

#[cfg(test)]
mod tests {
    use super::{SCHEMA_FRESH, SCHEMA_STEPS};
    use rusqlite::Connection;

    /// Every table's columns (name, type, not null, default, key position) and every
    /// index's table, columns, uniqueness and condition, in a stable order.
    fn shape(db: &Connection) -> Vec<String> {
        let mut out = Vec::new();
        let mut tables = Connection::prepare(
            db,
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name",
        )
        .unwrap();
        let tables: Vec<(String, String)> = tables
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (table, sql) in tables {
            let without_rowid = sql.to_uppercase().contains("WITHOUT ROWID");
            out.push(format!("table {table} without_rowid={without_rowid}"));
            let mut cols = Connection::prepare(db, &format!("PRAGMA table_info({table})")).unwrap();
            let cols = cols
                .query_map([], |r| {
                    Ok(format!(
                        "  column {} {} notnull={} default={:?} pk={}",
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, i64>(5)?
                    ))
                })
                .unwrap()
                .map(Result::unwrap);
            out.extend(cols);
        }
        let mut indexes = Connection::prepare(
            db,
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name",
        )
        .unwrap();
        let indexes: Vec<(String, String, Option<String>)> = indexes
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (name, table, sql) in indexes {
            // Automatic indexes (primary keys) have no SQL; what they cover is in the
            // columns' pk above. Written ones are compared by their text, spaces folded.
            let sql = sql.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "));
            out.push(format!("index {name} on {table}: {sql:?}"));
        }
        out
    }

    #[test]
    fn a_new_rooms_schema_is_what_the_steps_make() {
        let stepped = Connection::open_in_memory().unwrap();
        for step in SCHEMA_STEPS {
            stepped.execute_batch(step).unwrap();
        }
        let fresh = Connection::open_in_memory().unwrap();
        fresh.execute_batch(SCHEMA_FRESH).unwrap();
        let (a, b) = (shape(&stepped), shape(&fresh));
        assert!(a.len() > 40, "{a:#?}");
        assert_eq!(a, b);
        // Both say they are at step 6 (open writes 5 after moving reactions, then
        // step 6 writes 6).
        let v: i64 = fresh
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(v, 6);
    }

    #[test]
    fn the_open_read_of_meta_fails_only_without_tables() {
        let db = Connection::open_in_memory().unwrap();
        assert!(Connection::prepare(&db, super::OPEN_META).is_err());
        db.execute_batch(SCHEMA_FRESH).unwrap();
        assert!(Connection::prepare(&db, super::OPEN_META).is_ok());
    }
}
