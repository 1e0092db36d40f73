//! The Worker's reads of D1's history: pages, threads, search and the audit.

use edgechat_protocol::{
    split_snippet, Message, ModEvent, Page, SearchQuery, SearchResult, HIT_CLOSE, HIT_OPEN,
};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Result};

use super::message::{MessageRow, D1_COLUMNS};
use super::{fit, num};

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
            "SELECT {D1_COLUMNS} FROM messages WHERE room = ?1 AND reply_to = ?2 AND seq > ?3 \
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
    let (rows, has_more) = fit(rows, limit as usize, false);
    Ok((
        rows.into_iter().map(|r| r.into_message(None)).collect(),
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
                "SELECT {D1_COLUMNS} FROM messages WHERE room = ?1 ORDER BY seq DESC LIMIT ?2"
            ))
            .bind(&[JsValue::from_str(room), fetch])?,
            true,
        ),
        Page::Before { before, .. } => (
            db.prepare(format!(
                "SELECT {D1_COLUMNS} FROM messages WHERE room = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"
            ))
            .bind(&[JsValue::from_str(room), num(before), fetch])?,
            true,
        ),
        Page::After { after, .. } => (
            db.prepare(format!(
                "SELECT {D1_COLUMNS} FROM messages WHERE room = ?1 AND seq > ?2 ORDER BY seq ASC LIMIT ?3"
            ))
            .bind(&[JsValue::from_str(room), num(after), fetch])?,
            false,
        ),
    };
    let rows: Vec<MessageRow> = statement.all().await?.results()?;
    let (rows, has_more) = fit(rows, limit, newest_first);
    Ok((
        rows.into_iter().map(|r| r.into_message(None)).collect(),
        has_more,
    ))
}

/// Who may search what, in one place. Without `room`, a search covers the rooms of the
/// room list: public ones (never private rooms, never direct messages). With `room`, it
/// covers that room if it is not a direct message: a private room's link is what lets
/// you in, so whoever has its id may search it too.
const SEARCH_SCOPE: &str = concat!(
    "((?2 IS NULL AND d.room IN (SELECT id FROM rooms WHERE ",
    not_dm!("id"),
    " AND visibility = 'public')) OR (d.room = ?2 AND ",
    not_dm!("d.room"),
    "))"
);

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

    #[test]
    fn the_search_scope_keeps_direct_messages_out() {
        assert_eq!(
            SEARCH_SCOPE,
            "((?2 IS NULL AND d.room IN (SELECT id FROM rooms WHERE id NOT LIKE 'dm--%' \
             AND visibility = 'public')) OR (d.room = ?2 AND d.room NOT LIKE 'dm--%'))"
        );
    }
}
