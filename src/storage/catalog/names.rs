//! Name claims in D1 (table `names`, migrations 0003 and 0010): looked up by name or by
//! token hash, claimed, refreshed, released, and their look-alike skeletons. What a claim
//! decision means is [`crate::names`]'s; this is only the rows.

use edgechat_protocol::{key_skeleton, legacy_name_key, skeleton, Claim, ClaimTimes, Name};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Result};

use crate::storage::{num, run};

#[derive(Deserialize)]
struct ClaimRow {
    name_key: String,
    name: String,
    claim_id: String,
    token_hash: String,
    confirmed: f64,
    claimed_at: f64,
    last_used: f64,
}

impl ClaimRow {
    fn claim(self) -> (String, Claim) {
        (
            self.name_key,
            Claim {
                id: self.claim_id,
                name: self.name,
                token_hash: self.token_hash,
                confirmed: self.confirmed != 0.0,
                claimed_at: self.claimed_at as u64,
                last_used: self.last_used as u64,
            },
        )
    }
}

macro_rules! claim_columns {
    () => {
        "name_key, name, claim_id, token_hash, confirmed, claimed_at, last_used"
    };
}

/// A live claim of another name whose skeletons meet ?1 or ?2 (the new name's), other
/// than the keys ?3 and ?4 (its own, new and legacy), at times ?5 (confirmed claims used
/// after it) and ?6 (pending claims made after it).
macro_rules! look_alike {
    () => {
        "SELECT name FROM names \
         WHERE (skeleton IN (?1, ?2) OR key_skeleton IN (?1, ?2)) \
           AND name_key <> ?3 AND name_key <> ?4 \
           AND ((confirmed = 1 AND last_used > ?5) OR (confirmed = 0 AND claimed_at > ?6))"
    };
}

/// The claim stored under the key ?1 or the legacy key ?2 (by primary key), ?1 first.
pub const LOOKUP: &str = concat!(
    "SELECT ",
    claim_columns!(),
    " FROM names WHERE name_key IN (?1, ?2) ORDER BY name_key = ?1 DESC LIMIT 1"
);

/// The claim whose token hashes to ?1 (the index names_by_token).
pub const LOOKUP_TOKEN: &str = concat!(
    "SELECT ",
    claim_columns!(),
    " FROM names WHERE token_hash = ?1"
);

/// Marks the claim ?1 confirmed and used at ?2 (the unique index names_by_claim).
pub const TOUCH: &str =
    "UPDATE names SET last_used = MAX(last_used, ?2), confirmed = 1 WHERE claim_id = ?1";

/// Up to 50 claims stored before names had skeletons (the index names_by_skeleton: IS NULL).
/// (Both skeletons are written together: one is null only where both are.)
pub const UNSKELETONED: &str = "SELECT name_key, name FROM names WHERE skeleton IS NULL LIMIT 50";

/// The skeletons ?2 and ?3 of the claim under the key ?1 (by primary key).
pub const SET_SKELETONS: &str =
    "UPDATE names SET skeleton = ?2, key_skeleton = ?3 WHERE name_key = ?1";

/// One live claim that looks like a new claim ([`look_alike!`]): the indexes names_by_skeleton and names_by_key_skeleton.
pub const LOOK_ALIKE: &str = concat!(look_alike!(), " LIMIT 1");

/// Claims a free or lapsed name unless a look-alike is live, in one statement (the primary key, and the look-alike's indexes).
pub const CLAIM: &str = concat!(
    "INSERT INTO names (name_key, name, token_hash, claimed_at, last_used, \
                                claim_id, confirmed, skeleton, key_skeleton) \
             SELECT ?3, ?7, ?8, ?9, ?9, ?10, 0, ?1, ?2 \
             WHERE NOT EXISTS (",
    look_alike!(),
    ") ON CONFLICT (name_key) DO UPDATE SET \
               name = excluded.name, token_hash = excluded.token_hash, \
               claimed_at = excluded.claimed_at, last_used = excluded.last_used, \
               claim_id = excluded.claim_id, confirmed = 0, \
               skeleton = excluded.skeleton, key_skeleton = excluded.key_skeleton \
             WHERE (names.confirmed = 1 AND names.last_used <= ?5) \
                OR (names.confirmed = 0 AND names.claimed_at <= ?6) \
             RETURNING name_key"
);

/// Deletes the claim under the key ?1 (by primary key).
pub const FORGET_KEY: &str = "DELETE FROM names WHERE name_key = ?1";

/// Deletes the claim ?1 if it is still pending (names_by_claim).
pub const FORGET_PENDING: &str = "DELETE FROM names WHERE claim_id = ?1 AND confirmed = 0";

/// Deletes the claim ?1 if its token still hashes to ?2 (names_by_claim).
pub const RELEASE: &str = "DELETE FROM names WHERE claim_id = ?1 AND token_hash = ?2";

/// The stored claim of a name and the key it is stored under: the name's key, or the
/// lowercase key claims were stored under before names were folded by NFKC.
pub async fn lookup(db: &D1Database, name: &Name) -> Result<Option<(String, Claim)>> {
    let legacy = legacy_name_key(name.display());
    let rows: Vec<ClaimRow> = db
        .prepare(LOOKUP)
        .bind(&[JsValue::from_str(name.key()), JsValue::from_str(&legacy)])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().next().map(ClaimRow::claim))
}

/// The stored claim whose token hashes to `token_hash`, and its key.
pub async fn lookup_token(db: &D1Database, token_hash: &str) -> Result<Option<(String, Claim)>> {
    let row: Option<ClaimRow> = db
        .prepare(LOOKUP_TOKEN)
        .bind(&[JsValue::from_str(token_hash)])?
        .first(None)
        .await?;
    Ok(row.map(ClaimRow::claim))
}

/// Marks a claim confirmed (its client showed it has the token) and used at `now`.
pub async fn touch(db: &D1Database, claim: &Claim, now: u64) -> Result<()> {
    run(db, TOUCH, &[JsValue::from_str(&claim.id), num(now)]).await
}

/// Fills in the skeletons of up to 50 claims stored before names had them; false once
/// none is left (every later claim stores its own).
pub async fn backfill_skeletons(db: &D1Database) -> Result<bool> {
    #[derive(Deserialize)]
    struct Row {
        name_key: String,
        name: String,
    }
    let rows: Vec<Row> = db.prepare(UNSKELETONED).all().await?.results()?;
    if rows.is_empty() {
        return Ok(false);
    }
    let mut statements = Vec::with_capacity(rows.len());
    for row in rows {
        statements.push(db.prepare(SET_SKELETONS).bind(&[
            JsValue::from_str(&row.name_key),
            JsValue::from_str(&skeleton(&row.name)),
            JsValue::from_str(&key_skeleton(&row.name)),
        ])?);
    }
    db.batch(statements).await?;
    Ok(true)
}

/// The bindings ?1-?6 of [`look_alike!`] for a new claim on `name` at `t`.
fn look_alike_bindings(name: &Name, t: u64, times: ClaimTimes) -> Vec<JsValue> {
    vec![
        JsValue::from_str(&skeleton(name.display())),
        JsValue::from_str(&key_skeleton(name.display())),
        JsValue::from_str(name.key()),
        JsValue::from_str(&legacy_name_key(name.display())),
        num(t.saturating_sub(times.ttl_ms)),
        num(t.saturating_sub(times.pending_ms)),
    ]
}

/// The name of a live claim that a new claim on `name` at `t` would look like, if any.
pub async fn look_alike(
    db: &D1Database,
    name: &Name,
    t: u64,
    times: ClaimTimes,
) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        name: String,
    }
    let row: Option<Row> = db
        .prepare(LOOK_ALIKE)
        .bind(&look_alike_bindings(name, t, times))?
        .first(None)
        .await?;
    Ok(row.map(|r| r.name))
}

/// A new claim to write: who, with which token hash and id, at which time.
pub struct NewClaim<'a> {
    pub name: &'a Name,
    pub token_hash: &'a str,
    pub claim_id: &'a str,
    pub at: u64,
}

/// Claims a free or lapsed name in one atomic statement, unless a look-alike is live;
/// whether it won (of two simultaneous first claims, one does).
pub async fn claim(db: &D1Database, new: &NewClaim<'_>, times: ClaimTimes) -> Result<bool> {
    let mut bindings = look_alike_bindings(new.name, new.at, times);
    bindings.extend([
        JsValue::from_str(new.name.display()),
        JsValue::from_str(new.token_hash),
        num(new.at),
        JsValue::from_str(new.claim_id),
    ]);
    let won: Option<serde_json::Value> = db.prepare(CLAIM).bind(&bindings)?.first(None).await?;
    Ok(won.is_some())
}

/// Deletes the claim stored under `key` (a lapsed one under an old key, moving).
pub async fn forget_key(db: &D1Database, key: &str) -> Result<()> {
    run(db, FORGET_KEY, &[JsValue::from_str(key)]).await
}

/// Deletes a claim that is still pending (never confirmed).
pub async fn forget_pending(db: &D1Database, claim: &str) -> Result<()> {
    run(db, FORGET_PENDING, &[JsValue::from_str(claim)]).await
}

/// Deletes the claim `claim` if its token still hashes to `token_hash`.
pub async fn release(db: &D1Database, claim: &str, token_hash: &str) -> Result<()> {
    run(
        db,
        RELEASE,
        &[JsValue::from_str(claim), JsValue::from_str(token_hash)],
    )
    .await
}
