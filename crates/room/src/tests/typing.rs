//! Typing indicators: announced, coalesced per person, expired.

use super::*;

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
