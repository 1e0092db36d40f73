//! The history database (D1): writes from rooms, reads for the HTTP API.

use edgechat_protocol::{Message, Page, RoomSummary};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Error, Result};

/// The largest number a query binds: D1 and Durable Object SQLite take numbers as
/// JavaScript doubles. Larger seqs only ever come from queries that point past the end.
pub const MAX_BOUND_SEQ: u64 = (1 << 53) - 1;

fn num(n: u64) -> JsValue {
    JsValue::from_f64(n.min(MAX_BOUND_SEQ) as f64)
}

fn opt_str(s: &Option<String>) -> JsValue {
    s.as_deref().map_or(JsValue::NULL, JsValue::from_str)
}

/// Rows per INSERT: D1 binds at most 100 parameters to a statement; the room is bound
/// once (?1) and each message takes 6 more.
const ROWS_PER_INSERT: usize = 16;
const PARAMS_PER_ROW: usize = 6;
const _: () = assert!(ROWS_PER_INSERT * PARAMS_PER_ROW < 100);

/// `INSERT ... VALUES (?1, ?2, ...), (?1, ?8, ...)` for `rows` messages of the room bound
/// as ?1; re-writing one is a no-op.
fn insert_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let p = 2 + r * PARAMS_PER_ROW;
            format!(
                "(?1, ?{}, ?{}, ?{}, ?{}, ?{}, ?{})",
                p,
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5
            )
        })
        .collect();
    format!(
        "INSERT INTO messages (room, seq, name, text, ts, client_id, reply_to) VALUES {} \
         ON CONFLICT (room, seq) DO NOTHING",
        values.join(", ")
    )
}

/// Writes messages (consecutive seqs of one room) in one atomic batch, together with
/// the room's summary row. Re-writing a message already there is a no-op, so a batch
/// can be retried after a crash without doubling anything.
pub async fn store_batch(db: &D1Database, batch: &[Message]) -> Result<()> {
    let Some(last) = batch.last() else {
        return Ok(());
    };
    let mut statements = Vec::with_capacity(batch.len() / ROWS_PER_INSERT + 2);
    for rows in batch.chunks(ROWS_PER_INSERT) {
        let mut values = Vec::with_capacity(1 + rows.len() * PARAMS_PER_ROW);
        values.push(JsValue::from_str(&last.room));
        for m in rows {
            values.extend([
                num(m.seq),
                JsValue::from_str(&m.name),
                JsValue::from_str(&m.text),
                num(m.ts),
                opt_str(&m.client_id),
                m.reply_to.map_or(JsValue::NULL, num),
            ]);
        }
        statements.push(db.prepare(insert_sql(rows.len())).bind(&values)?);
    }
    // Seqs are gapless from 1, so the count of a room's messages is its last seq.
    statements.push(
        db.prepare(
            "INSERT INTO rooms (id, message_count, last_seq, last_activity) VALUES (?1, ?2, ?2, ?3) \
             ON CONFLICT (id) DO UPDATE SET \
               message_count = MAX(message_count, excluded.message_count), \
               last_seq = MAX(last_seq, excluded.last_seq), \
               last_activity = MAX(last_activity, excluded.last_activity)",
        )
        .bind(&[JsValue::from_str(&last.room), num(last.seq), num(last.ts)])?,
    );
    for result in db.batch(statements).await? {
        if !result.success() {
            return Err(Error::RustError(
                result.error().unwrap_or_else(|| "D1 batch failed".into()),
            ));
        }
    }
    Ok(())
}

/// A message row as SQLite returns it (numbers arrive as JavaScript doubles). The
/// room's own log has no `room` column: its rows take the room they belong to.
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
        }
    }
}

const COLUMNS: &str = "room, seq, name, text, ts, client_id, reply_to";

/// A page of a room's history, oldest first, and whether more exist beyond it.
/// Every form is a range scan of the primary key (room, seq).
pub async fn page(db: &D1Database, room: &str, page: Page) -> Result<(Vec<Message>, bool)> {
    let limit = page.limit() as usize;
    let fetch = num(limit as u64 + 1);
    let (statement, newest_first) = match page {
        Page::Newest { .. } => (
            db.prepare(format!(
                "SELECT {COLUMNS} FROM messages WHERE room = ?1 ORDER BY seq DESC LIMIT ?2"
            ))
            .bind(&[JsValue::from_str(room), fetch])?,
            true,
        ),
        Page::Before { before, .. } => (
            db.prepare(format!(
                "SELECT {COLUMNS} FROM messages WHERE room = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"
            ))
            .bind(&[JsValue::from_str(room), num(before), fetch])?,
            true,
        ),
        Page::After { after, .. } => (
            db.prepare(format!(
                "SELECT {COLUMNS} FROM messages WHERE room = ?1 AND seq > ?2 ORDER BY seq ASC LIMIT ?3"
            ))
            .bind(&[JsValue::from_str(room), num(after), fetch])?,
            false,
        ),
    };
    let rows: Vec<MessageRow> = statement.all().await?.results()?;
    let has_more = rows.len() > limit;
    let mut messages: Vec<Message> = rows
        .into_iter()
        .take(limit)
        .map(|r| r.into_message(None))
        .collect();
    if newest_first {
        messages.reverse();
    }
    Ok((messages, has_more))
}

#[derive(Deserialize)]
struct RoomRow {
    id: String,
    message_count: f64,
    last_activity: f64,
}

/// The 100 most recently active rooms with history.
pub async fn rooms(db: &D1Database) -> Result<Vec<RoomSummary>> {
    let rows: Vec<RoomRow> = db
        .prepare(
            "SELECT id, message_count, last_activity FROM rooms \
             ORDER BY last_activity DESC, id LIMIT 100",
        )
        .all()
        .await?
        .results()?;
    Ok(rows
        .into_iter()
        .map(|r| RoomSummary {
            id: r.id,
            message_count: r.message_count as u64,
            last_activity: r.last_activity as u64,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_insert_binds_at_most_100_parameters_and_numbers_them_in_order() {
        let sql = insert_sql(ROWS_PER_INSERT);
        let last = 1 + ROWS_PER_INSERT * PARAMS_PER_ROW;
        assert!(sql.contains(&format!("?{last})")));
        assert!(!sql.contains(&format!("?{}", last + 1)));
        assert!(insert_sql(1).contains("VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT"));
        assert_eq!(insert_sql(2).matches("?1,").count(), 2);
    }
}
