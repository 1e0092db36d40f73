//! edgechat's Worker: routes HTTP requests, hands each room's sockets to its
//! `ChatRoom` Durable Object and reads history from D1.
//!
//! | route                        | served by                              |
//! |------------------------------|----------------------------------------|
//! | `GET /room/:id` (WebSocket)  | the room's Durable Object              |
//! | `GET /room/:id/users`        | the room's Durable Object              |
//! | `GET /room/:id/messages`     | D1                                     |
//! | `GET /room/:id/thread/:seq`  | D1                                     |
//! | `GET /room/:id/moderation`   | D1                                     |
//! | `POST /room/:id/files`       | the room's Durable Object, then R2     |
//! | `GET /room/:id/files/:file`  | R2                                     |
//! | `GET /api/rooms`             | D1                                     |
//! | `GET /api/search`            | D1 (full-text index)                   |
//! | `GET /api/names/:name`       | D1 (name claims)                       |
//! | `POST /api/names/release`    | D1 (name claims)                       |
//! | everything else              | static assets (`public/`)              |

mod chat_room;
mod db;
mod dms;
mod files;
mod http;
mod names;
mod sql_log;

pub use chat_room::ChatRoom;

use edgechat_protocol::{
    is_dm_room, parse_connect_query, parse_connect_token, parse_page_query, parse_search_query,
    parse_seq, CreateRoom, ErrorCode, MessagesPage, Name, Page, RoomId, RoomInfo, RoomsList,
    SearchResults, PRIVATE_PREFIX,
};
use worker::{event, Context, Env, Headers, Method, Request, RequestInit, Response, Result};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    match route(req, &env).await {
        Ok(response) => Ok(response),
        Err(e) => http::internal("request failed", &e),
    }
}

async fn route(req: Request, env: &Env) -> Result<Response> {
    let url = req.url()?;
    let path = url.path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["api", "rooms"] => {
            if req.method() == Method::Post {
                return create_room(req, env).await;
            }
            if req.method() != Method::Get {
                return method_not_allowed();
            }
            // `?name=N` adds each room's unread count for that name.
            let reader = match reader_of(&url) {
                Ok(reader) => reader,
                Err(answer) => return answer,
            };
            let rooms = db::rooms(&env.d1("DB")?, reader.as_deref()).await?;
            http::json(&RoomsList { rooms }, 200)
        }
        ["api", "search"] => {
            if req.method() != Method::Get {
                return method_not_allowed();
            }
            search(&req.url()?, env).await
        }
        ["api", "rooms", id] => {
            if req.method() != Method::Get {
                return method_not_allowed();
            }
            let room = match RoomId::parse(id) {
                Ok(room) => room,
                Err(m) => return http::error_with(ErrorCode::InvalidRoom, m, 400),
            };
            if is_dm_room(room.as_str()) {
                return not_found();
            }
            let reader = match reader_of(&url) {
                Ok(reader) => reader,
                Err(answer) => return answer,
            };
            match db::room(&env.d1("DB")?, room.as_str(), reader.as_deref()).await? {
                Some((info, summary)) => http::json(
                    &serde_json::json!({ "room": info, "summary": summary }),
                    200,
                ),
                None => http::error_with(ErrorCode::NotFound, "no room has this id yet", 404),
            }
        }
        ["api", "dms"] => match req.method() {
            Method::Get => dms::list(&url, env).await,
            Method::Post => dms::open(req, env).await,
            _ => http::error_with(
                ErrorCode::BadRequest,
                "only GET and POST are supported here",
                405,
            ),
        },
        ["api", "names", "release"] => {
            if req.method() != Method::Post {
                return http::error_with(ErrorCode::BadRequest, "only POST is supported here", 405);
            }
            names::release(req, env).await
        }
        ["api", "names", name] => {
            if req.method() != Method::Get {
                return method_not_allowed();
            }
            names::info(env, name).await
        }
        ["room", id, rest @ ..] => {
            let room = match RoomId::parse(id) {
                Ok(room) => room,
                Err(m) => return http::error_with(ErrorCode::InvalidRoom, m, 400),
            };
            // A direct-message room opens only to its two names (with their tokens); its
            // files are served to anyone with their unguessable address, like an image link.
            if !matches!(rest, ["files", _]) {
                if let Some(refusal) = dms::guard(env, &room, &url, !rest.is_empty()).await? {
                    return Ok(refusal);
                }
            }
            if let (Method::Post, ["files"]) = (req.method(), rest) {
                return to_room(req, env, &room).await;
            }
            if req.method() != Method::Get {
                return method_not_allowed();
            }
            match rest {
                ["files", id] => files::serve(env, &room, id).await,
                [] => connect(req, env, &room).await,
                ["messages"] => messages(&url, env, &room).await,
                ["thread", seq] => thread(&url, env, &room, seq).await,
                ["moderation"] => {
                    let actions = db::audit(&env.d1("DB")?, room.as_str()).await?;
                    http::json(&serde_json::json!({ "actions": actions }), 200)
                }
                ["users"] => to_room(forwarded(&req, None)?, env, &room).await,
                _ => not_found(),
            }
        }
        ["api", ..] | ["room"] => not_found(),
        _ => env.assets("ASSETS")?.fetch_request(req).await,
    }
}

/// Validates everything a connection asks for before any socket exists, then hands
/// the upgrade to the room.
async fn connect(req: Request, env: &Env, room: &RoomId) -> Result<Response> {
    let url = req.url()?;
    let query = match parse_connect_query(url.query_pairs()) {
        Ok(query) => query,
        Err(e) => return http::error(&e),
    };
    let token = parse_connect_token(url.query_pairs());
    if !http::is_upgrade(&req) {
        // Read-only: a plain GET never claims, but it learns that a name is taken.
        if let Some(refusal) = names::check(env, &query.name, token.as_deref()).await? {
            return http::error(&refusal);
        }
        // The room answers too: 403 if the name is banned there (how a browser, which
        // cannot read a refused upgrade, learns why), else 426.
        return to_room(forwarded(&req, None)?, env, room).await;
    }
    let claimed = match names::admit(env, &query.name, token.as_deref()).await? {
        names::Admission::Refused(refusal) => return http::error(&refusal),
        names::Admission::Admitted(claimed) => claimed,
    };
    let req = forwarded(&req, claimed.as_deref())?;
    let answer = to_room(req, env, room).await;
    if let Some(token) = claimed {
        // The token reaches the client only on the socket: without one, drop the claim
        // again, or the name would stay locked with a token nobody has.
        if !matches!(&answer, Ok(r) if r.status_code() == 101) {
            names::undo_claim(env, &query.name, &token).await;
        }
    }
    answer
}

/// The connect request as the room gets it: the client's headers without the internal
/// one (a client cannot forge a claim), plus the token this connect has just claimed.
fn forwarded(req: &Request, claimed: Option<&str>) -> Result<Request> {
    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        if !name.eq_ignore_ascii_case(names::CLAIMED_TOKEN_HEADER) {
            headers.append(&name, &value)?;
        }
    }
    if let Some(token) = claimed {
        headers.set(names::CLAIMED_TOKEN_HEADER, token)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    Request::new_with_init(req.url()?.as_str(), &init)
}

/// Forwards a request to the room's Durable Object, named by the folded room id.
async fn to_room(req: Request, env: &Env, room: &RoomId) -> Result<Response> {
    let stub = env
        .durable_object("ROOMS")?
        .id_from_name(room.as_str())?
        .get_stub()?;
    stub.fetch_with_request(req).await
}

async fn messages(url: &worker::Url, env: &Env, room: &RoomId) -> Result<Response> {
    let page = match parse_page_query(url.query_pairs()) {
        Ok(page) => page,
        Err(e) => return http::error(&e),
    };
    let (messages, has_more) = db::page(&env.d1("DB")?, room.as_str(), page).await?;
    http::json(&MessagesPage { messages, has_more }, 200)
}

/// `GET /room/:id/thread/:seq[?after=SEQ&limit=N]`: the replies to one message.
async fn thread(url: &worker::Url, env: &Env, room: &RoomId, seq: &str) -> Result<Response> {
    let parent = match parse_seq("seq", seq) {
        Ok(seq) => seq,
        Err(e) => return http::error(&e),
    };
    let (after, limit) = match parse_page_query(url.query_pairs()) {
        Ok(Page::After { after, limit }) => (after, limit),
        Ok(Page::Newest { limit }) => (0, limit),
        Ok(Page::Before { .. }) => {
            return http::error_with(
                ErrorCode::BadRequest,
                "a thread pages forward: use after, not before",
                400,
            )
        }
        Err(e) => return http::error(&e),
    };
    let (messages, has_more) =
        db::replies(&env.d1("DB")?, room.as_str(), parent, after, limit).await?;
    http::json(&MessagesPage { messages, has_more }, 200)
}

async fn search(url: &worker::Url, env: &Env) -> Result<Response> {
    let query = match parse_search_query(url.query_pairs()) {
        Ok(query) => query,
        Err(e) => return http::error(&e),
    };
    let (results, has_more) = db::search(&env.d1("DB")?, &query).await?;
    http::json(&SearchResults { results, has_more }, 200)
}

/// `POST /api/rooms` `{"id"?, "title", "description"?, "visibility"?, "name"?}`: a room
/// with a title; a private one gets a random id, which is its link.
async fn create_room(mut req: Request, env: &Env) -> Result<Response> {
    let body = req.text().await?;
    if body.len() > 8192 {
        return http::error_with(ErrorCode::BadRequest, "the body is over 8 KiB", 400);
    }
    let ask = match CreateRoom::parse(&body) {
        Ok(ask) => ask,
        Err(e) => return http::error(&e),
    };
    let id = match &ask.id {
        Some(id) => id.as_str().to_owned(),
        None => {
            format!("{PRIVATE_PREFIX}{}", http::random_hex(12)?)
        }
    };
    if !db::create_room(&env.d1("DB")?, &id, &ask).await? {
        return http::error_with(
            ErrorCode::BadRequest,
            &format!("the room {id} exists already"),
            409,
        );
    }
    let info = RoomInfo {
        id: id.clone(),
        title: Some(ask.title),
        description: Some(ask.description),
        visibility: ask.visibility,
    };
    http::json(
        &serde_json::json!({ "room": info, "link": format!("/#{id}") }),
        201,
    )
}

/// The folded `name` query parameter, whose unread counts an answer adds.
fn reader_of(url: &worker::Url) -> std::result::Result<Option<String>, Result<Response>> {
    match url.query_pairs().find(|(k, _)| k == "name") {
        Some((_, raw)) => match Name::parse(&raw) {
            Ok(name) => Ok(Some(name.key().to_owned())),
            Err(m) => Err(http::error_with(ErrorCode::InvalidName, m, 400)),
        },
        None => Ok(None),
    }
}

fn not_found() -> Result<Response> {
    http::error_with(ErrorCode::NotFound, "no such route", 404)
}

fn method_not_allowed() -> Result<Response> {
    http::error_with(ErrorCode::BadRequest, "only GET is supported here", 405)
}
