//! The Worker's reads of D1's history: pages, threads, search and the audit.

use edgechat_protocol::{split_snippet, Message, ModEvent, Page, SearchQuery, SearchResult};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Result};

use super::message::{MessageRow, D1_PAGE_AFTER, D1_PAGE_BEFORE, D1_PAGE_NEWEST, D1_REPLIES};
use super::{fit, num};

/// Room ?1's moderation audit, newest first: a range of its primary key (room, id).
pub const AUDIT: &str = "SELECT ts, action, by, name, seq, until, reason FROM moderation \
                         WHERE room = ?1 ORDER BY id DESC LIMIT 100";

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
        .prepare(AUDIT)
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
        .prepare(D1_REPLIES)
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
            db.prepare(D1_PAGE_NEWEST)
                .bind(&[JsValue::from_str(room), fetch])?,
            true,
        ),
        Page::Before { before, .. } => (
            db.prepare(D1_PAGE_BEFORE)
                .bind(&[JsValue::from_str(room), num(before), fetch])?,
            true,
        ),
        Page::After { after, .. } => (
            db.prepare(D1_PAGE_AFTER)
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
/// (Each match's room is checked by primary key: a list of every listed room made
/// first would cost a scan of `rooms` per search.)
macro_rules! search_scope {
    () => {
        concat!(
            "d.room NOT LIKE '",
            dm_prefix!(),
            "%' AND (d.room = ?2 OR (?2 IS NULL AND EXISTS (SELECT 1 FROM rooms r \
             WHERE r.id = d.room AND r.visibility = 'public')))"
        )
    };
}
#[cfg(test)]
const SEARCH_SCOPE: &str = search_scope!();

/// The words around the best match that a snippet shows.
#[cfg(test)]
const SNIPPET_TOKENS: u32 = 16;

/// How many of the newest matches a search ranks: its cost stays the same however many
/// messages match (a common word matches a share of every message ever sent).
#[cfg(test)]
const SEARCH_WINDOW: u32 = 1000;

/// A page of search results for the FTS5 query ?1 in the scope of room ?2 (or every
/// listed room): ?3 rows from ?4 on, best first among the [`SEARCH_WINDOW`] newest
/// matches in scope. Three steps, each bounded: `hit` walks the full-text index newest
/// first (rowid order, which FTS5 gives without sorting) and stops at the window, each
/// match's scope checked by primary key; `best` ranks those by bm25 and takes the page;
/// only the page's rows get a snippet (FTS5 again, by rowid). The snippet marks hits with
/// char(2) and char(3), [`HIT_OPEN`] and [`HIT_CLOSE`] (a test checks), and shows 16
/// tokens (`SNIPPET_TOKENS`).
pub const SEARCH: &str = concat!(
    "WITH hit AS (\
       SELECT d.id AS id, d.room AS room, d.seq AS seq, bm25(messages_fts) AS score \
       FROM messages_fts JOIN search_docs d ON d.id = messages_fts.rowid \
       WHERE messages_fts MATCH ?1 AND ",
    search_scope!(),
    " ORDER BY messages_fts.rowid DESC LIMIT 1000), \
     best AS (\
       SELECT hit.id AS id, hit.room AS room, hit.seq AS seq, hit.score AS score, \
              m.name AS name, m.ts AS ts \
       FROM hit JOIN messages m ON m.room = hit.room AND m.seq = hit.seq \
       WHERE m.text <> '' \
       ORDER BY hit.score, m.ts DESC, hit.room, hit.seq DESC LIMIT ?3 OFFSET ?4) \
     SELECT best.room AS room, best.seq AS seq, best.name AS name, best.ts AS ts, \
       snippet(messages_fts, 0, char(2), char(3), '…', 16) AS snippet \
     FROM best CROSS JOIN messages_fts ON messages_fts.rowid = best.id \
     WHERE messages_fts MATCH ?1 \
     ORDER BY best.score, best.ts DESC, best.room, best.seq DESC"
);

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
    let room = query
        .room
        .as_ref()
        .map_or(JsValue::NULL, |r| JsValue::from_str(r.as_str()));
    let rows: Vec<SearchRow> = db
        .prepare(SEARCH)
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
    use edgechat_protocol::{HIT_CLOSE, HIT_OPEN};

    #[test]
    fn the_search_marks_hits_and_sizes_snippets_as_the_protocol_says() {
        let marks = format!(
            "char({}), char({}), '…', {SNIPPET_TOKENS})",
            HIT_OPEN as u32, HIT_CLOSE as u32
        );
        assert!(SEARCH.contains(&marks), "{SEARCH}");
        assert!(SEARCH.contains(SEARCH_SCOPE));
    }

    #[test]
    fn the_search_scope_keeps_direct_messages_out() {
        assert_eq!(
            SEARCH_SCOPE,
            "d.room NOT LIKE 'dm--%' AND (d.room = ?2 OR (?2 IS NULL AND EXISTS (SELECT 1 \
             FROM rooms r WHERE r.id = d.room AND r.visibility = 'public')))"
        );
        assert!(SEARCH.contains(&format!("LIMIT {SEARCH_WINDOW})")));
    }
}
