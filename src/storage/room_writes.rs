//! What a room writes to D1: its changes (new messages, edits, deletes, reactions),
//! its moderation audit, its read positions and how many are online.

use edgechat_protocol::{Message, ModEvent, PREVIEW_CHARS};
use edgechat_room::Batch;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Result};

use super::message::{Row, UPSERT_FROM_JSON};
use super::{num, run_batch};

/// The most JSON one statement carries, well under D1's 2 MB limit on a bound value.
const MAX_JSON_BYTES: usize = 512 * 1024;

/// Room ?1's summary row after new messages (last seq ?2 at ?3 by ?4, preview ?5, ?6 online), by primary key; never backwards.
pub const ROOM_SUMMARY: &str = "INSERT INTO rooms (id, message_count, last_seq, last_activity, last_name, last_text, \
                                online) \
             VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (id) DO UPDATE SET online = excluded.online, \
               last_name = CASE WHEN excluded.last_seq >= last_seq THEN excluded.last_name ELSE last_name END, \
               last_text = CASE WHEN excluded.last_seq >= last_seq THEN excluded.last_text ELSE last_text END, \
               message_count = MAX(message_count, excluded.message_count), \
               last_seq = MAX(last_seq, excluded.last_seq), \
               last_activity = MAX(last_activity, excluded.last_activity)";

/// One moderation audit entry (room ?1, id ?2) by primary key; a retry is a no-op.
pub const AUDIT: &str =
    "INSERT INTO moderation (room, id, ts, action, by, name, seq, until, reason) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (room, id) DO NOTHING";

/// The claim ?1's read position ?3 in room ?2 by primary key; never backwards.
pub const READ: &str = "INSERT INTO reads (claim, room, seq) VALUES (?1, ?2, ?3) \
         ON CONFLICT (claim, room) DO UPDATE SET seq = MAX(seq, excluded.seq)";

/// Room ?1 has ?2 names online (by primary key).
pub const SET_ONLINE: &str = "UPDATE rooms SET online = ?2 WHERE id = ?1";

/// Splits a batch into JSON arrays of at most [`MAX_JSON_BYTES`] (a single message is
/// far smaller: 4,000 characters of text at most, and 20 reactions).
fn json_chunks(batch: &[(u64, Message)]) -> Result<Vec<String>> {
    let mut chunks = Vec::new();
    let mut current = String::from("[");
    for (rev, m) in batch {
        let row = serde_json::to_string(&Row::new(*rev, m))?;
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

/// Writes everything a room owes D1 (its changed messages, audit entries, read positions
/// and online count) as one atomic batch. Re-writing a change already there is a no-op,
/// so a batch can be retried after a crash or a failure without doubling anything.
pub async fn persist(db: &D1Database, batch: &Batch) -> Result<()> {
    let room = JsValue::from_str(&batch.room);
    let mut statements = messages(db, &room, &batch.messages, batch.online)?;
    if batch.messages.is_empty() {
        if let Some(count) = batch.online {
            statements.push(set_online(db, &room, count)?);
        }
    }
    for entry in &batch.audit {
        statements.push(audit(db, &room, entry)?);
    }
    for (claim, seq) in &batch.reads {
        statements.push(read(db, &room, claim, *seq)?);
    }
    run_batch(db, statements).await
}

/// The statements that write a room's changes (new messages and changed ones, as
/// `(rev, message)` in rev order), with the room's summary row (and the online count in
/// it); none for no changes.
fn messages(
    db: &D1Database,
    room: &JsValue,
    batch: &[(u64, Message)],
    online: Option<usize>,
) -> Result<Vec<D1PreparedStatement>> {
    let Some(last) = batch.iter().map(|(_, m)| m).max_by_key(|m| m.seq) else {
        return Ok(Vec::new());
    };
    let mut statements = Vec::new();
    for chunk in json_chunks(batch)? {
        statements.push(
            db.prepare(UPSERT_FROM_JSON)
                .bind(&[room.clone(), JsValue::from_str(&chunk)])?,
        );
    }
    // Seqs are gapless from 1, so the count of a room's messages is its last seq.
    statements.push(db.prepare(ROOM_SUMMARY).bind(&[
        room.clone(),
        num(last.seq),
        num(last.ts),
        JsValue::from_str(&last.name),
        JsValue::from_str(&last.text.chars().take(PREVIEW_CHARS).collect::<String>()),
        num(online.unwrap_or(0) as u64),
    ])?);
    Ok(statements)
}

/// The statement that writes one moderation audit entry (`(id, event)`); a retried
/// batch is a no-op for entries already there.
fn audit(
    db: &D1Database,
    room: &JsValue,
    (id, e): &(u64, ModEvent),
) -> Result<D1PreparedStatement> {
    let opt = |v: Option<u64>| v.map_or(JsValue::NULL, num);
    db.prepare(AUDIT).bind(&[
        room.clone(),
        num(*id),
        num(e.ts),
        JsValue::from_str(e.action.as_str()),
        JsValue::from_str(&e.by),
        JsValue::from_str(&e.name),
        opt(e.seq),
        opt(e.until),
        e.reason.as_deref().map_or(JsValue::NULL, JsValue::from_str),
    ])
}

/// The statement that writes one claim's read position; a position never moves
/// backwards in D1 either.
fn read(db: &D1Database, room: &JsValue, claim: &str, seq: u64) -> Result<D1PreparedStatement> {
    db.prepare(READ)
        .bind(&[JsValue::from_str(claim), room.clone(), num(seq)])
}

/// The statement that records how many names are connected to a room, for the room
/// list (rooms in the list only), when no message goes with it.
fn set_online(db: &D1Database, room: &JsValue, count: usize) -> Result<D1PreparedStatement> {
    db.prepare(SET_ONLINE)
        .bind(&[room.clone(), num(count as u64)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgechat_protocol::Reaction;

    fn message(seq: u64, text: &str) -> (u64, Message) {
        let m = Message {
            seq,
            room: "r".into(),
            name: "Ann \"A\"".into(),
            text: text.into(),
            ts: 1,
            client_id: Some(format!("c{seq}")),
            reply_to: (seq > 1).then_some(seq - 1),
            reactions: if seq == 2 {
                vec![Reaction {
                    emoji: "👍".into(),
                    count: 1,
                    names: vec!["Bo".into()],
                    mine: false,
                }]
            } else {
                Vec::new()
            },
            ..Message::default()
        };
        (seq + 10, m)
    }

    #[test]
    fn a_batch_travels_as_json_arrays_of_bounded_size() {
        let small: Vec<(u64, Message)> = (1..=3).map(|i| message(i, "hé \n \\ ✓")).collect();
        let chunks = json_chunks(&small).unwrap();
        assert_eq!(chunks.len(), 1);
        let rows: Vec<serde_json::Value> = serde_json::from_str(&chunks[0]).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["text"], "hé \n \\ ✓");
        assert_eq!(rows[0]["name"], "Ann \"A\"");
        assert_eq!(rows[0]["reply_to"], serde_json::Value::Null);
        assert_eq!(rows[2]["reply_to"], 2);
        assert_eq!(rows[0]["rev"], 11);
        assert_eq!(rows[0]["deleted"], 0);
        assert_eq!(rows[0]["reactions"], serde_json::Value::Null);
        assert_eq!(
            rows[1]["reactions"],
            r#"[{"emoji":"👍","count":1,"names":["Bo"]}]"#
        );

        let long = "x".repeat(4000);
        let big: Vec<(u64, Message)> = (1..=300).map(|i| message(i, &long)).collect();
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
