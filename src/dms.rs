//! Direct messages (D1 table `dms`, migrations/0008_dms.sql): opening the room of two
//! claimed names, listing a name's rooms, and keeping everyone else out of them.

use edgechat_protocol::{
    dm_pair, dm_room_id, is_dm_room, name_taken, DmList, DmRequest, DmSummary, ErrorCode, Name,
    RoomId,
};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{Date, Env, Request, Response, Result, Url};

use crate::db::num;
use crate::{http, names};

/// The `name` and `token` query parameters, the name checked.
fn credentials(url: &Url) -> std::result::Result<(Name, Option<String>), Result<Response>> {
    let (mut name, mut token) = (None, None);
    for (k, v) in url.query_pairs() {
        match &*k {
            "name" => name = Some(v.into_owned()),
            "token" => token = Some(v.into_owned()),
            _ => {}
        }
    }
    match Name::parse(name.as_deref().unwrap_or_default()) {
        Ok(name) => Ok((name, token)),
        Err(m) => Err(http::error_with(ErrorCode::InvalidName, m, 400)),
    }
}

/// Lets a request at a direct-message room through only with one of its two names and
/// that name's token; `Some(answer)` refuses it. The connect route checks the token
/// itself (`names::admit`), so there `check_token` is false and it is not looked up twice.
pub async fn guard(
    env: &Env,
    room: &RoomId,
    url: &Url,
    check_token: bool,
) -> Result<Option<Response>> {
    if !is_dm_room(room.as_str()) {
        return Ok(None);
    }
    let (name, token) = match credentials(url) {
        Ok(c) => c,
        Err(answer) => return answer.map(Some),
    };
    #[derive(Deserialize)]
    struct Pair {
        a_key: String,
        b_key: String,
    }
    let pair: Option<Pair> = env
        .d1("DB")?
        .prepare("SELECT a_key, b_key FROM dms WHERE room = ?1")
        .bind(&[JsValue::from_str(room.as_str())])?
        .first(None)
        .await?;
    let Some(pair) = pair else {
        return http::error_with(ErrorCode::NotFound, "no such direct messages", 404).map(Some);
    };
    if name.key() != pair.a_key && name.key() != pair.b_key {
        return http::error_with(
            ErrorCode::Forbidden,
            "direct messages are open to their two names only",
            403,
        )
        .map(Some);
    }
    if check_token && !names::holds(env, &name, token.as_deref()).await? {
        return http::error(&name_taken(name.display())).map(Some);
    }
    Ok(None)
}

/// `POST /api/dms` `{"name", "token", "with"}`: the room of the two names (made on first
/// use). Both must be claimed; the token must hold `name`.
pub async fn open(mut req: Request, env: &Env) -> Result<Response> {
    let body = req.text().await?;
    if body.len() > 4096 {
        return http::error_with(ErrorCode::BadRequest, "the body is over 4 KiB", 400);
    }
    let ask = match DmRequest::parse(&body) {
        Ok(ask) => ask,
        Err(e) => return http::error(&e),
    };
    if !names::holds(env, &ask.name, Some(&ask.token)).await? {
        return http::error(&name_taken(ask.name.display()));
    }
    if !names::is_claimed(env, &ask.with).await? {
        return http::error_with(
            ErrorCode::NotFound,
            &format!(
                "{} has not claimed that name: direct messages are between claimed names",
                ask.with.display()
            ),
            404,
        );
    }
    let (a, b, seed) = dm_pair(&ask.name, &ask.with);
    let room = dm_room_id(&names::hash(&seed).await?);
    env.d1("DB")?
        .prepare(
            "INSERT INTO dms (room, a_key, a_name, b_key, b_name, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (room) DO NOTHING",
        )
        .bind(&[
            JsValue::from_str(&room),
            JsValue::from_str(a.key()),
            JsValue::from_str(a.display()),
            JsValue::from_str(b.key()),
            JsValue::from_str(b.display()),
            num(Date::now().as_millis()),
        ])?
        .run()
        .await?;
    http::json(
        &serde_json::json!({ "room": room, "with": ask.with.display() }),
        200,
    )
}

/// `GET /api/dms?name=N&token=T`: N's direct messages, most recent first, with unread
/// counts.
pub async fn list(url: &Url, env: &Env) -> Result<Response> {
    let (name, token) = match credentials(url) {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    if !names::holds(env, &name, token.as_deref()).await? {
        return http::error(&name_taken(name.display()));
    }
    #[derive(Deserialize)]
    struct Row {
        room: String,
        with: String,
        unread: f64,
        last_activity: f64,
    }
    let rows: Vec<Row> = env
        .d1("DB")?
        .prepare(
            "SELECT d.room AS room, \
                    CASE WHEN d.a_key = ?1 THEN d.b_name ELSE d.a_name END AS with, \
                    MAX(COALESCE(r.last_seq, 0) - COALESCE(x.seq, 0), 0) AS unread, \
                    COALESCE(r.last_activity, 0) AS last_activity \
             FROM dms d \
             LEFT JOIN rooms r ON r.id = d.room \
             LEFT JOIN reads x ON x.room = d.room AND x.name_key = ?1 \
             WHERE d.a_key = ?1 OR d.b_key = ?1 \
             ORDER BY COALESCE(r.last_activity, d.created_at) DESC LIMIT 100",
        )
        .bind(&[JsValue::from_str(name.key())])?
        .all()
        .await?
        .results()?;
    let dms = rows
        .into_iter()
        .map(|r| DmSummary {
            room: r.room,
            with: r.with,
            unread: r.unread as u64,
            last_activity: r.last_activity as u64,
        })
        .collect();
    http::json(&DmList { dms }, 200)
}
