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

/// Up to `rows` messages of a room after seq `after`, oldest first, as they stand: one
/// page of an export (the same range scan of the primary key as a page `after`).
pub async fn export_page(
    db: &D1Database,
    room: &str,
    after: u64,
    rows: u32,
) -> Result<Vec<Message>> {
    let found: Vec<MessageRow> = db
        .prepare(D1_PAGE_AFTER)
        .bind(&[JsValue::from_str(room), num(after), num(u64::from(rows))])?
        .all()
        .await?
        .results()?;
    Ok(found.into_iter().map(|r| r.into_message(None)).collect())
}

/// Who may search what, in one place. Without `room`, a search covers the rooms of the
/// room list: public ones (never private rooms, never direct messages). With `room`, it
/// covers that room if it is not a direct message: a private room's link is what lets
/// you in, so whoever has its id may search it too.
/// (Each match's room is checked by primary key: a list of every listed room made
/// first would cost a scan of `rooms` per search.)
macro_rules! listed_scope {
    () => {
        concat!(
            "d.room NOT LIKE '",
            dm_prefix!(),
            "%' AND EXISTS (SELECT 1 FROM rooms r WHERE r.id = d.room AND r.visibility = 'public')"
        )
    };
}

/// One room's scope, room ?4: FTS5 itself keeps to the room's rows, by the room's token in
/// the index's `room` column (the room id's hex digits, migrations/0014_search_room.sql),
/// so the walk reads the room's matches alone, not every room's. Hex digits are never an
/// FTS5 keyword (`AND`, `OR`, `NOT`, `NEAR`), so `hex(?4)` is a one-word query as it is.
macro_rules! room_scope {
    () => {
        concat!(
            "messages_fts.room MATCH hex(?4) AND d.room = ?4 AND ?4 NOT LIKE '",
            dm_prefix!(),
            "%'"
        )
    };
}
#[cfg(test)]
const LISTED_SCOPE: &str = listed_scope!();
#[cfg(test)]
const ROOM_SCOPE: &str = room_scope!();

/// The words around the best match that a snippet shows.
#[cfg(test)]
const SNIPPET_TOKENS: u32 = 16;

/// How many of the newest matches a search ranks: its cost stays the same however many
/// messages match (a common word matches a share of every message ever sent).
#[cfg(test)]
const SEARCH_WINDOW: u32 = 1000;

/// A page of search results for the FTS5 query ?1 (matched in the `text` column only) in
/// a scope (see [`SEARCH`], [`SEARCH_ROOM`]): ?2 rows from ?3 on, best first among the
/// [`SEARCH_WINDOW`] newest matches in scope. Two steps, each bounded by the window:
/// `hit` walks the full-text index newest first (rowid order, which FTS5 gives without
/// sorting) and stops at the window, taking each match's snippet and its text with every
/// hit marked (FTS5's `highlight()`); `best` counts each one's hits (its markers) and
/// length, and the page is the window ranked by BM25's formula over the window alone:
/// `hits × 2.2 / (hits + 1.2 × (0.25 + 0.75 × chars / mean chars))`, k1 = 1.2, b = 0.75,
/// the length in characters, the mean over the window (docs/PROTOCOL.md "Search"). No
/// FTS5 `bm25()`: it counts every match of each word in the whole index, once per search,
/// a cost that grows with the data; and no second MATCH for the page's snippets, which
/// would set up the query again per row (for a prefix, a walk of its whole doclist each).
/// The snippet marks hits with char(2) and char(3), [`HIT_OPEN`] and [`HIT_CLOSE`] (a
/// test checks), and shows 16 tokens (`SNIPPET_TOKENS`).
macro_rules! search_sql {
    ($scope:expr) => {
        concat!(
            "WITH hit AS (\
               SELECT d.room AS room, d.seq AS seq, \
                 highlight(messages_fts, 0, char(2), char(3)) AS marked, \
                 snippet(messages_fts, 0, char(2), char(3), '…', 16) AS snippet \
               FROM messages_fts JOIN search_docs d ON d.id = messages_fts.rowid \
               WHERE messages_fts.text MATCH ?1 AND ",
            $scope,
            " ORDER BY messages_fts.rowid DESC LIMIT 1000), \
             best AS (\
               SELECT hit.room AS room, hit.seq AS seq, m.name AS name, m.ts AS ts, \
                 hit.snippet AS snippet, \
                 length(hit.marked) - length(replace(hit.marked, char(2), '')) AS hits, \
                 length(m.text) AS chars \
               FROM hit JOIN messages m ON m.room = hit.room AND m.seq = hit.seq \
               WHERE m.text <> '') \
             SELECT room, seq, name, ts, snippet FROM best \
             ORDER BY hits * 2.2 / (hits + 1.2 * (0.25 + 0.75 * chars / \
               (SELECT avg(chars) FROM best))) DESC, ts DESC, room, seq DESC \
             LIMIT ?2 OFFSET ?3"
        )
    };
}

/// A search of every listed room (see [`search_sql`]): ?1 the query, ?2 and ?3 the page.
pub const SEARCH: &str = search_sql!(listed_scope!());

/// A search of room ?4 alone (see [`search_sql`] and [`room_scope`]).
pub const SEARCH_ROOM: &str = search_sql!(room_scope!());

#[derive(Deserialize)]
struct SearchRow {
    room: String,
    seq: f64,
    name: String,
    ts: f64,
    snippet: String,
}

/// One page of search results, best match first (see [`search_sql`]; ties newest first),
/// and whether more follow. A message whose text is empty (deleted) is never a result.
pub async fn search(db: &D1Database, query: &SearchQuery) -> Result<(Vec<SearchResult>, bool)> {
    let limit = query.limit as usize;
    let (fts, page, offset) = (
        JsValue::from_str(&query.fts),
        num(limit as u64 + 1),
        num(query.offset),
    );
    let statement = match &query.room {
        Some(room) => {
            db.prepare(SEARCH_ROOM)
                .bind(&[fts, page, offset, JsValue::from_str(room.as_str())])?
        }
        None => db.prepare(SEARCH).bind(&[fts, page, offset])?,
    };
    let rows: Vec<SearchRow> = statement.all().await?.results()?;
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
        let highlight = format!("char({}), char({}))", HIT_OPEN as u32, HIT_CLOSE as u32);
        for sql in [SEARCH, SEARCH_ROOM] {
            assert!(sql.contains(&marks), "{sql}");
            assert!(sql.contains(&highlight), "{sql}");
            assert!(sql.contains(&format!("char({})", HIT_OPEN as u32)), "{sql}");
            assert!(sql.contains(&format!("LIMIT {SEARCH_WINDOW})")), "{sql}");
            assert!(!sql.contains("bm25("), "{sql}");
        }
        assert!(SEARCH.contains(LISTED_SCOPE));
        assert!(SEARCH_ROOM.contains(ROOM_SCOPE));
    }

    #[test]
    fn the_search_scopes_keep_direct_messages_out() {
        assert_eq!(
            LISTED_SCOPE,
            "d.room NOT LIKE 'dm--%' AND EXISTS (SELECT 1 FROM rooms r WHERE r.id = d.room \
             AND r.visibility = 'public')"
        );
        assert_eq!(
            ROOM_SCOPE,
            "messages_fts.room MATCH hex(?4) AND d.room = ?4 AND ?4 NOT LIKE 'dm--%'"
        );
    }
}
