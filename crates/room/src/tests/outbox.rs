//! The one way out, through `poll` as the shell drains it: the outbox's rule (one batch
//! in flight, everything owed in it, one retry rule), the room kind the shell passes in,
//! and `name_claimed` right after the welcome.

use super::*;

/// Drains the room as the shell does: the frames and other outputs, and the batch to
/// write, if one came out.
fn drain(r: &mut crate::Room<MemoryLog>) -> (Vec<Effect>, Option<Batch>) {
    let (mut effects, mut batch) = (Vec::new(), None);
    while let Some(output) = r.poll() {
        match output {
            Output::Persist(b) => {
                assert!(batch.is_none(), "one batch per drain at most");
                batch = Some(b);
            }
            other => effects.push(Effect::from(other)),
        }
    }
    (effects, batch)
}

/// Drains the room, landing at once every batch that comes out: for tests about
/// something else.
fn settle(r: &mut crate::Room<MemoryLog>, now: u64) -> Vec<Effect> {
    let mut effects = Vec::new();
    loop {
        let (more, batch) = drain(r);
        effects.extend(more);
        let Some(batch) = batch else {
            return effects;
        };
        r.handle(
            now,
            Input::Persisted {
                id: batch.id,
                ok: true,
            },
        );
    }
}

fn connect_input(conn: &str, name: &str) -> Input {
    Input::Connect {
        conn: conn.into(),
        name: Name::parse(name).unwrap(),
        claim: name.to_lowercase().as_str().into(),
        since: None,
        rev: None,
        claimed_token: None,
        pass: None,
        presence2: false,
    }
}

fn text_input(conn: &str, frame: Value) -> Input {
    Input::Text {
        conn: conn.into(),
        text: frame.to_string(),
    }
}

fn connect(r: &mut crate::Room<MemoryLog>, conn: &str, name: &str, now: u64) -> Vec<Effect> {
    r.handle(now, connect_input(conn, name));
    settle(r, now)
}

fn text(r: &mut crate::Room<MemoryLog>, conn: &str, frame: Value, now: u64) -> Vec<Effect> {
    r.handle(now, text_input(conn, frame));
    settle(r, now)
}

fn open(id: &str, kind: RoomKind) -> crate::Room<MemoryLog> {
    crate::Room::open(id, kind, MemoryLog::default(), Limits::default()).unwrap()
}

/// A room with Ann (its owner), Bo and Cy, a message of Ann's, a ban (audited) and
/// Bo's read position, none of it written yet, and the batch of it all, in flight.
fn owing_everything() -> (crate::Room<MemoryLog>, Batch) {
    let mut r = open("lobby", RoomKind::Room);
    r.handle(0, connect_input("a", "Ann"));
    // A fresh start owes the room list its count: that batch is out while the rest
    // happens, so the rest waits for the next one.
    let (_, first) = drain(&mut r);
    let first = first.expect("the online count after a start");
    assert_eq!(first.online, Some(1));
    let events = [
        connect_input("b", "Bo"),
        text_input("a", json!({"type":"send","text":"hi","client_id":"c1"})),
        text_input("a", json!({"type":"ban","name":"Dee","minutes":5})),
        text_input("b", json!({"type":"read","seq":1})),
        connect_input("c", "Cy"),
        Input::Alarm,
    ];
    for (t, input) in (1..).zip(events) {
        r.handle(t, input);
        let (_, batch) = drain(&mut r);
        assert!(batch.is_none(), "one batch in flight at a time");
    }
    r.handle(
        7,
        Input::Persisted {
            id: first.id,
            ok: true,
        },
    );
    let (_, batch) = drain(&mut r);
    (r, batch.expect("a batch of everything owed"))
}

#[test]
fn one_batch_carries_all_four_kinds_and_only_one_is_in_flight() {
    let (mut r, batch) = owing_everything();
    assert_eq!(batch.room, "lobby");
    let seqs: Vec<u64> = batch.messages.iter().map(|(_, m)| m.seq).collect();
    assert_eq!(seqs, [1]);
    assert_eq!(batch.audit.len(), 1);
    assert_eq!(batch.audit[0].1.action, ModAction::Ban);
    assert_eq!(batch.reads, [(ClaimId::from("bo"), 1)]);
    assert_eq!(batch.online, Some(3));
    // While it is out, nothing else leaves, whatever happens; a send waits for it.
    let held = text(
        &mut r,
        "b",
        json!({"type":"send","text":"three","client_id":"d1"}),
        8,
    );
    assert!(frames_for(&held, "a").is_empty(), "held, not seen yet");
    r.handle(9, Input::Alarm);
    assert!(drain(&mut r).1.is_none(), "one batch in flight at a time");
    // Written: its senders are acked, the held send is logged and seen, then the next
    // batch takes what came since.
    r.handle(
        10,
        Input::Persisted {
            id: batch.id,
            ok: true,
        },
    );
    let (effects, next) = drain(&mut r);
    let seen = frames_for(&effects, "a");
    assert_eq!(seen[0], json!({"type":"ack","client_id":"c1","seq":1}));
    assert_eq!(types(&seen), ["ack", "message"]);
    assert_eq!(seen[1]["message"]["seq"], 2);
    let next = next.expect("the message sent meanwhile");
    let seqs: Vec<u64> = next.messages.iter().map(|(_, m)| m.seq).collect();
    assert_eq!(seqs, [2]);
    assert!(next.audit.is_empty() && next.reads.is_empty());
    assert_eq!(next.online, Some(3), "the summary row carries the count");
    r.handle(
        11,
        Input::Persisted {
            id: next.id,
            ok: true,
        },
    );
    let (effects, none) = drain(&mut r);
    assert_eq!(types(&frames_for(&effects, "b")), ["ack"]);
    assert!(none.is_none(), "nothing owed, nothing written");
    assert_eq!(r.deadline(), None);
}

#[test]
fn a_failed_batch_keeps_everything_owed_and_retries_after_retry_ms() {
    let (mut r, batch) = owing_everything();
    r.handle(
        100,
        Input::Persisted {
            id: batch.id,
            ok: false,
        },
    );
    let (effects, again) = drain(&mut r);
    // The waiting sender hears `internal` with its client_id, so that it resends.
    let f = frames_for(&effects, "a");
    assert_eq!(types(&f), ["error"]);
    assert_eq!(
        (&f[0]["code"], &f[0]["client_id"]),
        (&json!("internal"), &json!("c1"))
    );
    assert!(again.is_none(), "no retry before its time");
    assert_eq!(r.deadline(), Some(100 + RETRY_MS));
    // Events before the retry write nothing either.
    text(&mut r, "b", json!({"type":"typing","on":false}), 600);
    r.handle(100 + RETRY_MS - 1, Input::Alarm);
    assert!(drain(&mut r).1.is_none());
    // At the retry, the same four kinds go again, under a new id.
    r.handle(100 + RETRY_MS, Input::Alarm);
    let retry = drain(&mut r).1.expect("the retry");
    assert_ne!(retry.id, batch.id);
    assert_eq!(retry.messages, batch.messages);
    assert_eq!(retry.audit, batch.audit);
    assert_eq!(retry.reads, batch.reads);
    assert_eq!(retry.online, batch.online);
    r.handle(
        1_200,
        Input::Persisted {
            id: retry.id,
            ok: true,
        },
    );
    let (effects, none) = drain(&mut r);
    assert!(
        frames_for(&effects, "a").is_empty(),
        "the failure told the sender"
    );
    assert!(none.is_none());
    assert_eq!(r.deadline(), None);
    // Its resend is acked at once: the message is in the history database now.
    let e = text(
        &mut r,
        "a",
        json!({"type":"send","text":"hi","client_id":"c1"}),
        1_300,
    );
    assert_eq!(
        frames_for(&e, "a"),
        [json!({"type":"ack","client_id":"c1","seq":1})]
    );
}

#[test]
fn an_answer_for_another_batch_is_ignored() {
    let (mut r, batch) = owing_everything();
    for id in [batch.id + 1, batch.id - 1, 0] {
        r.handle(20, Input::Persisted { id, ok: true });
        let (effects, next) = drain(&mut r);
        assert!(effects.is_empty(), "{effects:?}");
        assert!(next.is_none(), "the batch is still in flight");
        r.handle(21, Input::Persisted { id, ok: false });
        assert!(drain(&mut r).0.is_empty(), "nor does a stray failure count");
    }
    r.handle(
        22,
        Input::Persisted {
            id: batch.id,
            ok: true,
        },
    );
    let (effects, _) = drain(&mut r);
    assert_eq!(types(&frames_for(&effects, "a")), ["ack"]);
}

#[test]
fn a_deferred_batch_stays_owed_and_the_next_one_takes_what_came_since() {
    // Connects are answered without waiting for D1: the shell hands their batch back.
    let mut r = open("lobby", RoomKind::Room);
    let (mut heard, mut handed_back) = (Vec::new(), Vec::new());
    let events = [
        connect_input("a", "Ann"),
        text_input("a", json!({"type":"send","text":"hi","client_id":"c1"})),
        connect_input("b", "Bo"),
    ];
    for (t, input) in (0..).zip(events) {
        r.handle(t, input);
        let (effects, batch) = drain(&mut r);
        heard.extend(effects);
        let batch = batch.expect("a deferred batch waits for no retry");
        r.handle(t, Input::Deferred { id: batch.id });
        handed_back.push(batch.id);
    }
    assert!(
        frames_for(&heard, "a").iter().all(|f| f["type"] != "error"),
        "nobody hears of a deferral"
    );
    // The answer to a batch handed back is no answer: nobody is acked.
    r.handle(
        5,
        Input::Persisted {
            id: handed_back[2],
            ok: true,
        },
    );
    let (effects, batch) = drain(&mut r);
    assert!(frames_for(&effects, "a").is_empty());
    // The next batch has everything owed, with the count as it is now: one write.
    let batch = batch.expect("everything owed, in one batch");
    assert!(!handed_back.contains(&batch.id));
    assert_eq!(batch.online, Some(2));
    let seqs: Vec<u64> = batch.messages.iter().map(|(_, m)| m.seq).collect();
    assert_eq!(seqs, [1]);
    r.handle(
        6,
        Input::Persisted {
            id: batch.id,
            ok: true,
        },
    );
    let (effects, next) = drain(&mut r);
    assert_eq!(
        frames_for(&effects, "a"),
        [json!({"type":"ack","client_id":"c1","seq":1})]
    );
    assert!(next.is_none(), "nothing is owed any more");
}

#[test]
fn a_fresh_room_corrects_the_online_count_and_a_woken_one_does_not() {
    let mut fresh = open("lobby", RoomKind::Room);
    let batch = drain(&mut fresh)
        .1
        .expect("nobody is connected after a start");
    assert_eq!(batch.online, Some(0));
    assert!(batch.messages.is_empty() && batch.audit.is_empty() && batch.reads.is_empty());
    let mut woken = open("lobby", RoomKind::Room);
    woken.handle(
        0,
        Input::Restore(Attachment {
            id: "a".into(),
            name: "Ann".into(),
            claim: "ann".into(),
            status: Status::Online,
            presence2: false,
        }),
    );
    assert!(
        drain(&mut woken).1.is_none(),
        "the room list heard of Ann before"
    );
}

#[test]
fn the_room_kind_comes_from_the_shell_not_the_id() {
    // An id that looks like a direct message, opened as a room: its first joiner owns it.
    let mut r = open("dm--0123", RoomKind::Room);
    let e = connect(&mut r, "a", "Ann", 0);
    assert_eq!(frames_for(&e, "a")[0]["owner"], "Ann");
    assert_eq!(r.kind(), RoomKind::Room);
    // A plain id opened as a direct message: nobody owns it, and the other sees reads.
    let mut dm = open("lobby", RoomKind::Dm);
    let e = connect(&mut dm, "a", "Ann", 0);
    assert_eq!(frames_for(&e, "a")[0]["owner"], Value::Null);
    connect(&mut dm, "b", "Bo", 0);
    text(
        &mut dm,
        "a",
        json!({"type":"send","text":"hi","client_id":"c1"}),
        1,
    );
    let e = text(&mut dm, "b", json!({"type":"read","seq":1}), 2);
    assert_eq!(
        frames_for(&e, "a"),
        [json!({"type":"read","seq":1,"name":"Bo"})]
    );
    let e = text(&mut dm, "a", json!({"type":"kick","name":"Bo"}), 3);
    assert_eq!(frames_for(&e, "a")[0]["code"], "forbidden");
}

/// Ann's connect as "a", with what the Worker issued for it.
fn ann_connects(claimed_token: Option<String>, pass: Option<PassGrant>) -> Input {
    Input::Connect {
        conn: "a".into(),
        name: Name::parse("Ann").unwrap(),
        claim: "claim-ann".into(),
        since: None,
        rev: None,
        claimed_token,
        pass,
        presence2: false,
    }
}

#[test]
fn a_new_token_follows_the_welcome_on_that_socket_only() {
    let mut r = open("lobby", RoomKind::Room);
    connect(&mut r, "b", "Bo", 0);
    r.handle(1, ann_connects(Some("tok".into()), None));
    let (effects, _) = drain(&mut r);
    let f = frames_for(&effects, "a");
    assert_eq!(types(&f), ["welcome", "name_claimed"]);
    assert_eq!(
        f[1],
        json!({"type":"name_claimed","name":"Ann","token":"tok","claim":"claim-ann"})
    );
    assert_eq!(types(&frames_for(&effects, "b")), ["user_joined"]);
}

#[test]
fn a_pass_follows_the_welcome_and_the_token_on_that_socket_only() {
    let mut r = open("lobby", RoomKind::Room);
    connect(&mut r, "b", "Bo", 0);
    let pass = PassGrant {
        pass: "v1.ab.9.cd".into(),
        expires_at: 9,
    };
    r.handle(1, ann_connects(Some("tok".into()), Some(pass)));
    let (effects, _) = drain(&mut r);
    let f = frames_for(&effects, "a");
    assert_eq!(types(&f), ["welcome", "name_claimed", "pass"]);
    assert_eq!(
        f[2],
        json!({"type":"pass","pass":"v1.ab.9.cd","expires_at":9})
    );
    // Nobody else hears of it: Bo gets the join only.
    assert_eq!(types(&frames_for(&effects, "b")), ["user_joined"]);
}

#[test]
fn joins_and_leaves_without_messages_are_one_online_write_per_flush() {
    let mut r = open("lobby", RoomKind::Room);
    // The fresh start's count goes at once.
    r.handle(0, connect_input("a", "Ann"));
    let (_, first) = drain(&mut r);
    let first = first.expect("the count after a start");
    r.handle(
        1,
        Input::Persisted {
            id: first.id,
            ok: true,
        },
    );
    assert!(drain(&mut r).1.is_none());
    // A burst of joins and a leave: nothing is written yet, the deadline says when.
    for (t, conn, name) in [(10, "b", "Bo"), (20, "c", "Cy"), (30, "d", "Di")] {
        r.handle(t, connect_input(conn, name));
        assert!(
            drain(&mut r).1.is_none(),
            "{name}'s join waits for the flush"
        );
    }
    r.handle(40, Input::Close { conn: "d".into() });
    assert!(drain(&mut r).1.is_none());
    assert_eq!(r.deadline(), Some(10 + ONLINE_FLUSH_MS));
    r.handle(10 + ONLINE_FLUSH_MS, Input::Alarm);
    let (_, batch) = drain(&mut r);
    let batch = batch.expect("one write for the burst");
    assert_eq!(batch.online, Some(3));
    r.handle(
        1_100,
        Input::Persisted {
            id: batch.id,
            ok: true,
        },
    );
    assert_eq!(r.deadline(), None, "nothing more is owed");
    // A message carries the count at once, whenever it is owed.
    r.handle(2_000, Input::Close { conn: "c".into() });
    r.handle(
        2_001,
        text_input("a", json!({"type":"send","text":"hi","client_id":"c1"})),
    );
    let (_, batch) = drain(&mut r);
    let batch = batch.expect("the message goes at once");
    assert_eq!((batch.messages.len(), batch.online), (1, Some(2)));
}
