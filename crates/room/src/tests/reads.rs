//! Read positions: forward only, shown to the claim's other sockets and to a direct
//! message's other person.

use super::*;

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
