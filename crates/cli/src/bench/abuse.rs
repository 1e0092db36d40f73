//! The `abuse` scenario: normal members chat at a steady rate in one room, first alone
//! (the quiet phase), then while attackers in the same room do their worst (the attack
//! phase). It reports the members' delivery latency in both phases, what they lost, and
//! what the room did to the attackers.
//!
//! Attackers are claims of their own, each holding several sockets, and each claim plays
//! one part: typing toggles, status spam, reaction spam on the members' first message, or
//! frames far over the frame limit. A socket the room closes reconnects after a pause, as
//! a persistent attacker would; refused connects are counted.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::kit::{
    classify, histogram, send_frame, since_stamp, summary, summary_row, Bench, Got, Kind, Report,
    Sink, Stream,
};

/// The scenario's knobs (`edgechat bench abuse --help`).
#[derive(clap::Args)]
pub struct Plan {
    #[arg(long, default_value_t = 5)]
    members: u32,
    /// Messages per second each member sends.
    #[arg(long, default_value_t = 2)]
    rate: u32,
    /// Seconds of chat in each phase.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Attacking claims (each plays one part, in turn: typing, status, reactions, too_large).
    #[arg(long, default_value_t = 8)]
    attackers: u32,
    /// Sockets each attacker holds (the room allows MAX_SOCKETS_PER_CLAIM).
    #[arg(long, default_value_t = 10)]
    sockets: u32,
    /// Frames per second each attacking socket sends (too_large sockets: at most 5).
    #[arg(long, default_value_t = 50)]
    attack_rate: u32,
}

/// What one attacking claim does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Typing,
    Status,
    Reactions,
    TooLarge,
}

impl Part {
    fn of(i: u32) -> Part {
        match i % 4 {
            0 => Part::Typing,
            1 => Part::Status,
            2 => Part::Reactions,
            _ => Part::TooLarge,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Part::Typing => "typing",
            Part::Status => "status",
            Part::Reactions => "reactions",
            Part::TooLarge => "too_large",
        }
    }
}

const EMOJI: [&str; 20] = [
    "👍", "👎", "😀", "😂", "😍", "😮", "😢", "😡", "🎉", "🔥", "❤️", "💯", "🙏", "👀", "🚀", "✅",
    "❌", "🤔", "👏", "🙌",
];

/// The frame number `n` of an attacker playing `part`.
fn attack_frame(part: Part, n: u64, target: u64, big: &str) -> WsMessage {
    let text = match part {
        Part::Typing => json!({"type": "typing", "on": n.is_multiple_of(2)}).to_string(),
        // Mostly the same status again and again, now and then a real change.
        Part::Status => {
            let status = if (n / 10).is_multiple_of(2) {
                "dnd"
            } else {
                "away"
            };
            json!({"type": "status", "status": status}).to_string()
        }
        Part::Reactions => {
            let emoji = EMOJI[(n as usize / 2) % EMOJI.len()];
            json!({"type": "react", "seq": target, "emoji": emoji, "on": n.is_multiple_of(2)})
                .to_string()
        }
        // A frame with a client id, far over the limit: the room must refuse it cheaply.
        Part::TooLarge => {
            format!(r#"{{"type":"send","client_id":"big-{n}","text":"{big}"}}"#)
        }
    };
    WsMessage::text(text)
}

/// Counters the attackers share.
#[derive(Default)]
struct Attack {
    sent: AtomicU64,
    answered: AtomicU64,
    policy_closes: AtomicU64,
    other_closes: AtomicU64,
    connects: AtomicU64,
    refused_connects: AtomicU64,
}

/// What one member saw in one phase.
struct Seen {
    latency: Histogram<u64>,
    ids: HashSet<String>,
    duplicates: u64,
    errors: u64,
    other_frames: u64,
}

impl Seen {
    fn new() -> Seen {
        Seen {
            latency: histogram(),
            ids: HashSet::new(),
            duplicates: 0,
            errors: 0,
            other_frames: 0,
        }
    }
}

/// One member's reader: tallies deliveries of the other members' messages by phase.
async fn member_reader(
    mut stream: Stream,
    me: u32,
    phase: watch::Receiver<u8>,
    first_seq: Arc<AtomicU64>,
) -> [Seen; 2] {
    let mut seen = [Seen::new(), Seen::new()];
    while let Some(frame) = stream.next().await {
        let text = match frame {
            Ok(WsMessage::Text(t)) => t,
            Ok(WsMessage::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        };
        let p = usize::from((*phase.borrow()).min(1));
        match classify(text.as_str()) {
            Got::Delivery { id, stamp, seq } => {
                if let Some(seq) = seq {
                    let _ =
                        first_seq.compare_exchange(0, seq, Ordering::Relaxed, Ordering::Relaxed);
                }
                // Ids are `q<member>-<n>` (quiet) or `a<member>-<n>` (attack).
                let phase_of = match id.as_bytes().first() {
                    Some(b'q') => 0,
                    Some(b'a') => 1,
                    _ => continue,
                };
                let from: Option<u32> = id[1..].split('-').next().and_then(|m| m.parse().ok());
                if from == Some(me) {
                    continue;
                }
                let s = &mut seen[phase_of];
                if !s.ids.insert(id) {
                    s.duplicates += 1;
                } else if let Some(stamp) = stamp {
                    let _ = s.latency.record(since_stamp(stamp).clamp(1, 600_000_000));
                }
            }
            Got::Error(_) => seen[p].errors += 1,
            _ => seen[p].other_frames += 1,
        }
    }
    seen
}

/// One attacking socket, reconnecting whenever the room closes it, until `stop`.
/// Who one attacking socket is and what it sends.
struct Role {
    name: String,
    part: Part,
    /// Frames per second.
    rate: u32,
    /// The message reactions are aimed at.
    target: u64,
}

async fn attacker(
    b: &Bench,
    room: &str,
    role: Role,
    counters: &Attack,
    mut stop: watch::Receiver<bool>,
) {
    let Role {
        name,
        part,
        rate,
        target,
    } = role;
    let big = "x".repeat(1_000_000);
    let mut n = 0u64;
    while !*stop.borrow() {
        counters.connects.fetch_add(1, Ordering::Relaxed);
        let socket = match b.join(room, &name).await {
            Ok((socket, _)) => socket,
            Err(_) => {
                counters.refused_connects.fetch_add(1, Ordering::Relaxed);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => continue,
                    _ = stop.changed() => break,
                }
            }
        };
        let (mut sink, mut stream) = socket.split();
        // Megabyte frames are sent more slowly: the point is the room's answer, not this
        // machine's memory bandwidth.
        let rate = if part == Part::TooLarge {
            rate.min(5)
        } else {
            rate
        };
        let every = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if sink.send(attack_frame(part, n, target, &big)).await.is_err() {
                        break;
                    }
                    n += 1;
                    counters.sent.fetch_add(1, Ordering::Relaxed);
                }
                frame = stream.next() => match frame {
                    Some(Ok(WsMessage::Text(t))) => {
                        if matches!(classify(t.as_str()), Got::Error(_)) {
                            counters.answered.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Some(Ok(WsMessage::Close(close))) => {
                        let policy = close.is_some_and(|c| c.code == CloseCode::Policy);
                        let which = if policy { &counters.policy_closes } else { &counters.other_closes };
                        which.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => {
                        counters.other_closes.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                },
                _ = stop.changed() => {
                    let _ = tokio::time::timeout(Duration::from_secs(2), sink.close()).await;
                    return;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = stop.changed() => break,
        }
    }
}

/// Every member sends `rate` messages a second for `duration` seconds, ids `<p><m>-<n>`.
async fn chat(sinks: &mut [Sink], prefix: char, rate: u32, duration: u64) -> Result<u64, String> {
    let total = u64::from(rate.max(1)) * duration;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    for n in 0..total {
        tick.tick().await;
        for (m, sink) in sinks.iter_mut().enumerate() {
            sink.send(send_frame(&format!("{prefix}{m}-{n}")))
                .await
                .map_err(|e| format!("member {m} sending: {e}"))?;
        }
    }
    Ok(total)
}

pub async fn abuse(b: &Bench, plan: Plan) -> Result<Report, String> {
    if b.kind != Kind::Edgechat {
        return Err("the abuse scenario measures edgechat's defences; the ceiling has none".into());
    }
    let room = b.room("abuse", 0);
    let members = plan.members.max(2);
    let (phase_tx, phase_rx) = watch::channel(0u8);
    let first_seq = Arc::new(AtomicU64::new(0));
    let mut sinks = Vec::new();
    let mut readers = Vec::new();
    for m in 0..members {
        let (socket, _) = b.join(&room, &format!("m{m}")).await?;
        let (sink, stream) = socket.split();
        sinks.push(sink);
        readers.push(tokio::spawn(member_reader(
            stream,
            m,
            phase_rx.clone(),
            first_seq.clone(),
        )));
    }
    let settle = |secs| tokio::time::sleep(Duration::from_secs(secs));

    // The quiet phase.
    let quiet_per_member = chat(&mut sinks, 'q', plan.rate, plan.duration).await?;
    settle(3).await;

    // Each attacker claims its name once, so that its sockets all connect as that claim.
    for a in 0..plan.attackers {
        b.claim(&room, &format!("x{a}")).await?;
    }

    // The attack phase: the attackers start, then the same chat again, then they stop.
    let _ = phase_tx.send(1);
    let counters = Attack::default();
    let (stop_tx, stop_rx) = watch::channel(false);
    let target = first_seq.load(Ordering::Relaxed).max(1);
    let attackers = (0..plan.attackers).flat_map(|a| {
        let (counters, stop_rx, room) = (&counters, &stop_rx, &room);
        (0..plan.sockets).map(move |_| {
            let role = Role {
                name: format!("x{a}"),
                part: Part::of(a),
                rate: plan.attack_rate,
                target,
            };
            attacker(b, room, role, counters, stop_rx.clone())
        })
    });
    let attack = futures_util::future::join_all(attackers);
    let members_chat = async {
        settle(2).await;
        let started = Instant::now();
        let sent = chat(&mut sinks, 'a', plan.rate, plan.duration).await;
        settle(3).await;
        let _ = stop_tx.send(true);
        sent.map(|n| (n, started.elapsed().as_secs_f64()))
    };
    let (_, chatted) = tokio::join!(attack, members_chat);
    let (attack_per_member, attack_secs) = chatted?;
    for mut s in sinks {
        let _ = tokio::time::timeout(Duration::from_secs(2), s.close()).await;
    }

    let mut latency = [histogram(), histogram()];
    let (mut received, mut duplicates, mut errors, mut other) = ([0u64; 2], 0, 0, [0u64; 2]);
    for r in readers {
        let seen = r.await.map_err(|e| e.to_string())?;
        for (p, s) in seen.iter().enumerate() {
            let _ = latency[p].add(&s.latency);
            received[p] += s.ids.len() as u64;
            duplicates += s.duplicates;
            errors += s.errors;
            other[p] += s.other_frames;
        }
    }
    // Every member receives every other member's messages.
    let per_phase = |per_member: u64| per_member * u64::from(members) * u64::from(members - 1);
    let expected = [per_phase(quiet_per_member), per_phase(attack_per_member)];
    let lost = expected[0].saturating_sub(received[0]) + expected[1].saturating_sub(received[1]);
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let attack_sent = load(&counters.sent);
    let parts: Vec<&str> = (0..plan.attackers.min(4))
        .map(|a| Part::of(a).as_str())
        .collect();
    let per_member_sec = |frames: u64| frames as f64 / f64::from(members) / attack_secs.max(1.0);
    Ok(Report {
        params: json!({
            "members": members, "rate": plan.rate, "duration_s": plan.duration,
            "attackers": plan.attackers, "sockets_per_attacker": plan.sockets,
            "attack_rate": plan.attack_rate, "parts": parts,
        }),
        results: json!({
            "quiet_latency_ms": summary(&latency[0]),
            "attack_latency_ms": summary(&latency[1]),
            "expected": expected[0] + expected[1],
            "received": received[0] + received[1],
            "lost": lost,
            "duplicates": duplicates,
            "member_errors": errors,
            "member_other_frames_per_sec": {
                "quiet": per_member_sec(other[0]),
                "attack": per_member_sec(other[1]),
            },
            "attack_frames_sent": attack_sent,
            "attack_frames_answered": load(&counters.answered),
            "attack_connects": load(&counters.connects),
            "attack_connects_refused": load(&counters.refused_connects),
            "attack_policy_closes": load(&counters.policy_closes),
            "attack_other_closes": load(&counters.other_closes),
        }),
        rows: vec![
            (
                "setup".into(),
                format!(
                    "{members} members at {} msg/s each for {} s per phase; {} attacker claims ({}) x {} sockets at {} frames/s",
                    plan.rate,
                    plan.duration,
                    plan.attackers,
                    parts.join(", "),
                    plan.sockets,
                    plan.attack_rate
                ),
            ),
            ("quiet delivery".into(), summary_row(&latency[0])),
            ("attack delivery".into(), summary_row(&latency[1])),
            (
                "delivered".into(),
                format!(
                    "quiet {} of {}, attack {} of {}",
                    received[0], expected[0], received[1], expected[1]
                ),
            ),
            ("lost".into(), lost.to_string()),
            ("duplicates".into(), duplicates.to_string()),
            ("member errors".into(), errors.to_string()),
            (
                "other frames a member got".into(),
                format!(
                    "{:.1}/s quiet, {:.1}/s attack",
                    per_member_sec(other[0]),
                    per_member_sec(other[1])
                ),
            ),
            (
                "attack frames".into(),
                format!(
                    "{attack_sent} sent, {} answered with an error",
                    load(&counters.answered)
                ),
            ),
            (
                "attack sockets".into(),
                format!(
                    "{} connects, {} refused, {} closed 1008, {} closed otherwise",
                    load(&counters.connects),
                    load(&counters.refused_connects),
                    load(&counters.policy_closes),
                    load(&counters.other_closes)
                ),
            ),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_frames_are_what_the_parts_say() {
        let big = "x".repeat(10);
        let f = |part, n| {
            attack_frame(part, n, 7, &big)
                .into_text()
                .unwrap()
                .to_string()
        };
        assert_eq!(f(Part::Typing, 0), r#"{"on":true,"type":"typing"}"#);
        assert_eq!(f(Part::Typing, 1), r#"{"on":false,"type":"typing"}"#);
        assert!(f(Part::Status, 0).contains(r#""status":"dnd""#));
        assert!(f(Part::Status, 10).contains(r#""status":"away""#));
        let r: serde_json::Value = serde_json::from_str(&f(Part::Reactions, 3)).unwrap();
        assert_eq!(
            (r["seq"].as_u64(), r["on"].as_bool()),
            (Some(7), Some(false))
        );
        let t: serde_json::Value = serde_json::from_str(&f(Part::TooLarge, 4)).unwrap();
        assert_eq!(t["client_id"], "big-4");
        assert_eq!(
            (0..8).map(Part::of).collect::<Vec<_>>()[..4],
            [Part::Typing, Part::Status, Part::Reactions, Part::TooLarge]
        );
    }
}
