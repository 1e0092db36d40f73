//! `edgechat bench`: load scenarios that print figures.
//!
//! The same scenarios run against edgechat and against the bench "ceiling" (a Durable
//! Object that only rebroadcasts, in `bench/ceiling/`), so the two can be compared in
//! one run. Every latency is measured on this process's one monotonic clock: a message
//! carries the instant it was sent, and its receiver subtracts that from the instant it
//! arrived. Nothing here fails on a slow figure; it reports.

mod abuse;
mod scenarios;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand, ValueEnum};
use edgechat_protocol::{ClientFrame, ClientId, MessageText};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::net::{self, Server, Socket};

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    scenario: Scenario,
    /// The server's address.
    #[arg(long, global = true, default_value = "http://localhost:8787")]
    url: String,
    /// What the server is: edgechat, or the ceiling (which only rebroadcasts).
    #[arg(long, global = true, value_enum, default_value_t = Kind::Edgechat)]
    target: Kind,
    /// The runtime's process ids (comma separated), for memory and CPU figures.
    #[arg(long, global = true, value_delimiter = ',')]
    pid: Vec<u32>,
    /// Print one JSON object on stdout (the table goes to stderr).
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Edgechat,
    Ceiling,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Edgechat => "edgechat",
            Kind::Ceiling => "ceiling",
        }
    }
}

#[derive(Subcommand)]
enum Scenario {
    /// One room, R receivers, one sender at a fixed rate: delivery latency and completeness.
    Fanout {
        #[arg(long, default_value_t = 50)]
        receivers: u32,
        /// Messages per second.
        #[arg(long, default_value_t = 20)]
        rate: u32,
        /// Seconds of sending.
        #[arg(long, default_value_t = 10)]
        duration: u64,
    },
    /// C senders each keeping W messages in flight: accepted sends/s and deliveries/s.
    Throughput {
        #[arg(long, default_value_t = 10)]
        senders: u32,
        #[arg(long, default_value_t = 10)]
        window: u32,
        #[arg(long, default_value_t = 10)]
        duration: u64,
    },
    /// J sequential joins to a room with H stored messages: connect-to-welcome latency.
    Join {
        #[arg(long, default_value_t = 100)]
        history: u32,
        #[arg(long, default_value_t = 100)]
        joins: u32,
    },
    /// K rooms x M clients: time to connect all, one message per room, runtime memory.
    Rooms {
        #[arg(long, default_value_t = 200)]
        rooms: u32,
        #[arg(long, default_value_t = 5)]
        clients: u32,
        /// Connections opened at once.
        #[arg(long, default_value_t = 50)]
        parallel: usize,
    },
    /// N connections idle past hibernation, then one message: wake-up latency.
    Idle {
        #[arg(long, default_value_t = 10)]
        connections: u32,
        /// Seconds of silence before each message.
        #[arg(long, default_value_t = 15)]
        idle: u64,
        #[arg(long, default_value_t = 3)]
        rounds: u32,
    },
    /// M members chatting at a steady rate, alone and then under attack (typing, status
    /// and reaction spam, frames over the limit): their delivery latency, and losses.
    Abuse(abuse::Plan),
}

/// A scenario's outcome: its parameters, its figures, and the human table.
pub struct Report {
    params: Value,
    results: Value,
    rows: Vec<(String, String)>,
}

pub async fn run(args: BenchArgs) -> Result<(), String> {
    let tag = net::random_id();
    // The tokens of names the bench claims (a scenario that reconnects as one claim
    // needs them) go to a file of this run's own, removed at the end.
    let tokens = std::env::temp_dir().join(format!("edgechat-bench-tokens-{tag}.json"));
    let bench = Bench {
        server: Server::parse(&args.url)?.with_tokens(Some(tokens.clone()), None),
        kind: args.target,
        pids: args.pid.clone(),
        tag,
    };
    let outcome = scenario(&bench, args.scenario).await;
    let _ = std::fs::remove_file(&tokens);
    let (name, report) = outcome?;
    print_report(&args.url, args.json, &bench, name, report);
    Ok(())
}

async fn scenario(bench: &Bench, scenario: Scenario) -> Result<(&'static str, Report), String> {
    Ok(match scenario {
        Scenario::Fanout {
            receivers,
            rate,
            duration,
        } => (
            "fanout",
            scenarios::fanout(bench, receivers, rate, duration).await?,
        ),
        Scenario::Throughput {
            senders,
            window,
            duration,
        } => (
            "throughput",
            scenarios::throughput(bench, senders, window, duration).await?,
        ),
        Scenario::Join { history, joins } => {
            ("join", scenarios::join(bench, history, joins).await?)
        }
        Scenario::Rooms {
            rooms,
            clients,
            parallel,
        } => (
            "rooms",
            scenarios::rooms(bench, rooms, clients, parallel).await?,
        ),
        Scenario::Idle {
            connections,
            idle,
            rounds,
        } => (
            "idle",
            scenarios::idle(bench, connections, idle, rounds).await?,
        ),
        Scenario::Abuse(plan) => ("abuse", abuse::abuse(bench, plan).await?),
    })
}

fn print_report(url: &str, as_json: bool, bench: &Bench, name: &str, report: Report) {
    let mut table = format!(
        "edgechat bench {name} against {} ({})\n",
        url,
        bench.kind.as_str()
    );
    let width = report.rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in &report.rows {
        table.push_str(&format!("  {k:<width$}  {v}\n"));
    }
    if as_json {
        eprint!("{table}");
        let out = json!({
            "scenario": name,
            "target": bench.kind.as_str(),
            "url": url,
            "params": report.params,
            "results": report.results,
        });
        println!("{out}");
    } else {
        print!("{table}");
    }
}

pub struct Bench {
    server: Server,
    kind: Kind,
    pids: Vec<u32>,
    /// Makes this run's room names its own.
    tag: String,
}

type Sink = SplitSink<Socket, WsMessage>;
type Stream = SplitStream<Socket>;

impl Bench {
    fn room(&self, what: &str, n: u32) -> String {
        format!("bench-{what}-{}-{n}", self.tag)
    }

    /// Opens a socket and waits for its `welcome`; the time that took. Names are made
    /// this run's own as well: the first connect with a name claims it on the server
    /// (for every room, for 30 days), so a name from an earlier run would be refused.
    async fn join(&self, room: &str, name: &str) -> Result<(Socket, Duration), String> {
        let name = &format!("{name}-{}", self.tag);
        let started = Instant::now();
        let mut socket = self
            .server
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
    async fn claim(&self, room: &str, name: &str) -> Result<(), String> {
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

    /// The runtime's resident memory, in KiB (the sum over its processes).
    fn rss_kib(&self) -> Option<u64> {
        sum_over(&self.pids, |pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
    }

    /// CPU time the runtime has used, in milliseconds (user + system).
    fn cpu_ms(&self) -> Option<u64> {
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
fn since_stamp(stamp: u64) -> u64 {
    stamp_now().saturating_sub(stamp)
}

/// A `send` frame whose text carries the instant it was sent.
fn send_frame(client_id: &str) -> WsMessage {
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
enum Got {
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

fn classify(text: &str) -> Got {
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
async fn next_got(stream: &mut Stream) -> Option<Got> {
    loop {
        match stream.next().await? {
            Ok(WsMessage::Text(t)) => return Some(classify(t.as_str())),
            Ok(WsMessage::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

fn histogram() -> Histogram<u64> {
    // 1 µs to 10 min at 3 significant digits: constant, valid bounds.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

fn ms(us: u64) -> f64 {
    (us as f64 / 10.0).round() / 100.0
}

/// p50/p90/p99/max of a histogram of microseconds, in milliseconds.
fn summary(h: &Histogram<u64>) -> Value {
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

fn summary_row(h: &Histogram<u64>) -> String {
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
