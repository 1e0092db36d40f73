//! The history database (D1): writes from rooms, reads for the HTTP API.

use edgechat_protocol::{
    split_snippet, CreateRoom, Message, ModEvent, Page, Preview, Reaction, RoomInfo, RoomSummary,
    SearchQuery, SearchResult, Visibility, HIT_CLOSE, HIT_OPEN, PREVIEW_CHARS,
};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Error, Result};

use crate::room_list::Cursor;

/// The largest number a query binds: D1 and Durable Object SQLite take numbers as
/// JavaScript doubles. Larger seqs only ever come from queries that point past the end.
pub const MAX_BOUND_SEQ: u64 = (1 << 53) - 1;

pub(crate) fn num(n: u64) -> JsValue {
    JsValue::from_f64(n.min(MAX_BOUND_SEQ) as f64)
}

/// One statement writes a whole chunk of changes: they travel as one JSON array bound
/// to ?2 and SQLite unpacks it with `json_each`, so a batch costs a statement or two
/// rather than one per row (D1 binds at most 100 parameters to a statement). A row
/// already there takes the change only if it is newer (its rev), so a batch retried
/// after a crash, or a row written twice in one chunk, ends as the last change.
const UPSERT_FROM_JSON: &str =
    "INSERT INTO messages (room, seq, name, text, ts, client_id, reply_to, \
                           edited_ts, deleted, reactions, reply_count, rev, attachment) \
     SELECT ?1, json_extract(value, '$.seq'), json_extract(value, '$.name'), \
            json_extract(value, '$.text'), json_extract(value, '$.ts'), \
            json_extract(value, '$.client_id'), json_extract(value, '$.reply_to'), \
            json_extract(value, '$.edited_ts'), json_extract(value, '$.deleted'), \
            json_extract(value, '$.reactions'), json_extract(value, '$.reply_count'), \
            json_extract(value, '$.rev'), json_extract(value, '$.attachment') \
     FROM json_each(?2) WHERE true \
     ON CONFLICT (room, seq) DO UPDATE SET \
       text = excluded.text, edited_ts = excluded.edited_ts, deleted = excluded.deleted, \
       reactions = excluded.reactions, reply_count = excluded.reply_count, rev = excluded.rev, \
       attachment = excluded.attachment \
     WHERE excluded.rev > messages.rev";

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
    edited_ts: Option<u64>,
    deleted: u8,
    reactions: Option<String>,
    reply_count: u64,
    rev: u64,
    /// The attachment as JSON text (the column holds its JSON), or null.
    attachment: Option<String>,
}

/// Reactions as stored in a TEXT column: a JSON array, or NULL when there are none.
/// Each emoji has its exact count and its first names (`mine` is never stored: it is
/// the viewer's, marked on the way out).
pub fn reactions_json(reactions: &[Reaction]) -> Option<String> {
    if reactions.is_empty() {
        return None;
    }
    serde_json::to_string(reactions).ok()
}

/// Splits a batch into JSON arrays of at most [`MAX_JSON_BYTES`] (a single message is
/// far smaller: 4,000 characters of text at most, and 20 reactions).
fn json_chunks(batch: &[(u64, Message)]) -> Result<Vec<String>> {
    let mut chunks = Vec::new();
    let mut current = String::from("[");
    for (rev, m) in batch {
        let row = serde_json::to_string(&Row {
            seq: m.seq.min(MAX_BOUND_SEQ),
            name: &m.name,
            text: &m.text,
            ts: m.ts.min(MAX_BOUND_SEQ),
            client_id: m.client_id.as_deref(),
            reply_to: m.reply_to.map(|r| r.min(MAX_BOUND_SEQ)),
            edited_ts: m.edited_ts.map(|t| t.min(MAX_BOUND_SEQ)),
            deleted: u8::from(m.deleted),
            reactions: reactions_json(&m.reactions),
            reply_count: m.reply_count,
            rev: (*rev).min(MAX_BOUND_SEQ),
            attachment: m
                .attachment
                .as_ref()
                .and_then(|a| serde_json::to_string(a).ok()),
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

/// Writes a room's changes (new messages and changed ones, as `(rev, message)` in rev
/// order) in one atomic batch, together with the room's summary row. Re-writing a
/// change already there is a no-op, so a batch can be retried after a crash without
/// doubling anything.
pub async fn store_batch(db: &D1Database, batch: &[(u64, Message)], online: usize) -> Result<()> {
    let Some(last) = batch.iter().map(|(_, m)| m).max_by_key(|m| m.seq) else {
        return Ok(());
    };
    let room = JsValue::from_str(&last.room);
    let mut statements = Vec::new();
    for chunk in json_chunks(batch)? {
        statements.push(
            db.prepare(UPSERT_FROM_JSON)
                .bind(&[room.clone(), JsValue::from_str(&chunk)])?,
        );
    }
    // Seqs are gapless from 1, so the count of a room's messages is its last seq.
    statements.push(
        db.prepare(
            "INSERT INTO rooms (id, message_count, last_seq, last_activity, last_name, last_text, \
                                online) \
             VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (id) DO UPDATE SET online = excluded.online, \
               last_name = CASE WHEN excluded.last_seq >= last_seq THEN excluded.last_name ELSE last_name END, \
               last_text = CASE WHEN excluded.last_seq >= last_seq THEN excluded.last_text ELSE last_text END, \
               message_count = MAX(message_count, excluded.message_count), \
               last_seq = MAX(last_seq, excluded.last_seq), \
               last_activity = MAX(last_activity, excluded.last_activity)",
        )
        .bind(&[
            JsValue::from_str(&last.room),
            num(last.seq),
            num(last.ts),
            JsValue::from_str(&last.name),
            JsValue::from_str(&last.text.chars().take(PREVIEW_CHARS).collect::<String>()),
            num(online as u64),
        ])?,
    );
    run_batch(db, statements).await
}

/// Writes a room's moderation audit entries (as `(id, event)`); a retried batch is a
/// no-op for entries already there.
pub async fn store_audit(db: &D1Database, room: &str, entries: &[(u64, ModEvent)]) -> Result<()> {
    let mut statements = Vec::new();
    for (id, e) in entries {
        let opt = |v: Option<u64>| v.map_or(JsValue::NULL, num);
        statements.push(
            db.prepare(
                "INSERT INTO moderation (room, id, ts, action, by, name, seq, until, reason) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (room, id) DO NOTHING",
            )
            .bind(&[
                JsValue::from_str(room),
                num(*id),
                num(e.ts),
                JsValue::from_str(e.action.as_str()),
                JsValue::from_str(&e.by),
                JsValue::from_str(&e.name),
                opt(e.seq),
                opt(e.until),
                e.reason.as_deref().map_or(JsValue::NULL, JsValue::from_str),
            ])?,
        );
    }
    run_batch(db, statements).await
}

/// Writes a room's read positions; a position never moves backwards in D1 either.
pub async fn store_reads(db: &D1Database, room: &str, reads: &[(String, u64)]) -> Result<()> {
    let mut statements = Vec::new();
    for (key, seq) in reads {
        statements.push(
            db.prepare(
                "INSERT INTO reads (claim, room, seq) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (claim, room) DO UPDATE SET seq = MAX(seq, excluded.seq)",
            )
            .bind(&[JsValue::from_str(key), JsValue::from_str(room), num(*seq)])?,
        );
    }
    run_batch(db, statements).await
}

/// A room's moderation audit, newest first (at most 100 entries).
pub async fn audit(db: &D1Database, room: &str) -> Result<Vec<ModEvent>> {
    #[derive(Deserialize)]
    struct Row {
        ts: f64,
        action: String,
        by: String,
        name: String,
        seq: Option<f64>,
        until: Option<f64>,
        reason: Option<String>,
    }
    let rows: Vec<Row> = db
        .prepare(
            "SELECT ts, action, by, name, seq, until, reason FROM moderation \
             WHERE room = ?1 ORDER BY id DESC LIMIT 100",
        )
        .bind(&[JsValue::from_str(room)])?
        .all()
        .await?
        .results()?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let action = serde_json::from_value(serde_json::Value::String(r.action)).ok()?;
            Some(ModEvent {
                action,
                by: r.by,
                name: r.name,
                seq: r.seq.map(|s| s as u64),
                until: r.until.map(|u| u as u64),
                reason: r.reason,
                ts: r.ts as u64,
            })
        })
        .collect())
}

/// Runs statements as one atomic D1 batch; an error if any of them failed. An empty
/// batch does nothing.
async fn run_batch(db: &D1Database, statements: Vec<worker::D1PreparedStatement>) -> Result<()> {
    if statements.is_empty() {
        return Ok(());
    }
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

const COLUMNS: &str = "room, seq, name, text, ts, client_id, reply_to, edited_ts, deleted, \
    reactions, reply_count, attachment";

/// The replies to one message, oldest first, after `after`, and whether more follow.
/// A range scan of the index on (room, reply_to, seq).
pub async fn replies(
    db: &D1Database,
    room: &str,
    parent: u64,
    after: u64,
    limit: u32,
) -> Result<(Vec<Message>, bool)> {
    let rows: Vec<MessageRow> = db
        .prepare(format!(
            "SELECT {COLUMNS} FROM messages WHERE room = ?1 AND reply_to = ?2 AND seq > ?3 \
             ORDER BY seq LIMIT ?4"
        ))
        .bind(&[
            JsValue::from_str(room),
            num(parent),
            num(after),
            num(u64::from(limit) + 1),
        ])?
        .all()
        .await?
        .results()?;
    let has_more = rows.len() > limit as usize;
    Ok((
        rows.into_iter()
            .take(limit as usize)
            .map(|r| r.into_message(None))
            .collect(),
        has_more,
    ))
}

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
    #[serde(default)]
    unread: Option<f64>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    online: Option<f64>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    last_text: Option<String>,
    /// Only `room()` reads it; the list holds public rooms alone.
    #[serde(default)]
    visibility: Visibility,
    /// Only the list reads it: whether the room has a message (1) or was only made (0).
    #[serde(default)]
    active: Option<f64>,
}

impl RoomRow {
    fn into_summary(self) -> RoomSummary {
        RoomSummary {
            id: self.id,
            message_count: self.message_count as u64,
            last_activity: self.last_activity as u64,
            unread: self.unread.map(|u| u as u64),
            title: self.title,
            description: self.description,
            online: self.online.unwrap_or(0.0) as u64,
            last_message: self.last_name.map(|name| Preview {
                name,
                text: self.last_text.unwrap_or_default(),
            }),
        }
    }
}

/// A room's title, description, visibility and counts (`GET /api/rooms/:id`); None if
/// the room was never made nor written to.
pub async fn room(
    db: &D1Database,
    id: &str,
    reader: Option<&str>,
) -> Result<Option<(RoomInfo, RoomSummary)>> {
    let row: Option<RoomRow> = db
        .prepare(
            "SELECT r.id, r.message_count, r.last_activity, r.title, r.description, r.online, \
                    r.last_name, r.last_text, r.visibility, \
                    CASE WHEN ?2 IS NULL THEN NULL \
                         ELSE MAX(r.last_seq - COALESCE(d.seq, 0), 0) END AS unread \
             FROM rooms r LEFT JOIN reads d ON d.room = r.id AND d.claim = ?2 \
             WHERE r.id = ?1",
        )
        .bind(&[
            JsValue::from_str(id),
            reader.map_or(JsValue::NULL, JsValue::from_str),
        ])?
        .first(None)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let visibility = row.visibility;
    let summary = row.into_summary();
    let info = RoomInfo {
        id: summary.id.clone(),
        title: summary.title.clone(),
        description: summary.description.clone(),
        visibility,
    };
    Ok(Some((info, summary)))
}

/// Records a room its Durable Object has just made for `maker` (`id` chosen by the
/// maker, or random for a private room). The room itself decided that the id was free;
/// a retry of the same making writes the same row again.
pub async fn create_room(db: &D1Database, id: &str, ask: &CreateRoom, maker: &str) -> Result<()> {
    db.prepare(
        "INSERT INTO rooms (id, message_count, last_seq, last_activity, title, description, \
                            visibility, created_by) \
         VALUES (?1, 0, 0, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, \
           description = excluded.description, visibility = excluded.visibility, \
           created_by = excluded.created_by",
    )
    .bind(&[
        JsValue::from_str(id),
        num(worker::Date::now().as_millis()),
        JsValue::from_str(&ask.title),
        JsValue::from_str(&ask.description),
        JsValue::from_str(ask.visibility.as_str()),
        JsValue::from_str(maker),
    ])?
    .run()
    .await?;
    Ok(())
}

/// Whether a made room's row is there already (a `POST /api/rooms` retried by its maker).
pub async fn made_before(db: &D1Database, id: &str) -> Result<bool> {
    let row: Option<serde_json::Value> = db
        .prepare("SELECT 1 AS one FROM rooms WHERE id = ?1 AND created_by IS NOT NULL")
        .bind(&[JsValue::from_str(id)])?
        .first(None)
        .await?;
    Ok(row.is_some())
}

/// A new title and/or description for a room (its owner asked; the room checked).
pub async fn retitle(
    db: &D1Database,
    id: &str,
    title: Option<&str>,
    description: Option<&str>,
) -> Result<()> {
    let text = |v: Option<&str>| v.map_or(JsValue::NULL, JsValue::from_str);
    db.prepare(
        "INSERT INTO rooms (id, message_count, last_seq, last_activity, title, description) \
         VALUES (?1, 0, 0, ?4, ?2, COALESCE(?3, '')) \
         ON CONFLICT (id) DO UPDATE SET title = COALESCE(?2, rooms.title), \
           description = COALESCE(?3, rooms.description)",
    )
    .bind(&[
        JsValue::from_str(id),
        text(title),
        text(description),
        num(worker::Date::now().as_millis()),
    ])?
    .run()
    .await?;
    Ok(())
}

/// The number of names connected to a room, for the room list (rooms in the list only).
pub async fn set_online(db: &D1Database, room: &str, count: usize) -> Result<()> {
    db.prepare("UPDATE rooms SET online = ?2 WHERE id = ?1")
        .bind(&[JsValue::from_str(room), num(count as u64)])?
        .run()
        .await?;
    Ok(())
}

/// One page of the room list (public rooms only) after `cursor`, in the order of
/// [`crate::room_list`]: rooms with messages by their last message's time, then empty
/// made rooms; with a reader's claim, each with how many messages came after its read
/// position there. Also the cursor of the next page, if there is one.
///
/// Each of the two parts (with messages, without) is a keyset range of the partial index
/// `rooms_by_rank`: an equality on its first column and a row-value range on the other
/// two (`EXPLAIN QUERY PLAN`: `SEARCH r USING INDEX rooms_by_rank (<expr>=? AND
/// (last_activity,id)<(?,?))`), so a page costs the same however deep it is. The page
/// where the rooms with messages run out asks for the empty ones too.
pub async fn rooms(
    db: &D1Database,
    reader: Option<&str>,
    cursor: &Cursor,
    limit: u32,
) -> Result<(Vec<RoomSummary>, Option<String>)> {
    let want = limit as usize + 1;
    let mut rows = rooms_part(db, reader, cursor, want).await?;
    if cursor.active && rows.len() < want {
        let empty = Cursor::start_of(false);
        rows.extend(rooms_part(db, reader, &empty, want - rows.len()).await?);
    }
    let more = rows.len() > limit as usize;
    let mut last = None;
    let rooms = rows
        .into_iter()
        .take(limit as usize)
        .map(|row| {
            let active = row.active.is_some_and(|a| a != 0.0);
            let summary = row.into_summary();
            last = Some(Cursor::after(&summary, active));
            summary
        })
        .collect();
    let next = if more { last.map(|c| c.encode()) } else { None };
    Ok((rooms, next))
}

/// Up to `n` rooms of the cursor's part of the list (with or without messages) after it.
async fn rooms_part(
    db: &D1Database,
    reader: Option<&str>,
    cursor: &Cursor,
    n: usize,
) -> Result<Vec<RoomRow>> {
    db.prepare(
        "SELECT r.id, r.message_count, r.last_activity, r.title, r.description, r.online, \
                r.last_name, r.last_text, (r.last_seq > 0) AS active, \
                CASE WHEN ?1 IS NULL THEN NULL \
                     ELSE MAX(r.last_seq - COALESCE(d.seq, 0), 0) END AS unread \
         FROM rooms r LEFT JOIN reads d ON d.room = r.id AND d.claim = ?1 \
         WHERE r.visibility = 'public' AND r.id NOT LIKE 'dm--%' \
           AND (r.last_seq > 0) = ?2 AND (r.last_activity, r.id) < (?3, ?4) \
         ORDER BY (r.last_seq > 0) DESC, r.last_activity DESC, r.id DESC LIMIT ?5",
    )
    .bind(&[
        reader.map_or(JsValue::NULL, JsValue::from_str),
        num(u64::from(cursor.active)),
        num(cursor.last_activity),
        JsValue::from_str(&cursor.id),
        num(n as u64),
    ])?
    .all()
    .await?
    .results()
}

/// Who may search what, in one place. Without `room`, a search covers the rooms of the
/// room list: public ones (never private rooms, never direct messages). With `room`, it
/// covers that room if it is not a direct message: a private room's link is what lets
/// you in, so whoever has its id may search it too.
const SEARCH_SCOPE: &str =
    "((?2 IS NULL AND d.room IN (SELECT id FROM rooms WHERE id NOT LIKE 'dm--%' \
     AND visibility = 'public')) OR (d.room = ?2 AND d.room NOT LIKE 'dm--%'))";

/// The words around the best match that a snippet shows.
const SNIPPET_TOKENS: u32 = 16;

#[derive(Deserialize)]
struct SearchRow {
    room: String,
    seq: f64,
    name: String,
    ts: f64,
    snippet: String,
}

/// One page of search results, best match first (bm25; ties newest first), and whether
/// more follow. A message whose text is empty (deleted) is never a result.
pub async fn search(db: &D1Database, query: &SearchQuery) -> Result<(Vec<SearchResult>, bool)> {
    let limit = query.limit as usize;
    let sql = format!(
        "SELECT d.room AS room, d.seq AS seq, m.name AS name, m.ts AS ts, \
           snippet(messages_fts, 0, char({open}), char({close}), '…', {SNIPPET_TOKENS}) AS snippet \
         FROM messages_fts \
         JOIN search_docs d ON d.id = messages_fts.rowid \
         JOIN messages m ON m.room = d.room AND m.seq = d.seq \
         WHERE messages_fts MATCH ?1 AND m.text <> '' \
           AND {SEARCH_SCOPE} \
         ORDER BY bm25(messages_fts), m.ts DESC, d.room, d.seq DESC \
         LIMIT ?3 OFFSET ?4",
        open = HIT_OPEN as u32,
        close = HIT_CLOSE as u32,
    );
    let room = query
        .room
        .as_ref()
        .map_or(JsValue::NULL, |r| JsValue::from_str(r.as_str()));
    let rows: Vec<SearchRow> = db
        .prepare(sql)
        .bind(&[
            JsValue::from_str(&query.fts),
            room,
            num(limit as u64 + 1),
            num(query.offset),
        ])?
        .all()
        .await?
        .results()?;
    let has_more = rows.len() > limit;
    let results = rows
        .into_iter()
        .take(limit)
        .map(|r| SearchResult {
            room: r.room,
            seq: r.seq as u64,
            name: r.name,
            ts: r.ts as u64,
            snippet: split_snippet(&r.snippet),
        })
        .collect();
    Ok((results, has_more))
}

#[cfg(test)]
mod tests {
    use super::*;

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
