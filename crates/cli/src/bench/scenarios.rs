//! The five load scenarios.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::time::MissedTickBehavior;

use super::kit::{
    histogram, next_got, send_frame, since_stamp, summary, summary_row, Bench, Got, Kind, Report,
    Sink,
};

/// The number a bench client id ends with (`f-12` → 12), for ids with this prefix.
fn number(id: &str, prefix: &str) -> Option<u64> {
    id.strip_prefix(prefix)?.parse().ok()
}

pub(super) fn record(h: &mut Histogram<u64>, us: u64) {
    // Values beyond the histogram's range are clamped to its top.
    let _ = h.record(us.clamp(1, 600_000_000));
}

pub(super) async fn send(sink: &mut Sink, client_id: &str) -> Result<(), String> {
    sink.send(send_frame(client_id))
        .await
        .map_err(|e| format!("sending {client_id}: {e}"))
}

/// Sends message number `*sent` of this prefix and counts it.
async fn send_next(sink: &mut Sink, prefix: &str, sent: &mut u64) -> Result<(), String> {
    send(sink, &format!("{prefix}{sent}")).await?;
    *sent += 1;
    Ok(())
}

/// What one receiver saw of a numbered stream of messages.
struct Tally {
    latency: Histogram<u64>,
    seen: HashSet<u64>,
    highest: Option<u64>,
    duplicates: u64,
    out_of_order: u64,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            latency: histogram(),
            seen: HashSet::new(),
            highest: None,
            duplicates: 0,
            out_of_order: 0,
        }
    }

    fn record(&mut self, n: u64, stamp: Option<u64>) {
        if !self.seen.insert(n) {
            self.duplicates += 1;
            return;
        }
        if self.highest.is_some_and(|h| n < h) {
            self.out_of_order += 1;
        }
        self.highest = self.highest.max(Some(n));
        if let Some(stamp) = stamp {
            record(&mut self.latency, since_stamp(stamp));
        }
    }
}

pub async fn fanout(b: &Bench, receivers: u32, rate: u32, duration: u64) -> Result<Report, String> {
    let room = b.room("fanout", 0);
    let rate = rate.max(1);
    let total = u64::from(rate) * duration;
    let (stop, stopped) = watch::channel(false);
    let complete = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    let mut sinks = Vec::new();
    for i in 0..receivers {
        let (socket, _) = b.join(&room, &format!("r{i}")).await?;
        let (sink, mut stream) = socket.split();
        sinks.push(sink);
        let mut stopped = stopped.clone();
        let complete = complete.clone();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::new();
            loop {
                tokio::select! {
                    got = next_got(&mut stream) => match got {
                        Some(Got::Delivery { id, stamp, .. }) => {
                            if let Some(n) = number(&id, "f-") {
                                tally.record(n, stamp);
                                if tally.seen.len() as u64 == total {
                                    complete.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                        Some(_) => {}
                        None => break,
                    },
                    _ = stopped.changed() => break,
                }
            }
            tally
        }));
    }
    let (socket, _) = b.join(&room, "sender").await?;
    let (mut sink, mut stream) = socket.split();
    let drain = tokio::spawn(async move { while next_got(&mut stream).await.is_some() {} });
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    for n in 0..total {
        tick.tick().await;
        send(&mut sink, &format!("f-{n}")).await?;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while complete.load(Ordering::Relaxed) < u64::from(receivers) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(true);
    let mut latency = histogram();
    let (mut received, mut duplicates, mut out_of_order) = (0, 0, 0);
    for task in tasks {
        let tally = task.await.map_err(|e| e.to_string())?;
        let _ = latency.add(&tally.latency);
        received += tally.seen.len() as u64;
        duplicates += tally.duplicates;
        out_of_order += tally.out_of_order;
    }
    drain.abort();
    close_all(sinks).await;
    let _ = sink.close().await;
    let expected = total * u64::from(receivers);
    Ok(Report {
        params: json!({"receivers": receivers, "rate": rate, "duration_s": duration}),
        results: json!({
            "latency_ms": summary(&latency),
            "expected": expected,
            "received": received,
            "duplicates": duplicates,
            "out_of_order": out_of_order,
        }),
        rows: vec![
            (
                "setup".into(),
                format!("{receivers} receivers, 1 sender at {rate} msg/s for {duration} s"),
            ),
            ("delivery latency".into(), summary_row(&latency)),
            ("delivered".into(), format!("{received} of {expected}")),
            ("duplicates".into(), duplicates.to_string()),
            ("out of order".into(), out_of_order.to_string()),
        ],
    })
}

pub(super) async fn close_all(sinks: Vec<Sink>) {
    let closing = sinks.into_iter().map(|mut s| async move {
        let _ = tokio::time::timeout(Duration::from_secs(2), s.close()).await;
    });
    futures_util::future::join_all(closing).await;
}

/// What one sender of the throughput scenario saw.
#[derive(Default)]
struct SenderStats {
    sent: u64,
    accepted: u64,
    accepted_in_window: u64,
    deliveries_in_window: u64,
    errors: u64,
    out_of_order: u64,
    gaps: u64,
    last_seq: Option<u64>,
    first_seq: Option<u64>,
    latency: Option<Histogram<u64>>,
}

async fn sender_loop(
    socket: crate::net::Socket,
    index: u32,
    window: u32,
    end: Instant,
) -> SenderStats {
    let (mut sink, mut stream) = socket.split();
    let prefix = format!("s{index}-");
    let mut st = SenderStats::default();
    let mut latency = histogram();
    let mut in_flight = 0u32;
    for _ in 0..window {
        if send_next(&mut sink, &prefix, &mut st.sent).await.is_err() {
            break;
        }
        in_flight += 1;
    }
    // After the end, what is in flight may still land; wait for it, within reason.
    let drain_until = tokio::time::Instant::from_std(end + Duration::from_secs(15));
    while in_flight > 0 {
        let Ok(Some(got)) = tokio::time::timeout_at(drain_until, next_got(&mut stream)).await
        else {
            break;
        };
        let now = Instant::now();
        let mine = match got {
            Got::Delivery { id, stamp, seq } => {
                if now <= end {
                    st.deliveries_in_window += 1;
                }
                if let Some(seq) = seq {
                    match st.last_seq {
                        Some(last) if seq <= last => st.out_of_order += 1,
                        Some(last) if seq != last + 1 => st.gaps += 1,
                        _ => {}
                    }
                    st.first_seq.get_or_insert(seq);
                    st.last_seq = st.last_seq.max(Some(seq));
                }
                if !id.starts_with(&prefix) {
                    continue;
                }
                st.accepted += 1;
                if now <= end {
                    st.accepted_in_window += 1;
                    if let Some(stamp) = stamp {
                        record(&mut latency, since_stamp(stamp));
                    }
                }
                true
            }
            // A refused send is out of flight too.
            Got::Error(_) => {
                st.errors += 1;
                true
            }
            _ => false,
        };
        if mine {
            in_flight -= 1;
            if now < end {
                if send_next(&mut sink, &prefix, &mut st.sent).await.is_err() {
                    break;
                }
                in_flight += 1;
            }
        }
    }
    let _ = sink.close().await;
    st.latency = Some(latency);
    st
}

pub async fn throughput(
    b: &Bench,
    senders: u32,
    window: u32,
    duration: u64,
) -> Result<Report, String> {
    let room = b.room("throughput", 0);
    let mut sockets = Vec::new();
    for i in 0..senders {
        sockets.push(b.join(&room, &format!("s{i}")).await?.0);
    }
    let start = Instant::now();
    let end = start + Duration::from_secs(duration);
    let tasks: Vec<_> = sockets
        .into_iter()
        .zip(0..)
        .map(|(socket, i)| tokio::spawn(sender_loop(socket, i, window.max(1), end)))
        .collect();
    let mut latency = histogram();
    let mut total = SenderStats::default();
    let mut max_seq = 0;
    let mut late_joiner = false;
    for task in tasks {
        let st = task.await.map_err(|e| e.to_string())?;
        if let Some(h) = &st.latency {
            let _ = latency.add(h);
        }
        total.sent += st.sent;
        total.accepted += st.accepted;
        total.accepted_in_window += st.accepted_in_window;
        total.deliveries_in_window += st.deliveries_in_window;
        total.errors += st.errors;
        total.out_of_order += st.out_of_order;
        total.gaps += st.gaps;
        max_seq = max_seq.max(st.last_seq.unwrap_or(0));
        // Every sender joined before the first send, so each must see seq 1 first.
        late_joiner |= st.first_seq.is_some_and(|s| s != 1);
    }
    let secs = duration.max(1) as f64;
    let accepted_per_sec = total.accepted_in_window as f64 / secs;
    let deliveries_per_sec = total.deliveries_in_window as f64 / secs;
    let ordered = total.out_of_order == 0;
    let gapless = total.gaps == 0 && !late_joiner;
    let mut rows = vec![
        (
            "setup".into(),
            format!("{senders} senders, {window} in flight each, {duration} s"),
        ),
        (
            "accepted".into(),
            format!(
                "{accepted_per_sec:.0} msg/s ({} in the window, {} in all, {} sent)",
                total.accepted_in_window, total.accepted, total.sent
            ),
        ),
        (
            "deliveries".into(),
            format!("{deliveries_per_sec:.0} msg/s"),
        ),
        ("latency (send to own echo)".into(), summary_row(&latency)),
        ("errors".into(), total.errors.to_string()),
    ];
    let mut results = json!({
        "accepted_per_sec": (accepted_per_sec * 10.0).round() / 10.0,
        "deliveries_per_sec": (deliveries_per_sec * 10.0).round() / 10.0,
        "latency_ms": summary(&latency),
        "sent": total.sent,
        "accepted": total.accepted,
        "errors": total.errors,
    });
    if b.kind == Kind::Edgechat {
        // Each accepted message has one seq; all of them must be in D1 by now (ack = durable).
        let server = b.server.clone();
        let room_id = room.clone();
        let d1_last = tokio::task::spawn_blocking(move || server.messages(&room_id, "limit=1"))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("reading the room's history: {e}"))?
            .messages
            .last()
            .map_or(0, |m| m.seq);
        let durable = d1_last == max_seq && max_seq == total.accepted;
        results["ordered"] = ordered.into();
        results["gapless"] = gapless.into();
        results["durable"] = durable.into();
        results["last_seq"] = max_seq.into();
        results["d1_last_seq"] = d1_last.into();
        rows.push(("ordered, gapless".into(), format!("{ordered}, {gapless}")));
        rows.push((
            "in D1".into(),
            format!(
                "last seq {d1_last} of {max_seq} ({})",
                if durable { "all" } else { "MISSING" }
            ),
        ));
    }
    Ok(Report {
        params: json!({"senders": senders, "window": window, "duration_s": duration}),
        results,
        rows,
    })
}

/// Stores `count` messages in a room, 20 at a time.
async fn seed(b: &Bench, room: &str, count: u32) -> Result<(), String> {
    let (socket, _) = b.join(room, "seeder").await?;
    let (mut sink, mut stream) = socket.split();
    let count = u64::from(count);
    let (mut sent, mut done) = (0u64, 0u64);
    while sent < count.min(20) {
        send_next(&mut sink, "h-", &mut sent).await?;
    }
    while done < count {
        let got = tokio::time::timeout(Duration::from_secs(30), next_got(&mut stream))
            .await
            .map_err(|_| "seeding the history stalled".to_owned())?;
        match got {
            Some(Got::Delivery { id, .. }) if id.starts_with("h-") => {
                done += 1;
                if sent < count {
                    send_next(&mut sink, "h-", &mut sent).await?;
                }
            }
            Some(Got::Error(code)) => return Err(format!("seeding the history: {code}")),
            Some(_) => {}
            None => return Err("seeding the history: the socket closed".into()),
        }
    }
    let _ = sink.close().await;
    Ok(())
}

pub async fn join(b: &Bench, history: u32, joins: u32) -> Result<Report, String> {
    let room = b.room("join", 0);
    // The ceiling stores nothing: it has no history to seed.
    let seeded = if b.kind == Kind::Edgechat { history } else { 0 };
    if seeded > 0 {
        seed(b, &room, seeded).await?;
    }
    // Each name connects three times, as a person does: the first visit (which claims
    // the name), a return with its token (which the Worker checks in D1, earning a
    // pass), and a return with the pass: that last one is "the join", the common case.
    // The ceiling, which has no names, does the same three connects.
    let (mut first, mut checked, mut latency) = (histogram(), histogram(), histogram());
    for j in 0..joins {
        let name = format!("j{j}");
        let (socket, took) = b.join(&room, &name).await?;
        record(&mut first, took.as_micros() as u64);
        b.settle(socket, &name, "name_claimed").await?;
        let (socket, took) = b.join(&room, &name).await?;
        record(&mut checked, took.as_micros() as u64);
        b.settle(socket, &name, "pass").await?;
        let (mut socket, took) = b.join(&room, &name).await?;
        record(&mut latency, took.as_micros() as u64);
        let _ = socket.close(None).await;
    }
    Ok(Report {
        params: json!({"history": history, "joins": joins}),
        results: json!({
            "latency_ms": summary(&latency),
            "first_visit_ms": summary(&first),
            "token_checked_ms": summary(&checked),
            "history_stored": seeded,
        }),
        rows: vec![
            (
                "setup".into(),
                format!("{joins} names x 3 sequential connects, {seeded} messages stored"),
            ),
            (
                "return with a pass: connect to welcome".into(),
                summary_row(&latency),
            ),
            ("return with the token (D1)".into(), summary_row(&checked)),
            ("first visit (claims the name)".into(), summary_row(&first)),
        ],
    })
}

pub async fn rooms(b: &Bench, rooms: u32, clients: u32, parallel: usize) -> Result<Report, String> {
    let rss_before = b.rss_kib();
    let started = Instant::now();
    let plan: Vec<(u32, u32)> = (0..rooms)
        .flat_map(|r| (0..clients).map(move |c| (r, c)))
        .collect();
    let joined: Vec<Result<(u32, u32, crate::net::Socket), String>> =
        futures_util::stream::iter(plan)
            .map(|(r, c)| async move {
                let (socket, _) = b.join(&b.room("rooms", r), &format!("c{r}.{c}")).await?;
                Ok((r, c, socket))
            })
            .buffer_unordered(parallel.max(1))
            .collect()
            .await;
    let connect_all = started.elapsed();
    let mut first_sinks: HashMap<u32, Sink> = HashMap::new();
    let mut other_sinks = Vec::new();
    let mut readers = Vec::new();
    let mut failed = Vec::new();
    for joined in joined {
        let (r, c, socket) = match joined {
            Ok(j) => j,
            Err(e) => {
                failed.push(e);
                continue;
            }
        };
        let (sink, mut stream) = socket.split();
        if c == 0 {
            first_sinks.insert(r, sink);
        } else {
            other_sinks.push(sink);
        }
        let want = format!("m-{r}");
        readers.push(tokio::spawn(async move {
            let wait = async {
                while let Some(got) = next_got(&mut stream).await {
                    if let Got::Delivery { id, stamp, .. } = got {
                        if id == want {
                            return stamp.map(since_stamp);
                        }
                    }
                }
                None
            };
            tokio::time::timeout(Duration::from_secs(30), wait)
                .await
                .ok()
                .flatten()
        }));
    }
    if let Some(first) = failed.first() {
        return Err(format!(
            "{} of {} connections failed; the first: {first}",
            failed.len(),
            rooms * clients
        ));
    }
    for (r, sink) in first_sinks.iter_mut() {
        send(sink, &format!("m-{r}")).await?;
    }
    let mut latency = histogram();
    let mut received = 0u64;
    for reader in readers {
        if let Ok(Some(us)) = reader.await {
            received += 1;
            record(&mut latency, us);
        }
    }
    let rss_after = b.rss_kib();
    close_all(first_sinks.into_values().chain(other_sinks).collect()).await;
    let expected = u64::from(rooms) * u64::from(clients);
    let connect_ms = connect_all.as_secs_f64() * 1000.0;
    let mib = |k: Option<u64>| {
        k.map_or("n/a (no --pid)".to_owned(), |k| {
            format!("{:.1} MiB", k as f64 / 1024.0)
        })
    };
    Ok(Report {
        params: json!({"rooms": rooms, "clients": clients, "parallel": parallel}),
        results: json!({
            "connect_all_ms": connect_ms.round(),
            "expected": expected,
            "received": received,
            "latency_ms": summary(&latency),
            "rss_before_kib": rss_before,
            "rss_after_kib": rss_after,
        }),
        rows: vec![
            (
                "setup".into(),
                format!("{rooms} rooms x {clients} clients, {parallel} connecting at once"),
            ),
            ("connect all".into(), format!("{connect_ms:.0} ms")),
            (
                "one message per room".into(),
                format!(
                    "{received} of {expected} delivered; {}",
                    summary_row(&latency)
                ),
            ),
            (
                "runtime memory".into(),
                format!("{} before, {} after", mib(rss_before), mib(rss_after)),
            ),
        ],
    })
}

pub async fn idle(
    b: &Bench,
    connections: u32,
    idle_secs: u64,
    rounds: u32,
    settle_secs: u64,
) -> Result<Report, String> {
    // Whatever earlier scenarios left behind (rooms evicted about 10 s after their last
    // socket, their memory collected) happens now, and is reported, not counted as idle.
    let settle_before = b.cpu_ms();
    tokio::time::sleep(Duration::from_secs(settle_secs)).await;
    let settle_cpu = match (settle_before, b.cpu_ms()) {
        (Some(a), Some(z)) => Some(z.saturating_sub(a)),
        _ => None,
    };
    let room = b.room("idle", 0);
    let connections = connections.max(1);
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, Instant)>();
    let mut sinks = Vec::new();
    let mut readers = Vec::new();
    for i in 0..connections {
        let (socket, _) = b.join(&room, &format!("i{i}")).await?;
        let (sink, mut stream) = socket.split();
        sinks.push(sink);
        let tx = tx.clone();
        readers.push(tokio::spawn(async move {
            while let Some(got) = next_got(&mut stream).await {
                if let Got::Delivery { id, .. } = got {
                    if tx.send((id, Instant::now())).is_err() {
                        return;
                    }
                }
            }
        }));
    }
    let mut wake = histogram();
    let mut idle_cpu: Option<u64> = Some(0);
    let mut missing = 0u64;
    for round in 0..rounds {
        let cpu_before = b.cpu_ms();
        tokio::time::sleep(Duration::from_secs(idle_secs)).await;
        idle_cpu = match (idle_cpu, cpu_before, b.cpu_ms()) {
            (Some(sum), Some(a), Some(z)) => Some(sum + z.saturating_sub(a)),
            _ => None,
        };
        let id = format!("i-{round}");
        let sent = Instant::now();
        let Some(sender) = sinks.first_mut() else {
            break;
        };
        send(sender, &id).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        let mut got = 0;
        while got < connections {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some((seen, at))) if seen == id => {
                    got += 1;
                    record(&mut wake, at.duration_since(sent).as_micros() as u64);
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        missing += u64::from(connections - got);
    }
    for r in readers {
        r.abort();
    }
    close_all(sinks).await;
    Ok(Report {
        params: json!({"connections": connections, "idle_s": idle_secs, "rounds": rounds, "settle_s": settle_secs}),
        results: json!({
            "wake_ms": summary(&wake),
            "idle_cpu_ms": idle_cpu,
            "settle_cpu_ms": settle_cpu,
            "idle_total_s": idle_secs * u64::from(rounds),
            "missing": missing,
        }),
        rows: vec![
            (
                "setup".into(),
                format!(
                    "{settle_secs} s to settle, then {connections} connections, {rounds} x {idle_secs} s idle, then one message"
                ),
            ),
            (
                "runtime CPU while settling (earlier scenarios' rooms)".into(),
                settle_cpu.map_or("n/a (no --pid)".to_owned(), |ms| format!("{ms} ms")),
            ),
            (
                "wake-up latency (send to each receipt)".into(),
                summary_row(&wake),
            ),
            (
                "runtime CPU while idle".into(),
                idle_cpu.map_or("n/a (no --pid)".to_owned(), |ms| {
                    format!("{ms} ms over {} s", idle_secs * u64::from(rounds))
                }),
            ),
            ("not delivered".into(), missing.to_string()),
        ],
    })
}
