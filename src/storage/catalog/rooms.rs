//! The catalog of rooms in D1 (table `rooms`, migrations 0001, 0009 and 0011): made,
//! listed (ranked and paged), retitled, and one room's row.

use edgechat_protocol::{
    CreateRoom, Preview, RoomInfo, RoomListCursor as Cursor, RoomSummary, Visibility,
};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Result};

use crate::storage::num;

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

/// Room ?1's row, with its unread count for the claim ?2 (both by primary key).
pub const ROOM: &str =
    "SELECT r.id, r.message_count, r.last_activity, r.title, r.description, r.online, \
                    r.last_name, r.last_text, r.visibility, \
                    CASE WHEN ?2 IS NULL THEN NULL \
                         ELSE MAX(r.last_seq - COALESCE(d.seq, 0), 0) END AS unread \
             FROM rooms r LEFT JOIN reads d ON d.room = r.id AND d.claim = ?2 \
             WHERE r.id = ?1";

/// Records a made room (?1) by its primary key; a retry writes the same row.
pub const CREATE: &str =
    "INSERT INTO rooms (id, message_count, last_seq, last_activity, title, description, \
                            visibility, created_by) \
         VALUES (?1, 0, 0, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, \
           description = excluded.description, visibility = excluded.visibility, \
           created_by = excluded.created_by";

/// Whether the made room ?1 has its row (by primary key).
pub const MADE_BEFORE: &str = "SELECT 1 AS one FROM rooms WHERE id = ?1 AND created_by IS NOT NULL";

/// A new title ?2 and/or description ?3 for room ?1 (by primary key).
pub const RETITLE: &str =
    "INSERT INTO rooms (id, message_count, last_seq, last_activity, title, description) \
         VALUES (?1, 0, 0, ?4, ?2, COALESCE(?3, '')) \
         ON CONFLICT (id) DO UPDATE SET title = COALESCE(?2, rooms.title), \
           description = COALESCE(?3, rooms.description)";

/// A room's title, description, visibility and counts (`GET /api/rooms/:id`); None if
/// the room was never made nor written to.
pub async fn get(
    db: &D1Database,
    id: &str,
    reader: Option<&str>,
) -> Result<Option<(RoomInfo, RoomSummary)>> {
    let row: Option<RoomRow> = db
        .prepare(ROOM)
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
pub async fn create(db: &D1Database, id: &str, ask: &CreateRoom, maker: &str) -> Result<()> {
    db.prepare(CREATE)
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
        .prepare(MADE_BEFORE)
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
    db.prepare(RETITLE)
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
pub async fn list(
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

/// One part of the room list (?2: with messages or without) after the place (?3, ?4), at
/// most ?5 rooms, with unread counts for the claim ?1. Its WHERE holds the predicate of
/// the partial index `rooms_by_rank` word for word, so that SQLite can use it; its ORDER
/// BY leaves out the index's first column (an equality here): with it, SQLite sorted
/// every room of the part to return a page (`USE TEMP B-TREE FOR ORDER BY`).
pub const ROOMS_PART: &str = concat!(
    "SELECT r.id, r.message_count, r.last_activity, r.title, r.description, r.online, \
            r.last_name, r.last_text, (r.last_seq > 0) AS active, \
            CASE WHEN ?1 IS NULL THEN NULL \
                 ELSE MAX(r.last_seq - COALESCE(d.seq, 0), 0) END AS unread \
     FROM rooms r LEFT JOIN reads d ON d.room = r.id AND d.claim = ?1 \
     WHERE r.visibility = 'public' AND ",
    not_dm!("r.id"),
    " AND (r.last_seq > 0) = ?2 AND (r.last_activity, r.id) < (?3, ?4) \
     ORDER BY r.last_activity DESC, r.id DESC LIMIT ?5"
);

/// Up to `n` rooms of the cursor's part of the list (with or without messages) after it.
async fn rooms_part(
    db: &D1Database,
    reader: Option<&str>,
    cursor: &Cursor,
    n: usize,
) -> Result<Vec<RoomRow>> {
    db.prepare(ROOMS_PART)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_holds_the_predicate_of_its_partial_index() {
        let migration = include_str!("../../../migrations/0011_quotas.sql");
        let predicate = concat!("WHERE visibility = 'public' AND ", not_dm!("id"), ";");
        assert!(migration.contains(predicate), "{migration}");
        assert!(ROOMS_PART.contains("WHERE r.visibility = 'public' AND r.id NOT LIKE 'dm--%' AND"));
        assert_eq!(not_dm!("id"), "id NOT LIKE 'dm--%'");
    }
}
