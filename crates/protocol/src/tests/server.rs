//! Server frames and the message inside them: the contract's shapes and the size bound.

use serde_json::json;

use crate::*;

#[test]
fn server_frames_have_the_contract_shape() {
    let m = Message {
        seq: 1,
        room: "r".into(),
        name: "a".into(),
        text: "t".into(),
        ts: 5,
        client_id: None,
        reply_to: None,
        ..Message::default()
    };
    let v: serde_json::Value =
        serde_json::from_str(&ServerFrame::Message { message: m.clone() }.encode()).unwrap();
    assert_eq!(
        v,
        json!({"type":"message","message":{"seq":1,"room":"r","name":"a","text":"t","ts":5,"client_id":null,"reply_to":null}})
    );
    // A changed message carries only the fields that say how it changed.
    let changed = Message {
        edited_ts: Some(9),
        reactions: vec![Reaction {
            emoji: "🎉".into(),
            count: 1,
            names: vec!["a".into()],
            mine: false,
        }],
        reply_count: 2,
        ..m
    };
    let u = ServerFrame::Update {
        message: changed,
        rev: 12,
        reaction: None,
    };
    let v: serde_json::Value = serde_json::from_str(&u.encode()).unwrap();
    assert_eq!(
        v,
        json!({"type":"update","rev":12,"message":{"seq":1,"room":"r","name":"a","text":"t","ts":5,
               "client_id":null,"reply_to":null,"edited_ts":9,
               "reactions":[{"emoji":"🎉","count":1,"names":["a"]}],"reply_count":2}})
    );
    assert_eq!(ServerFrame::decode(&u.encode()).unwrap(), u);
    let e = ServerFrame::Error {
        code: ErrorCode::RateLimited,
        message: "slow down".into(),
        client_id: Some("c".into()),
        retry_after_ms: Some(200),
    };
    let v: serde_json::Value = serde_json::from_str(&e.encode()).unwrap();
    assert_eq!(
        v,
        json!({"type":"error","code":"rate_limited","message":"slow down","client_id":"c","retry_after_ms":200})
    );
    let e = Refusal::new(ErrorCode::BadFrame, "no").to_frame().encode();
    assert_eq!(e, r#"{"type":"error","code":"bad_frame","message":"no"}"#);
    let t = ServerFrame::UserStatus {
        user: User {
            name: "A".into(),
            status: Status::Dnd,
        },
    };
    assert_eq!(
        t.encode(),
        r#"{"type":"user_status","user":{"name":"A","status":"dnd"}}"#
    );
    assert_eq!(ServerFrame::decode(&t.encode()).unwrap(), t);
}

/// The largest message the room can produce: every field at its longest, with
/// characters that encode to the most bytes each field allows.
fn worst_case_message(names_max: usize) -> Message {
    let wide = |n: usize| "😀".repeat(n); // 4 bytes per code point, no escape
    let escaped = |n: usize| "\u{1}".repeat(n); // JSON writes \u0001: 6 bytes
    let name = wide(crate::MAX_NAME_CHARS);
    Message {
        seq: u64::MAX,
        room: "r".repeat(crate::MAX_ROOM_CHARS),
        name: name.clone(),
        text: escaped(crate::MAX_TEXT_CHARS),
        ts: u64::MAX,
        client_id: Some(escaped(crate::MAX_CLIENT_ID_CHARS)),
        reply_to: Some(u64::MAX),
        edited_ts: Some(u64::MAX),
        deleted: true,
        reactions: (0..MAX_REACTIONS)
            .map(|_| Reaction {
                emoji: wide(crate::MAX_EMOJI_CHARS),
                count: u64::MAX,
                names: vec![name.clone(); names_max],
                mine: true,
            })
            .collect(),
        reply_count: u64::MAX,
        attachment: Some(crate::FileRef {
            id: "f".repeat(64),
            filename: wide(crate::MAX_FILENAME_CHARS),
            content_type: "application/octet-stream".into(),
            size: u64::MAX,
        }),
        pinned: Some(crate::Pin {
            by: name.clone(),
            ts: u64::MAX,
        }),
    }
}

#[test]
fn a_message_never_encodes_larger_than_its_stated_bound() {
    for names_max in [0, 1, REACTION_NAMES_MAX, 100] {
        let m = worst_case_message(names_max);
        let len = serde_json::to_string(&m).unwrap().len();
        let bound = message_max_bytes(names_max);
        assert!(len <= bound, "{names_max} names: {len} > {bound}");
        // The bound is close, not a guess: within 2% of the worst case.
        assert!(
            len * 100 >= bound * 98,
            "{names_max} names: {len} vs {bound}"
        );
    }
    assert_eq!(MESSAGE_MAX_BYTES, message_max_bytes(REACTION_NAMES_MAX));
    assert_eq!(MESSAGE_MAX_BYTES, 54_196);
    // A reaction without a count (older stores) counts its names.
    let old: Reaction = serde_json::from_str(r#"{"emoji":"👍","names":["a","b"]}"#).unwrap();
    assert_eq!((old.count, old.total(), old.mine), (0, 2, false));
}
