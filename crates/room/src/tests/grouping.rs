//! Group commit: sends that arrive while a batch of messages is out wait for its answer
//! and then go into the log together; a lone send is logged at once.

use super::*;
use crate::sending::MAX_HELD;

/// Ann and Bo in a room; Ann's message c0 is logged and its batch is out, unanswered.
fn batch_out() -> (Room<MemoryLog>, Batch) {
    let mut r = room();
    r.join("a".into(), &name("Ann"), None, 0);
    r.join("b".into(), &name("Bo"), None, 0);
    r.land_everything();
    let e = r.on_text("a", &send_frame("first", "c0"), 1);
    assert_eq!(
        types(&frames_for(&e, "b")),
        ["message"],
        "a lone send at once"
    );
    let batch = r.0.messages_batch(u64::MAX);
    (r, batch)
}

fn message_seqs(frames: &[Value]) -> Vec<u64> {
    frames
        .iter()
        .filter(|f| f["type"] == "message")
        .map(|f| f["message"]["seq"].as_u64().unwrap())
        .collect()
}

#[test]
fn sends_during_a_batch_go_into_the_log_together_when_it_is_answered() {
    let (mut r, batch) = batch_out();
    for i in 1..=5 {
        let conn = if i % 2 == 0 { "a" } else { "b" };
        let e = r.on_text(conn, &send_frame(&format!("m{i}"), &format!("c{i}")), 2);
        assert!(frames_for(&e, "a").is_empty() && frames_for(&e, "b").is_empty());
    }
    assert_eq!(r.held(), 5);
    assert_eq!(r.last_seq(), 1, "nothing held is logged yet");
    // The answer comes: c0 is acked, the five are logged in that one event, in arrival
    // order, gapless, each once, and seen by everyone.
    let e = r.landed(batch);
    let to_b = frames_for(&e, "b");
    assert_eq!(message_seqs(&to_b), [2, 3, 4, 5, 6]);
    assert_eq!(to_b[0]["message"]["text"], "m1");
    assert_eq!(frames_for(&e, "a")[0]["type"], "ack");
    assert_eq!((r.held(), r.last_seq()), (0, 6));
    // The next batch carries all five; its answer acks each sender once.
    let next = r.0.whole_batch();
    let seqs: Vec<u64> = next.messages.iter().map(|(_, m)| m.seq).collect();
    assert_eq!(seqs, [2, 3, 4, 5, 6]);
    let e = r.landed(next);
    let acks = |conn| {
        frames_for(&e, conn)
            .iter()
            .filter(|f| f["type"] == "ack")
            .map(|f| f["seq"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!((acks("a"), acks("b")), (vec![3, 5], vec![2, 4, 6]));
    // Nothing in flight: the next lone send is logged at once.
    let e = r.on_text("b", &send_frame("alone", "c9"), 3);
    assert_eq!(message_seqs(&frames_for(&e, "a")), [7]);
}

#[test]
fn a_failed_group_is_retried_whole_and_a_resend_is_acked_once() {
    let (mut r, batch) = batch_out();
    r.on_text("b", &send_frame("held", "h1"), 2);
    let id = batch.id;
    // The batch fails: c0's sender hears `internal`; the held send is logged and seen.
    let e = r.input(3, Input::Persisted { id, ok: false });
    assert_eq!(frames_for(&e, "a")[0]["code"], "internal");
    assert_eq!(message_seqs(&frames_for(&e, "a")), [2]);
    // The retry carries both, c0 and the held one, in one batch.
    let retry = r.0.whole_batch();
    let seqs: Vec<u64> = retry.messages.iter().map(|(_, m)| m.seq).collect();
    assert_eq!(seqs, [1, 2]);
    let e = r.landed(retry);
    assert_eq!(
        frames_for(&e, "b"),
        [json!({"type":"ack","client_id":"h1","seq":2})]
    );
    // Ann resends c0 as told: the same seq, acked, no new message.
    let e = r.on_text("a", &send_frame("first", "c0"), 4);
    assert_eq!(
        frames_for(&e, "a"),
        [json!({"type":"ack","client_id":"c0","seq":1})]
    );
    assert_eq!(r.last_seq(), 2);
}

#[test]
fn a_resend_of_a_held_send_is_one_message() {
    let (mut r, batch) = batch_out();
    r.on_text("b", &send_frame("x", "h1"), 2);
    r.on_text("b", &send_frame("x", "h1"), 2);
    let e = r.landed(batch);
    assert_eq!(message_seqs(&frames_for(&e, "a")), [2], "logged once");
    let e = r.land_everything();
    let acks: Vec<Value> = frames_for(&e, "b");
    assert_eq!(
        acks,
        [
            json!({"type":"ack","client_id":"h1","seq":2}),
            json!({"type":"ack","client_id":"h1","seq":2})
        ]
    );
}

/// The attacker: a flood while a batch is out holds at most MAX_HELD sends; beyond it
/// sends are logged at once, and a sender who leaves while held costs nobody anything.
#[test]
fn a_flood_is_held_only_up_to_its_bound_and_a_leaver_harms_nobody() {
    let (mut r, batch) = batch_out();
    r.join("m".into(), &name("Mallory"), None, 2);
    for i in 0..MAX_HELD {
        r.on_text("m", &send_frame("spam", &format!("s{i}")), 2);
    }
    assert_eq!(r.held(), MAX_HELD);
    let e = r.on_text("b", &send_frame("still heard", "b1"), 2);
    assert_eq!(
        message_seqs(&frames_for(&e, "a")),
        [2],
        "over the bound: at once"
    );
    r.leave("m", 3);
    let e = r.landed(batch);
    assert!(
        message_seqs(&frames_for(&e, "a")).is_empty(),
        "the leaver's sends dropped"
    );
    assert_eq!((r.held(), r.last_seq()), (0, 2));
    let e = r.land_everything();
    assert_eq!(
        frames_for(&e, "b"),
        [json!({"type":"ack","client_id":"b1","seq":2})]
    );
}
