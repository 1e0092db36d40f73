//! Pinned messages: who may pin, what everyone hears, the welcome's list, resume,
//! restart, the cap, and deleting or editing a pinned message.

use super::*;

fn pin(seq: u64) -> String {
    frame(json!({"type":"pin","seq":seq}))
}

fn unpin(seq: u64) -> String {
    frame(json!({"type":"unpin","seq":seq}))
}

/// The seqs of a `pins` list.
fn pinned_seqs(pins: &Value) -> Vec<u64> {
    seqs_of(pins)
}

#[test]
fn the_owner_pins_and_unpins_and_everyone_hears_it() {
    let mut r = ann_and_bo();
    let e = r.on_text("a", &pin(1), 20);
    for conn in ["a", "b"] {
        let f = frames_for(&e, conn);
        assert_eq!(types(&f), ["update", "pins"], "{conn}");
        assert_eq!(f[0]["message"]["pinned"], json!({"by":"Ann","ts":20}));
        assert_eq!(
            f[1],
            json!({"type":"pins","rev":2,"pins":[
                {"seq":1,"name":"Ann","text":"hello","by":"Ann","ts":20}]})
        );
    }
    assert_eq!(r.last_rev(), 2);
    // A newcomer's welcome carries the list.
    let f = frames_for(&r.join("c".into(), &name("Cy"), None, 21), "c");
    assert_eq!(pinned_seqs(&f[0]["pins"]), [1]);
    // Pinning again changes nothing: the asker is answered, nobody else hears.
    let e = r.on_text("a", &pin(1), 22);
    assert_eq!(types(&frames_for(&e, "a")), ["update"]);
    assert!(frames_for(&e, "b").is_empty());
    assert_eq!(r.last_rev(), 2);
    // Unpinning is a change like the pin.
    let e = r.on_text("a", &unpin(1), 23);
    let f = frames_for(&e, "b");
    assert_eq!(types(&f), ["update", "pins"]);
    assert_eq!(f[0]["message"].get("pinned"), None);
    assert_eq!(f[1], json!({"type":"pins","rev":3,"pins":[]}));
    let f = frames_for(&r.join("d".into(), &name("Di"), None, 24), "d");
    assert_eq!(f[0]["pins"], json!([]));
}

#[test]
fn a_moderator_may_pin_and_a_plain_member_changes_nothing_for_anyone() {
    let mut r = ann_and_bo();
    r.join("c".into(), &name("Cy"), None, 0);
    for bad in [pin(1), unpin(1)] {
        let e = r.on_text("b", &bad, 20);
        assert_eq!(codes(&e, "b"), ["forbidden"], "{bad}");
        assert!(frames_for(&e, "a").is_empty());
        assert!(frames_for(&e, "c").is_empty());
    }
    assert_eq!(r.last_rev(), 1);
    assert!(r.pin_list().is_empty());
    // A refusal echoes the client_id.
    let e = r.on_text(
        "b",
        &frame(json!({"type":"pin","seq":1,"client_id":"p1"})),
        21,
    );
    assert_eq!(frames_for(&e, "b")[0]["client_id"], "p1");
    // Appointed, Bo may.
    r.on_text("a", &frame(json!({"type":"appoint","name":"Bo"})), 22);
    let e = r.on_text("b", &pin(1), 23);
    let f = frames_for(&e, "c");
    assert_eq!(types(&f), ["update", "pins"]);
    assert_eq!(f[1]["pins"][0]["by"], "Bo");
}

#[test]
fn a_missing_or_deleted_message_cannot_be_pinned() {
    let mut r = ann_and_bo();
    send_durable(&mut r, "a", "gone soon", "c2", 11);
    r.on_text("a", &frame(json!({"type":"delete","seq":2})), 12);
    let rev = r.last_rev();
    for seq in [0, 2, 3, u64::MAX] {
        for f in [pin(seq), unpin(seq)] {
            let e = r.on_text("a", &f, 13);
            assert_eq!(codes(&e, "a"), ["not_found"], "{f}");
            assert!(frames_for(&e, "b").is_empty(), "{f}");
        }
    }
    assert_eq!(r.last_rev(), rev);
    assert!(r.pin_list().is_empty());
    // Values that are not a seq at all are bad frames.
    for bad in [
        json!({"type":"pin","seq":-1}),
        json!({"type":"pin","seq":"1"}),
        json!({"type":"pin"}),
        json!({"type":"unpin","seq":1.5}),
    ] {
        let e = r.on_text("a", &frame(bad.clone()), 14);
        assert_eq!(codes(&e, "a"), ["bad_frame"], "{bad}");
    }
}

#[test]
fn deleting_a_pinned_message_unpins_it_and_editing_one_refreshes_its_excerpt() {
    let mut r = ann_and_bo();
    r.on_text("a", &pin(1), 20);
    let long = "x".repeat(100);
    let e = r.on_text("a", &frame(json!({"type":"edit","seq":1,"text":long})), 21);
    let f = frames_for(&e, "b");
    assert_eq!(types(&f), ["update", "pins"]);
    assert_eq!(
        f[1]["pins"][0]["text"],
        "x".repeat(edgechat_protocol::PIN_EXCERPT_CHARS)
    );
    // The edit keeps the pin (by, ts).
    assert_eq!(f[0]["message"]["pinned"], json!({"by":"Ann","ts":20}));
    let e = r.on_text("a", &frame(json!({"type":"delete","seq":1})), 22);
    let f = frames_for(&e, "b");
    assert_eq!(types(&f), ["update", "pins"]);
    assert_eq!(f[0]["message"].get("pinned"), None);
    assert_eq!(f[1]["pins"], json!([]));
    assert!(r.log().get(1).unwrap().unwrap().message.pinned.is_none());
}

#[test]
fn a_moderator_deleting_a_pinned_message_of_someone_else_unpins_it_too() {
    let mut r = ann_and_bo();
    send_durable(&mut r, "b", "pin me", "b1", 11);
    r.on_text("a", &pin(2), 12);
    let e = r.on_text("a", &frame(json!({"type":"delete","seq":2})), 13);
    assert_eq!(
        types(&frames_for(&e, "b")),
        ["update", "pins", "moderation"]
    );
    assert!(r.pin_list().is_empty());
}

#[test]
fn a_room_keeps_at_most_fifty_pins() {
    let mut r = ann_and_bo();
    for i in 0..MAX_PINS as u64 {
        send_durable(&mut r, "a", &format!("m{i}"), &format!("k{i}"), 11 + i);
    }
    // Seq 1 and the 50 new ones: pin 50 of them.
    for seq in 1..=MAX_PINS as u64 {
        let e = r.on_text("a", &pin(seq), 100 + seq);
        assert_eq!(types(&frames_for(&e, "b")), ["update", "pins"]);
    }
    let rev = r.last_rev();
    let e = r.on_text("a", &pin(MAX_PINS as u64 + 1), 200);
    assert_eq!(codes(&e, "a"), ["bad_frame"]);
    assert!(frames_for(&e, "a")[0]["message"]
        .as_str()
        .unwrap()
        .contains("at most 50 pinned"));
    assert!(frames_for(&e, "b").is_empty());
    assert_eq!(r.last_rev(), rev);
    assert_eq!(r.pin_list().len(), MAX_PINS);
    // Re-pinning a pinned one is still fine at the cap; unpinning makes room.
    assert_eq!(
        types(&frames_for(&r.on_text("a", &pin(1), 201), "a")),
        ["update"]
    );
    r.on_text("a", &unpin(1), 202);
    let e = r.on_text("a", &pin(MAX_PINS as u64 + 1), 203);
    assert_eq!(types(&frames_for(&e, "b")), ["update", "pins"]);
    // The welcome's list is whole and fits the frame budget.
    let f = frames_for(&r.join("c".into(), &name("Cy"), None, 204), "c");
    assert_eq!(f[0]["pins"].as_array().unwrap().len(), MAX_PINS);
    // Bob chats on unharmed.
    let e = r.on_text("b", &send_frame("still here", "b9"), 205);
    assert_eq!(types(&frames_for(&e, "a")), ["message"]);
}

#[test]
fn a_resume_gets_the_pin_it_missed_and_the_list() {
    let mut r = ann_and_bo();
    let rev = r.last_rev();
    r.leave("b", 11);
    r.on_text("a", &pin(1), 12);
    let e = r.resume("b".into(), &name("Bo"), "bo", Some(1), Some(rev), 13);
    let f = frames_for(&e, "b");
    assert_eq!(f[0]["type"], "welcome");
    assert_eq!(f[0]["rev"], 2);
    assert_eq!(seqs_of(&f[0]["updates"]), [1]);
    assert_eq!(f[0]["updates"][0]["pinned"]["by"], "Ann");
    assert_eq!(pinned_seqs(&f[0]["pins"]), [1]);
    // And the unpin it missed.
    r.leave("b", 14);
    r.on_text("a", &unpin(1), 15);
    let e = r.resume("b".into(), &name("Bo"), "bo", Some(1), Some(2), 16);
    let f = frames_for(&e, "b");
    assert_eq!(seqs_of(&f[0]["updates"]), [1]);
    assert_eq!(f[0]["updates"][0].get("pinned"), None);
    assert_eq!(f[0]["pins"], json!([]));
}

#[test]
fn pins_survive_a_restart_and_reach_the_history_database() {
    let mut r = ann_and_bo();
    r.on_text("a", &pin(1), 20);
    let log = r.log().clone(); // crash before the pin reached D1
    let mut r = Room::open("lobby", log, Limits::default()).unwrap();
    let pending = r.pending();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].0, 2);
    assert_eq!(pending[0].1.pinned.as_ref().unwrap().by, "Ann");
    let f = frames_for(&r.join("c".into(), &name("Cy"), None, 21), "c");
    assert_eq!(
        f[0]["pins"],
        json!([{"seq":1,"name":"Ann","text":"hello","by":"Ann","ts":20}])
    );
}

#[test]
fn sends_and_replies_never_send_the_pin_list() {
    let mut r = ann_and_bo();
    let e = r.on_text("b", &send_frame("plain", "b1"), 11);
    assert_eq!(types(&frames_for(&e, "a")), ["message"]);
    r.on_text("a", &pin(1), 12);
    // A reply to a pinned message changes its reply count, not the pin list.
    let reply = json!({"type":"send","text":"re","client_id":"b2","reply_to":1});
    let e = r.on_text("b", &frame(reply), 13);
    assert_eq!(types(&frames_for(&e, "a")), ["message", "update"]);
}
