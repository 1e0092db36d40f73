//! edgechat's Worker: routes HTTP requests, hands each room's sockets to its
//! `ChatRoom` Durable Object and reads history from D1.
//!
//! | route                                   | served by                              |
//! |-----------------------------------------|----------------------------------------|
//! | `GET /room/:id` (WebSocket, or a probe) | the room's Durable Object              |
//! | `GET /room/:id/users`                   | the room's Durable Object              |
//! | `GET /room/:id/messages`                | D1                                     |
//! | `GET /room/:id/thread/:seq`             | D1                                     |
//! | `GET /room/:id/moderation`              | D1                                     |
//! | `GET /room/:id/export`                  | the room's Durable Object (owner), D1  |
//! | `POST /room/:id/files`                  | the room's Durable Object, then R2     |
//! | `GET /room/:id/files/:file`             | R2                                     |
//! | `GET /api/rooms`                        | D1 (the room list, `room_list.rs`)     |
//! | `POST /api/rooms`                       | the room's Durable Object (makes), D1  |
//! | `GET /api/rooms/:id`                    | D1                                     |
//! | `PATCH /api/rooms/:id`                  | the room's Durable Object (owner), D1  |
//! | `GET /api/search`                       | D1 (full-text index)                   |
//! | `GET /api/names/:name`                  | D1 (name claims)                       |
//! | `POST /api/names/claim`                 | D1 (name claims)                       |
//! | `POST /api/names/confirm`               | D1 (name claims)                       |
//! | `POST /api/names/release`               | D1 (name claims)                       |
//! | `GET /api/dms`                          | D1 (direct messages)                   |
//! | `POST /api/dms`                         | D1 (direct messages, name claims)      |
//! | `DELETE /api/dms/:room`                 | D1 (direct messages)                   |
//! | everything else                         | static assets (`public/`)              |
//!
//! Tokens arrive as `Authorization: Bearer` (or, on a browser's socket, as an
//! `edgechat.bearer.` subprotocol); the deprecated `token=` query is still read. The
//! Worker proves the claim before anything reaches a room and tells the room who it is
//! in internal headers, which it strips from every client request first. Every query
//! string is parsed by `edgechat_protocol`'s `query` functions; D1 and the room's log
//! are reached only through `src/storage/`.

mod chat_room;
mod dms;
mod export;
mod files;
mod guard;
mod http;
mod names;
mod quota;
mod room_list;
mod storage;

pub use chat_room::ChatRoom;

use edgechat_protocol::{
    is_dm_room, offers_ws_protocol, parse_connect_query, parse_filename_query, parse_page_query,
    parse_search_query_with, parse_seq, CreateRoom, ErrorCode, HttpError, MessagesPage, Page,
    Retitle, RoomId, RoomInfo, SearchResults, SearchRules, PRIVATE_PREFIX, SEARCH_MAX_OFFSET,
    SEARCH_MIN_CHARS, WS_PROTOCOL,
};
use edgechat_room::bounds::{fit_page, Keep};
use quota::Limiter;
use worker::{event, Context, Env, Headers, Method, Request, RequestInit, Response, Result};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let url = req.url()?;
    // Origin and Content-Type first: a refused request reaches no room and no D1.
    let answer = match guard::refusal(&req, &env, &url) {
        Ok(Some(refusal)) => Ok(refusal),
        Ok(None) => route(req, &env, &ctx).await,
        Err(e) => Err(e),
    };
    let answer = answer.or_else(|e| http::internal("request failed", &e))?;
    guard::secure(answer, &url)
}

async fn route(req: Request, env: &Env, ctx: &Context) -> Result<Response> {
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
            room_list::list(&req, &url, env).await
        }
        ["api", "search"] => {
            if req.method() != Method::Get {
                return method_not_allowed();
            }
            search(&req, env).await
        }
        ["api", "rooms", id] => {
            let room = match RoomId::parse(id) {
                Ok(room) => room,
                Err(m) => return http::error_with(ErrorCode::InvalidRoom, m, 400),
            };
            if is_dm_room(room.as_str()) {
                return not_found();
            }
            if req.method() == Method::Patch {
                return retitle(req, env, &room).await;
            }
            if req.method() != Method::Get {
                return method_not_allowed();
            }
            let reader = reader_of(&req, &url, env).await?;
            match storage::catalog::rooms::get(&env.d1("DB")?, room.as_str(), reader.as_deref())
                .await?
            {
                Some((info, summary)) => http::json(
                    &serde_json::json!({ "room": info, "summary": summary }),
                    200,
                ),
                None => http::error_with(ErrorCode::NotFound, "no room has this id yet", 404),
            }
        }
        ["api", "dms"] => match req.method() {
            Method::Get => dms::list(&req, &url, env).await,
            Method::Post => dms::open(req, env).await,
            _ => http::error_with(
                ErrorCode::BadRequest,
                "only GET and POST are supported here",
                405,
            ),
        },
        ["api", "dms", room] => match req.method() {
            Method::Delete => dms::leave(&req, &url, env, room).await,
            _ => http::error_with(ErrorCode::BadRequest, "only DELETE is supported here", 405),
        },
        ["api", "names", "release"] => {
            if req.method() != Method::Post {
                return http::error_with(ErrorCode::BadRequest, "only POST is supported here", 405);
            }
            names::release(req, env).await
        }
        ["api", "names", "claim"] => {
            if req.method() != Method::Post {
                return http::error_with(ErrorCode::BadRequest, "only POST is supported here", 405);
            }
            names::claim(req, env).await
        }
        ["api", "names", "confirm"] => {
            if req.method() != Method::Post {
                return http::error_with(ErrorCode::BadRequest, "only POST is supported here", 405);
            }
            names::confirm(req, env).await
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
            // Every socket asked for counts against its address, before any D1 or room work.
            if rest.is_empty() && http::is_upgrade(&req) {
                let address = quota::address(&req);
                if let Some(answer) = quota::per_minute(env, Limiter::Connect, &address).await {
                    return Ok(answer);
                }
            }
            // An export judges its own request (a token in its URL is refused, not read).
            if let ["export"] = rest {
                if req.method() != Method::Get {
                    return method_not_allowed();
                }
                return export::export(&req, env, &room).await;
            }
            // A direct-message room opens only to its two claims (with their tokens); its
            // files are served to anyone with their unguessable address, like an image link.
            if !matches!(rest, ["files", _]) {
                if let Some(refusal) = dms::guard(env, &req, &room, &url).await? {
                    return Ok(refusal);
                }
            }
            if let (Method::Post, ["files"]) = (req.method(), rest) {
                return upload(req, env, &room).await;
            }
            if req.method() != Method::Get {
                return method_not_allowed();
            }
            match rest {
                ["files", id] => files::serve(env, &room, id).await,
                [] => connect(req, env, ctx, &room).await,
                ["messages"] => messages(&url, env, &room).await,
                ["thread", seq] => thread(&url, env, &room, seq).await,
                ["moderation"] => {
                    let actions = storage::history::audit(&env.d1("DB")?, room.as_str()).await?;
                    http::json(&serde_json::json!({ "actions": actions }), 200)
                }
                ["users"] => to_room(forwarded(&req, &[])?, env, &room).await,
                _ => not_found(),
            }
        }
        ["api", ..] | ["room"] => not_found(),
        _ => env.assets("ASSETS")?.fetch_request(req).await,
    }
}

/// Validates everything a connection asks for before any socket exists, then hands
/// the upgrade to the room with the claim it was admitted under: by a current pass
/// (no D1 on the path), else by the name's claim in D1, which earns the socket a pass.
async fn connect(req: Request, env: &Env, ctx: &Context, room: &RoomId) -> Result<Response> {
    let url = req.url()?;
    let query = match parse_connect_query(url.query_pairs()) {
        Ok(query) => query,
        Err(e) => return http::error(&e),
    };
    let token = names::presented_by(&req, &url);
    if !http::is_upgrade(&req) {
        // Read-only: a plain GET never claims, but it learns that a name is taken.
        if let Some(refusal) = names::check(env, &query.name, token.as_ref()).await? {
            return http::error(&refusal);
        }
        // The room answers too: 403 if the name is banned there (how a browser, which
        // cannot read a refused upgrade, learns why), else 426.
        return to_room(forwarded(&req, &[])?, env, room).await;
    }
    // A direct message always asks D1 (only its two claims may open it), and gets no pass.
    let dm = is_dm_room(room.as_str());
    if !dm {
        let protocols = req.headers().get("sec-websocket-protocol")?;
        if let Some(claim) = names::pass_claim(env, protocols.as_deref(), &query.name).await {
            return connect_by_pass(&req, env, ctx, room, query.name, claim).await;
        }
    }
    let address = quota::address(&req);
    let admitted = names::admit(env, &query.name, token.as_ref(), Some(&address)).await?;
    let (claim, fresh, pass_until) = match admitted {
        names::Admission::Refused(refusal) => return http::error(&refusal),
        names::Admission::Limited(answer) => return Ok(answer),
        names::Admission::Admitted {
            claim,
            fresh,
            pass_until,
        } => (claim, fresh, pass_until),
    };
    if dm && !dms::is_party(env, room.as_str(), &claim).await? {
        // The guard let the token through; the name connected with must be its claim's.
        if fresh.is_some() {
            names::undo_claim(env, &claim).await;
        }
        return dms::stranger();
    }
    let mut internal = vec![(names::CLAIM_HEADER, claim.clone())];
    if let Some(token) = &fresh {
        internal.push((names::CLAIMED_TOKEN_HEADER, token.clone()));
    }
    if let Some(until) = pass_until.filter(|_| !dm) {
        if let Some(pass) = names::issue_pass(env, &claim, &query.name, until).await {
            internal.push((names::PASS_HEADER, pass.encode()));
        }
    }
    let answer = to_room(connect_request(&req, &internal)?, env, room).await;
    if fresh.is_some() && !matches!(&answer, Ok(r) if r.status_code() == 101) {
        // The token reaches the client only on the socket: without one, drop the claim
        // again, or the name would stay locked with a token nobody has.
        names::undo_claim(env, &claim).await;
    }
    answer
}

/// A connect admitted by its pass: straight to the room, then (once the socket is
/// open, off its path) one D1 read to see that the claim still holds the name. A
/// claim released or lapsed since its pass was issued is revoked in the room, which
/// closes its sockets: what a release costs a pass is that one round trip.
async fn connect_by_pass(
    req: &Request,
    env: &Env,
    ctx: &Context,
    room: &RoomId,
    name: edgechat_protocol::Name,
    claim: String,
) -> Result<Response> {
    let internal = [(names::CLAIM_HEADER, claim.clone())];
    let answer = to_room(connect_request(req, &internal)?, env, room).await?;
    if answer.status_code() == 101 {
        let (env, room) = (env.clone(), room.clone());
        ctx.wait_until(async move {
            if names::still_holds(&env, &name, &claim).await {
                return;
            }
            let revoke = async {
                let url = format!("https://edgechat.internal/room/{}/revoke", room.as_str());
                let headers = Headers::new();
                headers.set(names::CLAIM_HEADER, &claim)?;
                let mut init = RequestInit::new();
                init.with_method(Method::Post).with_headers(headers);
                to_room(Request::new_with_init(&url, &init)?, &env, &room).await
            };
            if let Err(e) = revoke.await {
                worker::console_error!("revoking a released claim's sockets: {e}");
            }
        });
    }
    Ok(answer)
}

/// The request as the room gets it: the client's headers without any internal one (a
/// client cannot forge a claim) and without its token (the room never needs it), plus
/// the internal headers the Worker sets.
fn forwarded(req: &Request, internal: &[(&str, String)]) -> Result<Request> {
    forwarded_as(req, Method::Get, req.url()?.as_str(), internal)
}

fn forwarded_as(
    req: &Request,
    method: Method,
    url: &str,
    internal: &[(&str, String)],
) -> Result<Request> {
    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with(names::INTERNAL_PREFIX)
            || lower == "authorization"
            || lower == "sec-websocket-protocol"
        {
            continue;
        }
        headers.append(&name, &value)?;
    }
    room_request(headers, req, method, url, internal)
}

/// A request to the room with these headers, the subprotocol the room answers with (if
/// the client offered it) and the internal headers.
fn room_request(
    headers: Headers,
    req: &Request,
    method: Method,
    url: &str,
    internal: &[(&str, String)],
) -> Result<Request> {
    let protocols = req.headers().get("sec-websocket-protocol")?;
    if offers_ws_protocol(protocols.as_deref()) {
        // The room answers with `edgechat`; the token offered beside it stays here.
        headers.set("sec-websocket-protocol", WS_PROTOCOL)?;
    }
    for (name, value) in internal {
        headers.set(name, value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(headers);
    Request::new_with_init(url, &init)
}

/// An admitted connect as the room gets it: its URL, the upgrade, the subprotocol and
/// the internal headers ([`room_request`]), nothing else
/// (the room reads no other header of a connect, and copying every client header costs
/// a crossing into the runtime per header on the path of every join).
fn connect_request(req: &Request, internal: &[(&str, String)]) -> Result<Request> {
    let headers = Headers::new();
    headers.set("upgrade", "websocket")?;
    room_request(headers, req, Method::Get, req.url()?.as_str(), internal)
}

/// The internal headers that tell a room who a request is from.
fn as_claim(who: &names::Identity) -> Vec<(&'static str, String)> {
    vec![
        (names::CLAIM_HEADER, who.claim.clone()),
        (names::CLAIM_NAME_HEADER, who.name.clone()),
    ]
}

/// `POST /room/:id/files?filename=F` with `Authorization: Bearer`: the file belongs to
/// the uploader's claim. The body, read with its cap, goes on to the room.
async fn upload(mut req: Request, env: &Env, room: &RoomId) -> Result<Response> {
    let url = req.url()?;
    let who = match names::require(env, &req, &url).await? {
        Ok(who) => who,
        Err(e) => return http::error(&e),
    };
    // Over the cap by its Content-Length: refused before the quota or the room.
    if let Some(refusal) = files::refuse_declared(&mut req).await? {
        return http::error(&refusal);
    }
    // The hourly quota is taken by the declared size before a byte is read; a body
    // without one (chunked) is read first, with the cap, and counted by its real size.
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|n| n.trim().parse::<u64>().ok());
    let mut quota = match declared {
        Some(declared) => match quota::upload(env, &who.claim, declared).await? {
            Ok(taken) => Some(taken),
            Err(answer) => return Ok(answer),
        },
        None => None,
    };
    // The body is read here, chunk by chunk, with the 10 MiB cap and the type checked
    // on its first bytes: a refused body never reaches the room (a room that answered
    // mid-stream would leave the runtime piping the rest into nothing).
    let body = match files::read_upload(&mut req).await? {
        Ok((body, _)) => body,
        Err(refusal) => {
            if let Some(quota) = quota {
                quota.release(env).await;
            }
            return http::error(&refusal);
        }
    };
    if quota.is_none() {
        match quota::upload(env, &who.claim, body.len() as u64).await? {
            Ok(taken) => quota = Some(taken),
            Err(answer) => return Ok(answer),
        }
    };
    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        let lower = name.to_ascii_lowercase();
        // The body goes on as bytes read here: its framing is the runtime's again.
        let framing = lower == "content-length" || lower == "transfer-encoding";
        if !lower.starts_with(names::INTERNAL_PREFIX) && lower != "authorization" && !framing {
            headers.append(&name, &value)?;
        }
    }
    for (name, value) in as_claim(&who) {
        headers.set(name, &value)?;
    }
    // Only the file's name travels in the room's URL.
    let mut target = url.clone();
    let filename = parse_filename_query(url.query_pairs());
    target.set_query(None);
    if let Some(f) = filename {
        target.query_pairs_mut().append_pair("filename", &f);
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(
            worker::js_sys::Uint8Array::from(body.as_slice()).into(),
        ));
    let stored = to_room(Request::new_with_init(target.as_str(), &init)?, env, room).await;
    if !matches!(&stored, Ok(r) if (200..300).contains(&r.status_code())) {
        // Refused or failed: no file was stored, so none is counted.
        if let Some(quota) = quota {
            quota.release(env).await;
        }
    }
    stored
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
    let found = storage::history::page(&env.d1("DB")?, room.as_str(), page).await?;
    // As many as the frame budget holds, from the end the page grows from.
    let keep = match page {
        Page::After { .. } => Keep::Oldest,
        _ => Keep::Newest,
    };
    let (messages, has_more) = fit_page(found, chat_room::bounds(env).frame_budget, keep);
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
    let found =
        storage::history::replies(&env.d1("DB")?, room.as_str(), parent, after, limit).await?;
    let (messages, has_more) = fit_page(found, chat_room::bounds(env).frame_budget, Keep::Oldest);
    http::json(&MessagesPage { messages, has_more }, 200)
}

async fn search(req: &Request, env: &Env) -> Result<Response> {
    let address = quota::address(req);
    if let Some(answer) = quota::per_minute(env, Limiter::Search, &address).await {
        return Ok(answer);
    }
    let rules = SearchRules {
        min_chars: quota::setting(env, "SEARCH_MIN_CHARS", SEARCH_MIN_CHARS as u64) as usize,
        max_offset: quota::setting(env, "SEARCH_MAX_OFFSET", SEARCH_MAX_OFFSET),
    };
    let query = match parse_search_query_with(req.url()?.query_pairs(), rules) {
        Ok(query) => query,
        Err(e) => return http::error(&e),
    };
    let (results, has_more) = storage::history::search(&env.d1("DB")?, &query).await?;
    http::json(&SearchResults { results, has_more }, 200)
}

/// `POST /api/rooms` `{"id"?, "title", "description"?, "visibility"?}` with the
/// maker's `Authorization: Bearer`: a room with a title, owned by the maker's claim; a
/// private one gets a random id, which is its link. The room's Durable Object decides
/// whether the id is free (no history, no owner, no connect ever), so two makers of one
/// id cannot both win.
async fn create_room(mut req: Request, env: &Env) -> Result<Response> {
    let url = req.url()?;
    let maker = match names::require(env, &req, &url).await? {
        Ok(who) => who,
        Err(e) => return http::error(&e),
    };
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
    let room = match RoomId::parse(&id) {
        Ok(room) => room,
        Err(m) => return http::error_with(ErrorCode::InvalidRoom, m, 400),
    };
    // Taken before the room is asked (so a burst cannot overshoot), given back unless a
    // room was made by this request.
    let quota = match quota::rooms(env, &req, &maker.claim).await? {
        Ok(taken) => taken,
        Err(answer) => return Ok(answer),
    };
    let made = to_room(
        forwarded_as(
            &req,
            Method::Post,
            &format!("https://room/room/{id}/make"),
            &as_claim(&maker),
        )?,
        env,
        &room,
    )
    .await;
    let recorded = match made {
        Ok(made) if made.status_code() != 200 => Err(Ok(made)),
        Ok(_) => record_room(env, &id, &ask, &maker.name).await.map_err(Err),
        Err(e) => Err(Err(e)),
    };
    match recorded {
        // A new room: it keeps its place in the quota.
        Ok(true) => {}
        // The maker's retry of a room already made, a refusal or a failure: not counted.
        Ok(false) => quota.release(env).await,
        Err(answer) => {
            quota.release(env).await;
            return answer;
        }
    }
    let info = RoomInfo {
        id: id.clone(),
        title: Some(ask.title),
        description: Some(ask.description),
        visibility: ask.visibility,
    };
    http::json(
        &serde_json::json!({ "room": info, "link": format!("/#{id}"), "owner": maker.name }),
        201,
    )
}

/// Records a room its Durable Object has just made; whether it is new (not a retry of a
/// making that was recorded already: a private room's random id is always new).
async fn record_room(env: &Env, id: &str, ask: &CreateRoom, maker: &str) -> Result<bool> {
    let db = env.d1("DB")?;
    let again = ask.id.is_some() && storage::catalog::rooms::made_before(&db, id).await?;
    storage::catalog::rooms::create(&db, id, ask, maker).await?;
    Ok(!again)
}

/// `PATCH /api/rooms/:id` `{"title"?, "description"?}`: only the room's owner changes
/// them (the room knows its owner's claim).
async fn retitle(mut req: Request, env: &Env, room: &RoomId) -> Result<Response> {
    let url = req.url()?;
    let who = match names::require(env, &req, &url).await? {
        Ok(who) => who,
        Err(e) => return http::error(&e),
    };
    let body = req.text().await?;
    if body.len() > 8192 {
        return http::error_with(ErrorCode::BadRequest, "the body is over 8 KiB", 400);
    }
    let ask = match Retitle::parse(&body) {
        Ok(ask) => ask,
        Err(e) => return http::error(&e),
    };
    if room_role(&req, env, room, &who).await?.as_deref() != Some("owner") {
        return http::error(&HttpError::new(
            ErrorCode::Forbidden,
            "only the room's owner can change its title and description",
        ));
    }
    let db = env.d1("DB")?;
    storage::catalog::rooms::retitle(
        &db,
        room.as_str(),
        ask.title.as_deref(),
        ask.description.as_deref(),
    )
    .await?;
    match storage::catalog::rooms::get(&db, room.as_str(), None).await? {
        Some((info, _)) => http::json(&serde_json::json!({ "room": info }), 200),
        None => not_found(),
    }
}

/// The role (`owner`, `moderator`) the room gives this claim, if any: the room's Durable
/// Object keeps its roles.
pub(crate) async fn room_role(
    req: &Request,
    env: &Env,
    room: &RoomId,
    who: &names::Identity,
) -> Result<Option<String>> {
    let answer = to_room(
        forwarded_as(
            req,
            Method::Get,
            &format!("https://room/room/{}/role", room.as_str()),
            &as_claim(who),
        )?,
        env,
        room,
    )
    .await?
    .json::<serde_json::Value>()
    .await?;
    Ok(answer["role"].as_str().map(str::to_owned))
}

/// The claim whose unread counts an answer adds: the one the request's token proves.
pub(crate) async fn reader_of(
    req: &Request,
    url: &worker::Url,
    env: &Env,
) -> Result<Option<String>> {
    let token = names::presented_by(req, url);
    Ok(names::authenticate(env, token.as_ref())
        .await?
        .map(|who| who.claim))
}

fn not_found() -> Result<Response> {
    http::error_with(ErrorCode::NotFound, "no such route", 404)
}

fn method_not_allowed() -> Result<Response> {
    http::error_with(ErrorCode::BadRequest, "only GET is supported here", 405)
}
