//! The bench's toolkit, shared by every scenario: the [`Bench`] (server, target kind,
//! process ids, room names), joining and claiming, the send frame with its stamp and the
//! reading of what comes back ([`classify`]), histograms and their summaries, and the
//! [`Report`] a scenario returns. The scenarios and the `bench` command use it; it uses
//! none of them.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use edgechat_protocol::{ClientFrame, ClientId, MessageText};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::net::{self, Server, Socket};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum Kind {
    Edgechat,
    Ceiling,
}

impl Kind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Kind::Edgechat => "edgechat",
            Kind::Ceiling => "ceiling",
        }
    }
}

/// A scenario's outcome: its parameters, its figures, and the human table.
pub(super) struct Report {
    pub(super) params: Value,
    pub(super) results: Value,
    pub(super) rows: Vec<(String, String)>,
}

pub(super) struct Bench {
    pub(super) server: Server,
    pub(super) kind: Kind,
    pub(super) pids: Vec<u32>,
    /// Makes this run's room names its own.
    pub(super) tag: String,
}

pub(super) type Sink = SplitSink<Socket, WsMessage>;
pub(super) type Stream = SplitStream<Socket>;

impl Bench {
    pub(super) fn room(&self, what: &str, n: u32) -> String {
        format!("bench-{what}-{}-{n}", self.tag)
    }

    /// Opens a socket and waits for its `welcome`; the time that took. Names are made
    /// this run's own as well: the first connect with a name claims it on the server
    /// (for every room, for 30 days), so a name from an earlier run would be refused.
    pub(super) async fn join(&self, room: &str, name: &str) -> Result<(Socket, Duration), String> {
        self.join_on(&self.server, room, name).await
    }

    /// [`Bench::join`] through `server` (the bench's own, or a variant of it).
    pub(super) async fn join_on(
        &self,
        server: &Server,
        room: &str,
        name: &str,
    ) -> Result<(Socket, Duration), String> {
        let name = &format!("{name}-{}", self.tag);
        let started = Instant::now();
        let mut socket = server
            .connect(room, name, (None, None))
            .await
            .map_err(|e| format!("connecting {name} to {room}: {e}"))?;
        let wait = async {
            while let Some(Ok(text)) = net::next_text(&mut socket).await {
                if matches!(classify(&text), Got::Welcome) {
                    return true;
                }
            }
            false
        };
        match tokio::time::timeout(Duration::from_secs(30), wait).await {
            Ok(true) => Ok((socket, started.elapsed())),
            Ok(false) => Err(format!("{name} in {room}: closed before its welcome")),
            Err(_) => Err(format!("{name} in {room}: no welcome within 30 s")),
        }
    }

    /// Claims `name` with one connect and keeps its token (from the `name_claimed` frame
    /// after the welcome), so that later connects with the name are the same claim.
    pub(super) async fn claim(&self, room: &str, name: &str) -> Result<(), String> {
        let (mut socket, _) = self.join(room, name).await?;
        let full = format!("{name}-{}", self.tag);
        let wait = async {
            while let Some(Ok(text)) = net::next_text(&mut socket).await {
                let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if frame["type"] == "name_claimed" {
                    return frame["token"].as_str().map(str::to_owned);
                }
            }
            None
        };
        let token = tokio::time::timeout(Duration::from_secs(10), wait).await;
        let _ = socket.close(None).await;
        match token {
            Ok(Some(token)) => self.server.keep_token(&full, &token),
            _ => Err(format!("{full} in {room}: no name_claimed frame")),
        }
    }

    /// After a join's welcome, reads the socket until the frame `want` (`name_claimed` or
    /// `pass`) and keeps its token or pass for `name`, then closes it. The ceiling sends
    /// neither: its socket is closed at once.
    pub(super) async fn settle(
        &self,
        mut socket: Socket,
        name: &str,
        want: &str,
    ) -> Result<(), String> {
        if self.kind != Kind::Edgechat {
            let _ = socket.close(None).await;
            return Ok(());
        }
        let full = format!("{name}-{}", self.tag);
        let wait = async {
            while let Some(Ok(text)) = net::next_text(&mut socket).await {
                match serde_json::from_str::<Value>(&text) {
                    Ok(frame) if frame["type"] == want => return Some(frame),
                    _ => {}
                }
            }
            None
        };
        let frame = tokio::time::timeout(Duration::from_secs(10), wait).await;
        let _ = socket.close(None).await;
        let Ok(Some(frame)) = frame else {
            return Err(format!("{full}: no {want} frame after the welcome"));
        };
        match (
            frame["token"].as_str(),
            frame["pass"].as_str(),
            frame["expires_at"].as_u64(),
        ) {
            (Some(token), _, _) => self.server.keep_token(&full, token),
            (None, Some(pass), Some(expires_at)) => {
                self.server.keep_pass(&full, pass, expires_at);
                Ok(())
            }
            _ => Err(format!(
                "{full}: a {want} frame without its fields: {frame}"
            )),
        }
    }

    /// The runtime's resident memory, in KiB (the sum over its processes).
    pub(super) fn rss_kib(&self) -> Option<u64> {
        sum_over(&self.pids, |pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
    }

    /// CPU time the runtime has used, in milliseconds (user + system).
    pub(super) fn cpu_ms(&self) -> Option<u64> {
        sum_over(&self.pids, |pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // Fields after the command name (which may hold spaces) end with ')'.
            let rest = &stat[stat.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            // Linux reports clock ticks of USER_HZ, which is 100 on every common build.
            Some((utime + stime) * 10)
        })
    }
}

fn sum_over(pids: &[u32], f: impl Fn(u32) -> Option<u64>) -> Option<u64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&p| f(p)).sum()
}

/// The instant every timestamp in message texts counts from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn stamp_now() -> u64 {
    epoch().elapsed().as_micros() as u64
}

/// Microseconds from a stamp to now.
pub(super) fn since_stamp(stamp: u64) -> u64 {
    stamp_now().saturating_sub(stamp)
}

/// A `send` frame whose text carries the instant it was sent.
pub(super) fn send_frame(client_id: &str) -> WsMessage {
    let text = format!("bench {}", stamp_now());
    let frame = match (MessageText::parse(&text), ClientId::parse(client_id)) {
        (Ok(text), Ok(client_id)) => ClientFrame::Send {
            text,
            client_id,
            reply_to: None,
            attachment: None,
        }
        .encode(),
        // Both are built above from valid parts; never reached.
        _ => String::new(),
    };
    WsMessage::text(frame)
}

/// What a frame from either server means to the bench.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Got {
    Welcome,
    /// A message: its sender's client id, the stamp in its text, its seq (edgechat).
    Delivery {
        id: String,
        stamp: Option<u64>,
        seq: Option<u64>,
    },
    Error(String),
    Other,
}

#[derive(Deserialize)]
struct Incoming {
    #[serde(rename = "type")]
    kind: String,
    message: Option<MessageField>,
    client_id: Option<String>,
    text: Option<String>,
    code: Option<String>,
}

/// `message` is an object in a `message` frame and a string in an `error` frame.
#[derive(Deserialize)]
#[serde(untagged)]
enum MessageField {
    Message(Inner),
    Text(#[allow(dead_code)] String),
}

#[derive(Deserialize)]
struct Inner {
    seq: u64,
    client_id: Option<String>,
    text: String,
}

fn parse_stamp(text: &str) -> Option<u64> {
    text.strip_prefix("bench ")?.parse().ok()
}

pub(super) fn classify(text: &str) -> Got {
    let Ok(frame) = serde_json::from_str::<Incoming>(text) else {
        return Got::Other;
    };
    match frame.kind.as_str() {
        "welcome" => Got::Welcome,
        // edgechat's broadcast
        "message" => match frame.message {
            Some(MessageField::Message(m)) => Got::Delivery {
                id: m.client_id.unwrap_or_default(),
                stamp: parse_stamp(&m.text),
                seq: Some(m.seq),
            },
            _ => Got::Other,
        },
        // the ceiling's echo of a send frame
        "send" => Got::Delivery {
            id: frame.client_id.unwrap_or_default(),
            stamp: frame.text.as_deref().and_then(parse_stamp),
            seq: None,
        },
        "error" => Got::Error(frame.code.unwrap_or_default()),
        _ => Got::Other,
    }
}

/// The next frame of a read half, classified; `None` once closed.
pub(super) async fn next_got(stream: &mut Stream) -> Option<Got> {
    loop {
        match stream.next().await? {
            Ok(WsMessage::Text(t)) => return Some(classify(t.as_str())),
            Ok(WsMessage::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

pub(super) fn histogram() -> Histogram<u64> {
    // 1 µs to 10 min at 3 significant digits: constant, valid bounds.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

fn ms(us: u64) -> f64 {
    (us as f64 / 10.0).round() / 100.0
}

/// p50/p90/p99/max of a histogram of microseconds, in milliseconds.
pub(super) fn summary(h: &Histogram<u64>) -> Value {
    if h.is_empty() {
        return json!({"p50": null, "p90": null, "p99": null, "max": null, "count": 0});
    }
    json!({
        "p50": ms(h.value_at_quantile(0.50)),
        "p90": ms(h.value_at_quantile(0.90)),
        "p99": ms(h.value_at_quantile(0.99)),
        "max": ms(h.max()),
        "count": h.len(),
    })
}

pub(super) fn summary_row(h: &Histogram<u64>) -> String {
    if h.is_empty() {
        return "no samples".into();
    }
    format!(
        "p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms  ({} samples)",
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.90)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max()),
        h.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_servers_frames() {
        assert_eq!(classify(r#"{"type":"welcome","room":"r"}"#), Got::Welcome);
        assert_eq!(
            classify(
                r#"{"type":"message","message":{"seq":4,"room":"r","name":"a","text":"bench 17","ts":1,"client_id":"s1-2","reply_to":null}}"#
            ),
            Got::Delivery {
                id: "s1-2".into(),
                stamp: Some(17),
                seq: Some(4)
            }
        );
        assert_eq!(
            classify(r#"{"type":"send","text":"bench 9","client_id":"f-1"}"#),
            Got::Delivery {
                id: "f-1".into(),
                stamp: Some(9),
                seq: None
            }
        );
        assert_eq!(
            classify(r#"{"type":"error","code":"rate_limited","message":"slow"}"#),
            Got::Error("rate_limited".into())
        );
        assert_eq!(classify("pong"), Got::Other);
    }

    #[test]
    fn send_frames_carry_their_stamp() {
        let frame = send_frame("x-1");
        let text = frame.to_text().unwrap_or_default().to_owned();
        match classify(&text) {
            Got::Delivery { id, stamp, .. } => {
                assert_eq!(id, "x-1");
                assert!(stamp.is_some());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn summaries_are_in_milliseconds() {
        let mut h = histogram();
        for us in [1_000, 2_000, 3_000, 100_000] {
            h.record(us).unwrap();
        }
        let s = summary(&h);
        assert_eq!(s["p50"], 2.0);
        // The histogram keeps 3 significant digits.
        assert!((s["max"].as_f64().unwrap() - 100.0).abs() < 0.1);
        assert_eq!(s["count"], 4);
    }
}
