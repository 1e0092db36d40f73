//! The room's behaviour, event by event, against an in-memory log: one module per
//! concern, as in the crate, and here the harness and helpers they share.
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

mod changes;
mod files;
mod frames;
mod grouping;
mod moderation;
mod outbox;
mod pins;
mod presence;
mod presence2;
mod reads;
mod seen;
mod sending;
mod typing;

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
            pass: None,
            presence2: false,
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

    fn role_of(&self, claim: &str) -> Option<Role> {
        self.0.role_of(&ClaimId::from(claim))
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

fn closes(effects: &[Effect]) -> Vec<(Vec<String>, u16)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Close { ids, code, .. } => Some((ids.clone(), *code)),
            _ => None,
        })
        .collect()
}

fn file(id: &str) -> FileRef {
    FileRef {
        id: id.into(),
        filename: "cat.png".into(),
        content_type: "image/png".into(),
        size: 10,
    }
}

/// Joins `conn` as `display` under the claim `claim` (a person, not just a name).
fn join_as(r: &mut Room<MemoryLog>, conn: &str, display: &str, claim: &str) -> Vec<Effect> {
    r.resume(conn.into(), &name(display), claim, None, None, 0)
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

/// The names in the typing frames `conn` got.
fn typing_frames(effects: &[Effect], conn: &str) -> Vec<Value> {
    frames_for(effects, conn)
        .into_iter()
        .filter(|f| f["type"] == "typing")
        .map(|f| f["names"].clone())
        .collect()
}
