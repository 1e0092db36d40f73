//! A stored message, defined once: its columns (the table below), and from them every
//! SQL text that names them (the room log's reads, `append` and `update`; D1's upsert
//! and reads), the JSON [`Row`] a room writes to D1, and the [`MessageRow`] read back.
//! Its reactions as stored are here too.
//!
//! The SQL texts are `const`s made by `concat!` at compile time, so nothing is built at
//! run time; the tests below pin them, and check that D1's migrations and the log's
//! schema steps declare every column.

use edgechat_protocol::{Message, Reaction};
use serde::{Deserialize, Serialize};

use super::bound;

/// The table of a stored message's columns, in the order D1 stores them, handed to the
/// macro `$m` (one of the list builders below) after its arguments. Each row is
/// `(column read insert update)`:
///
/// - `read`: read back as part of the message (`rev` is the room's, read beside it);
/// - `insert`: written when the room's log appends the message (the others start at
///   their defaults: a new message is not edited, deleted or reacted to, nor replied to);
/// - `update`: changed by an edit, a delete, a reaction or a reply (the rest is fixed).
///
/// The room's log adds `name_key` and `claim` (who wrote it); D1 adds `room` in front
/// (its rows of every room share one table).
macro_rules! message_columns {
    ($m:ident! ($($args:tt)*)) => {
        $m!(($($args)*) []
            (seq         y y n)
            (name        y y n)
            (text        y y y)
            (ts          y y n)
            (client_id   y y n)
            (reply_to    y y n)
            (edited_ts   y n y)
            (deleted     y n y)
            (reactions   y n y)
            (reply_count y n y)
            (rev         n y y)
            (attachment  y y y)
            (pinned      y n y)
        )
    };
}

/// One text from the columns whose flag `read`, `insert` or `update` is `y` (or `all`
/// of them), joined by `$sep`, each written in a `$shape`: `once` (`$before column
/// $after`), `twice` (`$before column $after column`) or `mark` (`$before` alone, e.g. a
/// `?` for each). Called as `message_columns!(column_list!(flag, shape, before, after,
/// sep))`.
macro_rules! column_list {
    // Done: one literal.
    (($($args:tt)*) [$($acc:tt)*]) => {
        concat!($($acc)*)
    };
    // Taken or skipped by the flag asked for.
    ((all, $($a:tt)*) [$($acc:tt)*] ($c:ident $r:ident $i:ident $u:ident) $($rest:tt)*) => {
        column_list!(@push (all, $($a)*) [$($acc)*] $c $($rest)*)
    };
    ((read, $($a:tt)*) [$($acc:tt)*] ($c:ident y $i:ident $u:ident) $($rest:tt)*) => {
        column_list!(@push (read, $($a)*) [$($acc)*] $c $($rest)*)
    };
    ((insert, $($a:tt)*) [$($acc:tt)*] ($c:ident $r:ident y $u:ident) $($rest:tt)*) => {
        column_list!(@push (insert, $($a)*) [$($acc)*] $c $($rest)*)
    };
    ((update, $($a:tt)*) [$($acc:tt)*] ($c:ident $r:ident $i:ident y) $($rest:tt)*) => {
        column_list!(@push (update, $($a)*) [$($acc)*] $c $($rest)*)
    };
    (($($a:tt)*) [$($acc:tt)*] ($c:ident $r:ident $i:ident $u:ident) $($rest:tt)*) => {
        column_list!(($($a)*) [$($acc)*] $($rest)*)
    };
    // The first column taken has no separator before it.
    (@push ($f:ident, $shape:ident, $before:literal, $after:literal, $sep:literal) []
        $c:ident $($rest:tt)*) => {
        column_list!(($f, $shape, $before, $after, $sep)
            [column_list!(@shape $shape $before $c $after),] $($rest)*)
    };
    (@push ($f:ident, $shape:ident, $before:literal, $after:literal, $sep:literal)
        [$($acc:tt)+] $c:ident $($rest:tt)*) => {
        column_list!(($f, $shape, $before, $after, $sep)
            [$($acc)+ $sep, column_list!(@shape $shape $before $c $after),] $($rest)*)
    };
    (@shape once $before:literal $c:ident $after:literal) => {
        concat!($before, stringify!($c), $after)
    };
    (@shape twice $before:literal $c:ident $after:literal) => {
        concat!($before, stringify!($c), $after, stringify!($c))
    };
    (@shape mark $before:literal $c:ident $after:literal) => {
        $before
    };
}

/// The columns a read of messages takes, in the order of [`MessageRow`] (the log's
/// reads; D1's put `room` first, [`D1_COLUMNS`]).
pub const COLUMNS: &str = message_columns!(column_list!(read, once, "", "", ", "));

/// The columns of a message in D1's `messages` (its reads).
#[cfg(test)]
pub const D1_COLUMNS: &str = concat!(
    "room, ",
    message_columns!(column_list!(read, once, "", "", ", "))
);

/// A read of D1's messages: [`D1_COLUMNS`] from `messages`, then the rest of the query.
macro_rules! d1_read {
    ($($rest:literal),+) => {
        concat!(
            "SELECT room, ",
            message_columns!(column_list!(read, once, "", "", ", ")),
            " FROM messages ",
            $($rest),+
        )
    };
}

/// The newest page of room ?1: ?2 rows, newest first (a range of the primary key).
pub const D1_PAGE_NEWEST: &str = d1_read!("WHERE room = ?1 ORDER BY seq DESC LIMIT ?2");

/// The page of room ?1 before seq ?2: ?3 rows, newest first.
pub const D1_PAGE_BEFORE: &str =
    d1_read!("WHERE room = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3");

/// The page of room ?1 after seq ?2: ?3 rows, oldest first.
pub const D1_PAGE_AFTER: &str = d1_read!("WHERE room = ?1 AND seq > ?2 ORDER BY seq ASC LIMIT ?3");

/// The replies in room ?1 to seq ?2 after seq ?3: ?4 rows, oldest first: a range of the
/// partial index `messages_replies` on (room, reply_to, seq), named, because without
/// statistics SQLite prefers walking the room's whole history by primary key (a query
/// that lost the index then fails rather than slowing down unseen).
pub const D1_REPLIES: &str = d1_read!(
    "INDEXED BY messages_replies WHERE room = ?1 AND reply_to = ?2 AND seq > ?3 ",
    "ORDER BY seq LIMIT ?4"
);

/// The room log's append: the columns a new message is written with, and who wrote it.
/// The unique (name_key, client_id) index turns a resend into no row written. Its
/// bindings follow the columns in order, then `name_key` and `claim`.
pub const LOG_APPEND: &str = concat!(
    "INSERT INTO log (",
    message_columns!(column_list!(insert, once, "", "", ", ")),
    ", name_key, claim) VALUES (",
    message_columns!(column_list!(insert, mark, "?", "", ", ")),
    ", ?, ?) ON CONFLICT (name_key, client_id) DO NOTHING"
);

/// The room log's update of a changed message: the columns a change may change, bound
/// in order, then its seq.
pub const LOG_UPDATE: &str = concat!(
    "UPDATE log SET ",
    message_columns!(column_list!(update, once, "", " = ?", ", ")),
    " WHERE seq = ?"
);

/// One statement writes a whole chunk of changes to D1: they travel as one JSON array
/// of [`Row`]s bound to ?2 (the room is ?1) and SQLite unpacks it with `json_each`, so
/// a batch costs a statement or two rather than one per row (D1 binds at most 100
/// parameters to a statement). A row already there takes the change only if it is
/// newer (its rev), so a batch retried after a crash, or a row written twice in one
/// chunk, ends as the last change.
pub const UPSERT_FROM_JSON: &str = concat!(
    "INSERT INTO messages (room, ",
    message_columns!(column_list!(all, once, "", "", ", ")),
    ") SELECT ?1, ",
    message_columns!(column_list!(
        all,
        once,
        "json_extract(value, '$.",
        "')",
        ", "
    )),
    " FROM json_each(?2) WHERE true ON CONFLICT (room, seq) DO UPDATE SET ",
    message_columns!(column_list!(update, twice, "", " = excluded.", ", ")),
    " WHERE excluded.rev > messages.rev"
);

/// Reactions as stored in a TEXT column: a JSON array, or NULL when there are none.
/// Each emoji has its exact count and its first names (`mine` is never stored: it is
/// the viewer's, marked on the way out).
pub fn reactions_json(reactions: &[Reaction]) -> Option<String> {
    if reactions.is_empty() {
        return None;
    }
    serde_json::to_string(reactions).ok()
}

/// A change of a message as the JSON that [`UPSERT_FROM_JSON`] reads: every column of
/// the table, in its order (the tests hold it to the table).
#[derive(Serialize)]
pub struct Row<'a> {
    seq: u64,
    name: &'a str,
    text: &'a str,
    ts: u64,
    client_id: Option<&'a str>,
    reply_to: Option<u64>,
    edited_ts: Option<u64>,
    deleted: u8,
    reactions: Option<String>,
    reply_count: u64,
    rev: u64,
    /// The attachment as JSON text (the column holds its JSON), or null.
    attachment: Option<String>,
    /// Who pinned it and when, as JSON text, or null.
    pinned: Option<String>,
}

impl<'a> Row<'a> {
    /// The row of `m` at `rev`, its numbers within what a query binds.
    pub fn new(rev: u64, m: &'a Message) -> Self {
        Row {
            seq: bound(m.seq),
            name: &m.name,
            text: &m.text,
            ts: bound(m.ts),
            client_id: m.client_id.as_deref(),
            reply_to: m.reply_to.map(bound),
            edited_ts: m.edited_ts.map(bound),
            deleted: u8::from(m.deleted),
            reactions: reactions_json(&m.reactions),
            reply_count: m.reply_count,
            rev: bound(rev),
            attachment: m
                .attachment
                .as_ref()
                .and_then(|a| serde_json::to_string(a).ok()),
            pinned: m
                .pinned
                .as_ref()
                .and_then(|p| serde_json::to_string(p).ok()),
        }
    }
}

/// A message row as SQLite returns it for [`COLUMNS`] or [`D1_COLUMNS`] (numbers
/// arrive as JavaScript doubles). The room's own log has no `room` column: its rows
/// take the room they belong to.
#[derive(Deserialize)]
pub struct MessageRow {
    #[serde(default)]
    room: String,
    seq: f64,
    name: String,
    text: String,
    ts: f64,
    client_id: Option<String>,
    reply_to: Option<f64>,
    #[serde(default)]
    edited_ts: Option<f64>,
    #[serde(default)]
    deleted: Option<f64>,
    #[serde(default)]
    reactions: Option<String>,
    #[serde(default)]
    reply_count: Option<f64>,
    #[serde(default)]
    attachment: Option<String>,
    #[serde(default)]
    pinned: Option<String>,
}

impl MessageRow {
    pub fn into_message(self, room: Option<&str>) -> Message {
        Message {
            seq: self.seq as u64,
            room: room.map_or(self.room, str::to_owned),
            name: self.name,
            text: self.text,
            ts: self.ts as u64,
            client_id: self.client_id,
            reply_to: self.reply_to.map(|s| s as u64),
            edited_ts: self.edited_ts.map(|t| t as u64),
            deleted: self.deleted.is_some_and(|d| d != 0.0),
            // A column only this code writes; unreadable JSON would show no reactions.
            reactions: self
                .reactions
                .and_then(|r| serde_json::from_str(&r).ok())
                .map(bounded_reactions)
                .unwrap_or_default(),
            reply_count: self.reply_count.unwrap_or(0.0) as u64,
            attachment: self.attachment.and_then(|a| serde_json::from_str(&a).ok()),
            pinned: self.pinned.and_then(|p| serde_json::from_str(&p).ok()),
        }
    }
}

/// Reactions as read back: a row written before counts were kept lists every name and
/// no count (migration 0012 and the log's step 5 rewrite those); it reads as its count
/// and a bounded list all the same.
fn bounded_reactions(mut reactions: Vec<Reaction>) -> Vec<Reaction> {
    for r in &mut reactions {
        r.count = r.total();
        r.names.truncate(edgechat_room::bounds::MAX_REACTION_NAMES);
        r.mine = false;
    }
    reactions
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column of the table, in order.
    const ALL: &str = message_columns!(column_list!(all, once, "", "", ", "));

    fn list(text: &str) -> Vec<&str> {
        text.split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect()
    }

    #[test]
    fn the_sql_follows_from_the_table() {
        assert_eq!(
            COLUMNS,
            "seq, name, text, ts, client_id, reply_to, edited_ts, deleted, reactions, \
             reply_count, attachment, pinned"
        );
        assert_eq!(D1_COLUMNS, format!("room, {COLUMNS}"));
        assert_eq!(
            D1_PAGE_BEFORE,
            format!(
                "SELECT {D1_COLUMNS} FROM messages WHERE room = ?1 AND seq < ?2 \
                 ORDER BY seq DESC LIMIT ?3"
            )
        );
        assert_eq!(
            LOG_APPEND,
            "INSERT INTO log (seq, name, text, ts, client_id, reply_to, rev, attachment, \
             name_key, claim) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (name_key, client_id) DO NOTHING"
        );
        assert_eq!(
            LOG_UPDATE,
            "UPDATE log SET text = ?, edited_ts = ?, deleted = ?, reactions = ?, \
             reply_count = ?, rev = ?, attachment = ?, pinned = ? WHERE seq = ?"
        );
        assert_eq!(
            UPSERT_FROM_JSON,
            "INSERT INTO messages (room, seq, name, text, ts, client_id, reply_to, edited_ts, \
             deleted, reactions, reply_count, rev, attachment, pinned) \
             SELECT ?1, json_extract(value, '$.seq'), json_extract(value, '$.name'), \
             json_extract(value, '$.text'), json_extract(value, '$.ts'), \
             json_extract(value, '$.client_id'), json_extract(value, '$.reply_to'), \
             json_extract(value, '$.edited_ts'), json_extract(value, '$.deleted'), \
             json_extract(value, '$.reactions'), json_extract(value, '$.reply_count'), \
             json_extract(value, '$.rev'), json_extract(value, '$.attachment'), \
             json_extract(value, '$.pinned') \
             FROM json_each(?2) WHERE true ON CONFLICT (room, seq) DO UPDATE SET \
             text = excluded.text, edited_ts = excluded.edited_ts, deleted = excluded.deleted, \
             reactions = excluded.reactions, reply_count = excluded.reply_count, \
             rev = excluded.rev, attachment = excluded.attachment, pinned = excluded.pinned \
             WHERE excluded.rev > messages.rev"
        );
    }

    #[test]
    fn the_rows_follow_from_the_table() {
        // The JSON a room writes has every column, in the table's order.
        let m = Message {
            seq: 3,
            name: "Ann".into(),
            text: "hi".into(),
            ..Message::default()
        };
        let json = serde_json::to_value(Row::new(4, &m)).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut all = list(ALL);
        all.sort_unstable();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted, all,
            "serde_json sorts keys; the serialized order is below"
        );
        let text = serde_json::to_string(&Row::new(4, &m)).unwrap();
        let order: Vec<usize> = list(ALL)
            .iter()
            .map(|c| text.find(&format!("\"{c}\":")).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");

        // A row read back takes every column a read names, and nothing else is needed.
        let mut row = serde_json::Map::new();
        for (i, c) in list(D1_COLUMNS).into_iter().enumerate() {
            let v = match c {
                "room" | "name" | "text" => serde_json::json!(c),
                "client_id" | "reactions" | "attachment" | "pinned" => serde_json::Value::Null,
                _ => serde_json::json!(i as f64),
            };
            row.insert(c.to_owned(), v);
        }
        let read: MessageRow = serde_json::from_value(row.into()).unwrap();
        let read = read.into_message(None);
        // Each number landed in its own field: every column a read names is known.
        assert_eq!(
            (read.room.as_str(), read.name.as_str(), read.text.as_str()),
            ("room", "name", "text")
        );
        assert_eq!((read.seq, read.ts, read.reply_to), (1, 4, Some(6)));
        assert_eq!(
            (read.edited_ts, read.deleted, read.reply_count),
            (Some(7), true, 10)
        );
    }

    /// The columns a set of SQL files gives `table`: its `CREATE TABLE` and every
    /// `ALTER TABLE ... ADD COLUMN` after it.
    fn declared(sql: &str, table: &str) -> Vec<String> {
        let mut columns = Vec::new();
        let create = format!("CREATE TABLE {table} (");
        let create_new = format!("CREATE TABLE IF NOT EXISTS {table} (");
        let alter = format!("ALTER TABLE {table} ADD COLUMN ");
        let mut inside = false;
        for line in sql.lines().map(str::trim) {
            if line.starts_with(&create) || line.starts_with(&create_new) {
                inside = true;
                continue;
            }
            if inside {
                if line.starts_with(')') {
                    inside = false;
                    continue;
                }
                let word = line.split_whitespace().next().unwrap_or_default();
                if !word.is_empty() && !word.starts_with("--") && word != "PRIMARY" {
                    columns.push(word.trim_end_matches(',').to_owned());
                }
            } else if let Some(rest) = line.strip_prefix(&alter) {
                columns.push(
                    rest.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
        columns
    }

    #[test]
    fn d1_migrations_declare_every_column() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        assert!(files.len() >= 12);
        let sql: String = files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        let mut declared = declared(&sql, "messages");
        let mut wanted: Vec<String> = std::iter::once("room")
            .chain(list(ALL))
            .map(str::to_owned)
            .collect();
        declared.sort();
        wanted.sort();
        assert_eq!(declared, wanted);
    }

    #[test]
    fn the_log_steps_declare_every_column() {
        let sql = super::super::room_log::SCHEMA_STEPS.join("\n");
        let mut declared = declared(&sql, "log");
        let mut wanted: Vec<String> = list(ALL)
            .into_iter()
            .chain(["name_key", "claim"])
            .map(str::to_owned)
            .collect();
        declared.sort();
        wanted.sort();
        assert_eq!(declared, wanted);
    }
}
