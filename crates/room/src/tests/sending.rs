//! Sending: broadcast once logged, acked once in the history database, deduplicated by
//! client_id, kept across a crash.

use super::*;

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
            presence2: false,
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
