//! Talking to an edgechat server: room sockets and the JSON HTTP API.
//!
//! A name's token never goes into a URL (URLs end up in logs): sockets and requests
//! carry it as `Authorization: Bearer <token>`.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use edgechat_protocol::{
    ClientFrame, HttpError, MessagesPage, RoomsList, WS_PASS_PREFIX, WS_PROTOCOL,
};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::{
    HeaderValue, AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL,
};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use url::Url;

use crate::tokens::Tokens;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why a request failed, worded for a person.
#[derive(Debug)]
pub enum NetError {
    /// The server refused with its JSON error: the request itself is wrong (a bad name,
    /// a bad room id); trying again will not help.
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// The server could not be reached or the connection broke: worth retrying.
    Unreachable(String),
    /// The request cannot even be made (a token that is no header value).
    Invalid(String),
}

impl NetError {
    pub fn is_fatal(&self) -> bool {
        match self {
            NetError::Refused { status, .. } => *status < 500,
            NetError::Unreachable(_) => false,
            NetError::Invalid(_) => true,
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Refused { code, message, .. } => write!(f, "{code}: {message}"),
            NetError::Unreachable(why) | NetError::Invalid(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for NetError {}

/// A pass this close to its expiry is not offered (the connect asks for a new one).
const PASS_MARGIN_MS: u64 = 30_000;

/// Where the server is: its base URL as a person types it (`http://localhost:8787`),
/// with the tokens of the names claimed there (shared by every clone).
#[derive(Clone, Debug)]
pub struct Server {
    base: Url,
    tokens: Arc<Mutex<Tokens>>,
    /// The current claim pass of each name (from `pass` frames), with its expiry in ms.
    passes: Arc<Mutex<HashMap<String, (String, u64)>>>,
    /// Whether sockets opt into presence 2 (`presence=2`: one coalesced frame per tick).
    presence2: bool,
}

impl Server {
    pub fn parse(raw: &str) -> Result<Server, String> {
        let with_scheme = if raw.contains("://") {
            raw.to_owned()
        } else {
            format!("http://{raw}")
        };
        let base = Url::parse(&with_scheme).map_err(|e| format!("bad --url {raw:?}: {e}"))?;
        match base.scheme() {
            "http" | "https" | "ws" | "wss" => Ok(Server {
                base,
                tokens: Arc::default(),
                passes: Arc::default(),
                presence2: false,
            }),
            other => Err(format!("bad --url {raw:?}: scheme {other} is not http(s)")),
        }
    }

    /// Keeps name tokens in `file` (none: in memory only) and sends `explicit` for
    /// every name until a new claim replaces it.
    pub fn with_tokens(self, file: Option<PathBuf>, explicit: Option<String>) -> Server {
        Server {
            tokens: Arc::new(Mutex::new(Tokens::new(file, explicit))),
            ..self
        }
    }

    fn tokens(&self) -> std::sync::MutexGuard<'_, Tokens> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The server's origin as tokens are filed under (`http://host:port`).
    fn origin(&self) -> String {
        self.url("/", false).origin().ascii_serialization()
    }

    /// Saves the token of a fresh claim of `name` (see [`Tokens::remember`]); later
    /// connects with the name bring it.
    pub fn keep_token(&self, name: &str, token: &str) -> Result<(), String> {
        let origin = self.origin();
        self.tokens().remember(&origin, name, token)
    }

    /// Keeps the pass a connect with `name` got; later connects offer it.
    pub fn keep_pass(&self, name: &str, pass: &str, expires_at: u64) {
        let mut passes = self.passes.lock().unwrap_or_else(|e| e.into_inner());
        passes.insert(name.to_owned(), (pass.to_owned(), expires_at));
    }

    /// The pass to offer for `name`: one that is good for half a minute more.
    fn pass_for(&self, name: &str) -> Option<String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let passes = self.passes.lock().unwrap_or_else(|e| e.into_inner());
        passes
            .get(name)
            .filter(|(_, expires)| *expires > now + PASS_MARGIN_MS)
            .map(|(pass, _)| pass.clone())
    }

    /// The token to bring for `name`, if one is known.
    fn token_for(&self, name: &str) -> Option<String> {
        let origin = self.origin();
        self.tokens().get(&origin, name)
    }

    fn url(&self, path: &str, websocket: bool) -> Url {
        let mut url = self.base.clone();
        let scheme = match (self.base.scheme(), websocket) {
            ("https" | "wss", true) => "wss",
            (_, true) => "ws",
            ("https" | "wss", false) => "https",
            (_, false) => "http",
        };
        // Both are "special" schemes, so switching between them always succeeds.
        let _ = url.set_scheme(scheme);
        url.set_path(path);
        url.set_query(None);
        url
    }

    /// The socket URL of a room.
    /// A room's socket address; `since` and `rev` resume (see [`Session::resume_point`]).
    ///
    /// [`Session::resume_point`]: crate::session::Session::resume_point
    /// The same server, its sockets opting into presence 2.
    pub fn with_presence2(&self) -> Server {
        Server {
            presence2: true,
            ..self.clone()
        }
    }

    pub fn room_socket(&self, room: &str, name: &str, resume: (Option<u64>, Option<u64>)) -> Url {
        let mut url = self.url(&format!("/room/{room}"), true);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("name", name);
            if self.presence2 {
                q.append_pair("presence", "2");
            }
            if let Some(since) = resume.0 {
                q.append_pair("since", &since.to_string());
                if let Some(rev) = resume.1 {
                    q.append_pair("rev", &rev.to_string());
                }
            }
        }
        url
    }

    /// Opens a room's socket, with the name's token (in the `Authorization` header) if
    /// one is known. A refusal (a 4xx with a JSON error: a bad name, a name claimed by
    /// someone else) comes back as [`NetError::Refused`] with the server's own words.
    pub async fn connect(
        &self,
        room: &str,
        name: &str,
        resume: (Option<u64>, Option<u64>),
    ) -> Result<Socket, NetError> {
        let url = self.room_socket(room, name, resume);
        let token = self.token_for(name);
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| NetError::Invalid(format!("bad socket address {url}: {e}")))?;
        if let Some(token) = &token {
            request
                .headers_mut()
                .insert(AUTHORIZATION, bearer_header(token)?);
        }
        if let Some(pass) = self.pass_for(name) {
            // The pass rides as a subprotocol beside `edgechat` (never in the URL); the
            // server answers `edgechat`.
            let offer = format!("{WS_PROTOCOL}, {WS_PASS_PREFIX}{pass}");
            let value = offer
                .parse()
                .map_err(|_| NetError::Invalid("a pass that is no header value".into()))?;
            request.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, value);
        }
        let connecting = tokio_tungstenite::connect_async(request);
        match tokio::time::timeout(Duration::from_secs(15), connecting).await {
            Err(_) => Err(NetError::Unreachable(format!(
                "connecting to {} timed out",
                self.base
            ))),
            Ok(Ok((socket, _))) => Ok(socket),
            Ok(Err(tungstenite::Error::Http(response))) => {
                let status = response.status().as_u16();
                let body = response.body().as_deref().unwrap_or_default();
                let refused = refusal(status, body);
                match &refused {
                    // The body did not come with the headers: ask again over plain HTTP.
                    NetError::Refused { code, .. } if code.starts_with("http_") => {
                        Err(self.ask_why(&url, token, status).await.unwrap_or(refused))
                    }
                    _ => Err(refused),
                }
            }
            Ok(Err(e)) => Err(NetError::Unreachable(format!(
                "cannot reach {}: {e}",
                self.base
            ))),
        }
    }

    /// Why a socket was refused, when the refusal's body was not read with its headers:
    /// the same URL without an upgrade answers the same JSON error (the server checks the
    /// query, and a claimed name with the token, before it asks for an upgrade).
    async fn ask_why(
        &self,
        socket_url: &Url,
        token: Option<String>,
        status: u16,
    ) -> Option<NetError> {
        let path_and_query = format!("{}?{}", socket_url.path(), socket_url.query()?);
        let server = self.clone();
        let probe = move || {
            server.call(
                "GET",
                &path_and_query,
                token.as_deref(),
                Duration::from_secs(15),
            )
        };
        match tokio::task::spawn_blocking(probe).await {
            Ok(Err(e @ NetError::Refused { status: s, .. })) if s == status => Some(e),
            _ => None,
        }
    }

    /// One HTTP request to the API, with the token as a bearer if given; the body of a
    /// 2xx answer. Blocking: call it off the event loop.
    fn call(
        &self,
        method: &str,
        path_and_query: &str,
        bearer: Option<&str>,
        timeout: Duration,
    ) -> Result<String, NetError> {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let mut url = self.url(path, false);
        if !query.is_empty() {
            url.set_query(Some(query));
        }
        let agent = ureq::AgentBuilder::new().timeout(timeout).build();
        let mut request = agent.request(method, url.as_str());
        if let Some(token) = bearer {
            let value = bearer_header(token)?;
            let value = value
                .to_str()
                .map_err(|e| NetError::Invalid(format!("the token is no header value: {e}")))?;
            request = request.set("Authorization", value);
        }
        match request.call() {
            Ok(resp) => resp
                .into_string()
                .map_err(|e| NetError::Unreachable(format!("reading {url}: {e}"))),
            Err(ureq::Error::Status(status, resp)) => {
                let body = resp.into_string().unwrap_or_default();
                Err(refusal(status, body.as_bytes()))
            }
            Err(e) => Err(NetError::Unreachable(format!("cannot reach {url}: {e}"))),
        }
    }

    /// `GET` a JSON document from the API. Blocking: call it off the event loop.
    pub fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path_and_query: &str,
    ) -> Result<T, NetError> {
        let text = self.call("GET", path_and_query, None, Duration::from_secs(15))?;
        serde_json::from_str(&text).map_err(|e| {
            NetError::Unreachable(format!(
                "{path_and_query} answered something unexpected: {e}"
            ))
        })
    }

    /// `POST /api/names/confirm`: tells the server that the token of a fresh claim is
    /// saved, so the claim does not lapse. Blocking: call it off the event loop.
    pub fn confirm_claim(&self, token: &str) -> Result<Confirmed, NetError> {
        match self.call(
            "POST",
            "/api/names/confirm",
            Some(token),
            Duration::from_secs(4),
        ) {
            Ok(_) => Ok(Confirmed::Yes),
            // A server from before pending claims (no such route, or only `GET
            // /api/names/:name` there): its claims need no confirming.
            Err(NetError::Refused {
                status: 404 | 405, ..
            }) => Ok(Confirmed::NotNeeded),
            Err(e) => Err(e),
        }
    }

    pub fn rooms(&self) -> Result<RoomsList, NetError> {
        self.get_json("/api/rooms")
    }

    pub fn messages(&self, room: &str, query: &str) -> Result<MessagesPage, NetError> {
        self.get_json(&format!("/room/{room}/messages?{query}"))
    }
}

/// How a claim's confirmation went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirmed {
    Yes,
    /// The server does not know the route (it has no pending claims).
    NotNeeded,
}

/// `Bearer <token>`, refused if the token cannot be a header value.
fn bearer_header(token: &str) -> Result<HeaderValue, NetError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        NetError::Invalid("the token holds characters a header cannot carry".into())
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Sends a ping; the server's runtime answers [`edgechat_protocol::PONG`].
pub async fn ping(socket: &mut Socket) -> Result<(), NetError> {
    socket
        .send(WsMessage::text(edgechat_protocol::PING))
        .await
        .map_err(|e| NetError::Unreachable(format!("sending: {e}")))
}

fn refusal(status: u16, body: &[u8]) -> NetError {
    match serde_json::from_slice::<HttpError>(body) {
        Ok(e) => NetError::Refused {
            status,
            code: e.error.code.as_str().to_owned(),
            message: e.error.message,
        },
        Err(_) => {
            let text: String = String::from_utf8_lossy(body).chars().take(200).collect();
            NetError::Refused {
                status,
                code: format!("http_{status}"),
                message: if text.trim().is_empty() {
                    "the server refused the request".to_owned()
                } else {
                    text
                },
            }
        }
    }
}

/// Sends one client frame.
pub async fn send(socket: &mut Socket, frame: &ClientFrame) -> Result<(), NetError> {
    socket
        .send(WsMessage::text(frame.encode()))
        .await
        .map_err(|e| NetError::Unreachable(format!("sending: {e}")))
}

/// The next text frame, or `None` once the socket is closed. Pings and pongs of the
/// WebSocket layer are handled by tungstenite itself.
pub async fn next_text(socket: &mut Socket) -> Option<Result<String, NetError>> {
    loop {
        match socket.next().await? {
            Ok(WsMessage::Text(text)) => return Some(Ok(text.as_str().to_owned())),
            Ok(WsMessage::Close(_)) => return None,
            Ok(_) => continue,
            Err(e) => return Some(Err(NetError::Unreachable(format!("connection lost: {e}")))),
        }
    }
}

/// How long to wait before reconnecting after `failures` failed attempts in a row:
/// 0.5 s doubling to 10 s, with jitter so that many clients do not come back at once.
pub fn backoff(failures: u32) -> Duration {
    let base = 500u64 << failures.clamp(1, 5).saturating_sub(1);
    let jitter = u64::from(random_id().as_bytes()[0] % 32) * base / 128;
    Duration::from_millis(base.min(10_000) + jitter)
}

/// Sleeps until `at`, or forever without one (a disabled branch of a `select!`).
pub async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A random id for `client_id`s, unique enough across processes and runs.
pub fn random_id() -> String {
    let mut bytes = [0u8; 6];
    if getrandom::fill(&mut bytes).is_err() {
        // No entropy source: fall back to the clock, which still differs between runs.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        return format!("{nanos:x}");
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_socket_and_api_urls() {
        let s = Server::parse("http://localhost:8787/").unwrap();
        assert_eq!(
            s.room_socket("general", "ann b", (Some(7), Some(9)))
                .as_str(),
            "ws://localhost:8787/room/general?name=ann+b&since=7&rev=9"
        );
        let s = Server::parse("https://chat.example.com").unwrap();
        assert_eq!(
            s.room_socket("r", "é&x", (None, Some(3))).as_str(),
            "wss://chat.example.com/room/r?name=%C3%A9%26x"
        );
        assert_eq!(
            s.url("/api/rooms", false).as_str(),
            "https://chat.example.com/api/rooms"
        );
        assert_eq!(
            Server::parse("localhost:1").unwrap().base.as_str(),
            "http://localhost:1/"
        );
        assert!(Server::parse("ftp://x").is_err());
    }

    /// Accepts one connection on a local port and answers `answer` to what it reads;
    /// the request as received.
    fn one_request(answer: String) -> (String, std::thread::JoinHandle<String>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let _ = conn.write_all(answer.as_bytes());
            String::from_utf8_lossy(&got).into_owned()
        });
        (url, handle)
    }

    fn answer(status: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        )
    }

    const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[tokio::test]
    async fn a_socket_carries_the_token_in_a_header_never_in_its_url() {
        let (url, seen) = one_request(answer(
            "403 Forbidden",
            r#"{"error":{"code":"name_taken","message":"not yours"}}"#,
        ));
        let server = Server::parse(&url)
            .unwrap()
            .with_tokens(None, Some(TOKEN.into()));
        let refused = server.connect("lobby", "Ann", (Some(3), None)).await;
        let request = seen.join().unwrap();
        let request_line = request.lines().next().unwrap_or_default();
        assert_eq!(request_line, "GET /room/lobby?name=Ann&since=3 HTTP/1.1");
        assert!(
            request.contains(&format!("authorization: Bearer {TOKEN}\r\n"))
                || request.contains(&format!("Authorization: Bearer {TOKEN}\r\n")),
            "{request}"
        );
        assert_eq!(request.matches(TOKEN).count(), 1, "{request}");
        assert!(matches!(
            refused,
            Err(NetError::Refused { status: 403, .. })
        ));
    }

    #[test]
    fn a_claim_is_confirmed_with_the_token_as_a_bearer() {
        let (url, seen) = one_request(answer("200 OK", "{}"));
        let server = Server::parse(&url).unwrap();
        assert_eq!(server.confirm_claim(TOKEN).unwrap(), Confirmed::Yes);
        let request = seen.join().unwrap();
        assert!(
            request.starts_with("POST /api/names/confirm HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(
            request.contains(&format!("Bearer {TOKEN}\r\n")),
            "{request}"
        );

        // A server from before pending claims does not know the route: nothing to do.
        let (url, _) = one_request(answer("404 Not Found", "not found"));
        let old = Server::parse(&url).unwrap();
        assert_eq!(old.confirm_claim(TOKEN).unwrap(), Confirmed::NotNeeded);
        let (url, _) = one_request(answer("405 Method Not Allowed", ""));
        let older = Server::parse(&url).unwrap();
        assert_eq!(older.confirm_claim(TOKEN).unwrap(), Confirmed::NotNeeded);
        // A token that is no header value is refused before anything is sent.
        assert!(matches!(
            old.confirm_claim("a\nb"),
            Err(NetError::Invalid(_))
        ));
    }

    #[test]
    fn reads_the_servers_refusal() {
        let e = refusal(
            400,
            br#"{"error":{"code":"invalid_name","message":"a name must not be empty"}}"#,
        );
        assert_eq!(e.to_string(), "invalid_name: a name must not be empty");
        assert!(e.is_fatal());
        assert!(!refusal(502, b"Bad gateway").is_fatal());
    }
}
