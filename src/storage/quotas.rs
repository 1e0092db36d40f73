//! The Worker's hourly quota counters in D1 (table `quotas`, migration 0011): one row
//! per key and hour window, counting uses and bytes. What the limits are and what a
//! refusal says is [`crate::quota`]'s; this is only the rows.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Result};

use super::num;

#[derive(Deserialize)]
struct Counted {
    count: f64,
    bytes: f64,
}

/// Deletes key ?1's windows before ?2: a range of the primary key.
pub const FORGET_OLD: &str = "DELETE FROM quotas WHERE key = ?1 AND window_start < ?2";

/// Counts one use and ?3 bytes for key ?1 in the window ?2 (by primary key); the new totals.
pub const COUNT_USE: &str =
    "INSERT INTO quotas (key, window_start, count, bytes) VALUES (?1, ?2, 1, ?3) \
                 ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1, \
                   bytes = bytes + excluded.bytes \
                 RETURNING count, bytes";

/// Takes back one use and ?3 bytes for key ?1 in the window ?2 (by primary key).
pub const GIVE_BACK: &str =
    "UPDATE quotas SET count = MAX(count - 1, 0), bytes = MAX(bytes - ?3, 0) \
                 WHERE key = ?1 AND window_start = ?2";

/// Adds one use and `bytes` to each `(key, bytes)` in the window starting at `start`,
/// in one D1 batch (after deleting each key's windows older than `forget_before`); the
/// new `(count, bytes)` totals of each, in order.
pub async fn add(
    db: &D1Database,
    counters: &[(&str, u64)],
    start: u64,
    forget_before: u64,
) -> Result<Vec<(u64, u64)>> {
    let mut statements = Vec::with_capacity(counters.len() * 2);
    for (key, bytes) in counters {
        statements.push(
            db.prepare(FORGET_OLD)
                .bind(&[JsValue::from_str(key), num(forget_before)])?,
        );
        statements.push(db.prepare(COUNT_USE).bind(&[
            JsValue::from_str(key),
            num(start),
            num(*bytes),
        ])?);
    }
    let results = db.batch(statements).await?;
    let mut totals = Vec::with_capacity(counters.len());
    for i in 0..counters.len() {
        let row = results
            .get(2 * i + 1)
            .map(|r| r.results::<Counted>())
            .transpose()?
            .and_then(|rows| rows.into_iter().next());
        let Some(row) = row else {
            return Err(worker::Error::RustError(
                "a quota upsert returned no row".into(),
            ));
        };
        totals.push((row.count as u64, row.bytes as u64));
    }
    Ok(totals)
}

/// Takes back one use and its bytes from each `(key, bytes)` in the window starting at
/// `start`, in one D1 batch. Best effort: a failure is logged.
pub async fn give_back(db: &D1Database, taken: &[(String, u64)], start: u64) {
    let mut statements = Vec::with_capacity(taken.len());
    for (key, bytes) in taken {
        match db
            .prepare(GIVE_BACK)
            .bind(&[JsValue::from_str(key), num(start), num(*bytes)])
        {
            Ok(s) => statements.push(s),
            Err(e) => worker::console_error!("giving back an hourly quota: {e}"),
        }
    }
    if let Err(e) = db.batch(statements).await {
        worker::console_error!("giving back an hourly quota: {e}");
    }
}
