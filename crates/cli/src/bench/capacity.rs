//! The `capacity` scenario: one room grows to thousands of people. It times connecting
//! the first batch and then the second (presence that costs a frame to everyone per
//! join makes the second batch slower than the first), counts the frames the first
//! batch receives while the second joins, then sends one message and times its delivery
//! to everyone, and reads the runtime's memory before and after.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::kit::{
    classify, histogram, since_stamp, summary, summary_row, Bench, Got, Kind, Report, Sink,
};
use super::scenarios::{close_all, record, send};
use crate::net::Server;

/// The id of the one message everyone waits for.
const WANT: &str = "cap-1";

/// One connected client: its sink, and its reader, which counts every text frame and
/// ends with the microseconds from the message's stamp to its receipt.
struct Member {
    sink: Sink,
    reader: JoinHandle<Option<u64>>,
}

/// Connects `count` clients (numbered from `from`) to `room`, `parallel` at a time; how
/// long that took. Each one's reader adds the frames it receives to `frames`.
async fn connect(
    b: &Bench,
    server: &Server,
    room: &str,
    (from, count): (u32, u32),
    parallel: usize,
    frames: &Arc<AtomicU64>,
) -> Result<(Vec<Member>, Duration), String> {
    let started = Instant::now();
    let joined: Vec<Result<crate::net::Socket, String>> =
        futures_util::stream::iter(from..from + count)
            .map(|n| async move { Ok(b.join_on(server, room, &format!("k{n}")).await?.0) })
            .buffer_unordered(parallel.max(1))
            .collect()
            .await;
    let took = started.elapsed();
    let mut members = Vec::with_capacity(joined.len());
    for socket in joined {
        let (sink, mut stream) = socket?.split();
        let frames = Arc::clone(frames);
        let reader = tokio::spawn(async move {
            while let Some(Ok(frame)) = stream.next().await {
                let WsMessage::Text(text) = frame else {
                    continue;
                };
                frames.fetch_add(1, Ordering::Relaxed);
                if let Got::Delivery { id, stamp, .. } = classify(text.as_str()) {
                    if id == WANT {
                        return stamp.map(since_stamp);
                    }
                }
            }
            None
        });
        members.push(Member { sink, reader });
    }
    Ok((members, took))
}

pub async fn capacity(
    b: &Bench,
    first: u32,
    second: u32,
    parallel: usize,
    presence2: bool,
) -> Result<Report, String> {
    let room = b.room("capacity", 0);
    // The ceiling has no presence to opt into.
    let server = if presence2 && b.kind == Kind::Edgechat {
        b.server.with_presence2()
    } else {
        b.server.clone()
    };
    let rss_before = b.rss_kib();
    let frames = Arc::new(AtomicU64::new(0));
    let (mut members, first_took) =
        connect(b, &server, &room, (0, first), parallel, &frames).await?;
    // Let the last joins' presence settle before counting what the second batch costs.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before_second = frames.load(Ordering::Relaxed);
    let second_frames = Arc::new(AtomicU64::new(0));
    let (more, second_took) =
        connect(b, &server, &room, (first, second), parallel, &second_frames).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let first_heard = frames.load(Ordering::Relaxed) - before_second;
    members.extend(more);
    let rss_after = b.rss_kib();

    let sent = Instant::now();
    let Some(sender) = members.first_mut() else {
        return Err("no client connected".into());
    };
    send(&mut sender.sink, WANT).await?;
    let mut latency = histogram();
    let mut received = 0u64;
    let mut sinks = Vec::with_capacity(members.len());
    for member in members {
        sinks.push(member.sink);
        let waited = tokio::time::timeout(Duration::from_secs(60), member.reader).await;
        if let Ok(Ok(Some(us))) = waited {
            received += 1;
            record(&mut latency, us);
        }
    }
    let last_ms = sent.elapsed().as_secs_f64() * 1000.0;
    close_all(sinks).await;

    let expected = u64::from(first) + u64::from(second);
    let per_client = first_heard as f64 / f64::from(first.max(1));
    let ms = |d: Duration| (d.as_secs_f64() * 1000.0).round();
    let mib = |k: Option<u64>| {
        k.map_or("n/a (no --pid)".to_owned(), |k| {
            format!("{:.1} MiB", k as f64 / 1024.0)
        })
    };
    Ok(Report {
        params: json!({"first": first, "second": second, "parallel": parallel, "presence2": presence2}),
        results: json!({
            "first_connect_ms": ms(first_took),
            "second_connect_ms": ms(second_took),
            "frames_per_first_client_during_second": per_client,
            "expected": expected,
            "received": received,
            "latency_ms": summary(&latency),
            "last_delivery_ms": last_ms.round(),
            "rss_before_kib": rss_before,
            "rss_after_kib": rss_after,
        }),
        rows: vec![
            (
                "setup".into(),
                format!("one room: {first} then {second} clients, {parallel} connecting at once, presence 2: {presence2}"),
            ),
            ("connect the first batch".into(), format!("{:.0} ms", ms(first_took))),
            ("connect the second batch".into(), format!("{:.0} ms", ms(second_took))),
            (
                "frames each of the first batch got meanwhile".into(),
                format!("{per_client:.1}"),
            ),
            (
                "one message to everyone".into(),
                format!("{received} of {expected} delivered; last after {last_ms:.0} ms; {}", summary_row(&latency)),
            ),
            ("runtime memory".into(), format!("{} before, {} after", mib(rss_before), mib(rss_after))),
        ],
    })
}
