//! A frame's way in: decoding errors, the claim's rate bucket, strikes and 1008, every
//! error's client_id.

use super::*;

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
