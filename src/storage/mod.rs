//! Storage, split by who calls it:
//!
//! - [`room_log`]: the room's own log in its Durable Object's SQLite (messages, seq,
//!   client ids, moderation, reads, files), written synchronously by the room core;
//! - [`room_writes`]: what a room writes to D1 (its changes, audit, read positions and
//!   online count);
//! - [`history`]: the Worker's reads of D1's history (pages, threads, search, audit);
//! - [`catalog`]: the Worker's catalog in D1: rooms (made, listed, retitled), name
//!   claims and direct messages;
//! - [`quotas`]: the Worker's hourly quota counters in D1;
//! - [`queries`]: every SQL text sent to D1, listed for the `EXPLAIN QUERY PLAN` test;
//! - [`message`]: the one definition of a stored message (its columns, the SQL that
//!   names them, its rows), in the log and in D1.

/// `$column NOT LIKE 'dm--%'`: the column is not a direct-message room's id, as SQL
/// text made at compile time. It stays a literal (not a bound value) because the
/// partial index `rooms_by_rank` (migration 0011) is declared with the same literal
/// predicate, and SQLite uses a partial index only for a query whose WHERE holds it.
/// The prefix is [`edgechat_protocol::DM_PREFIX`], checked below at compile time.
macro_rules! not_dm {
    ($column:literal) => {
        concat!($column, " NOT LIKE '", dm_prefix!(), "%'")
    };
}

/// [`edgechat_protocol::DM_PREFIX`] as a literal, for `concat!`.
macro_rules! dm_prefix {
    () => {
        "dm--"
    };
}

const _: () = assert!(
    same_text(dm_prefix!(), edgechat_protocol::DM_PREFIX),
    "dm_prefix! must be DM_PREFIX"
);

const fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

pub mod catalog;
pub mod history;
pub mod message;
#[cfg(test)]
mod queries;
pub mod quotas;
pub mod room_log;
pub mod room_writes;

use wasm_bindgen::JsValue;
use worker::{D1Database, Error, Result};

/// The largest number a query binds: D1 and Durable Object SQLite take numbers as
/// JavaScript doubles. Larger seqs only ever come from queries that point past the end.
pub const MAX_BOUND_SEQ: u64 = (1 << 53) - 1;

/// A number as a query binds it: at most [`MAX_BOUND_SEQ`].
pub(crate) fn bound(n: u64) -> u64 {
    n.min(MAX_BOUND_SEQ)
}

/// A number bound to a D1 query.
pub(crate) fn num(n: u64) -> JsValue {
    JsValue::from_f64(bound(n) as f64)
}

/// A page as read from D1 or from the room's log: rows asked one past `limit`, from the
/// end the page grows from. At most `limit` of them, oldest first (turned round if they
/// came `newest_first`), and whether more exist.
pub(crate) fn fit<T>(mut rows: Vec<T>, limit: usize, newest_first: bool) -> (Vec<T>, bool) {
    let more = rows.len() > limit;
    rows.truncate(limit);
    if newest_first {
        rows.reverse();
    }
    (rows, more)
}

/// Runs one D1 statement that answers no rows.
pub(crate) async fn run(db: &D1Database, query: &str, bindings: &[JsValue]) -> Result<()> {
    db.prepare(query).bind(bindings)?.run().await?;
    Ok(())
}

/// Runs statements as one atomic D1 batch; an error if any of them failed. An empty
/// batch does nothing.
pub(crate) async fn run_batch(
    db: &D1Database,
    statements: Vec<worker::D1PreparedStatement>,
) -> Result<()> {
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
