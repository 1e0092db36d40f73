//! Name claims: the check at connect, the claim of a free name, proving a token over
//! HTTP, and the routes under `/api/names`.
//!
//! A claim is an identity: it has its own random id, and everything a person owns is
//! bound to that id, never to the bare name. The decision at connect is pure
//! (`edgechat_protocol::decide_claim`); the rows are read and written by
//! [`crate::storage::catalog::names`]; this module hashes tokens (Web Crypto SHA-256),
//! decides and answers. Tokens are only ever compared as hashes and
//! never logged.

use edgechat_protocol::{
    decide_claim, legacy_name_key, looks_like, name_taken, parse_token_query, pass_expiry,
    pass_message, presented, secs_setting_ms, subprotocol_pass, Claim, ClaimDecision, ClaimTimes,
    Confirmed, ErrorCode, HttpError, Name, NameInfo, Pass, Presented, ReleaseRequest, Released,
    CLAIM_PASS_TTL_SECS, MAX_RELEASE_BODY_BYTES, NAME_CLAIM_TTL_SECS, NAME_PENDING_SECS,
};
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use worker::js_sys::{self, Function, Object, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{D1Database, Date, Env, Error, Request, Response, Result};

use crate::http;
use crate::quota::{self, Limiter};
use crate::storage::catalog::names as catalog;

/// Internal headers from the Worker to a room (the Worker removes every `x-edgechat-`
/// header from client requests first, so a client cannot forge them).
pub const INTERNAL_PREFIX: &str = "x-edgechat-";
/// A freshly issued token, which the room sends to the new socket only.
pub const CLAIMED_TOKEN_HEADER: &str = "x-edgechat-claimed-token";
/// The id of the claim a request was admitted under.
pub const CLAIM_HEADER: &str = "x-edgechat-claim";
/// The name (as claimed) of that claim.
pub const CLAIM_NAME_HEADER: &str = "x-edgechat-claim-name";
/// A claim pass just signed for this connect, which the room sends to its socket only.
pub const PASS_HEADER: &str = "x-edgechat-pass";

fn now() -> u64 {
    Date::now().as_millis()
}

pub fn times(env: &Env) -> ClaimTimes {
    let setting = |k: &str| env.var(k).ok().map(|v| v.to_string());
    ClaimTimes {
        ttl_ms: secs_setting_ms(
            setting("NAME_CLAIM_TTL_SECS").as_deref(),
            NAME_CLAIM_TTL_SECS,
        ),
        pending_ms: secs_setting_ms(setting("NAME_PENDING_SECS").as_deref(), NAME_PENDING_SECS),
    }
}

/// A claim proven by its token: who a request comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub claim: String,
    /// The name as it was claimed.
    pub name: String,
}

fn web_crypto_error(e: JsValue) -> Error {
    Error::RustError(format!("web crypto: {e:?}"))
}

fn subtle() -> Result<JsValue> {
    let crypto =
        Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).map_err(web_crypto_error)?;
    Reflect::get(&crypto, &JsValue::from_str("subtle")).map_err(web_crypto_error)
}

/// Calls `crypto.subtle[method](...args)` and awaits its promise.
async fn subtle_call(method: &str, args: &[JsValue]) -> Result<JsValue> {
    let subtle = subtle()?;
    let f: Function = Reflect::get(&subtle, &JsValue::from_str(method))
        .map_err(web_crypto_error)?
        .dyn_into()
        .map_err(web_crypto_error)?;
    let list = js_sys::Array::new();
    for a in args {
        list.push(a);
    }
    let promise: Promise = f
        .apply(&subtle, &list)
        .map_err(web_crypto_error)?
        .dyn_into()
        .map_err(web_crypto_error)?;
    JsFuture::from(promise).await.map_err(web_crypto_error)
}

/// Lowercase hex SHA-256 of a token, by the runtime's Web Crypto.
pub async fn hash(token: &str) -> Result<String> {
    let data = Uint8Array::from(token.as_bytes());
    let buffer = subtle_call("digest", &[JsValue::from_str("SHA-256"), data.into()]).await?;
    Ok(http::hex(&Uint8Array::new(&buffer).to_vec()))
}

/// An HMAC-SHA-256 `CryptoKey` made from `secret`'s bytes, for these usages (not
/// extractable).
async fn hmac_key(secret: &str, usages: &[&str]) -> Result<JsValue> {
    let algorithm = Object::new();
    let set = |k: &str, v: &JsValue| {
        Reflect::set(&algorithm, &JsValue::from_str(k), v).map_err(web_crypto_error)
    };
    set("name", &JsValue::from_str("HMAC"))?;
    set("hash", &JsValue::from_str("SHA-256"))?;
    let list = js_sys::Array::new();
    for usage in usages {
        list.push(&JsValue::from_str(usage));
    }
    subtle_call(
        "importKey",
        &[
            JsValue::from_str("raw"),
            Uint8Array::from(secret.as_bytes()).into(),
            algorithm.into(),
            JsValue::FALSE,
            list.into(),
        ],
    )
    .await
}

/// Lowercase hex HMAC-SHA-256 of `message` under `secret`, by the runtime's Web Crypto.
pub async fn hmac(secret: &str, message: &str) -> Result<String> {
    sign_hex(hmac_key(secret, &["sign"]).await?, message).await
}

/// Lowercase hex HMAC of `message` under the HMAC `CryptoKey` `key`.
async fn sign_hex(key: JsValue, message: &str) -> Result<String> {
    let signature = subtle_call(
        "sign",
        &[
            JsValue::from_str("HMAC"),
            key,
            Uint8Array::from(message.as_bytes()).into(),
        ],
    )
    .await?;
    Ok(http::hex(&Uint8Array::new(&signature).to_vec()))
}

/// How long a claim pass lasts (the `CLAIM_PASS_TTL_SECS` setting, default 10 minutes).
pub fn pass_ttl_ms(env: &Env) -> u64 {
    let setting = env.var("CLAIM_PASS_TTL_SECS").ok().map(|v| v.to_string());
    secs_setting_ms(setting.as_deref(), CLAIM_PASS_TTL_SECS)
}

thread_local! {
    /// The HMAC key passes are signed with, imported once per isolate from the
    /// `CLAIM_PASS_KEY` secret (a `CryptoKey` for sign and verify, not extractable).
    static PASS_KEY: std::cell::RefCell<Option<JsValue>> = const { std::cell::RefCell::new(None) };
}

/// The pass key, or none when the Worker has no `CLAIM_PASS_KEY` of at least 32
/// characters: then no pass is issued or accepted, and every connect asks D1.
async fn pass_key(env: &Env) -> Option<JsValue> {
    if let Some(key) = PASS_KEY.with(|k| k.borrow().clone()) {
        return Some(key);
    }
    let secret = env
        .secret("CLAIM_PASS_KEY")
        .map(|s| s.to_string())
        .or_else(|_| env.var("CLAIM_PASS_KEY").map(|v| v.to_string()))
        .ok()
        .filter(|s| s.len() >= 32)?;
    match hmac_key(&secret, &["sign", "verify"]).await {
        Ok(key) => {
            PASS_KEY.with(|k| *k.borrow_mut() = Some(key.clone()));
            Some(key)
        }
        Err(e) => {
            worker::console_error!("importing the pass key: {e}");
            None
        }
    }
}

/// Signs a pass for `claim` under `name`, expiring at `expires_at`; none without a pass
/// key, or if signing fails (logged: the connect goes on without a pass).
pub async fn issue_pass(env: &Env, claim: &str, name: &Name, expires_at: u64) -> Option<Pass> {
    let key = pass_key(env).await?;
    match sign_hex(key, &pass_message(claim, name.key(), expires_at)).await {
        Ok(mac) => Some(Pass {
            claim: claim.to_owned(),
            expires_at,
            mac,
        }),
        Err(e) => {
            worker::console_error!("signing a pass: {e}");
            None
        }
    }
}

/// The claim a socket's `edgechat.pass.` subprotocol speaks for under `name`, when the
/// pass is current and its MAC checks out (Web Crypto's `verify`, constant-time): the
/// connect is admitted with no D1 round trip. Anything else (no pass, malformed,
/// expired, another name's, a bad MAC, no key) is `None`: the connect asks D1 as before.
pub async fn pass_claim(env: &Env, protocols: Option<&str>, name: &Name) -> Option<String> {
    let pass = Pass::parse(&subprotocol_pass(protocols)?)?;
    if !pass.is_current(now()) {
        return None;
    }
    let key = pass_key(env).await?;
    let message = pass_message(&pass.claim, name.key(), pass.expires_at);
    let verified = subtle_call(
        "verify",
        &[
            JsValue::from_str("HMAC"),
            key,
            Uint8Array::from(pass.mac_bytes().as_slice()).into(),
            Uint8Array::from(message.as_bytes()).into(),
        ],
    )
    .await;
    match verified {
        Ok(v) if v.is_truthy() => Some(pass.claim),
        Ok(_) => None,
        Err(e) => {
            worker::console_error!("checking a pass: {e}");
            None
        }
    }
}

/// After a connect admitted by a pass: whether its claim still holds the name (one D1
/// read, off the connect's path). A claim released or lapsed since the pass was issued
/// gets `false`, and the room closes its sockets; a D1 failure keeps the socket.
pub async fn still_holds(env: &Env, name: &Name, claim: &str) -> bool {
    match holder(env, name).await {
        Ok(Some(who)) => who.claim == claim,
        Ok(None) => false,
        Err(e) => {
            worker::console_error!("checking a pass's claim again: {e}");
            true
        }
    }
}

/// The token a request presents: `Authorization: Bearer`, a socket's
/// `edgechat.bearer.` subprotocol, or the deprecated `token=` query parameter.
pub fn presented_by(req: &Request, url: &worker::Url) -> Option<Presented> {
    let header = |k: &str| req.headers().get(k).ok().flatten();
    let legacy = parse_token_query(url.query_pairs());
    presented(
        header("authorization").as_deref(),
        header("sec-websocket-protocol").as_deref(),
        legacy.as_deref(),
    )
}

/// Marks a claim confirmed (its client showed it has the token) and used now; whether
/// that was written.
async fn touch(db: &D1Database, claim: &Claim) -> bool {
    match catalog::touch(db, claim, now()).await {
        Ok(()) => true,
        Err(e) => {
            // The claim stays good until its lifetime ends; the next request tries again.
            worker::console_error!("refreshing a name claim: {e}");
            false
        }
    }
}

/// The claim a token proves, if it holds a live one (confirming it if it was pending).
pub async fn authenticate(env: &Env, token: Option<&Presented>) -> Result<Option<Identity>> {
    let Some(token) = token else {
        return Ok(None);
    };
    let db = env.d1("DB")?;
    let Some((_, claim)) = catalog::lookup_token(&db, &hash(&token.token).await?).await? else {
        return Ok(None);
    };
    let t = now();
    let times = times(env);
    if !claim.is_live(t, times) {
        return Ok(None);
    }
    if decide_claim(Some(&claim), Some(&claim.token_hash), t, times) == ClaimDecision::Refresh {
        touch(&db, &claim).await;
    }
    Ok(Some(Identity {
        claim: claim.id,
        name: claim.name,
    }))
}

/// The live claim on a name, if someone holds it.
pub async fn holder(env: &Env, name: &Name) -> Result<Option<Identity>> {
    let stored = catalog::lookup(&env.d1("DB")?, name).await?;
    Ok(stored
        .map(|(_, c)| c)
        .filter(|c| c.is_live(now(), times(env)))
        .map(|c| Identity {
            claim: c.id,
            name: c.name,
        }))
}

/// What a connect may do about its name.
pub enum Admission {
    /// Someone else holds the name (or a look-alike): answer this refusal.
    Refused(HttpError),
    /// Go ahead as this claim; `fresh` is the token of a claim this connect just made.
    /// `pass_until` is when a pass for it would have to expire (none for a pending
    /// claim: it must show its token again to be confirmed).
    Admitted {
        claim: String,
        fresh: Option<String>,
        pass_until: Option<u64>,
    },
    /// The address made too many fresh claims this minute: answer this 429.
    Limited(Response),
}

/// Checks the name's claim without changing anything: whether a connect with this
/// token would be refused. Used before the upgrade check, so that a plain GET (the
/// web UI's probe after a failed socket) learns why.
pub async fn check(env: &Env, name: &Name, token: Option<&Presented>) -> Result<Option<HttpError>> {
    let db = env.d1("DB")?;
    let stored = catalog::lookup(&db, name).await?;
    let token_hash = match (&stored, token) {
        (Some(_), Some(t)) => Some(hash(&t.token).await?),
        _ => None,
    };
    let claim = stored.map(|(_, c)| c);
    let decision = decide_claim(claim.as_ref(), token_hash.as_deref(), now(), times(env));
    if decision == ClaimDecision::Refuse {
        return Ok(Some(name_taken(name.display())));
    }
    if decision == ClaimDecision::Claim {
        return look_alike(&db, env, name).await;
    }
    Ok(None)
}

thread_local! {
    /// Whether this isolate has seen every stored claim carry its skeletons.
    static SKELETONS_FILLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Fills in the skeletons of claims stored before names had them (a few per call,
/// until none is left), so that look-alike checks see every live claim. Once a call
/// finds none left, this isolate asks no more: every later claim stores its own.
async fn backfill_skeletons(db: &D1Database) {
    if SKELETONS_FILLED.with(|f| f.get()) {
        return;
    }
    match catalog::backfill_skeletons(db).await {
        Ok(false) => SKELETONS_FILLED.with(|f| f.set(true)),
        Ok(true) => {}
        Err(e) => worker::console_error!("filling in name skeletons: {e}"),
    }
}

/// The refusal of a new claim on `name` if it looks like another live claim's name.
async fn look_alike(db: &D1Database, env: &Env, name: &Name) -> Result<Option<HttpError>> {
    backfill_skeletons(db).await;
    let other = catalog::look_alike(db, name, now(), times(env)).await?;
    Ok(other.map(|other| looks_like(name.display(), &other)))
}

/// Admits a connect with this name and token: claims a free name (the one atomic
/// statement that takes a free or lapsed row, so of two simultaneous first connects
/// one wins and the other is refused), refreshes a live claim now and then. A fresh
/// claim is pending until its client proves it kept the token. With `address`, a fresh
/// claim counts against that address's `CLAIM_LIMITER` first.
pub async fn admit(
    env: &Env,
    name: &Name,
    token: Option<&Presented>,
    address: Option<&str>,
) -> Result<Admission> {
    let db = env.d1("DB")?;
    let stored = catalog::lookup(&db, name).await?;
    // Hashing costs a little: only when there is a claim to compare with.
    let token_hash = match (&stored, token) {
        (Some(_), Some(t)) => Some(hash(&t.token).await?),
        _ => None,
    };
    let t = now();
    let times = times(env);
    let (stored_key, claim) = match stored {
        Some((key, claim)) => (Some(key), Some(claim)),
        None => (None, None),
    };
    match decide_claim(claim.as_ref(), token_hash.as_deref(), t, times) {
        ClaimDecision::Refuse => Ok(Admission::Refused(name_taken(name.display()))),
        decision @ (ClaimDecision::Accept | ClaimDecision::Refresh) => {
            let Some(claim) = claim else {
                return Ok(Admission::Refused(name_taken(name.display())));
            };
            let refreshed = decision == ClaimDecision::Refresh && touch(&db, &claim).await;
            // A pass only for a confirmed claim (a pending one is confirmed by the
            // refresh above), and never past the claim's lapse as it is now stored.
            let pass_until = (claim.confirmed || refreshed).then(|| {
                let stored = Claim {
                    confirmed: true,
                    last_used: if refreshed { t } else { claim.last_used },
                    ..claim.clone()
                };
                pass_expiry(t, pass_ttl_ms(env), &stored, times)
            });
            Ok(Admission::Admitted {
                claim: claim.id,
                fresh: None,
                pass_until,
            })
        }
        ClaimDecision::Claim => {
            if let Some(address) = address {
                if let Some(answer) = quota::per_minute(env, Limiter::Claim, address).await {
                    return Ok(Admission::Limited(answer));
                }
            }
            backfill_skeletons(&db).await;
            let token = http::random_hex(32)?;
            let claim_id = http::random_hex(12)?;
            // A lapsed claim stored under the old key moves to the name's key.
            if let Some(old) = stored_key.filter(|k| k != name.key()) {
                catalog::forget_key(&db, &old).await?;
            }
            // One statement claims the name unless a look-alike is live: the common path
            // (a free name) is one round trip; why a claim was refused is asked after.
            let new = catalog::NewClaim {
                name,
                token_hash: &hash(&token).await?,
                claim_id: &claim_id,
                at: t,
            };
            if catalog::claim(&db, &new, times).await? {
                return Ok(Admission::Admitted {
                    claim: claim_id,
                    fresh: Some(token),
                    pass_until: None,
                });
            }
            // Refused: a look-alike, or someone claimed this very name a moment ago.
            Ok(Admission::Refused(
                look_alike(&db, env, name)
                    .await?
                    .unwrap_or_else(|| name_taken(name.display())),
            ))
        }
    }
}

/// Drops a claim just made by `admit` whose connect then failed: the token would exist
/// nowhere.
pub async fn undo_claim(env: &Env, claim: &str) {
    let undone = async { catalog::forget_pending(&env.d1("DB")?, claim).await };
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
    let claim = catalog::lookup(&env.d1("DB")?, &name).await?;
    let claimed = claim.is_some_and(|(_, c)| c.is_live(now(), times(env)));
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

fn no_token() -> HttpError {
    HttpError::new(
        ErrorCode::Unauthorized,
        "this needs your name's token: send it as Authorization: Bearer <token>",
    )
}

fn not_held() -> HttpError {
    HttpError::new(
        ErrorCode::NameTaken,
        "this token holds no claim now (it was released, or it lapsed); connect again to claim a name",
    )
}

/// The claim a request's `Authorization: Bearer` (or deprecated `token=`) proves, or
/// the refusal to answer: 401 without a token, 403 for a token that holds nothing.
pub async fn require(
    env: &Env,
    req: &Request,
    url: &worker::Url,
) -> Result<std::result::Result<Identity, HttpError>> {
    let Some(token) = presented_by(req, url) else {
        return Ok(Err(no_token()));
    };
    Ok(authenticate(env, Some(&token)).await?.ok_or_else(not_held))
}

/// `POST /api/names/claim` `{"name": "Ann"}`: claims a free name without joining a room
/// (for a page that makes a room before it has joined one). The answer is the
/// `name_claimed` frame's fields; the claim is pending until confirmed, like one made at
/// a connect, so an answer that never arrives locks nothing for long.
pub async fn claim(mut req: Request, env: &Env) -> Result<Response> {
    // Every claim asked for here counts against the address, taken name or not.
    if let Some(answer) = quota::per_minute(env, Limiter::Claim, &quota::address(&req)).await {
        return Ok(answer);
    }
    let announced = req.headers().get("content-length")?;
    if announced.and_then(|n| n.parse::<usize>().ok()).unwrap_or(0) > MAX_RELEASE_BODY_BYTES {
        return http::error(&HttpError::new(
            ErrorCode::BadRequest,
            format!("the body is over {MAX_RELEASE_BODY_BYTES} bytes"),
        ));
    }
    #[derive(Deserialize)]
    struct Ask {
        name: String,
    }
    let body = req.text().await.unwrap_or_default();
    let ask: Ask = match serde_json::from_str(&body) {
        Ok(ask) => ask,
        Err(_) => {
            return http::error(&HttpError::new(
                ErrorCode::BadRequest,
                "the body must be JSON {\"name\": string}",
            ))
        }
    };
    let name = match Name::parse(&ask.name) {
        Ok(name) => name,
        Err(m) => return http::error(&HttpError::new(ErrorCode::InvalidName, m)),
    };
    match admit(env, &name, None, None).await? {
        Admission::Refused(refusal) => http::error(&refusal),
        Admission::Limited(answer) => Ok(answer),
        Admission::Admitted {
            claim,
            fresh: Some(token),
            ..
        } => http::json(
            &serde_json::json!({ "name": name.display(), "token": token, "claim": claim }),
            201,
        ),
        // Without a token a live claim is refused, so this does not happen; say so.
        Admission::Admitted { fresh: None, .. } => http::error(&name_taken(name.display())),
    }
}

/// `POST /api/names/confirm` with `Authorization: Bearer`: the client shows it has kept
/// a fresh claim's token, which makes the claim last (unconfirmed, it lapses).
pub async fn confirm(req: Request, env: &Env) -> Result<Response> {
    let url = req.url()?;
    match require(env, &req, &url).await? {
        Ok(who) => http::json(
            &Confirmed {
                name: who.name,
                claim: who.claim,
                confirmed: true,
            },
            200,
        ),
        Err(e) => http::error(&e),
    }
}

/// `POST /api/names/release` with `Authorization: Bearer` (or the deprecated
/// `{"name","token"}` body): frees the claim the token proves. Everything bound to the
/// claim stays with it: whoever claims the name next is someone else.
pub async fn release(mut req: Request, env: &Env) -> Result<Response> {
    // A body announced as too large is refused unread (ReleaseRequest checks the rest).
    let announced = req.headers().get("content-length")?;
    if announced.and_then(|n| n.parse::<usize>().ok()).unwrap_or(0) > MAX_RELEASE_BODY_BYTES {
        return http::error(&HttpError::new(
            ErrorCode::BadRequest,
            format!("the body is over {MAX_RELEASE_BODY_BYTES} bytes"),
        ));
    }
    let url = req.url()?;
    let header_token = presented_by(&req, &url);
    let body = req.text().await.unwrap_or_default();
    let ask = match ReleaseRequest::parse(&body) {
        Ok(ask) => ask,
        Err(e) => return http::error(&e),
    };
    let db = env.d1("DB")?;
    let token = match (header_token, &ask.token) {
        (Some(p), _) => p.token,
        (None, Some(t)) => t.clone(),
        (None, None) => return http::error(&no_token()),
    };
    let token_hash = hash(&token).await?;
    let held = catalog::lookup_token(&db, &token_hash)
        .await?
        .filter(|(_, c)| c.is_live(now(), times(env)));
    let Some((key, claim)) = held else {
        return match &ask.name {
            Some(name) => match catalog::lookup(&db, name).await? {
                Some((_, c)) if c.is_live(now(), times(env)) => {
                    http::error(&name_taken(name.display()))
                }
                _ => http::error(&HttpError::new(
                    ErrorCode::NotFound,
                    format!("the name \"{}\" is not claimed", name.display()),
                )),
            },
            None => http::error(&not_held()),
        };
    };
    if let Some(name) = &ask.name {
        if name.key() != key && legacy_name_key(name.display()) != key {
            return http::error(&name_taken(name.display()));
        }
    }
    catalog::release(&db, &claim.id, &token_hash).await?;
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
