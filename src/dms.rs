//! Direct messages: opening the room of two claims, listing and leaving a claim's
//! rooms, and keeping everyone else out of them (their rows are
//! [`crate::storage::catalog::dms`]).
//!
//! A DM belongs to two claims, not two names: whoever claims a released name later is
//! a stranger to its DMs. Its id is an HMAC of the two claim ids under `DM_SECRET`, so
//! nobody can compute it from the names; every route of a DM answers a stranger with
//! the same 404 whether or not the DM exists.

use edgechat_protocol::{
    dm_pair, dm_room_id, is_dm_room, name_taken, DmList, DmRequest, ErrorCode, HttpError, Party,
    Presented, RoomId, TokenSource,
};
use worker::{Date, Env, Request, Response, Result, Url};

use crate::storage::catalog::dms as catalog;
use crate::{http, names};

/// The one answer a stranger gets from any route of a DM, existing or not.
pub fn stranger() -> Result<Response> {
    http::error_with(ErrorCode::NotFound, "no such direct messages", 404)
}

/// Whether `claim` is one of the DM's two parties.
pub async fn is_party(env: &Env, room: &str, claim: &str) -> Result<bool> {
    catalog::is_party(&env.d1("DB")?, room, claim).await
}

/// Lets a request at a direct-message room through only with the token of one of its
/// two claims; `Some(answer)` refuses it, the same way for every stranger.
pub async fn guard(env: &Env, req: &Request, room: &RoomId, url: &Url) -> Result<Option<Response>> {
    if !is_dm_room(room.as_str()) {
        return Ok(None);
    }
    let token = names::presented_by(req, url);
    let Some(who) = names::authenticate(env, token.as_ref()).await? else {
        return stranger().map(Some);
    };
    if !is_party(env, room.as_str(), &who.claim).await? {
        return stranger().map(Some);
    }
    Ok(None)
}

/// The server secret DM ids are derived with (`wrangler secret put DM_SECRET`; the set-up
/// command writes one to `.dev.vars` for local use).
pub(crate) fn secret(env: &Env) -> Result<String> {
    let value = env
        .secret("DM_SECRET")
        .map(|s| s.to_string())
        .or_else(|_| env.var("DM_SECRET").map(|v| v.to_string()))
        .unwrap_or_default();
    if value.len() < 16 {
        return Err(worker::Error::RustError(
            "DM_SECRET is not set (or shorter than 16 characters)".into(),
        ));
    }
    Ok(value)
}

/// `POST /api/dms` `{"with"}` with `Authorization: Bearer`: the room of the caller's
/// claim and the live claim of `with` (made on first use; reopening it undoes a leave).
pub async fn open(mut req: Request, env: &Env) -> Result<Response> {
    let url = req.url()?;
    let header_token = names::presented_by(&req, &url);
    let body = req.text().await?;
    if body.len() > 4096 {
        return http::error_with(ErrorCode::BadRequest, "the body is over 4 KiB", 400);
    }
    let ask = match DmRequest::parse(&body) {
        Ok(ask) => ask,
        Err(e) => return http::error(&e),
    };
    let token = header_token.or_else(|| {
        ask.token.clone().map(|token| Presented {
            token,
            source: TokenSource::Legacy,
        })
    });
    if token.is_none() {
        return http::error(&HttpError::new(
            ErrorCode::Unauthorized,
            "direct messages need your name's token: send it as Authorization: Bearer <token>",
        ));
    }
    let Some(me) = names::authenticate(env, token.as_ref()).await? else {
        let shown = ask.name.as_ref().map_or("your name", |n| n.display());
        return http::error(&name_taken(shown));
    };
    if let Some(name) = &ask.name {
        if name.key() != edgechat_protocol::name_key(&me.name) {
            return http::error(&name_taken(name.display()));
        }
    }
    let Some(peer) = names::holder(env, &ask.with).await? else {
        return http::error_with(
            ErrorCode::NotFound,
            &format!(
                "{} has not claimed that name: direct messages are between claimed names",
                ask.with.display()
            ),
            404,
        );
    };
    if peer.claim == me.claim {
        return http::error_with(
            ErrorCode::BadRequest,
            "a direct message needs two different names",
            400,
        );
    }
    let (a, b, seed) = dm_pair(
        Party {
            claim: me.claim.clone(),
            name: me.name.clone(),
        },
        Party {
            claim: peer.claim.clone(),
            name: peer.name.clone(),
        },
    );
    let room = dm_room_id(&names::hmac(&secret(env)?, &seed).await?);
    let now = Date::now().as_millis();
    catalog::open(&env.d1("DB")?, &room, (&a, &b), &me.claim, now).await?;
    http::json(&serde_json::json!({ "room": room, "with": peer.name }), 200)
}

/// `GET /api/dms` with `Authorization: Bearer`: the claim's direct messages (those it
/// has not left), most recent first, with unread counts.
pub async fn list(req: &Request, url: &Url, env: &Env) -> Result<Response> {
    let me = match names::require(env, req, url).await? {
        Ok(me) => me,
        Err(e) => return http::error(&e),
    };
    let dms = catalog::list(&env.d1("DB")?, &me.claim).await?;
    http::json(&DmList { dms }, 200)
}

/// `DELETE /api/dms/:room` with `Authorization: Bearer`: the caller leaves the DM (it
/// leaves their list; `POST /api/dms` with the same person brings it back). Nobody
/// moderates a DM, so leaving is what either party can do.
pub async fn leave(req: &Request, url: &Url, env: &Env, room: &str) -> Result<Response> {
    let me = match names::require(env, req, url).await? {
        Ok(me) => me,
        Err(e) => return http::error(&e),
    };
    if !is_dm_room(room) || !is_party(env, room, &me.claim).await? {
        return stranger();
    }
    catalog::leave(&env.d1("DB")?, room, &me.claim).await?;
    http::json(&serde_json::json!({ "left": true, "room": room }), 200)
}
