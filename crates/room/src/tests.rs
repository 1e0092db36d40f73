//! The room's behaviour, event by event, against an in-memory log.
//!
//! The tests drive the core through a small harness ([`Room`] below, shadowing the
//! crate's): each event is handed in with `handle` and its outputs drained at once, as
//! the effects it had, frames encoded as the shell encodes them. Batches for the history
//! database are made and answered only where a test says so (`durable`,
//! `durable_failed`, `audit_durable`, `reads_durable`); the outbox's own rule is tested
//! through `poll` in `outbox_tests`.

use std::ops::{Deref, DerefMut};

use super::*;
use crate::memory::MemoryLog;
use edgechat_protocol::{is_dm_room, FileRef};
use serde_json::{json, Value};

mod outbox;

/// What one event did, as the tests look at it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Effect {
    /// A frame, encoded once for every receiver.
    Send {
        to: Target,
        frame: Rc<str>,
    },
    Save {
        attachment: Attachment,
    },
    DeleteFile {
        id: String,
    },
    Close {
        ids: Vec<String>,
        code: u16,
        reason: String,
    },
    Sweep {
        ids: Vec<String>,
    },
    Log {
        message: String,
    },
}

impl From<Output> for Effect {
    fn from(output: Output) -> Self {
        match output {
            Output::Send { to, frame } => Effect::Send {
                to,
                frame: frame.encode().into(),
            },
            Output::Save(attachment) => Effect::Save { attachment },
            Output::Close {
                conns,
                code,
                reason,
            } => Effect::Close {
                ids: conns.iter().map(ConnId::to_string).collect(),
                code,
                reason,
            },
            Output::DeleteFiles(ids) => {
                assert_eq!(ids.len(), 1, "one file per deleted message");
                Effect::DeleteFile { id: ids[0].clone() }
            }
            Output::SweepUploads(ids) => Effect::Sweep { ids },
            Output::Log(message) => Effect::Log { message },
            Output::Persist(batch) => panic!("the harness makes batches itself: {batch:?}"),
        }
    }
}

/// The room core, driven one event at a time.
struct Room<L: Log>(crate::Room<L>);

impl<L: Log> Deref for Room<L> {
    type Target = crate::Room<L>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<L: Log> DerefMut for Room<L> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<L: Log> Room<L> {
    /// Opens a room whose kind follows from its id, as the shell decides it.
    fn open(id: &str, log: L, limits: Limits) -> Result<Self, LogError> {
        let kind = if is_dm_room(id) {
            RoomKind::Dm
        } else {
            RoomKind::Room
        };
        crate::Room::open(id, kind, log, limits).map(Room)
    }

    /// Hands in one event and takes what it queued (never a batch: see `durable`).
    fn input(&mut self, now: u64, input: Input) -> Vec<Effect> {
        self.0.handle(now, input);
        self.drained()
    }

    fn drained(&mut self) -> Vec<Effect> {
        self.0.queue.drain(..).map(Effect::from).collect()
    }

    /// A new connection whose claim is its name's key (where every name is one person).
    fn join(&mut self, id: ConnId, name: &Name, since: Option<u64>, now: u64) -> Vec<Effect> {
        let claim = name.key().to_owned();
        self.resume(id, name, &claim, since, None, now)
    }

    fn resume(
        &mut self,
        conn: ConnId,
        name: &Name,
        claim: &str,
        since: Option<u64>,
        rev: Option<u64>,
        now: u64,
    ) -> Vec<Effect> {
        let input = Input::Connect {
            conn,
            name: name.clone(),
            claim: claim.into(),
            since,
            rev,
            claimed_token: None,
        };
        self.input(now, input)
    }

    fn restore(&mut self, attachment: Attachment, now: u64) {
        assert!(self.input(now, Input::Restore(attachment)).is_empty());
    }

    fn on_text(&mut self, conn: &str, text: &str, now: u64) -> Vec<Effect> {
        let input = Input::Text {
            conn: conn.into(),
            text: text.into(),
        };
        self.input(now, input)
    }

    fn on_binary(&mut self, conn: &str, len: usize, now: u64) -> Vec<Effect> {
        self.input(
            now,
            Input::Binary {
                conn: conn.into(),
                len,
            },
        )
    }

    fn leave(&mut self, conn: &str, now: u64) -> Vec<Effect> {
        self.input(now, Input::Close { conn: conn.into() })
    }

    fn tick(&mut self, now: u64) -> Vec<Effect> {
        self.input(now, Input::Alarm)
    }

    fn next_deadline(&self) -> Option<u64> {
        self.0.deadline()
    }

    /// A batch of the changes up to rev `upto` lands in the history database.
    fn durable(&mut self, upto: u64) -> Vec<Effect> {
        let batch = self.0.messages_batch(upto);
        self.landed(batch)
    }

    /// Everything owed lands in the history database.
    fn land_everything(&mut self) -> Vec<Effect> {
        let batch = self.0.whole_batch();
        self.landed(batch)
    }

    fn landed(&mut self, batch: Batch) -> Vec<Effect> {
        let (now, id) = (self.0.now, batch.id);
        self.input(now, Input::Persisted { id, ok: true })
    }

    /// The batch of the changes owed fails at `now`.
    fn durable_failed(&mut self, now: u64, retry_in_ms: u64) -> Vec<Effect> {
        assert_eq!(retry_in_ms, RETRY_MS);
        let batch = self.0.messages_batch(u64::MAX);
        self.input(
            now,
            Input::Persisted {
                id: batch.id,
                ok: false,
            },
        )
    }

    fn has_pending(&self) -> bool {
        !self.0.pending.is_empty()
    }

    fn should_flush(&self, now: u64) -> bool {
        self.0.persist_due(now)
    }

    fn pending_audit(&self) -> Vec<(u64, ModEvent)> {
        self.0.pending_audit.iter().cloned().collect()
    }

    fn audit_durable(&mut self, upto: u64) -> Vec<Effect> {
        assert_eq!(self.0.pending_audit.back().map(|(id, _)| *id), Some(upto));
        self.land_everything()
    }

    fn pending_reads(&self) -> Vec<(String, u64)> {
        let reads = self.0.pending_reads.iter();
        reads.map(|(k, s)| (k.to_string(), *s)).collect()
    }

    fn reads_durable(&mut self, written: &[(String, u64)]) -> Vec<Effect> {
        assert_eq!(self.pending_reads(), written);
        self.land_everything()
    }

    fn add_file(&mut self, claim: &str, file: &FileRef, now: u64) -> Result<(), LogError> {
        self.0.add_file(&ClaimId::from(claim), file, now)
    }

    fn admission(&self, name: &Name, claim: Option<&str>, now: u64) -> Option<Refusal> {
        self.0
            .admission(name, claim.map(ClaimId::from).as_ref(), now)
    }

    /// The alarm rings at `now`: the uploads it sweeps, and everything else it did.
    fn expired_uploads(&mut self, now: u64) -> (Vec<String>, Vec<Effect>) {
        let mut ids = Vec::new();
        let mut rest = Vec::new();
        for effect in self.tick(now) {
            match effect {
                Effect::Sweep { ids: swept } => ids.extend(swept),
                other => rest.push(other),
            }
        }
        (ids, rest)
    }

    fn uploads_swept(&mut self, deleted: &[String], kept: &[String], now: u64) -> Vec<Effect> {
        let input = Input::Swept {
            deleted: deleted.to_vec(),
            kept: kept.to_vec(),
        };
        self.input(now, input)
    }
}

/// A room whose rate limit never gets in the way (the limit has its own test).
fn room() -> Room<MemoryLog> {
    let limits = Limits {
        burst: 1e9,
        per_sec: 1e9,
        ..Limits::default()
    };
    Room::open("lobby", MemoryLog::default(), limits).unwrap()
}

fn name(n: &str) -> Name {
    Name::parse(n).unwrap()
}

/// The frames `conn` would receive from these effects, decoded.
fn frames_for(effects: &[Effect], conn: &str) -> Vec<Value> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, frame } if to.includes(conn) => {
                Some(serde_json::from_str(frame).unwrap())
            }
            _ => None,
        })
        .collect()
}

fn types(frames: &[Value]) -> Vec<&str> {
    frames.iter().map(|f| f["type"].as_str().unwrap()).collect()
}

/// The seqs of a JSON array of messages.
fn seqs_of(messages: &Value) -> Vec<u64> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect()
}

fn send_frame(text: &str, cid: &str) -> String {
    json!({"type":"send","text":text,"client_id":cid}).to_string()
}

/// Sends and makes durable at once, as the shell does after a D1 write succeeds.
fn send_durable(
    r: &mut Room<MemoryLog>,
    conn: &str,
    text: &str,
    cid: &str,
    now: u64,
) -> Vec<Effect> {
    let mut e = r.on_text(conn, &send_frame(text, cid), now);
    let upto = r.last_rev();
    e.extend(r.durable(upto));
    e
}

#[test]
fn welcome_lists_users_and_the_newest_messages() {
    let mut r = room();
    r.join("a".into(), &name("Alice"), None, 0);
    for i in 0..60 {
        send_durable(&mut r, "a", &format!("m{i}"), &format!("c{i}"), i);
    }
    let e = r.join("b".into(), &name("bob"), None, 100);
    let f = frames_for(&e, "b");
    assert_eq!(f[0]["type"], "welcome");
    assert_eq!(f[0]["room"], "lobby");
    assert_eq!(f[0]["you"], json!({"name":"bob","status":"online"}));
    assert_eq!(
        f[0]["users"],
        json!([{"name":"Alice","status":"online"},{"name":"bob","status":"online"}])
    );
    let msgs = f[0]["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 50);
    assert_eq!(msgs[0]["seq"], 11);
    assert_eq!(msgs[49]["seq"], 60);
    assert_eq!(f[0]["last_seq"], 60);
    assert_eq!(f[0]["has_more"], true);
    // Alice hears that bob joined; bob does not hear it himself.
    assert_eq!(types(&frames_for(&e, "a")), ["user_joined"]);
    assert_eq!(frames_for(&e, "a")[0]["user"]["name"], "bob");
    assert_eq!(types(&f), ["welcome"]);
}

#[test]
fn resume_with_since_gives_exactly_the_missed_messages() {
    let mut r = room();
    r.join("a".into(), &name("a"), None, 0);
    for i in 0..10 {
        send_durable(&mut r, "a", "x", &format!("c{i}"), i);
    }
    let f = frames_for(&r.join("b".into(), &name("b"), Some(7), 0), "b");
    let seqs = seqs_of(&f[0]["messages"]);
    assert_eq!(seqs, [8, 9, 10]);
    assert_eq!(f[0]["has_more"], false);
    let f = frames_for(&r.join("c".into(), &name("c"), Some(99), 0), "c");
    assert_eq!(f[0]["messages"], json!([]));
    assert_eq!(f[0]["last_seq"], 10);
}

#[test]
fn resume_caps_at_500_and_says_more_follow() {
    let mut log = MemoryLog::default();
    for seq in 1..=600 {
        let m = Message {
            seq,
            room: "lobby".into(),
            name: "a".into(),
            text: "t".into(),
            ts: seq,
            client_id: Some(format!("c{seq}")),
            ..Message::default()
        };
        log.append(&m, "a", "a", seq).unwrap();
    }
    log.durable_rev = 600;
    let mut r = Room::open("lobby", log, Limits::default()).unwrap();
    let f = frames_for(&r.join("b".into(), &name("b"), Some(0), 0), "b");
    let msgs = f[0]["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 500);
    assert_eq!(msgs[0]["seq"], 1);
    assert_eq!(f[0]["has_more"], true);
}

#[test]
fn a_message_is_broadcast_once_logged_and_acked_once_in_the_history_database() {
    let mut r = room();
    r.join("a".into(), &name("Alice"), None, 0);
    r.join("b".into(), &name("bob"), None, 0);
    let e = r.on_text("a", &send_frame("  hello  ", "c1"), 42);
    let to_a = frames_for(&e, "a");
    assert_eq!(
        types(&to_a),
        ["message"],
        "no ack before the history database"
    );
    assert_eq!(
        to_a[0]["message"],
        json!({"seq":1,"room":"lobby","name":"Alice","text":"hello","ts":42,"client_id":"c1","reply_to":null})
    );
    assert_eq!(types(&frames_for(&e, "b")), ["message"]);
    // The broadcast is encoded once for everyone.
    let broadcasts = e
        .iter()
        .filter(|e| {
            matches!(
                e,
                Effect::Send {
                    to: Target::All,
                    ..
                }
            )
        })
        .count();
    assert_eq!(broadcasts, 1);
    assert!(r.has_pending());
    let pending = r.pending();
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].1.seq, pending[0].1.text.as_str()), (1, "hello"));
    let e = r.durable(1);
    assert_eq!(
        frames_for(&e, "a"),
        [json!({"type":"ack","client_id":"c1","seq":1})]
    );
    assert!(frames_for(&e, "b").is_empty(), "nothing is broadcast twice");
    assert!(!r.has_pending());
}

#[test]
fn seqs_are_gapless_across_batches() {
    let mut r = room();
    r.join("a".into(), &name("a"), None, 0);
    let mut seen = Vec::new();
    for i in 0..5 {
        let e = r.on_text("a", &send_frame("x", &format!("c{i}")), 0);
        seen.extend(
            frames_for(&e, "a")
                .iter()
                .map(|f| f["message"]["seq"].as_u64().unwrap()),
        );
    }
    assert_eq!(seen, [1, 2, 3, 4, 5]);
    assert_eq!(
        r.pending().iter().map(|(_, m)| m.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    let acks: Vec<u64> = frames_for(&r.durable(3), "a")
        .iter()
        .map(|f| f["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(acks, [1, 2, 3]);
    assert_eq!(r.pending().len(), 2);
    r.durable(5);
    assert_eq!(r.durable_rev(), 5);
}

#[test]
fn a_resent_client_id_is_acked_with_the_original_seq_and_not_stored() {
    let mut r = room();
    r.join("a".into(), &name("Alice"), None, 0);
    r.join("a2".into(), &name("ALICE"), None, 0);
    r.join("b".into(), &name("bob"), None, 0);
    send_durable(&mut r, "a", "first", "same", 0);
    // Same name in another case, another socket, another text.
    let e = r.on_text("a2", &send_frame("different", "same"), 1);
    assert_eq!(
        frames_for(&e, "a2"),
        [json!({"type":"ack","client_id":"same","seq":1})]
    );
    assert!(frames_for(&e, "b").is_empty());
    assert!(!r.has_pending());
    assert_eq!(r.last_seq(), 1);
    // Another name may use the same client_id.
    r.on_text("b", &send_frame("mine", "same"), 2);
    assert_eq!(r.last_seq(), 2);
}

#[test]
fn a_resend_while_the_original_is_in_flight_is_acked_when_it_lands() {
    let mut r = room();
    r.join("a".into(), &name("a"), None, 0);
    r.on_text("a", &send_frame("x", "c1"), 0);
    assert!(r.on_text("a", &send_frame("x", "c1"), 1).is_empty());
    let acks: Vec<Value> = frames_for(&r.durable(1), "a")
        .into_iter()
        .filter(|f| f["type"] == "ack")
        .collect();
    assert_eq!(acks.len(), 2);
    assert_eq!(r.last_seq(), 1);
}

#[test]
fn reply_to_must_name_a_message() {
    let mut r = room();
    r.join("a".into(), &name("a"), None, 0);
    send_durable(&mut r, "a", "parent", "p", 0);
    let ok = json!({"type":"send","text":"child","client_id":"k","reply_to":1}).to_string();
    r.on_text("a", &ok, 0);
    assert_eq!(r.pending()[0].1.reply_to, Some(1));
    for bad in [0, 3, 99] {
        let f = json!({"type":"send","text":"x","client_id":format!("r{bad}"),"reply_to":bad});
        let out = frames_for(&r.on_text("a", &f.to_string(), 0), "a");
        assert_eq!(out[0]["code"], "not_found");
        assert_eq!(out[0]["client_id"], format!("r{bad}"));
    }
    assert_eq!(r.last_seq(), 2);
}

#[test]
fn bad_frames_get_errors_and_change_nothing() {
    let mut r = room();
    r.join("a".into(), &name("a"), None, 0);
    let cases = [
        ("nonsense", "bad_frame"),
        (r#"{"type":"fly"}"#, "bad_frame"),
        (
            r#"{"type":"send","text":"  ","client_id":"z"}"#,
            "invalid_text",
        ),
    ];
    for (text, code) in cases {
        let f = frames_for(&r.on_text("a", text, 0), "a");
        assert_eq!(f[0]["type"], "error");
        assert_eq!(f[0]["code"], code);
    }
    let f = frames_for(&r.on_binary("a", 10, 0), "a");
    assert_eq!(f[0]["code"], "bad_frame");
    let f = frames_for(&r.on_binary("a", 16 * 1024 + 1, 0), "a");
    assert_eq!(f[0]["code"], "too_large");
    let huge = "x".repeat(20_000);
    assert_eq!(
        frames_for(&r.on_text("a", &huge, 0), "a")[0]["code"],
        "too_large"
    );
    assert_eq!(r.last_seq(), 0);
}

#[test]
fn a_flood_is_rate_limited_per_claim() {
    let limits = Limits {
        burst: 3.0,
        per_sec: 1.0,
        ..Limits::default()
    };
    let mut r = Room::open("lobby", MemoryLog::default(), limits).unwrap();
    r.join("a".into(), &name("a"), None, 0);
    r.join("b".into(), &name("b"), None, 0);
    for i in 0..3 {
        r.on_text("a", &send_frame("x", &format!("c{i}")), 1000);
    }
    let f = frames_for(&r.on_text("a", &send_frame("x", "c3"), 1000), "a");
    assert_eq!(f[0]["code"], "rate_limited");
    assert_eq!(f[0]["client_id"], "c3");
    assert_eq!(f[0]["retry_after_ms"], 1000);
    // Others are unaffected.
    let f = frames_for(&r.on_text("b", &send_frame("y", "d0"), 1000), "b");
    assert_eq!(types(&f), ["message"]);
    assert_eq!(r.last_seq(), 4);
    // After the wait, the same client_id goes through.
    r.on_text("a", &send_frame("x", "c3"), 2000);
    assert_eq!(r.last_seq(), 5);
}

#[test]
fn presence_is_per_name_not_per_connection() {
    let mut r = room();
    r.join("a1".into(), &name("Alice"), None, 0);
    r.join("b".into(), &name("bob"), None, 0);
    let e = r.join("a2".into(), &name("alice"), None, 0);
    assert!(frames_for(&e, "b").is_empty(), "a second tab is not a join");
    let f = frames_for(&e, "a2");
    assert_eq!(f[0]["you"]["name"], "Alice", "shown as first spelled");
    assert_eq!(r.users().len(), 2);
    assert!(frames_for(&r.leave("a1", 0), "b").is_empty());
    let f = frames_for(&r.leave("a2", 0), "b");
    assert_eq!(
        f,
        [json!({"type":"user_left","user":{"name":"Alice","status":"online"}})]
    );
    assert_eq!(r.users().len(), 1);
}

#[test]
fn status_changes_reach_the_others_and_every_tab_attachment() {
    let mut r = room();
    r.join("a1".into(), &name("Alice"), None, 0);
    r.join("a2".into(), &name("alice"), None, 0);
    r.join("b".into(), &name("bob"), None, 0);
    let e = r.on_text("a1", r#"{"type":"status","status":"dnd"}"#, 0);
    let saved: Vec<&Attachment> = e
        .iter()
        .filter_map(|e| match e {
            Effect::Save { attachment } => Some(attachment),
            _ => None,
        })
        .collect();
    assert_eq!(saved.len(), 2);
    assert!(saved
        .iter()
        .all(|a| a.status == Status::Dnd && a.name == "Alice"));
    assert_eq!(
        frames_for(&e, "b"),
        [json!({"type":"user_status","user":{"name":"Alice","status":"dnd"}})]
    );
    assert!(frames_for(&e, "a1").is_empty());
    assert_eq!(types(&frames_for(&e, "a2")), ["user_status"]);
    let f = frames_for(&r.join("c".into(), &name("c"), None, 0), "c");
    assert_eq!(f[0]["users"][0], json!({"name":"Alice","status":"dnd"}));
}

#[test]
fn typing_is_announced_expires_and_ends_with_a_send() {
    let mut r = room();
    r.join("a".into(), &name("Alice"), None, 0);
    r.join("b".into(), &name("bob"), None, 0);
    let e = r.on_text("a", r#"{"type":"typing","on":true}"#, 1000);
    assert_eq!(
        frames_for(&e, "b"),
        [json!({"type":"typing","names":["Alice"]})]
    );
    assert_eq!(frames_for(&e, "a"), [json!({"type":"typing","names":[]})]);
    assert_eq!(r.next_deadline(), Some(6000));
    // Renewing changes nothing visible.
    assert!(r
        .on_text("a", r#"{"type":"typing","on":true}"#, 2000)
        .is_empty());
    assert!(r.tick(6500).is_empty(), "renewed at 2000: lasts until 7000");
    let e = r.tick(7000);
    assert_eq!(frames_for(&e, "b"), [json!({"type":"typing","names":[]})]);
    assert_eq!(r.next_deadline(), None);
    // A newcomer hears who is typing right after its welcome.
    r.on_text("b", r#"{"type":"typing","on":true}"#, 8000);
    let f = frames_for(&r.join("c".into(), &name("carol"), None, 8000), "c");
    assert_eq!(f[1], json!({"type":"typing","names":["bob"]}));
    // Sending ends the typist's typing.
    let e = r.on_text("b", &send_frame("hi", "c1"), 8500);
    let f = frames_for(&e, "a");
    assert_eq!(types(&f), ["message", "typing"]);
    assert_eq!(f[1], json!({"type":"typing","names":[]}));
}

#[test]
fn a_typist_leaving_clears_the_line() {
    let mut r = room();
    r.join("a".into(), &name("a"), None, 0);
    r.join("b".into(), &name("b"), None, 0);
    r.on_text("a", r#"{"type":"typing","on":true}"#, 0);
    let e = r.leave("a", 10);
    assert_eq!(types(&frames_for(&e, "b")), ["user_left", "typing"]);
}

#[test]
fn history_pages_show_every_logged_message() {
    let mut r = room();
    r.join("a".into(), &name("a"), None, 0);
    for i in 0..29 {
        send_durable(&mut r, "a", "x", &format!("c{i}"), 0);
    }
    // Broadcast already, so shown, though not yet in the history database.
    r.on_text("a", &send_frame("not yet durable", "late"), 0);
    let f = frames_for(
        &r.on_text("a", r#"{"type":"history","before":11,"limit":5}"#, 0),
        "a",
    );
    let seqs = seqs_of(&f[0]["messages"]);
    assert_eq!(seqs, [6, 7, 8, 9, 10]);
    assert_eq!(f[0]["has_more"], true);
    let f = frames_for(
        &r.on_text("a", r#"{"type":"history","after":25,"limit":10}"#, 0),
        "a",
    );
    let seqs = seqs_of(&f[0]["messages"]);
    assert_eq!(seqs, [26, 27, 28, 29, 30]);
    assert_eq!(f[0]["has_more"], false);
}

#[test]
fn a_wake_restores_identities_without_announcing_anything() {
    let mut r = room();
    r.join("a".into(), &name("Alice"), None, 0);
    r.on_text("a", r#"{"type":"status","status":"away"}"#, 0);
    send_durable(&mut r, "a", "x", "c1", 0);
    let log = r.log().clone();
    // The Durable Object is evicted; a new instance rebuilds from the log and attachments.
    let mut woken = Room::open("lobby", log, Limits::default()).unwrap();
    woken.restore(
        Attachment {
            id: "a".into(),
            name: "Alice".into(),
            claim: "alice".into(),
            status: Status::Away,
        },
        50_000,
    );
    assert_eq!(
        woken.users(),
        [User {
            name: "Alice".into(),
            status: Status::Away
        }]
    );
    assert_eq!(woken.last_seq(), 1);
    // Dedupe survives the wake too.
    let f = frames_for(&woken.on_text("a", &send_frame("again", "c1"), 50_001), "a");
    assert_eq!(f, [json!({"type":"ack","client_id":"c1","seq":1})]);
    let e = woken.leave("a", 50_002);
    assert_eq!(types(&frames_for(&e, "zzz")), ["user_left"]);
}

#[test]
fn messages_logged_before_a_crash_are_delivered_after_it() {
    let mut r = room();
    r.join("a".into(), &name("a"), None, 0);
    send_durable(&mut r, "a", "one", "c1", 0);
    r.on_text("a", &send_frame("two", "c2"), 0);
    let log = r.log().clone(); // crash: seq 2 logged, never written to D1
    let mut r = Room::open("lobby", log, Limits::default()).unwrap();
    assert_eq!(
        r.pending().iter().map(|(_, m)| m.seq).collect::<Vec<_>>(),
        [2]
    );
    // Whoever (re)connects sees it, then the write to the history database completes.
    let f = frames_for(&r.join("b".into(), &name("b"), None, 0), "b");
    assert_eq!(seqs_of(&f[0]["messages"]), [1, 2]);
    assert_eq!(f[0]["last_seq"], 2);
    r.durable(2);
    assert!(!r.has_pending());
    // The next message continues the sequence.
    r.on_text("b", &send_frame("three", "d1"), 0);
    assert_eq!(r.last_seq(), 3);
}

#[test]
fn a_failed_history_write_tells_the_sender_and_retries() {
    let mut r = room();
    r.join("a".into(), &name("a"), None, 0);
    r.on_text("a", &send_frame("x", "c1"), 0);
    let e = r.durable_failed(100, 1000);
    let f = frames_for(&e, "a");
    assert_eq!(f[0]["code"], "internal");
    assert_eq!(f[0]["client_id"], "c1");
    assert_eq!(r.next_deadline(), Some(1100));
    assert!(!r.should_flush(500), "no retry before its time");
    assert!(r.should_flush(1100));
    // The sender resends with the same client_id; the ack comes when the write lands.
    assert!(r.on_text("a", &send_frame("x", "c1"), 1200).is_empty());
    let f = frames_for(&r.durable(1), "a");
    assert_eq!(f, [json!({"type":"ack","client_id":"c1","seq":1})]);
    assert_eq!(r.next_deadline(), None);
}

#[test]
fn a_log_failure_is_an_internal_error_and_loses_nothing() {
    let mut r = room();
    r.join("a".into(), &name("a"), None, 0);
    send_durable(&mut r, "a", "x", "c1", 0);
    let mut log = r.log().clone();
    log.fail_writes = true;
    let mut r = Room::open("lobby", log, Limits::default()).unwrap();
    r.restore(
        Attachment {
            id: "a".into(),
            name: "a".into(),
            claim: "a".into(),
            status: Status::Online,
        },
        0,
    );
    let e = r.on_text("a", &send_frame("y", "c2"), 0);
    let f = frames_for(&e, "a");
    assert_eq!(f[0]["code"], "internal");
    assert_eq!(f[0]["client_id"], "c2");
    assert!(e.iter().any(|e| matches!(e, Effect::Log { .. })));
    assert_eq!(r.last_seq(), 1);
    assert!(
        !f[0]["message"].as_str().unwrap().contains("refused"),
        "details stay server-side"
    );
}

fn frame(v: Value) -> String {
    v.to_string()
}

/// A room where Ann (conn "a") wrote seq 1 and Bo (conn "b") listens; both durable.
fn ann_and_bo() -> Room<MemoryLog> {
    let mut r = room();
    r.join("a".into(), &name("Ann"), None, 0);
    r.join("b".into(), &name("Bo"), None, 0);
    send_durable(&mut r, "a", "hello", "c1", 10);
    r
}

#[test]
fn an_edit_changes_the_message_in_place_for_everyone() {
    let mut r = ann_and_bo();
    let e = r.on_text(
        "a",
        &frame(json!({"type":"edit","seq":1,"text":" hello there ","client_id":"e1"})),
        20,
    );
    let f = frames_for(&e, "b");
    assert_eq!(types(&f), ["update"]);
    assert_eq!(f[0]["rev"], 2);
    assert_eq!(f[0]["message"]["seq"], 1);
    assert_eq!(f[0]["message"]["text"], "hello there");
    assert_eq!(f[0]["message"]["edited_ts"], 20);
    assert_eq!(frames_for(&e, "a"), f);
    // The seq stays: the next message is 2, and history shows the edited text.
    assert_eq!(r.last_seq(), 1);
    assert_eq!(r.last_rev(), 2);
    let h = frames_for(&r.on_text("b", r#"{"type":"history"}"#, 30), "b");
    assert_eq!(h[0]["messages"][0]["text"], "hello there");
    // The change waits for the history database like a message does.
    assert_eq!(r.pending().len(), 1);
    assert_eq!(r.pending()[0].0, 2);
    r.durable(2);
    assert!(!r.has_pending());
    // The same edit again changes nothing and answers only its sender.
    let e = r.on_text(
        "a",
        &frame(json!({"type":"edit","seq":1,"text":"hello there"})),
        40,
    );
    assert!(frames_for(&e, "b").is_empty());
    assert_eq!(frames_for(&e, "a")[0]["message"]["edited_ts"], 20);
    assert_eq!(r.last_rev(), 2);
}

#[test]
fn only_the_author_edits_or_deletes_and_only_messages_that_exist() {
    let mut r = ann_and_bo();
    for f in [
        json!({"type":"edit","seq":1,"text":"mine now","client_id":"x"}),
        json!({"type":"delete","seq":1,"client_id":"x"}),
    ] {
        let e = r.on_text("b", &frame(f), 20);
        let got = frames_for(&e, "b");
        assert_eq!(got[0]["code"], "forbidden");
        assert_eq!(got[0]["client_id"], "x");
        assert!(frames_for(&e, "a").is_empty());
    }
    for seq in [0, 2, 99] {
        let e = r.on_text("a", &frame(json!({"type":"edit","seq":seq,"text":"t"})), 20);
        assert_eq!(frames_for(&e, "a")[0]["code"], "not_found");
    }
    let e = r.on_text("a", &frame(json!({"type":"edit","seq":1,"text":"  "})), 20);
    assert_eq!(frames_for(&e, "a")[0]["code"], "invalid_text");
    assert_eq!(r.last_rev(), 1);
    assert!(!r.has_pending());
    // The same name in another tab is the author.
    r.join("a2".into(), &name("ANN"), None, 0);
    let e = r.on_text(
        "a2",
        &frame(json!({"type":"edit","seq":1,"text":"from tab 2"})),
        30,
    );
    assert_eq!(frames_for(&e, "b")[0]["message"]["text"], "from tab 2");
}

#[test]
fn a_delete_leaves_a_tombstone_and_keeps_seqs_gapless() {
    let mut r = ann_and_bo();
    r.on_text(
        "b",
        &frame(json!({"type":"react","seq":1,"emoji":"👍"})),
        15,
    );
    let e = r.on_text("a", &frame(json!({"type":"delete","seq":1})), 20);
    let f = frames_for(&e, "b");
    assert_eq!(
        f[0]["message"],
        json!({"seq":1,"room":"lobby","name":"Ann","text":"","ts":10,"client_id":"c1",
               "reply_to":null,"deleted":true})
    );
    // Deleting again confirms without a change; editing or reacting to it is refused.
    let e = r.on_text("a", &frame(json!({"type":"delete","seq":1})), 21);
    assert_eq!(types(&frames_for(&e, "a")), ["update"]);
    assert!(frames_for(&e, "b").is_empty());
    let e = r.on_text(
        "a",
        &frame(json!({"type":"edit","seq":1,"text":"back"})),
        22,
    );
    assert_eq!(frames_for(&e, "a")[0]["code"], "not_found");
    let e = r.on_text(
        "b",
        &frame(json!({"type":"react","seq":1,"emoji":"🎉"})),
        22,
    );
    assert_eq!(frames_for(&e, "b")[0]["code"], "not_found");
    let e = send_durable(&mut r, "b", "next", "d1", 30);
    assert_eq!(frames_for(&e, "a")[0]["message"]["seq"], 2);
}

#[test]
fn reactions_toggle_per_name_and_list_who_reacted() {
    let mut r = ann_and_bo();
    let react =
        |emoji: &str, on: bool| frame(json!({"type":"react","seq":1,"emoji":emoji,"on":on}));
    r.on_text("a", &react("👍", true), 11);
    let e = r.on_text("b", &react("👍", true), 12);
    assert_eq!(
        frames_for(&e, "a")[0]["message"]["reactions"],
        json!([{"emoji":"👍","count":2,"names":["Ann","Bo"]}])
    );
    // Twice is once.
    let e = r.on_text("b", &react("👍", true), 13);
    assert!(frames_for(&e, "a").is_empty());
    let e = r.on_text("b", &react("🎉", true), 14);
    assert_eq!(
        frames_for(&e, "a")[0]["message"]["reactions"],
        json!([{"emoji":"👍","count":2,"names":["Ann","Bo"]},{"emoji":"🎉","count":1,"names":["Bo"]}])
    );
    r.on_text("a", &react("👍", false), 15);
    let e = r.on_text("b", &react("👍", false), 16);
    assert_eq!(
        frames_for(&e, "a")[0]["message"]["reactions"],
        json!([{"emoji":"🎉","count":1,"names":["Bo"]}])
    );
    // Removing what is not there changes nothing.
    let e = r.on_text("a", &react("🎉", false), 17);
    assert!(frames_for(&e, "b").is_empty());
    for bad in ["", "ok", "a b", "👍👍👍👍👍👍👍👍👍👍👍"] {
        let e = r.on_text("a", &react(bad, true), 18);
        assert_eq!(frames_for(&e, "a")[0]["code"], "bad_frame", "{bad:?}");
    }
    // At most 20 different emoji on one message.
    let emoji: Vec<String> = (0..21)
        .map(|i| char::from_u32(0x1F600 + i).unwrap().to_string())
        .collect();
    let mut codes = Vec::new();
    for e in &emoji {
        let got = frames_for(&r.on_text("a", &react(e, true), 19), "a");
        codes.push(got[0]["type"].as_str().unwrap().to_owned());
    }
    assert_eq!(codes.iter().filter(|c| *c == "update").count(), 19);
    assert_eq!(codes.last().unwrap(), "error");
}

#[test]
fn replies_count_on_their_parent_and_form_its_thread() {
    let mut r = ann_and_bo();
    send_durable(&mut r, "a", "other", "c2", 11);
    let reply = |text: &str, cid: &str| {
        frame(json!({"type":"send","text":text,"client_id":cid,"reply_to":1}))
    };
    let e = r.on_text("b", &reply("re 1", "r1"), 12);
    let f = frames_for(&e, "a");
    assert_eq!(types(&f), ["message", "update"]);
    assert_eq!(f[1]["message"]["seq"], 1);
    assert_eq!(f[1]["message"]["reply_count"], 1);
    r.on_text("a", &reply("re 2", "r2"), 13);
    // A resend of a reply is not another reply.
    let e = r.on_text("b", &reply("re 1", "r1"), 14);
    assert!(frames_for(&e, "a").is_empty());
    let t = frames_for(
        &r.on_text("b", &frame(json!({"type":"thread","seq":1})), 15),
        "b",
    );
    assert_eq!(t[0]["type"], "thread");
    assert_eq!(t[0]["seq"], 1);
    assert_eq!(seqs_of(&t[0]["messages"]), [3, 4]);
    assert_eq!(t[0]["has_more"], false);
    let t = frames_for(
        &r.on_text(
            "b",
            &frame(json!({"type":"thread","seq":1,"after":3,"limit":1})),
            15,
        ),
        "b",
    );
    assert_eq!(seqs_of(&t[0]["messages"]), [4]);
    let t = frames_for(
        &r.on_text("b", &frame(json!({"type":"thread","seq":2})), 15),
        "b",
    );
    assert_eq!(seqs_of(&t[0]["messages"]), Vec::<u64>::new());
    let t = frames_for(
        &r.on_text("b", &frame(json!({"type":"thread","seq":9})), 15),
        "b",
    );
    assert_eq!(t[0]["code"], "not_found");
    let h = frames_for(&r.on_text("b", r#"{"type":"history"}"#, 16), "b");
    assert_eq!(h[0]["messages"][0]["reply_count"], 2);
    assert_eq!(h[0]["messages"][1].get("reply_count"), None);
}

#[test]
fn a_resume_with_rev_brings_older_messages_that_changed() {
    let mut r = ann_and_bo();
    send_durable(&mut r, "a", "two", "c2", 11);
    send_durable(&mut r, "a", "three", "c3", 12);
    // Bo was away after seeing seq 3 at rev 3.
    r.leave("b", 13);
    r.on_text("a", &frame(json!({"type":"edit","seq":2,"text":"TWO"})), 14);
    r.on_text("a", &frame(json!({"type":"delete","seq":1})), 15);
    send_durable(&mut r, "a", "four", "c4", 16);
    let f = frames_for(
        &r.resume("b".into(), &name("Bo"), "bo", Some(3), Some(3), 17),
        "b",
    );
    assert_eq!(f[0]["rev"], 6);
    assert_eq!(seqs_of(&f[0]["messages"]), [4]);
    // In the order they changed, each as it is now.
    assert_eq!(seqs_of(&f[0]["updates"]), [2, 1]);
    assert_eq!(f[0]["updates"][0]["text"], "TWO");
    assert_eq!(f[0]["updates"][1]["deleted"], true);
    assert_eq!(f[0].get("updates_truncated"), None);
    // Nothing changed since: no updates; v1 resumes (no rev) never get any.
    r.leave("b", 18);
    let f = frames_for(
        &r.resume("b".into(), &name("Bo"), "bo", Some(4), Some(6), 19),
        "b",
    );
    assert_eq!(f[0].get("updates"), None);
    r.leave("b", 18);
    let f = frames_for(&r.join("b".into(), &name("Bo"), Some(3), 19), "b");
    assert_eq!(f[0].get("updates"), None);
}

#[test]
fn changes_logged_before_a_crash_reach_the_history_database_after_it() {
    let mut r = ann_and_bo();
    r.on_text(
        "a",
        &frame(json!({"type":"edit","seq":1,"text":"edited"})),
        20,
    );
    let log = r.log().clone(); // crash: the edit (rev 2) logged, never written to D1
    let r = Room::open("lobby", log, Limits::default()).unwrap();
    let pending = r.pending();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].0, 2);
    assert_eq!(pending[0].1.text, "edited");
    assert_eq!(r.last_rev(), 2);
}

fn closes(effects: &[Effect]) -> Vec<(Vec<String>, u16)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Close { ids, code, .. } => Some((ids.clone(), *code)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_first_name_in_a_room_creates_and_moderates_it() {
    let mut r = ann_and_bo();
    assert_eq!(r.creator(), Some("Ann"));
    let f = frames_for(&r.join("c".into(), &name("Cy"), None, 0), "c");
    assert_eq!(f[0]["creator"], "Ann");
    // Others may not moderate.
    for frame in [
        json!({"type":"kick","name":"Ann"}),
        json!({"type":"ban","name":"Ann"}),
        json!({"type":"unban","name":"Ann"}),
    ] {
        let e = r.on_text("b", &frame.to_string(), 1);
        assert_eq!(frames_for(&e, "b")[0]["code"], "forbidden", "{frame}");
    }
    // The creator may delete anyone's message, and that is audited.
    send_durable(&mut r, "b", "spam", "s1", 5);
    let e = r.on_text("a", &frame(json!({"type":"delete","seq":2})), 6);
    let f = frames_for(&e, "c");
    assert_eq!(types(&f), ["update", "moderation"]);
    assert_eq!(f[0]["message"]["deleted"], true);
    assert_eq!(
        f[1],
        json!({"type":"moderation","action":"delete","by":"Ann","name":"Bo","seq":2,"ts":6})
    );
    assert_eq!(r.pending_audit().len(), 1);
    // Deleting one's own message is not moderation.
    let e = r.on_text("a", &frame(json!({"type":"delete","seq":1})), 7);
    assert_eq!(types(&frames_for(&e, "c")), ["update"]);
    assert_eq!(r.pending_audit().len(), 1);
    r.audit_durable(1);
    assert!(r.pending_audit().is_empty());
}

#[test]
fn a_kick_closes_every_connection_of_the_name_and_it_may_come_back() {
    let mut r = ann_and_bo();
    r.join("b2".into(), &name("bo"), None, 0);
    let e = r.on_text("a", &frame(json!({"type":"kick","name":"BO"})), 10);
    let f = frames_for(&e, "a");
    assert_eq!(types(&f), ["moderation", "user_left"]);
    assert_eq!(f[0]["action"], "kick");
    assert_eq!(f[0]["name"], "Bo");
    assert_eq!(
        frames_for(&e, "b")[0]["type"],
        "moderation",
        "the kicked hear why"
    );
    assert_eq!(
        closes(&e),
        [(vec!["b".to_owned(), "b2".to_owned()], CLOSE_REMOVED)]
    );
    assert_eq!(r.users().len(), 1);
    assert!(r.refusal_for(&name("Bo"), 11).is_none());
    let e = r.on_text("a", &frame(json!({"type":"kick","name":"Bo"})), 12);
    assert_eq!(frames_for(&e, "a")[0]["code"], "not_found");
    let e = r.on_text("a", &frame(json!({"type":"kick","name":"ann"})), 12);
    assert_eq!(frames_for(&e, "a")[0]["code"], "bad_frame");
}

#[test]
fn a_ban_refuses_the_name_until_it_runs_out_or_is_lifted_and_survives_a_restart() {
    let mut r = ann_and_bo();
    let e = r.on_text(
        "a",
        &frame(json!({"type":"ban","name":"Bo","minutes":2,"reason":" spam "})),
        1_000,
    );
    let f = frames_for(&e, "a");
    assert_eq!(
        f[0],
        json!({"type":"moderation","action":"ban","by":"Ann","name":"Bo","until":121_000,
               "reason":"spam","ts":1_000})
    );
    assert_eq!(closes(&e).len(), 1);
    let refusal = r.refusal_for(&name("bo"), 2_000).unwrap();
    assert_eq!(refusal.code, ErrorCode::Banned);
    assert_eq!(
        refusal.message,
        "bo is banned from this room by Ann for 2 more minutes (reason: spam)"
    );
    assert!(r.refusal_for(&name("Cy"), 2_000).is_none());
    assert!(r.refusal_for(&name("Bo"), 121_000).is_none(), "it runs out");
    // A name not present can be banned ahead; a restart keeps bans and the creator.
    r.on_text("a", &frame(json!({"type":"ban","name":"Dee"})), 3_000);
    let log = r.log().clone();
    let mut r = Room::open("lobby", log, Limits::default()).unwrap();
    assert_eq!(r.creator(), Some("Ann"));
    assert!(r.refusal_for(&name("Dee"), 4_000).is_some());
    assert_eq!(r.pending_audit().len(), 2);
    r.join("a".into(), &name("Ann"), None, 5_000);
    let e = r.on_text("a", &frame(json!({"type":"unban","name":"dee"})), 5_000);
    assert_eq!(frames_for(&e, "a")[0]["action"], "unban");
    assert!(r.refusal_for(&name("Dee"), 5_001).is_none());
    let e = r.on_text("a", &frame(json!({"type":"unban","name":"dee"})), 5_000);
    assert_eq!(frames_for(&e, "a")[0]["code"], "not_found");
    for bad in [
        json!({"type":"ban","name":"Bo","minutes":0}),
        json!({"type":"ban","name":"Bo","minutes":525_601}),
        json!({"type":"ban","name":"","minutes":5}),
        json!({"type":"ban","name":"Bo","reason":"x".repeat(201)}),
    ] {
        let e = r.on_text("a", &frame(bad.clone()), 6_000);
        assert_eq!(frames_for(&e, "a")[0]["code"], "bad_frame", "{bad}");
    }
}

#[test]
fn read_positions_move_forward_reach_other_tabs_and_come_back_in_the_welcome() {
    let mut r = ann_and_bo();
    for i in 2..=5 {
        send_durable(&mut r, "a", "more", &format!("c{i}"), i);
    }
    r.join("b2".into(), &name("BO"), None, 0);
    let e = r.on_text("b", &frame(json!({"type":"read","seq":3})), 10);
    assert!(frames_for(&e, "b").is_empty());
    assert_eq!(frames_for(&e, "b2"), [json!({"type":"read","seq":3})]);
    assert!(frames_for(&e, "a").is_empty(), "nobody else learns it");
    // Never backwards, never beyond the last seq.
    assert!(r
        .on_text("b", &frame(json!({"type":"read","seq":2})), 11)
        .is_empty());
    let e = r.on_text("b2", &frame(json!({"type":"read","seq":99})), 12);
    assert_eq!(frames_for(&e, "b"), [json!({"type":"read","seq":5})]);
    assert_eq!(r.pending_reads(), [("bo".to_owned(), 5)]);
    r.reads_durable(&[("bo".to_owned(), 5)]);
    assert!(r.pending_reads().is_empty());
    // A later welcome, in this instance or after a restart, carries it.
    let f = frames_for(&r.join("b3".into(), &name("Bo"), None, 13), "b3");
    assert_eq!(f[0]["read_seq"], 5);
    let log = r.log().clone();
    let mut r = Room::open("lobby", log, Limits::default()).unwrap();
    let f = frames_for(&r.join("b".into(), &name("bo"), None, 14), "b");
    assert_eq!(f[0]["read_seq"], 5);
    let f = frames_for(&r.join("c".into(), &name("Cy"), None, 14), "c");
    assert_eq!(f[0]["read_seq"], 0);
}

fn file(id: &str) -> FileRef {
    FileRef {
        id: id.into(),
        filename: "cat.png".into(),
        content_type: "image/png".into(),
        size: 10,
    }
}

#[test]
fn a_file_is_attached_once_by_its_uploader_and_deleted_with_its_message() {
    let mut r = ann_and_bo();
    r.add_file("ann", &file("f1"), 0).unwrap();
    let send = |cid: &str, f: &str| {
        frame(json!({"type":"send","text":"look","client_id":cid,"attachment":f}))
    };
    // Someone else's file, or an unknown one, is not attachable.
    let e = r.on_text("b", &send("b1", "f1"), 20);
    let got = frames_for(&e, "b");
    assert_eq!(got[0]["code"], "not_found");
    assert_eq!(got[0]["client_id"], "b1");
    let e = r.on_text("a", &send("a0", "nope"), 20);
    assert_eq!(frames_for(&e, "a")[0]["code"], "not_found");
    // The uploader attaches it; everyone gets it with the message.
    let e = r.on_text("a", &send("a1", "f1"), 21);
    let m = &frames_for(&e, "b")[0]["message"];
    assert_eq!(m["seq"], 2);
    assert_eq!(
        m["attachment"],
        json!({"id":"f1","filename":"cat.png","content_type":"image/png","size":10})
    );
    // A resend is the same message; another send cannot take the same file.
    let e = r.on_text("a", &send("a1", "f1"), 22);
    assert!(frames_for(&e, "b").is_empty());
    let e = r.on_text("a", &send("a2", "f1"), 22);
    assert_eq!(frames_for(&e, "a")[0]["code"], "not_found");
    assert_eq!(r.last_seq(), 2);
    // Deleting the message drops the file from it and asks the shell to delete it.
    let e = r.on_text("a", &frame(json!({"type":"delete","seq":2})), 23);
    assert!(e.contains(&Effect::DeleteFile { id: "f1".into() }));
    assert_eq!(frames_for(&e, "b")[0]["message"].get("attachment"), None);
}

#[test]
fn in_a_direct_message_the_other_name_sees_how_far_you_read() {
    let limits = Limits {
        burst: 1e9,
        per_sec: 1e9,
        ..Limits::default()
    };
    let mut r = Room::open("dm--abc", MemoryLog::default(), limits).unwrap();
    r.join("a".into(), &name("Ann"), None, 0);
    r.join("b".into(), &name("Bo"), None, 0);
    send_durable(&mut r, "a", "hi Bo", "c1", 1);
    let e = r.on_text("b", &frame(json!({"type":"read","seq":1})), 2);
    assert_eq!(
        frames_for(&e, "a"),
        [json!({"type":"read","seq":1,"name":"Bo"})]
    );
    r.leave("a", 3);
    let f = frames_for(&r.join("a".into(), &name("Ann"), None, 4), "a");
    assert_eq!(f[0]["peer_read_seq"], 1);
    // Outside direct messages nobody else learns it, and the welcome has no such field.
    let mut r = ann_and_bo();
    let e = r.on_text("b", &frame(json!({"type":"read","seq":1})), 2);
    assert!(frames_for(&e, "a").is_empty());
    let f = frames_for(&r.join("c".into(), &name("Cy"), None, 4), "c");
    assert_eq!(f[0].get("peer_read_seq"), None);
}

/// Joins `conn` as `display` under the claim `claim` (a person, not just a name).
fn join_as(r: &mut Room<MemoryLog>, conn: &str, display: &str, claim: &str) -> Vec<Effect> {
    r.resume(conn.into(), &name(display), claim, None, None, 0)
}

#[test]
fn a_name_claimed_again_is_a_new_person_who_inherits_nothing() {
    let mut r = room();
    join_as(&mut r, "ann1", "Ann", "claim-1");
    join_as(&mut r, "bo", "Bo", "claim-bo");
    send_durable(&mut r, "ann1", "mine", "c1", 1);
    r.on_text("ann1", &frame(json!({"type":"read","seq":1})), 2);
    r.add_file("claim-1", &file("f1"), 0).unwrap();
    r.leave("ann1", 3);
    // Ann released the name; someone else claims "ann" and walks in.
    let e = join_as(&mut r, "ann2", "ann", "claim-2");
    let welcome = &frames_for(&e, "ann2")[0];
    assert_eq!(
        welcome["read_seq"], 0,
        "the old holder's read position stays hers"
    );
    assert_eq!(
        welcome["owner"], "Ann",
        "old messages keep the name they were sent under"
    );
    assert_eq!(
        welcome["role"],
        Value::Null,
        "the room's ownership stays with the old claim"
    );
    for f in [
        json!({"type":"edit","seq":1,"text":"hijacked","client_id":"e1"}),
        json!({"type":"delete","seq":1,"client_id":"d1"}),
    ] {
        let got = frames_for(&r.on_text("ann2", &frame(f), 4), "ann2");
        assert_eq!(got[0]["code"], "forbidden", "{got:?}");
    }
    let e = r.on_text("ann2", &frame(json!({"type":"kick","name":"Bo"})), 4);
    assert_eq!(frames_for(&e, "ann2")[0]["code"], "forbidden");
    assert!(closes(&e).is_empty(), "Bo stays");
    let e = r.on_text(
        "ann2",
        &frame(json!({"type":"send","text":"x","client_id":"s1","attachment":"f1"})),
        4,
    );
    assert_eq!(
        frames_for(&e, "ann2")[0]["code"],
        "not_found",
        "not her file"
    );
    assert_eq!(r.log().get(1).unwrap().unwrap().message.text, "mine");
    // The old holder, back with her claim, still has all of it.
    let e = join_as(&mut r, "ann3", "Ann", "claim-1");
    assert_eq!(frames_for(&e, "ann3")[0]["read_seq"], 1);
    assert_eq!(frames_for(&e, "ann3")[0]["role"], "owner");
    let e = r.on_text(
        "ann3",
        &frame(json!({"type":"edit","seq":1,"text":"still mine","client_id":"e2"})),
        5,
    );
    assert_eq!(frames_for(&e, "bo")[0]["type"], "update");
}

#[test]
fn the_owner_appoints_and_dismisses_moderators_who_moderate_but_do_not_appoint() {
    let mut r = room();
    join_as(&mut r, "ann", "Ann", "c-ann");
    join_as(&mut r, "bo", "Bo", "c-bo");
    join_as(&mut r, "cy", "Cy", "c-cy");
    let spam = send_durable(&mut r, "cy", "spam", "s1", 1);
    assert_eq!(frames_for(&spam, "cy")[0]["message"]["seq"], 1);
    // Only the owner appoints; only connected names can be appointed.
    let e = r.on_text("bo", &frame(json!({"type":"appoint","name":"Bo"})), 2);
    assert_eq!(frames_for(&e, "bo")[0]["code"], "forbidden");
    let e = r.on_text("ann", &frame(json!({"type":"appoint","name":"Nobody"})), 2);
    assert_eq!(frames_for(&e, "ann")[0]["code"], "not_found");
    let e = r.on_text("ann", &frame(json!({"type":"appoint","name":"bo"})), 2);
    assert_eq!(
        frames_for(&e, "cy")[0],
        json!({"type":"roles","owner":"Ann","moderators":["Bo"]})
    );
    assert_eq!(r.role_of("c-bo"), Some(Role::Moderator));
    // A moderator deletes anyone's message and kicks, but not the owner, and appoints nobody.
    let e = r.on_text("bo", &frame(json!({"type":"delete","seq":1})), 3);
    assert!(frames_for(&e, "cy")
        .iter()
        .any(|f| f["type"] == "moderation"));
    let e = r.on_text("bo", &frame(json!({"type":"kick","name":"Ann"})), 3);
    assert_eq!(frames_for(&e, "bo")[0]["code"], "forbidden");
    let e = r.on_text(
        "bo",
        &frame(json!({"type":"ban","name":"ann","minutes":5})),
        3,
    );
    assert_eq!(frames_for(&e, "bo")[0]["code"], "forbidden");
    let e = r.on_text("bo", &frame(json!({"type":"appoint","name":"Cy"})), 3);
    assert_eq!(frames_for(&e, "bo")[0]["code"], "forbidden");
    let e = r.on_text("bo", &frame(json!({"type":"kick","name":"Cy"})), 3);
    assert_eq!(closes(&e), vec![(vec!["cy".to_string()], CLOSE_REMOVED)]);
    // A restart keeps the roles; the welcome says who runs the room.
    let log = r.log().clone();
    let mut r = Room::open("lobby", log, Limits::default()).unwrap();
    let e = join_as(&mut r, "bo2", "Bo", "c-bo");
    let w = &frames_for(&e, "bo2")[0];
    assert_eq!(
        (&w["owner"], &w["moderators"], &w["role"]),
        (&json!("Ann"), &json!(["Bo"]), &json!("moderator"))
    );
    join_as(&mut r, "ann", "Ann", "c-ann");
    let e = r.on_text("ann", &frame(json!({"type":"dismiss","name":"BO"})), 4);
    assert_eq!(frames_for(&e, "bo2")[0]["moderators"], json!([]));
    join_as(&mut r, "cy", "Cy", "c-cy");
    let e = r.on_text("bo2", &frame(json!({"type":"kick","name":"Cy"})), 5);
    assert_eq!(frames_for(&e, "bo2")[0]["code"], "forbidden");
    let e = r.on_text("ann", &frame(json!({"type":"dismiss","name":"Cy"})), 5);
    assert_eq!(frames_for(&e, "ann")[0]["code"], "not_found");
}

#[test]
fn a_room_is_made_once_by_its_maker_and_a_direct_message_has_no_owner() {
    let mut r = room();
    let ann = Member {
        claim: "c-ann".into(),
        name: "Ann".into(),
    };
    assert_eq!(r.make(ann.clone()), Ok(()));
    assert_eq!(r.make(ann.clone()), Ok(()), "a retry of the same making");
    let mallory = Member {
        claim: "c-m".into(),
        name: "Mallory".into(),
    };
    assert_eq!(
        r.make(mallory.clone()).unwrap_err().code,
        ErrorCode::RoomExists
    );
    // Whoever connects first, the maker owns it.
    let e = join_as(&mut r, "m", "Mallory", "c-m");
    assert_eq!(frames_for(&e, "m")[0]["owner"], "Ann");
    assert_eq!(frames_for(&e, "m")[0]["role"], Value::Null);
    // A room that someone entered first exists: it cannot be made by another.
    let mut squatted = room();
    join_as(&mut squatted, "m", "Mallory", "c-m");
    assert_eq!(squatted.make(ann).unwrap_err().code, ErrorCode::RoomExists);

    let mut dm = Room::open("dm--0123", MemoryLog::default(), Limits::default()).unwrap();
    let e = join_as(&mut dm, "a", "Ann", "c-ann");
    assert_eq!(frames_for(&e, "a")[0]["owner"], Value::Null);
    join_as(&mut dm, "b", "Bo", "c-bo");
    for f in [
        json!({"type":"kick","name":"Bo"}),
        json!({"type":"ban","name":"Bo"}),
        json!({"type":"appoint","name":"Bo"}),
    ] {
        let e = dm.on_text("a", &frame(f), 1);
        assert_eq!(frames_for(&e, "a")[0]["code"], "forbidden");
        assert!(closes(&e).is_empty());
    }
    assert_eq!(dm.make(mallory).unwrap_err().code, ErrorCode::RoomExists);
}

#[test]
fn reactions_count_every_claim_list_the_first_few_and_mark_the_viewers_own() {
    let mut r = ann_and_bo();
    r.set_bounds(Bounds {
        reaction_names: 3,
        ..Bounds::default()
    });
    let react =
        |emoji: &str, on: bool| frame(json!({"type":"react","seq":1,"emoji":emoji,"on":on}));
    for i in 0..8 {
        let conn = format!("x{i}");
        r.join(conn.as_str().into(), &name(&format!("x{i}")), None, 11);
        r.on_text(&conn, &react("👍", true), 12);
    }
    let e = r.on_text("b", &react("👍", true), 13);
    let f = frames_for(&e, "a");
    // Nine reacted: the count is exact, the names are the first three.
    assert_eq!(
        f[0]["message"]["reactions"],
        json!([{"emoji":"👍","count":9,"names":["x0","x1","x2"]}])
    );
    // The broadcast says whose reaction changed; it marks nothing as anyone's.
    assert_eq!(
        f[0]["reaction"],
        json!({"emoji":"👍","name":"Bo","on":true})
    );
    // A page for Bo marks Bo's reaction, though Bo is not among the names listed.
    let e = r.on_text("b", &frame(json!({"type":"history","limit":10})), 14);
    let page = &frames_for(&e, "b")[0];
    assert_eq!(page["messages"][0]["reactions"][0]["mine"], true);
    let e = r.on_text("a", &frame(json!({"type":"history","limit":10})), 14);
    assert_eq!(
        frames_for(&e, "a")[0]["messages"][0]["reactions"][0].get("mine"),
        None
    );
    // So does a welcome, and the answer to a reaction that changes nothing.
    let w = frames_for(&r.join("b2".into(), &name("Bo"), None, 15), "b2");
    assert_eq!(w[0]["messages"][0]["reactions"][0]["mine"], true);
    let e = r.on_text("b", &react("👍", true), 16);
    assert_eq!(
        frames_for(&e, "b")[0]["message"]["reactions"][0]["mine"],
        true
    );
    assert!(frames_for(&e, "a").is_empty());
    // Taking back one's own reaction works whether or not one is listed.
    let e = r.on_text("b", &react("👍", false), 17);
    assert_eq!(
        frames_for(&e, "a")[0]["message"]["reactions"],
        json!([{"emoji":"👍","count":8,"names":["x0","x1","x2"]}])
    );
    let e = r.on_text("x0", &react("👍", false), 18);
    assert_eq!(
        frames_for(&e, "a")[0]["message"]["reactions"],
        json!([{"emoji":"👍","count":7,"names":["x1","x2","x3"]}])
    );
    // The log stores the message without anyone's mark.
    let stored = r.log().get(1).unwrap().unwrap().message;
    assert!(stored.reactions.iter().all(|x| !x.mine));
    // Deleting the message forgets who reacted.
    r.on_text("a", &frame(json!({"type":"delete","seq":1})), 19);
    assert!(r.log().reactions.is_empty());
}

#[test]
fn welcome_and_history_frames_stay_within_the_budget_and_page_the_rest() {
    let mut r = room();
    r.join("a".into(), &name("Ann"), None, 0);
    let long = "é".repeat(4000);
    for i in 0..60 {
        send_durable(&mut r, "a", &long, &format!("c{i}"), i);
    }
    let budget = r.bounds().frame_budget;
    let e = r.join("b".into(), &name("Bo"), None, 100);
    let (w, text) = e
        .iter()
        .find_map(|e| match e {
            Effect::Send { to, frame } if to.includes("b") => {
                Some((serde_json::from_str::<Value>(frame).unwrap(), frame.len()))
            }
            _ => None,
        })
        .unwrap();
    assert!(text <= budget, "{text} > {budget}");
    let shown = seqs_of(&w["messages"]);
    assert!(shown.len() < 50 && !shown.is_empty());
    assert_eq!(*shown.last().unwrap(), 60, "the welcome keeps the newest");
    assert_eq!(w["has_more"], true);
    // Scrolling back pages through every message exactly once, each frame in budget.
    let mut seen = shown.clone();
    let mut before = shown[0];
    loop {
        let e = r.on_text(
            "b",
            &frame(json!({"type":"history","before":before,"limit":100})),
            101,
        );
        let Some(Effect::Send { frame: text, .. }) = e.first() else {
            panic!("no answer");
        };
        assert!(text.len() <= budget);
        let page: Value = serde_json::from_str(text).unwrap();
        let seqs = seqs_of(&page["messages"]);
        assert!(!seqs.is_empty());
        before = seqs[0];
        seen.extend(seqs);
        if page["has_more"] == false {
            break;
        }
    }
    seen.sort();
    assert_eq!(seen, (1..=60).collect::<Vec<_>>());
    // A resume keeps the oldest it missed and says more follow.
    let e = r.join("c".into(), &name("Cy"), Some(0), 102);
    let w = &frames_for(&e, "c")[0];
    assert_eq!(seqs_of(&w["messages"])[0], 1);
    assert_eq!(w["has_more"], true);
}

#[test]
fn unattached_uploads_are_swept_after_their_lifetime_and_attached_ones_stay() {
    let mut r = ann_and_bo();
    r.set_bounds(Bounds {
        upload_ttl_ms: 1000,
        ..Bounds::default()
    });
    assert_eq!(r.next_deadline(), None, "no upload, no alarm");
    r.add_file("ann", &file("kept"), 100).unwrap();
    r.add_file("ann", &file("lost"), 200).unwrap();
    assert_eq!(r.next_deadline(), Some(1100));
    let e = r.on_text(
        "a",
        &frame(json!({"type":"send","text":"here","client_id":"k","attachment":"kept"})),
        300,
    );
    assert_eq!(frames_for(&e, "b")[0]["type"], "message");
    assert!(!r.sweep_due(1099));
    // The attached file is not due; the other is, once its second is up.
    let (ids, _) = r.expired_uploads(1100);
    assert!(ids.is_empty());
    assert_eq!(r.next_deadline(), Some(1200));
    let (ids, _) = r.expired_uploads(1200);
    assert_eq!(ids, ["lost"]);
    // While its bytes are being deleted, nobody can attach it.
    let e = r.on_text(
        "a",
        &frame(json!({"type":"send","text":"late","client_id":"l","attachment":"lost"})),
        1201,
    );
    assert_eq!(frames_for(&e, "a")[0]["code"], "not_found");
    // A failed delete is tried again a minute later; a done one is forgotten.
    r.uploads_swept(&[], &["lost".to_owned()], 1202);
    assert_eq!(r.next_deadline(), Some(1202 + 60_000));
    let (ids, _) = r.expired_uploads(61_202);
    assert_eq!(ids, ["lost"]);
    r.uploads_swept(&["lost".to_owned()], &[], 61_203);
    assert!(r.log().file("lost").unwrap().is_none());
    assert!(r.log().file("kept").unwrap().is_some());
    assert_eq!(r.next_deadline(), None, "nothing left to sweep: no alarm");
}

// --- Abuse: caps, shared buckets, strikes, coalescing ---------------------------------

fn limited(burst: f64, per_sec: f64) -> Room<MemoryLog> {
    let limits = Limits {
        burst,
        per_sec,
        ..Limits::default()
    };
    Room::open("lobby", MemoryLog::default(), limits).unwrap()
}

fn codes(effects: &[Effect], conn: &str) -> Vec<String> {
    frames_for(effects, conn)
        .iter()
        .filter(|f| f["type"] == "error")
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_bucket_belongs_to_the_claim_reconnects_and_tabs_refill_nothing() {
    let mut r = limited(3.0, 1.0);
    join_as(&mut r, "m1", "Mal", "claim-mal");
    join_as(&mut r, "v", "Vic", "claim-vic");
    for i in 0..3 {
        r.on_text("m1", &send_frame("x", &format!("a{i}")), 1000);
    }
    assert_eq!(
        codes(&r.on_text("m1", &send_frame("x", "a3"), 1000), "m1"),
        ["rate_limited"]
    );
    // A second tab of the claim shares the empty bucket.
    join_as(&mut r, "m2", "Mal", "claim-mal");
    assert_eq!(
        codes(&r.on_text("m2", &send_frame("x", "b0"), 1000), "m2"),
        ["rate_limited"]
    );
    // Closing every socket and coming back refills nothing either.
    r.leave("m1", 1000);
    r.leave("m2", 1000);
    assert_eq!(r.buckets_kept(), 2, "the empty bucket outlives its sockets");
    join_as(&mut r, "m3", "Mal", "claim-mal");
    assert_eq!(
        codes(&r.on_text("m3", &send_frame("x", "c0"), 1000), "m3"),
        ["rate_limited"]
    );
    // Another claim is untouched.
    let e = r.on_text("v", &send_frame("y", "v0"), 1000);
    assert_eq!(types(&frames_for(&e, "v")), ["message"]);
    // Time refills it as usual.
    let e = r.on_text("m3", &send_frame("x", "c0"), 2000);
    assert_eq!(types(&frames_for(&e, "m3")), ["message"]);
    // Once a claim with no socket has a full bucket again, the room forgets it.
    r.leave("m3", 2000);
    assert_eq!(r.buckets_kept(), 2);
    r.leave("v", 10_000);
    assert_eq!(r.buckets_kept(), 0, "bounded memory");
}

#[test]
fn refused_frames_take_tokens_too_large_and_binary_included() {
    let mut r = limited(3.0, 1.0);
    r.join("a".into(), &name("a"), None, 0);
    let huge = format!(
        r#"{{"type":"send","text":"{}","client_id":"big"}}"#,
        "x".repeat(edgechat_protocol::MAX_FRAME_BYTES)
    );
    let f = frames_for(&r.on_text("a", &huge, 0), "a");
    assert_eq!(f[0]["code"], "too_large");
    assert_eq!(f[0]["client_id"], "big", "found without parsing the frame");
    assert_eq!(codes(&r.on_binary("a", 20, 0), "a"), ["bad_frame"]);
    assert_eq!(codes(&r.on_text("a", "{nope", 0), "a"), ["bad_frame"]);
    // Three tokens spent on refusals: the next frame waits.
    let f = frames_for(&r.on_text("a", &send_frame("x", "c1"), 0), "a");
    assert_eq!(f[0]["code"], "rate_limited");
    assert_eq!(f[0]["client_id"], "c1");
    assert_eq!(f[0]["retry_after_ms"], 1000);
    // A too-large frame while limited is rate_limited, with its client_id.
    let f = frames_for(&r.on_text("a", &huge, 10), "a");
    assert_eq!(f[0]["code"], "rate_limited");
    assert_eq!(f[0]["client_id"], "big");
}

#[test]
fn a_flood_without_client_ids_is_told_the_wait_once_per_wait() {
    let mut r = limited(2.0, 2.0);
    r.join("a".into(), &name("a"), None, 0);
    let typing = r#"{"type":"typing","on":true}"#;
    r.on_text("a", typing, 0);
    r.on_text("a", typing, 0);
    let f = frames_for(&r.on_text("a", typing, 0), "a");
    assert_eq!(f[0]["code"], "rate_limited");
    assert_eq!(f[0]["retry_after_ms"], 500);
    for t in [1, 100, 499] {
        assert!(
            r.on_text("a", typing, t).is_empty(),
            "silent within the wait"
        );
    }
    // A frame with a client_id always gets its answer: its sender waits for it.
    assert_eq!(
        codes(&r.on_text("a", &send_frame("x", "c1"), 499), "a"),
        ["rate_limited"]
    );
    // Past the wait the bucket refilled (2 tokens); the next flood is told again.
    assert!(codes(&r.on_text("a", typing, 1000), "a").is_empty());
    assert!(codes(&r.on_text("a", typing, 1000), "a").is_empty());
    assert_eq!(codes(&r.on_text("a", typing, 1000), "a"), ["rate_limited"]);
}

#[test]
fn a_frame_far_over_the_limit_weighs_as_many_strikes_as_its_size() {
    let mut r = Room::open("lobby", MemoryLog::default(), Limits::default()).unwrap();
    r.join("a".into(), &name("a"), None, 0);
    r.join("b".into(), &name("b"), None, 0);
    // Just over the limit: one strike, the socket stays.
    let over = format!(
        r#"{{"type":"send","text":"{}","client_id":"o"}}"#,
        "x".repeat(edgechat_protocol::MAX_FRAME_BYTES)
    );
    let e = r.on_text("a", &over, 0);
    assert_eq!(codes(&e, "a"), ["too_large"]);
    assert!(closes(&e).is_empty());
    // 1 MiB is 64 times the limit, more than a minute's strikes: answered (with its
    // client_id), then closed.
    let huge = format!(
        r#"{{"type":"send","text":"{}","client_id":"big"}}"#,
        "x".repeat(1 << 20)
    );
    let e = r.on_text("a", &huge, 1);
    let f = frames_for(&e, "a");
    assert_eq!(
        (f[0]["code"].as_str(), f[0]["client_id"].as_str()),
        (Some("too_large"), Some("big"))
    );
    assert_eq!(closes(&e), [(vec!["a".to_owned()], CLOSE_POLICY)]);
    assert!(types(&frames_for(&e, "b")).contains(&"user_left"));
}

#[test]
fn a_silent_flood_is_still_struck_and_closed() {
    let limits = Limits {
        burst: 1.0,
        per_sec: 1.0,
        refused_per_min: 5,
        ..Limits::default()
    };
    let mut r = Room::open("lobby", MemoryLog::default(), limits).unwrap();
    r.join("a".into(), &name("a"), None, 0);
    r.join("b".into(), &name("b"), None, 0);
    let typing = r#"{"type":"typing","on":true}"#;
    r.on_text("a", typing, 0);
    // Told the wait once (strike 1), then silent: each silent refusal is a strike too.
    assert_eq!(codes(&r.on_text("a", typing, 1), "a"), ["rate_limited"]);
    for t in 2..6 {
        assert!(r.on_text("a", typing, t).is_empty(), "silent at {t}");
    }
    let e = r.on_text("a", typing, 6);
    assert_eq!(closes(&e), [(vec!["a".to_owned()], CLOSE_POLICY)]);
    // The others see it leave (and stop typing).
    assert!(types(&frames_for(&e, "b")).contains(&"user_left"));
}

#[test]
fn too_many_refused_frames_close_the_socket_with_1008() {
    let limits = Limits {
        burst: 1e9,
        per_sec: 1e9,
        refused_per_min: 3,
        ..Limits::default()
    };
    let mut r = Room::open("lobby", MemoryLog::default(), limits).unwrap();
    r.join("bad".into(), &name("Bad"), None, 0);
    r.join("ok".into(), &name("Ok"), None, 0);
    for t in 0..3 {
        let e = r.on_text("bad", "garbage", t);
        assert_eq!(codes(&e, "bad"), ["bad_frame"]);
        assert!(closes(&e).is_empty());
    }
    // Accepted frames are no strikes.
    r.on_text("bad", r#"{"type":"typing","on":false}"#, 4);
    let e = r.on_text("bad", "garbage", 5);
    assert_eq!(
        codes(&e, "bad"),
        ["bad_frame"],
        "one last error frame, then the close"
    );
    assert_eq!(closes(&e), [(vec!["bad".to_owned()], CLOSE_POLICY)]);
    assert!(e
        .iter()
        .any(|e| matches!(e, Effect::Close { reason, .. } if reason == "too many refused frames")));
    assert_eq!(types(&frames_for(&e, "ok")), ["user_left"]);
    // The room has let it go: more frames from it do nothing.
    assert!(r.on_text("bad", "garbage", 6).is_empty());
    // A new minute is a new count.
    r.join("slow".into(), &name("Slow"), None, 0);
    for t in [0, 1, 2, 60_000, 60_001, 60_002] {
        assert!(closes(&r.on_text("slow", "garbage", t)).is_empty());
    }
    // rate_limited answers are strikes too.
    let limits = Limits {
        burst: 1.0,
        per_sec: 0.001,
        refused_per_min: 2,
        ..Limits::default()
    };
    let mut r = Room::open("lobby", MemoryLog::default(), limits).unwrap();
    r.join("a".into(), &name("a"), None, 0);
    r.on_text("a", &send_frame("x", "c0"), 0);
    r.on_text("a", &send_frame("x", "c1"), 0);
    r.on_text("a", &send_frame("x", "c2"), 0);
    let e = r.on_text("a", &send_frame("x", "c3"), 0);
    assert_eq!(codes(&e, "a"), ["rate_limited"]);
    assert_eq!(closes(&e), [(vec!["a".to_owned()], CLOSE_POLICY)]);
}

#[test]
fn every_error_carries_the_refused_frames_client_id() {
    let mut r = ann_and_bo();
    let cases = [
        json!({"type":"history","limit":101,"client_id":"h1"}),
        json!({"type":"thread","seq":99,"client_id":"t1"}),
        json!({"type":"kick","name":"Ann","client_id":"k1"}),
        json!({"type":"appoint","name":"Nobody","client_id":"p1"}),
        json!({"type":"unban","name":"Nobody","client_id":"u1"}),
        json!({"type":"nope","client_id":"n1"}),
    ];
    for case in cases {
        let f = frames_for(&r.on_text("b", &frame(case.clone()), 5), "b");
        assert_eq!(f.len(), 1, "{case}");
        assert_eq!(f[0]["type"], "error", "{case}");
        assert_eq!(f[0]["client_id"], case["client_id"], "{case}");
    }
    // Without one, none.
    let f = frames_for(
        &r.on_text("b", &frame(json!({"type":"thread","seq":99})), 5),
        "b",
    );
    assert_eq!(f[0].get("client_id"), None);
}

#[test]
fn admission_caps_sockets_per_claim_and_per_room() {
    let limits = Limits {
        sockets_per_claim: 2,
        sockets_per_room: 4,
        ..Limits::default()
    };
    let mut r = Room::open("lobby", MemoryLog::default(), limits).unwrap();
    let ann = name("Ann");
    assert_eq!(r.admission(&ann, Some("claim-ann"), 0), None);
    join_as(&mut r, "a1", "Ann", "claim-ann");
    join_as(&mut r, "a2", "Ann", "claim-ann");
    let refusal = r.admission(&ann, Some("claim-ann"), 0).unwrap();
    assert_eq!(refusal.code, ErrorCode::TooManySockets);
    assert!(
        refusal.message.contains("2 connections"),
        "{}",
        refusal.message
    );
    // The plain HTTP probe, which proves no claim, counts the name's sockets.
    assert_eq!(
        r.admission(&ann, None, 0).map(|r| r.code),
        Some(ErrorCode::TooManySockets)
    );
    // One closes: a slot is free again.
    r.leave("a2", 0);
    assert_eq!(r.admission(&ann, Some("claim-ann"), 0), None);
    // The room's cap counts everyone.
    join_as(&mut r, "b", "Bo", "claim-bo");
    join_as(&mut r, "c", "Cy", "claim-cy");
    join_as(&mut r, "d", "Di", "claim-di");
    let refusal = r.admission(&name("Ed"), Some("claim-ed"), 0).unwrap();
    assert_eq!(refusal.code, ErrorCode::TooManySockets);
    assert!(refusal.message.contains("full"), "{}", refusal.message);
    // Restored sockets (after a wake) count the same.
    let mut woken = Room::open("lobby", MemoryLog::default(), limits).unwrap();
    for (id, claim) in [("a1", "claim-ann"), ("a2", "claim-ann")] {
        woken.restore(
            Attachment {
                id: id.into(),
                name: "Ann".into(),
                claim: claim.into(),
                status: Status::Online,
            },
            0,
        );
    }
    assert_eq!(
        woken.admission(&ann, Some("claim-ann"), 0).map(|r| r.code),
        Some(ErrorCode::TooManySockets)
    );
}

#[test]
fn a_repeated_status_is_accepted_silently() {
    let mut r = room();
    r.join("a1".into(), &name("Alice"), None, 0);
    r.join("a2".into(), &name("Alice"), None, 0);
    r.join("b".into(), &name("bob"), None, 0);
    let away = r#"{"type":"status","status":"away"}"#;
    assert_eq!(
        types(&frames_for(&r.on_text("a1", away, 0), "b")),
        ["user_status"]
    );
    for t in 1..100 {
        let e = r.on_text("a1", away, t);
        assert!(e.is_empty(), "no broadcast, no save, no error: {e:?}");
        // From the other tab too: the name's status is already away.
        assert!(r.on_text("a2", away, t).is_empty());
    }
    let online = r#"{"type":"status","status":"online"}"#;
    assert_eq!(
        types(&frames_for(&r.on_text("a2", online, 100), "b")),
        ["user_status"]
    );
}

/// The names in the typing frames `conn` got.
fn typing_frames(effects: &[Effect], conn: &str) -> Vec<Value> {
    frames_for(effects, conn)
        .into_iter()
        .filter(|f| f["type"] == "typing")
        .map(|f| f["names"].clone())
        .collect()
}

#[test]
fn typing_is_coalesced_per_person_with_the_latest_state_at_the_interval_end() {
    let mut r = room();
    r.join("a".into(), &name("Ann"), None, 0);
    r.join("b".into(), &name("Bo"), None, 0);
    let on = r#"{"type":"typing","on":true}"#;
    let off = r#"{"type":"typing","on":false}"#;
    // The first change goes at once.
    assert_eq!(
        typing_frames(&r.on_text("a", on, 1000), "b"),
        [json!(["Ann"])]
    );
    // A stop inside the interval is held until it ends.
    assert!(typing_frames(&r.on_text("a", off, 1100), "b").is_empty());
    assert_eq!(r.next_deadline(), Some(1500));
    assert!(r.tick(1499).is_empty());
    assert_eq!(typing_frames(&r.tick(1500), "b"), [json!([])]);
    // A start undone within the interval sends nothing at its end.
    assert!(typing_frames(&r.on_text("a", on, 1600), "b").is_empty());
    assert!(typing_frames(&r.on_text("a", off, 1700), "b").is_empty());
    assert!(typing_frames(&r.tick(2000), "b").is_empty());
    assert_eq!(r.next_deadline(), None);
    // A person toggling 100 times a second for 2 s: about 2 frames a second reach the
    // others, and the last one shows the final state.
    let mut seen = Vec::new();
    let mut t = 10_000;
    let mut last_on = false;
    while t < 12_000 {
        last_on = (t / 10) % 2 == 0;
        let e = r.on_text("a", if last_on { on } else { off }, t);
        seen.extend(typing_frames(&e, "b"));
        t += 10;
        while r.next_deadline().is_some_and(|d| d <= t) {
            let due = r.next_deadline().unwrap();
            seen.extend(typing_frames(&r.tick(due), "b"));
        }
    }
    while let Some(due) = r.next_deadline().filter(|&d| d < 15_000) {
        seen.extend(typing_frames(&r.tick(due), "b"));
    }
    assert!(seen.len() <= 5, "{} typing frames: {seen:?}", seen.len());
    assert!(seen.len() >= 3, "changes still get through: {seen:?}");
    let expected = if last_on { json!(["Ann"]) } else { json!([]) };
    assert_eq!(seen.last(), Some(&expected));
    // Two people are coalesced each on their own.
    let e = r.on_text("b", on, 20_000);
    assert_eq!(typing_frames(&e, "a"), [json!(["Bo"])]);
    assert_eq!(typing_frames(&e, "b"), [json!(expected)]);
}

#[test]
fn typing_interval_zero_sends_every_change() {
    let limits = Limits {
        burst: 1e9,
        per_sec: 1e9,
        typing_interval_ms: 0,
        ..Limits::default()
    };
    let mut r = Room::open("lobby", MemoryLog::default(), limits).unwrap();
    r.join("a".into(), &name("Ann"), None, 0);
    r.join("b".into(), &name("Bo"), None, 0);
    for (t, on) in [(1, true), (2, false), (3, true)] {
        let f = frame(json!({"type":"typing","on":on}));
        assert_eq!(typing_frames(&r.on_text("a", &f, t), "b").len(), 1);
    }
}
