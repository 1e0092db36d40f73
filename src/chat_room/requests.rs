//! The requests that reach the room over HTTP, from the Worker (which proved who sent
//! them): the socket upgrade, making a room, a claim's role, the users, an upload, and
//! the probe that tells a browser why its connect was refused.

use edgechat_protocol::{
    clean_filename, parse_connect_query, parse_filename_query, ErrorCode, FileRef, Name, RoomId,
    UsersList,
};
use edgechat_room::{ClaimId, ConnId, Input, Member, PassGrant};
use worker::wasm_bindgen::JsValue;
use worker::{HttpMetadata, Method, Request, Response, Result, WebSocketPair};

use crate::{files, http};

use super::sockets::{new_conn_id, socket_key};
use super::{now, ChatRoom, Waits};

/// `Retry-After` of a connect over a socket cap: when a slot frees is unknown, so a
/// guess that keeps retries slow.
const SOCKETS_RETRY_AFTER_SECS: &str = "10";

impl ChatRoom {
    /// Answers a request to the room: the routes under `/room/:id`.
    pub(super) async fn request(&self, req: Request) -> Result<Response> {
        let url = req.url()?;
        let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
        let Some(raw_id) = segments.get(1) else {
            return http::error_with(ErrorCode::NotFound, "no such route", 404);
        };
        let room_id = match RoomId::parse(raw_id) {
            Ok(id) => id,
            Err(m) => return http::error_with(ErrorCode::InvalidRoom, m, 400),
        };
        if let Err(e) = self.load(Some(room_id.as_str())) {
            return http::internal("opening the room", &e);
        }
        let header = |k: &str| req.headers().get(k).ok().flatten();
        match segments.get(2) {
            None if http::is_upgrade(&req) => {
                // The Worker admitted this connect under a claim and says which.
                let Some(claim) = header(crate::names::CLAIM_HEADER) else {
                    return http::error_with(
                        ErrorCode::Internal,
                        "a connect without its claim",
                        500,
                    );
                };
                let fresh = header(crate::names::CLAIMED_TOKEN_HEADER);
                let pass = header(crate::names::PASS_HEADER)
                    .and_then(|p| edgechat_protocol::Pass::parse(&p))
                    .map(|p| PassGrant {
                        expires_at: p.expires_at,
                        pass: p.encode(),
                    });
                let protocol = header("sec-websocket-protocol");
                self.accept(&url, claim, (fresh, pass), protocol).await
            }
            Some(&"make") if req.method() == Method::Post => {
                let Some(maker) = claimant(&req) else {
                    return http::error_with(
                        ErrorCode::Internal,
                        "a making without its maker",
                        500,
                    );
                };
                let made = self.with_room(|r| r.make(maker)).unwrap_or(Ok(()));
                match made {
                    Ok(()) => http::json(&serde_json::json!({ "made": true }), 200),
                    Err(refusal) => http::error(&edgechat_protocol::HttpError::new(
                        refusal.code,
                        refusal.message,
                    )),
                }
            }
            // From the Worker only (no client route leads here): a claim that no
            // longer holds its name, though a pass admitted a socket of it.
            Some(&"revoke") if req.method() == Method::Post => {
                let Some(claim) = header(crate::names::CLAIM_HEADER) else {
                    return http::error_with(
                        ErrorCode::Internal,
                        "a revoke without its claim",
                        500,
                    );
                };
                self.handle(Input::Revoke {
                    claim: ClaimId::from(claim),
                });
                self.drain(Waits::Never).await;
                http::json(&serde_json::json!({ "revoked": true }), 200)
            }
            Some(&"role") => {
                let claim = ClaimId::from(header(crate::names::CLAIM_HEADER).unwrap_or_default());
                let role = self.with_room(|r| r.role_of(&claim)).flatten();
                http::json(&serde_json::json!({ "role": role }), 200)
            }
            None => {
                let query = match parse_connect_query(url.query_pairs()) {
                    Ok(q) => q,
                    Err(e) => return http::error(&e),
                };
                // How a browser, which cannot read a refused upgrade, learns why: the
                // same ban or socket cap, counted by name (a probe proves no claim).
                if let Some(answer) = self.refused(&query.name, None) {
                    return answer;
                }
                http::error_with(
                    ErrorCode::BadRequest,
                    "this address is a WebSocket: connect with Upgrade: websocket",
                    426,
                )
            }
            Some(&"files") if req.method() == Method::Post => {
                let Some(uploader) = claimant(&req) else {
                    return http::error_with(
                        ErrorCode::Internal,
                        "an upload without its claim",
                        500,
                    );
                };
                self.upload(req, &url, &uploader.claim, &uploader.name)
                    .await
            }
            Some(&"users") => {
                let (users, last_seen) = self
                    .with_room(|r| (r.users(), r.last_seen()))
                    .unwrap_or_default();
                // Writes a wake found owed go by the alarm: the answer does not wait.
                self.drain(Waits::Never).await;
                http::json(&UsersList { users, last_seen }, 200)
            }
            _ => http::error_with(ErrorCode::NotFound, "no such route", 404),
        }
    }

    /// The 403 `banned` answer, if the room bans this name now.
    fn banned(&self, name: &Name) -> Option<Result<Response>> {
        let refusal = self.with_room(|r| r.refusal_for(name, now())).flatten()?;
        Some(http::error_with(refusal.code, &refusal.message, 403))
    }

    /// Why a connect of `name` (under `claim`, if proven) is refused now, as its HTTP
    /// answer: 403 `banned`, or 429 `too_many_sockets` with `Retry-After` when the claim
    /// or the room holds as many sockets as it may. The room core counts the sockets it
    /// has, which after a wake are rebuilt from every hibernated socket, so the count is
    /// right across hibernation; checked and accepted within one event, no connect can
    /// slip in between.
    fn refused(&self, name: &Name, claim: Option<&ClaimId>) -> Option<Result<Response>> {
        let refusal = self
            .with_room(|r| r.admission(name, claim, now()))
            .flatten()?;
        let status = refusal.code.http_status();
        let answer = http::error_with(refusal.code, &refusal.message, status);
        if status != 429 {
            return Some(answer);
        }
        Some(answer.and_then(|mut response| {
            response
                .headers_mut()
                .set("retry-after", SOCKETS_RETRY_AFTER_SECS)?;
            Ok(response)
        }))
    }

    /// Accepts a socket. `claimed` is the token the Worker has just issued for this
    /// connect's name, `pass` the pass it signed: the room sends them right after the
    /// welcome, on this socket only.
    async fn accept(
        &self,
        url: &worker::Url,
        claim: String,
        (claimed, pass): (Option<String>, Option<PassGrant>),
        protocol: Option<String>,
    ) -> Result<Response> {
        let query = match parse_connect_query(url.query_pairs()) {
            Ok(q) => q,
            Err(e) => return http::error(&e),
        };
        let claim = ClaimId::from(claim);
        if let Some(answer) = self.refused(&query.name, Some(&claim)) {
            return answer;
        }
        let pair = WebSocketPair::new()?;
        let server = pair.server;
        self.state.accept_web_socket(&server);
        let id = ConnId::from(new_conn_id()?);
        self.ids.set(socket_key(&server), &JsValue::from_str(&id));
        self.sockets.borrow_mut().insert(id.clone(), server);
        self.handle(Input::Connect {
            conn: id,
            name: query.name,
            claim,
            since: query.since,
            rev: query.rev,
            claimed_token: claimed,
            pass,
            presence2: query.presence2,
        });
        self.drain(Waits::Never).await;
        let mut response = Response::from_websocket(pair.client)?;
        if protocol.as_deref() == Some(edgechat_protocol::WS_PROTOCOL) {
            // A browser that offered subprotocols drops a socket whose answer names none.
            response
                .headers_mut()
                .set("sec-websocket-protocol", edgechat_protocol::WS_PROTOCOL)?;
        }
        Ok(response)
    }

    /// `POST /room/:id/files?filename=F` from a claim the Worker proved: stores a file for
    /// that claim to attach to a message. The size (streamed, with a cap) and the type
    /// (from the first bytes) are checked before anything is stored.
    async fn upload(
        &self,
        mut req: Request,
        url: &worker::Url,
        claim: &ClaimId,
        name: &str,
    ) -> Result<Response> {
        let filename = parse_filename_query(url.query_pairs()).unwrap_or_default();
        let name = match Name::parse(name) {
            Ok(name) => name,
            Err(m) => return http::error_with(ErrorCode::InvalidName, m, 400),
        };
        if let Some(answer) = self.banned(&name) {
            return answer;
        }
        let (body, content_type) = match files::read_upload(&mut req).await? {
            Ok(read) => read,
            Err(e) => return http::error(&e),
        };
        let file = FileRef {
            id: new_conn_id()?,
            filename: clean_filename(&filename),
            content_type,
            size: body.len() as u64,
        };
        let room = self.with_room(|r| r.id().to_owned()).unwrap_or_default();
        let metadata = HttpMetadata {
            content_type: Some(file.content_type.clone()),
            content_disposition: Some(files::disposition(&file)),
            ..HttpMetadata::default()
        };
        self.env
            .bucket("FILES")?
            .put(files::key(&room, &file.id), body)
            .http_metadata(metadata)
            .execute()
            .await?;
        if let Some(Err(e)) = self.with_room(|r| r.add_file(claim, &file, now())) {
            return Err(worker::Error::RustError(e.0));
        }
        // The sweep of uploads never attached runs on the alarm.
        self.schedule_alarm().await;
        let url = file.url(&room);
        http::json(&serde_json::json!({ "attachment": file, "url": url }), 201)
    }
}

/// The claim (and its name) the Worker proved a request is from, in its internal headers.
fn claimant(req: &Request) -> Option<Member> {
    let header = |k: &str| req.headers().get(k).ok().flatten();
    Some(Member {
        claim: header(crate::names::CLAIM_HEADER)?.into(),
        name: header(crate::names::CLAIM_NAME_HEADER)?,
    })
}
