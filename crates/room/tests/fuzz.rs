//! Randomised runs of the room against its invariants: whatever frames arrive, in
//! whatever order, with writes landing or failing at random, every connection sees
//! each message once, in seq order, with no gap from its welcome on, and every ack
//! names the seq its client_id was stored under.
//!
//! A small deterministic generator keeps the runs reproducible: a failure prints its
//! seed. `FUZZ_RUNS=N cargo test -p edgechat-room --test fuzz` runs longer.

use std::collections::{BTreeMap, HashMap};

use edgechat_protocol::{ClientFrame, Name};
use edgechat_room::memory::MemoryLog;
use edgechat_room::{Batch, Input, Limits, Output, Room, RoomKind, RETRY_MS};
use serde_json::{json, Value};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[derive(Default)]
struct Seen {
    /// The next seq this connection must receive.
    next: u64,
    acks: Vec<(String, u64)>,
    /// The last rev this connection heard of.
    rev: u64,
    /// Every message this connection was shown, as it last heard of it.
    view: HashMap<u64, Value>,
}

fn deliver(
    effects: &[Output],
    seen: &mut BTreeMap<String, Seen>,
    all: &mut HashMap<u64, Value>,
    seed: u64,
) {
    for e in effects {
        if let Output::Close { conns, .. } = e {
            for id in conns {
                seen.remove(id.as_str());
            }
            continue;
        }
        let Output::Send { to, frame } = e else {
            continue;
        };
        let v: Value = serde_json::from_str(&frame.encode()).unwrap();
        for (conn, s) in seen.iter_mut() {
            if !to.includes(conn) {
                continue;
            }
            match v["type"].as_str().unwrap() {
                "welcome" => {
                    s.next = v["last_seq"].as_u64().unwrap() + 1;
                    s.rev = v["rev"].as_u64().unwrap();
                    for m in v["messages"].as_array().unwrap() {
                        s.view.insert(m["seq"].as_u64().unwrap(), m.clone());
                    }
                }
                "update" => {
                    let rev = v["rev"].as_u64().unwrap();
                    assert!(
                        rev >= s.rev,
                        "seed {seed}: {conn} got rev {rev} after {}",
                        s.rev
                    );
                    s.rev = rev;
                    let m = &v["message"];
                    s.view.insert(m["seq"].as_u64().unwrap(), m.clone());
                }
                "message" => {
                    let seq = v["message"]["seq"].as_u64().unwrap();
                    assert_eq!(
                        seq, s.next,
                        "seed {seed}: {conn} got seq {seq}, expected {}",
                        s.next
                    );
                    s.next += 1;
                    s.view.insert(seq, v["message"].clone());
                    let prev = all.insert(seq, v["message"].clone());
                    if let Some(prev) = prev {
                        assert_eq!(prev, v["message"], "seed {seed}: seq {seq} changed");
                    }
                }
                "ack" => s.acks.push((
                    v["client_id"].as_str().unwrap().to_owned(),
                    v["seq"].as_u64().unwrap(),
                )),
                _ => {}
            }
        }
    }
}

/// The room and the shell's side of it: the batch it is writing, if any.
struct Shell {
    room: Room<MemoryLog>,
    writing: Option<Batch>,
}

impl Shell {
    /// Hands the room an event and drains it; a batch it gives out is held until the
    /// run says how its write went.
    fn run(&mut self, now: u64, input: Input) -> Vec<Output> {
        self.room.handle(now, input);
        let mut out = Vec::new();
        while let Some(output) = self.room.poll() {
            match output {
                Output::Persist(batch) => {
                    assert!(self.writing.is_none(), "one batch in flight at a time");
                    self.writing = Some(batch);
                }
                other => out.push(other),
            }
        }
        out
    }

    /// The batch in flight is handed back unwritten (a request was being answered).
    fn deferred(&mut self, now: u64) -> Vec<Output> {
        let Some(batch) = self.writing.take() else {
            return Vec::new();
        };
        self.run(now, Input::Deferred { id: batch.id })
    }

    /// The write of the batch in flight lands (`ok`) or fails.
    fn written(&mut self, now: u64, ok: bool) -> Vec<Output> {
        let Some(batch) = self.writing.take() else {
            return Vec::new();
        };
        self.run(now, Input::Persisted { id: batch.id, ok })
    }
}

/// Returns how many messages were stored and how many acks were checked.
fn run(seed: u64, steps: usize) -> (u64, usize) {
    let mut rng = Rng(seed | 1);
    let limits = Limits {
        burst: 8.0,
        per_sec: 50.0,
        // Low enough that junk frames sometimes get a socket closed with 1008.
        refused_per_min: 12,
        ..Limits::default()
    };
    let room = Room::open("fuzz", RoomKind::Room, MemoryLog::default(), limits).unwrap();
    let mut shell = Shell {
        room,
        writing: None,
    };
    let names = ["ann", "Ann", "bob", "cy"];
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    let mut conn_names: HashMap<String, String> = HashMap::new();
    let mut all: HashMap<u64, Value> = HashMap::new();
    let mut now = 1_000u64;
    let mut next_conn = 0;
    for _ in 0..steps {
        now += rng.below(400);
        let conns: Vec<String> = seen.keys().cloned().collect();
        let effects = match rng.below(100) {
            0..=9 => {
                let id = format!("c{next_conn}");
                next_conn += 1;
                let name = *rng.pick(&names);
                seen.insert(id.clone(), Seen::default());
                conn_names.insert(id.clone(), name.to_lowercase());
                // A name may come back as another claim (released and claimed again).
                let claim = format!("{}-{}", name.to_lowercase(), rng.below(2));
                let input = Input::Connect {
                    conn: id.into(),
                    name: Name::parse(name).unwrap(),
                    claim: claim.into(),
                    since: None,
                    rev: None,
                    claimed_token: None,
                    pass: None,
                    presence2: false,
                };
                shell.run(now, input)
            }
            10..=14 if !conns.is_empty() => {
                let id = rng.pick(&conns).clone();
                seen.remove(&id);
                shell.run(now, Input::Close { conn: id.into() })
            }
            15..=59 if !conns.is_empty() => {
                let id = rng.pick(&conns).clone();
                let frame = match rng.below(17) {
                    15 => json!({"type":"appoint","name": *rng.pick(&names)}).to_string(),
                    16 => json!({"type":"dismiss","name": *rng.pick(&names)}).to_string(),
                    13 => json!({"type":"kick","name": *rng.pick(&names)}).to_string(),
                    14 => json!({"type":"ban","name": *rng.pick(&names),"minutes":1}).to_string(),
                    10 => json!({"type":"edit","seq": rng.below(20),"text":format!("e{}", rng.below(9))}).to_string(),
                    11 => json!({"type":"delete","seq": rng.below(20)}).to_string(),
                    12 => json!({"type":"react","seq": rng.below(20),"emoji": *rng.pick(&["👍","🎉","x"]),
                                 "on": rng.below(3) != 0}).to_string(),
                    0..=4 => json!({"type":"send","text":format!("m{}", rng.below(1000)),
                                     "client_id":format!("k{}", rng.below(12))}).to_string(),
                    5 => json!({"type":"send","text":"r","client_id":format!("r{}", rng.below(50)),
                                 "reply_to": rng.below(20)}).to_string(),
                    6 => json!({"type":"typing","on": rng.below(2) == 0}).to_string(),
                    7 => json!({"type":"status","status": *rng.pick(&["online","away","dnd","nope"])}).to_string(),
                    8 => json!({"type":"history","before": rng.below(30),"limit": 1 + rng.below(120)}).to_string(),
                    _ => {
                        let junk = ["{", "null", "{\"type\":\"send\"}", "\u{0}", "{\"type\":\"typing\",\"on\":1}"];
                        rng.pick(&junk).to_string()
                    }
                };
                let input = Input::Text {
                    conn: id.into(),
                    text: frame,
                };
                shell.run(now, input)
            }
            60..=79 if shell.writing.is_some() => shell.written(now, true),
            80..=82 if shell.writing.is_some() => shell.written(now, false),
            83..=85 if shell.writing.is_some() => shell.deferred(now),
            _ => shell.run(now, Input::Alarm),
        };
        deliver(&effects, &mut seen, &mut all, seed);
    }
    // Let everything land: each batch written, the retry of a failed one waited out.
    for _ in 0..1_000 {
        if shell.writing.is_none() && shell.room.durable_rev() == shell.room.last_rev() {
            break;
        }
        now += RETRY_MS;
        let mut e = shell.written(now, true);
        e.extend(shell.run(now, Input::Alarm));
        deliver(&e, &mut seen, &mut all, seed);
    }
    let room = &shell.room;
    // Every stored message was broadcast, and seqs are 1..=last with no gap.
    let last = room.last_seq();
    assert_eq!(room.durable_rev(), room.last_rev(), "seed {seed}");
    for seq in 1..=last {
        if !all.contains_key(&seq) {
            // Only possible if nobody was connected when it landed.
            assert!(
                room.log().rows.iter().any(|r| r.message.seq == seq),
                "seed {seed}: seq {seq} lost"
            );
        }
    }
    // Every connection's view of every message it was shown is the message as it is
    // (but for `mine`, which marks the viewer's own reactions in frames sent to it).
    for (conn, s) in &seen {
        for (seq, shown) in &s.view {
            let mut shown = shown.clone();
            let reactions = shown.get_mut("reactions").and_then(Value::as_array_mut);
            for r in reactions.into_iter().flatten() {
                r.as_object_mut().map(|o| o.remove("mine"));
            }
            let shown = &shown;
            let now = serde_json::to_value(&room.log().rows[*seq as usize - 1].message).unwrap();
            assert_eq!(
                shown, &now,
                "seed {seed}: {conn} shows seq {seq} out of date"
            );
        }
    }
    // Every ack names the seq its (name, client_id) is stored under.
    for (conn, s) in &seen {
        let key = &conn_names[conn];
        for (cid, seq) in &s.acks {
            let stored = room.log().client_ids.get(&(key.clone(), cid.clone()));
            assert_eq!(
                stored,
                Some(seq),
                "seed {seed}: {conn} acked {cid} as {seq}"
            );
        }
    }
    (last, seen.values().map(|s| s.acks.len()).sum())
}

#[test]
fn random_event_sequences_keep_every_guarantee() {
    let runs: u64 = std::env::var("FUZZ_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let (mut stored, mut acks) = (0, 0);
    for seed in 1..=runs {
        let (s, a) = run(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), 400);
        stored += s;
        acks += a;
    }
    // The runs must exercise the paths they check, or they prove nothing.
    assert!(
        stored > runs * 20,
        "only {stored} messages stored in {runs} runs"
    );
    assert!(
        acks > runs as usize * 10,
        "only {acks} acks checked in {runs} runs"
    );
}

#[test]
fn random_bytes_never_break_the_decoder() {
    let mut rng = Rng(0xDEC0DE);
    let seeds = [
        r#"{"type":"send","text":"hi","client_id":"c","reply_to":3}"#,
        r#"{"type":"history","before":5,"after":2,"limit":100}"#,
        r#"{"type":"status","status":"away"}"#,
        r#"{"type":"typing","on":true}"#,
    ];
    let alphabet: Vec<char> = "{}[]\":,0123456789-.eE truefalsnl\\u\u{e9}\u{202e}type"
        .chars()
        .collect();
    for _ in 0..20_000 {
        let mut s: Vec<char> = rng.pick(&seeds).chars().collect();
        for _ in 0..1 + rng.below(6) {
            let i = rng.below(s.len() as u64 + 1) as usize;
            match rng.below(3) {
                0 if i < s.len() => {
                    s.remove(i);
                }
                1 if i < s.len() => s[i] = *rng.pick(&alphabet),
                _ => s.insert(i, *rng.pick(&alphabet)),
            }
        }
        let text: String = s.into_iter().collect();
        let decoded = ClientFrame::decode(&text);
        if let Err(r) = decoded.frame {
            assert!(!r.message.is_empty());
            assert!(
                r.message.len() < 400,
                "error messages stay short: {}",
                r.message
            );
        }
    }
}
