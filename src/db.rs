//! The history database (D1): writes from rooms, reads for the HTTP API.

use edgechat_protocol::{Message, Page, RoomSummary};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Error, Result};

/// The largest number a query binds: D1 and Durable Object SQLite take numbers as
/// JavaScript doubles. Larger seqs only ever come from queries that point past the end.
pub const MAX_BOUND_SEQ: u64 = (1 << 53) - 1;

pub(crate) fn num(n: u64) -> JsValue {
    JsValue::from_f64(n.min(MAX_BOUND_SEQ) as f64)
}

/// One INSERT writes a whole chunk of messages: they travel as one JSON array bound to
/// ?2 and SQLite unpacks it with `json_each`, so a batch costs a statement or two
/// rather than one per message (D1 binds at most 100 parameters to a statement).
const INSERT_FROM_JSON: &str =
    "INSERT INTO messages (room, seq, name, text, ts, client_id, reply_to) \
     SELECT ?1, json_extract(value, '$.seq'), json_extract(value, '$.name'), \
            json_extract(value, '$.text'), json_extract(value, '$.ts'), \
            json_extract(value, '$.client_id'), json_extract(value, '$.reply_to') \
     FROM json_each(?2) WHERE true \
     ON CONFLICT (room, seq) DO NOTHING";

/// The most JSON one statement carries, well under D1's 2 MB limit on a bound value.
const MAX_JSON_BYTES: usize = 512 * 1024;

/// The rows of a chunk as the JSON that [`INSERT_FROM_JSON`] reads.
#[derive(serde::Serialize)]
struct Row<'a> {
    seq: u64,
    name: &'a str,
    text: &'a str,
    ts: u64,
    client_id: Option<&'a str>,
    reply_to: Option<u64>,
}

/// Splits a batch into JSON arrays of at most [`MAX_JSON_BYTES`] (a single message is
/// far smaller: 4,000 characters of text at most).
fn json_chunks(batch: &[Message]) -> Result<Vec<String>> {
    let mut chunks = Vec::new();
    let mut current = String::from("[");
    for m in batch {
        let row = serde_json::to_string(&Row {
            seq: m.seq.min(MAX_BOUND_SEQ),
            name: &m.name,
            text: &m.text,
            ts: m.ts.min(MAX_BOUND_SEQ),
            client_id: m.client_id.as_deref(),
            reply_to: m.reply_to.map(|r| r.min(MAX_BOUND_SEQ)),
        })?;
        if current.len() > 1 && current.len() + row.len() + 1 > MAX_JSON_BYTES {
            current.push(']');
            chunks.push(std::mem::replace(&mut current, String::from("[")));
        }
        if current.len() > 1 {
            current.push(',');
        }
        current.push_str(&row);
    }
    if current.len() > 1 {
        current.push(']');
        chunks.push(current);
    }
    Ok(chunks)
}

/// Writes messages (consecutive seqs of one room) in one atomic batch, together with
/// the room's summary row. Re-writing a message already there is a no-op, so a batch
/// can be retried after a crash without doubling anything.
pub async fn store_batch(db: &D1Database, batch: &[Message]) -> Result<()> {
    let Some(last) = batch.last() else {
        return Ok(());
    };
    let room = JsValue::from_str(&last.room);
    let mut statements = Vec::new();
    for chunk in json_chunks(batch)? {
        statements.push(
            db.prepare(INSERT_FROM_JSON)
                .bind(&[room.clone(), JsValue::from_str(&chunk)])?,
        );
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

    fn message(seq: u64, text: &str) -> Message {
        Message {
            seq,
            room: "r".into(),
            name: "Ann \"A\"".into(),
            text: text.into(),
            ts: 1,
            client_id: Some(format!("c{seq}")),
            reply_to: (seq > 1).then_some(seq - 1),
        }
    }

    #[test]
    fn a_batch_travels_as_json_arrays_of_bounded_size() {
        let small: Vec<Message> = (1..=3).map(|i| message(i, "hé \n \\ ✓")).collect();
        let chunks = json_chunks(&small).unwrap();
        assert_eq!(chunks.len(), 1);
        let rows: Vec<serde_json::Value> = serde_json::from_str(&chunks[0]).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["text"], "hé \n \\ ✓");
        assert_eq!(rows[0]["name"], "Ann \"A\"");
        assert_eq!(rows[0]["reply_to"], serde_json::Value::Null);
        assert_eq!(rows[2]["reply_to"], 2);

        let long = "x".repeat(4000);
        let big: Vec<Message> = (1..=300).map(|i| message(i, &long)).collect();
        let chunks = json_chunks(&big).unwrap();
        assert!(chunks.len() > 1);
        let mut seqs = Vec::new();
        for c in &chunks {
            assert!(c.len() <= MAX_JSON_BYTES);
            let rows: Vec<serde_json::Value> = serde_json::from_str(c).unwrap();
            seqs.extend(rows.iter().map(|r| r["seq"].as_u64().unwrap()));
        }
        assert_eq!(seqs, (1..=300).collect::<Vec<_>>());
        assert!(json_chunks(&[]).unwrap().is_empty());
    }
}
