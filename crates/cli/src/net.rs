//! Talking to an edgechat server: room sockets and the JSON HTTP API.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use edgechat_protocol::{ClientFrame, HttpError, MessagesPage, RoomsList, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
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
}

impl NetError {
    pub fn is_fatal(&self) -> bool {
        matches!(self, NetError::Refused { status, .. } if *status < 500)
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Refused { code, message, .. } => write!(f, "{code}: {message}"),
            NetError::Unreachable(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for NetError {}

/// Where the server is: its base URL as a person types it (`http://localhost:8787`),
/// with the tokens of the names claimed there (shared by every clone).
#[derive(Clone, Debug)]
pub struct Server {
    base: Url,
    tokens: Arc<Mutex<Tokens>>,
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

    /// Remembers the token of a `name_claimed` frame; other frames are ignored. Returns
    /// a problem to show if the token could not be saved.
    pub fn observe(&self, frame: &ServerFrame) -> Option<String> {
        let ServerFrame::NameClaimed { name, token, .. } = frame else {
            return None;
        };
        let origin = self.origin();
        self.tokens().remember(&origin, name, token).err()
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
    pub fn room_socket(&self, room: &str, name: &str, resume: (Option<u64>, Option<u64>)) -> Url {
        let mut url = self.url(&format!("/room/{room}"), true);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("name", name);
            if let Some(since) = resume.0 {
                q.append_pair("since", &since.to_string());
                if let Some(rev) = resume.1 {
                    q.append_pair("rev", &rev.to_string());
                }
            }
        }
        url
    }

    /// Opens a room's socket, with the name's token if one is known. A refusal (a 4xx
    /// with a JSON error: a bad name, a name claimed by someone else) comes back as
    /// [`NetError::Refused`] with the server's own words.
    pub async fn connect(
        &self,
        room: &str,
        name: &str,
        resume: (Option<u64>, Option<u64>),
    ) -> Result<Socket, NetError> {
        let mut url = self.room_socket(room, name, resume);
        let token = self.tokens().get(&self.origin(), name);
        if let Some(token) = token {
            url.query_pairs_mut().append_pair("token", &token);
        }
        let connecting = tokio_tungstenite::connect_async(url.as_str());
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
                        Err(self.ask_why(&url, status).await.unwrap_or(refused))
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
    /// query, and a claimed name, before it asks for an upgrade).
    async fn ask_why(&self, socket_url: &Url, status: u16) -> Option<NetError> {
        let path_and_query = format!("{}?{}", socket_url.path(), socket_url.query()?);
        let server = self.clone();
        let probe = move || server.get_json::<serde_json::Value>(&path_and_query);
        match tokio::task::spawn_blocking(probe).await {
            Ok(Err(e @ NetError::Refused { status: s, .. })) if s == status => Some(e),
            _ => None,
        }
    }

    /// `GET` a JSON document from the API. Blocking: call it off the event loop.
    pub fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path_and_query: &str,
    ) -> Result<T, NetError> {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let mut url = self.url(path, false);
        if !query.is_empty() {
            url.set_query(Some(query));
        }
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(15))
            .build();
        let text = match agent.get(url.as_str()).call() {
            Ok(resp) => resp
                .into_string()
                .map_err(|e| NetError::Unreachable(format!("reading {url}: {e}")))?,
            Err(ureq::Error::Status(status, resp)) => {
                let body = resp.into_string().unwrap_or_default();
                return Err(refusal(status, body.as_bytes()));
            }
            Err(e) => return Err(NetError::Unreachable(format!("cannot reach {url}: {e}"))),
        };
        serde_json::from_str(&text)
            .map_err(|e| NetError::Unreachable(format!("{url} answered something unexpected: {e}")))
    }

    pub fn rooms(&self) -> Result<RoomsList, NetError> {
        self.get_json("/api/rooms")
    }

    pub fn messages(&self, room: &str, query: &str) -> Result<MessagesPage, NetError> {
        self.get_json(&format!("/room/{room}/messages?{query}"))
    }
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
