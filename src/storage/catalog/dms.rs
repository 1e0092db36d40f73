//! Direct messages in D1 (table `dms`, migrations 0008 and 0010): who the two parties
//! of a DM are, a claim's list of DMs, leaving and coming back. Who may do what is
//! [`crate::dms`]'s; this is only the rows.

use edgechat_protocol::{name_key, DmSummary, Party};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Result};

use crate::storage::{num, run};

/// Whether the claim ?2 is a party of the DM ?1 (by primary key).
pub const IS_PARTY: &str =
    "SELECT 1 AS one FROM dms WHERE room = ?1 AND (a_claim = ?2 OR b_claim = ?2)";

/// Records the DM ?1 (by primary key), or brings it back to the opener ?9's list.
pub const OPEN: &str =
    "INSERT INTO dms (room, a_key, a_name, b_key, b_name, created_at, a_claim, b_claim) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (room) DO UPDATE SET \
           a_left = CASE WHEN a_claim = ?9 THEN 0 ELSE a_left END, \
           b_left = CASE WHEN b_claim = ?9 THEN 0 ELSE b_left END";

/// The DMs of the claim ?1 it has not left, newest first: the two indexes on a_claim and b_claim (an OR of the two), each DM's room row and read position by primary key.
pub const LIST: &str = "SELECT d.room AS room, \
                    CASE WHEN d.a_claim = ?1 THEN d.b_name ELSE d.a_name END AS with, \
                    MAX(COALESCE(r.last_seq, 0) - COALESCE(x.seq, 0), 0) AS unread, \
                    COALESCE(r.last_activity, 0) AS last_activity \
             FROM dms d \
             LEFT JOIN rooms r ON r.id = d.room \
             LEFT JOIN reads x ON x.room = d.room AND x.claim = ?1 \
             WHERE (d.a_claim = ?1 AND d.a_left = 0) OR (d.b_claim = ?1 AND d.b_left = 0) \
             ORDER BY COALESCE(r.last_activity, d.created_at) DESC LIMIT 100";

/// The claim ?2 leaves the DM ?1 (by primary key).
pub const LEAVE: &str = "UPDATE dms SET a_left = CASE WHEN a_claim = ?2 THEN 1 ELSE a_left END, \
                        b_left = CASE WHEN b_claim = ?2 THEN 1 ELSE b_left END \
         WHERE room = ?1";

/// Whether `claim` is one of the DM's two parties.
pub async fn is_party(db: &D1Database, room: &str, claim: &str) -> Result<bool> {
    let found: Option<serde_json::Value> = db
        .prepare(IS_PARTY)
        .bind(&[JsValue::from_str(room), JsValue::from_str(claim)])?
        .first(None)
        .await?;
    Ok(found.is_some())
}

/// Records the DM `room` of parties `a` and `b` (made at `now`), or, if it is there,
/// brings it back to `opener`'s list.
pub async fn open(
    db: &D1Database,
    room: &str,
    (a, b): (&Party, &Party),
    opener: &str,
    now: u64,
) -> Result<()> {
    let key = |n: &str| JsValue::from_str(&name_key(n));
    db.prepare(OPEN)
        .bind(&[
            JsValue::from_str(room),
            key(&a.name),
            JsValue::from_str(&a.name),
            key(&b.name),
            JsValue::from_str(&b.name),
            num(now),
            JsValue::from_str(&a.claim),
            JsValue::from_str(&b.claim),
            JsValue::from_str(opener),
        ])?
        .run()
        .await?;
    Ok(())
}

/// The DMs of `claim` that it has not left, most recent first (at most 100), with how
/// many messages it has not read in each.
pub async fn list(db: &D1Database, claim: &str) -> Result<Vec<DmSummary>> {
    #[derive(Deserialize)]
    struct Row {
        room: String,
        with: String,
        unread: f64,
        last_activity: f64,
    }
    let rows: Vec<Row> = db
        .prepare(LIST)
        .bind(&[JsValue::from_str(claim)])?
        .all()
        .await?
        .results()?;
    Ok(rows
        .into_iter()
        .map(|r| DmSummary {
            room: r.room,
            with: r.with,
            unread: r.unread as u64,
            last_activity: r.last_activity as u64,
        })
        .collect())
}

/// `claim` leaves the DM `room` (it leaves their list until they open it again).
pub async fn leave(db: &D1Database, room: &str, claim: &str) -> Result<()> {
    run(
        db,
        LEAVE,
        &[JsValue::from_str(room), JsValue::from_str(claim)],
    )
    .await
}
