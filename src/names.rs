//! Name claims in D1 (table `names`, migrations/0003_names.sql): the check at connect,
//! the claim of a free name, and the HTTP routes under `/api/names`.
//!
//! The decision itself is pure (`edgechat_protocol::decide_claim`); this module reads
//! and writes the row, hashes tokens (Web Crypto SHA-256) and answers.

use edgechat_protocol::{
    claim_ttl_ms, decide_claim, name_taken, Claim, ClaimDecision, ErrorCode, HttpError, Name,
    NameInfo, ReleaseRequest, Released, MAX_RELEASE_BODY_BYTES,
};
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use worker::js_sys::{self, Function, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{D1Database, Date, Env, Error, Request, Response, Result};

use crate::db::num;
use crate::http;

/// The header that carries a freshly issued token from the Worker to the room, which
/// sends it to the new socket. The Worker removes it from every client request first.
pub const CLAIMED_TOKEN_HEADER: &str = "x-edgechat-claimed-token";

fn now() -> u64 {
    Date::now().as_millis()
}

fn ttl_ms(env: &Env) -> u64 {
    claim_ttl_ms(
        env.var("NAME_CLAIM_TTL_SECS")
            .ok()
            .map(|v| v.to_string())
            .as_deref(),
    )
}

#[derive(Deserialize)]
struct ClaimRow {
    token_hash: String,
    last_used: f64,
}

async fn lookup(db: &D1Database, key: &str) -> Result<Option<Claim>> {
    let row: Option<ClaimRow> = db
        .prepare("SELECT token_hash, last_used FROM names WHERE name_key = ?1")
        .bind(&[JsValue::from_str(key)])?
        .first(None)
        .await?;
    Ok(row.map(|r| Claim {
        token_hash: r.token_hash,
        last_used: r.last_used as u64,
    }))
}

/// Lowercase hex SHA-256 of a token, by the runtime's Web Crypto.
pub async fn hash(token: &str) -> Result<String> {
    let js = |e: JsValue| Error::RustError(format!("web crypto: {e:?}"));
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).map_err(js)?;
    let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle")).map_err(js)?;
    let digest: Function = Reflect::get(&subtle, &JsValue::from_str("digest"))
        .map_err(js)?
        .dyn_into()
        .map_err(js)?;
    let data = Uint8Array::from(token.as_bytes());
    let promise: Promise = digest
        .call2(&subtle, &JsValue::from_str("SHA-256"), &data)
        .map_err(js)?
        .dyn_into()
        .map_err(js)?;
    let buffer = JsFuture::from(promise).await.map_err(js)?;
    Ok(http::hex(&Uint8Array::new(&buffer).to_vec()))
}

fn new_token() -> Result<String> {
    http::random_hex(32)
}

/// What a connect may do about its name.
pub enum Admission {
    /// Someone else holds the name: answer this refusal.
    Refused(HttpError),
    /// Go ahead; with `Some(token)` the connect has just claimed the name.
    Admitted(Option<String>),
}

/// Checks the name's claim without changing anything: whether a connect with this
/// token would be refused. Used before the upgrade check, so that a plain GET (the
/// web UI's probe after a failed socket) learns why.
pub async fn check(env: &Env, name: &Name, token: Option<&str>) -> Result<Option<HttpError>> {
    let (decision, _) = decide(env, name, token).await?;
    Ok((decision == ClaimDecision::Refuse).then(|| name_taken(name.display())))
}

async fn decide(
    env: &Env,
    name: &Name,
    token: Option<&str>,
) -> Result<(ClaimDecision, D1Database)> {
    let db = env.d1("DB")?;
    let claim = lookup(&db, name.key()).await?;
    // Hashing costs a little: only when there is a live claim to compare with.
    let token_hash = match (&claim, token) {
        (Some(_), Some(t)) => Some(hash(t).await?),
        _ => None,
    };
    let decision = decide_claim(claim.as_ref(), token_hash.as_deref(), now(), ttl_ms(env));
    Ok((decision, db))
}

/// Whether `token` holds a live claim on `name` (it does not claim anything).
pub async fn holds(env: &Env, name: &Name, token: Option<&str>) -> Result<bool> {
    let (decision, _) = decide(env, name, token).await?;
    Ok(matches!(
        decision,
        ClaimDecision::Accept | ClaimDecision::Refresh
    ))
}

/// Whether someone holds a live claim on `name`.
pub async fn is_claimed(env: &Env, name: &Name) -> Result<bool> {
    let (decision, _) = decide(env, name, None).await?;
    Ok(decision == ClaimDecision::Refuse)
}

/// Admits a connect with this name and token: claims a free name (the one atomic
/// statement that takes a free or expired row, so of two simultaneous first connects
/// one wins and the other is refused), refreshes a live claim now and then.
pub async fn admit(env: &Env, name: &Name, token: Option<&str>) -> Result<Admission> {
    let (decision, db) = decide(env, name, token).await?;
    let t = now();
    match decision {
        ClaimDecision::Refuse => Ok(Admission::Refused(name_taken(name.display()))),
        ClaimDecision::Accept => Ok(Admission::Admitted(None)),
        ClaimDecision::Refresh => {
            let touched = db
                .prepare("UPDATE names SET last_used = MAX(last_used, ?2) WHERE name_key = ?1")
                .bind(&[JsValue::from_str(name.key()), num(t)])?
                .run()
                .await;
            if let Err(e) = touched {
                // The claim stays good until its TTL; the next connect tries again.
                worker::console_error!("refreshing a name claim: {e}");
            }
            Ok(Admission::Admitted(None))
        }
        ClaimDecision::Claim => {
            let token = new_token()?;
            let cutoff = t.saturating_sub(ttl_ms(env));
            let won: Option<serde_json::Value> = db
                .prepare(
                    "INSERT INTO names (name_key, name, token_hash, claimed_at, last_used) \
                     VALUES (?1, ?2, ?3, ?4, ?4) \
                     ON CONFLICT (name_key) DO UPDATE SET \
                       name = excluded.name, token_hash = excluded.token_hash, \
                       claimed_at = excluded.claimed_at, last_used = excluded.last_used \
                     WHERE names.last_used <= ?5 \
                     RETURNING name_key",
                )
                .bind(&[
                    JsValue::from_str(name.key()),
                    JsValue::from_str(name.display()),
                    JsValue::from_str(&hash(&token).await?),
                    num(t),
                    num(cutoff),
                ])?
                .first(None)
                .await?;
            Ok(match won {
                Some(_) => Admission::Admitted(Some(token)),
                None => Admission::Refused(name_taken(name.display())),
            })
        }
    }
}

/// Deletes a name's claim if it still carries this token hash.
async fn delete_claim(db: &D1Database, name: &Name, token_hash: &str) -> Result<()> {
    db.prepare("DELETE FROM names WHERE name_key = ?1 AND token_hash = ?2")
        .bind(&[JsValue::from_str(name.key()), JsValue::from_str(token_hash)])?
        .run()
        .await?;
    Ok(())
}

/// Drops a claim just made by `admit` whose connect then failed (only that claim: the
/// row must still carry this token's hash).
pub async fn undo_claim(env: &Env, name: &Name, token: &str) {
    let undone = async { delete_claim(&env.d1("DB")?, name, &hash(token).await?).await };
    if let Err(e) = undone.await {
        worker::console_error!("dropping the claim of a failed connect: {e}");
    }
}

/// `GET /api/names/:name`: whether the name is claimed now.
pub async fn info(env: &Env, raw: &str) -> Result<Response> {
    let name = match parse_path_name(raw) {
        Ok(name) => name,
        Err(e) => return http::error(&e),
    };
    let claim = lookup(&env.d1("DB")?, name.key()).await?;
    let claimed = claim.is_some_and(|c| c.is_live(now(), ttl_ms(env)));
    http::json(
        &NameInfo {
            name: name.display().to_owned(),
            claimed,
        },
        200,
    )
}

fn parse_path_name(raw: &str) -> std::result::Result<Name, HttpError> {
    let decoded = worker::js_sys::decode_uri_component(raw)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| HttpError::new(ErrorCode::InvalidName, "the name is not valid UTF-8"))?;
    Name::parse(&decoded).map_err(|m| HttpError::new(ErrorCode::InvalidName, m))
}

/// `POST /api/names/release` with `{"name","token"}`: frees a claim its token proves.
pub async fn release(mut req: Request, env: &Env) -> Result<Response> {
    // A body announced as too large is refused unread (ReleaseRequest checks the rest).
    let announced = req.headers().get("content-length")?;
    if announced.and_then(|n| n.parse::<usize>().ok()).unwrap_or(0) > MAX_RELEASE_BODY_BYTES {
        return http::error(&HttpError::new(
            ErrorCode::BadRequest,
            format!("the body is over {MAX_RELEASE_BODY_BYTES} bytes"),
        ));
    }
    let body = req.text().await.unwrap_or_default();
    let ask = match ReleaseRequest::parse(&body) {
        Ok(ask) => ask,
        Err(e) => return http::error(&e),
    };
    let db = env.d1("DB")?;
    let live = lookup(&db, ask.name.key())
        .await?
        .filter(|c| c.is_live(now(), ttl_ms(env)));
    let Some(claim) = live else {
        return http::error(&HttpError::new(
            ErrorCode::NotFound,
            format!("the name \"{}\" is not claimed", ask.name.display()),
        ));
    };
    let token_hash = hash(&ask.token).await?;
    if token_hash != claim.token_hash {
        return http::error(&name_taken(ask.name.display()));
    }
    delete_claim(&db, &ask.name, &token_hash).await?;
    http::json(&Released { released: true }, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_hex_of_their_bytes() {
        assert_eq!(http::hex(&[0, 15, 255]), "000fff");
    }
}
