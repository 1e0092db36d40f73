//! `ClientFrame::decode`: what the server makes of a socket message, refusals included
//! (their codes, messages and echoed client_id, and the order of the checks).

use serde_json::json;

use crate::*;

fn refusal(text: &str) -> Refusal {
    match ClientFrame::decode(text).frame {
        Err(r) => r,
        Ok(f) => panic!("{text} was accepted as {f:?}"),
    }
}

#[test]
fn change_frames_are_checked_like_sends() {
    let d = ClientFrame::decode(r#"{"type":"edit","seq":1,"text":"  ","client_id":"e"}"#);
    let r = d.frame.unwrap_err();
    assert_eq!(
        (r.code, r.client_id.as_deref()),
        (ErrorCode::InvalidText, Some("e"))
    );
    for bad in [
        r#"{"type":"edit","seq":-1,"text":"x"}"#,
        r#"{"type":"edit","text":"x"}"#,
        r#"{"type":"delete","seq":"1"}"#,
        r#"{"type":"react","seq":1}"#,
        r#"{"type":"react","seq":1,"emoji":"yes"}"#,
        r#"{"type":"react","seq":1,"emoji":"<b>"}"#,
        r#"{"type":"react","seq":1,"emoji":"👍","on":"no"}"#,
        r#"{"type":"thread","seq":1,"limit":0}"#,
        r#"{"type":"thread"}"#,
    ] {
        assert_eq!(refusal(bad).code, ErrorCode::BadFrame, "{bad}");
    }
    // `on` defaults to adding.
    let d = ClientFrame::decode(r#"{"type":"react","seq":1,"emoji":"❤️"}"#);
    assert!(matches!(d.frame, Ok(ClientFrame::React { on: true, .. })));
    for ok in ["👍", "❤️", "👨‍👩‍👧‍👦", "🇫🇷", "1️⃣", "✅", "👍🏽"]
    {
        assert!(Emoji::parse(ok).is_ok(), "{ok}");
    }
    for bad in ["", "a", "ok", "é", ":)", "👍 👍", "\u{200d}", "👍\n"] {
        assert!(Emoji::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn decodes_every_client_frame() {
    let f = ClientFrame::decode(r#"{"type":"send","text":"  hi ","client_id":"c1"}"#);
    assert_eq!(f.client_id.as_deref(), Some("c1"));
    match f.frame.unwrap() {
        ClientFrame::Send {
            text,
            client_id,
            reply_to,
            ..
        } => {
            assert_eq!(text.as_str(), "hi");
            assert_eq!(client_id.as_str(), "c1");
            assert_eq!(reply_to, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        ClientFrame::decode(r#"{"type":"send","text":"x","client_id":"c","reply_to":3}"#)
            .frame
            .unwrap(),
        ClientFrame::Send {
            text: MessageText::parse("x").unwrap(),
            client_id: ClientId::parse("c").unwrap(),
            reply_to: Some(3),
            attachment: None,
        }
    );
    assert_eq!(
        ClientFrame::decode(r#"{"type":"typing","on":true}"#)
            .frame
            .unwrap(),
        ClientFrame::Typing { on: true }
    );
    assert_eq!(
        ClientFrame::decode(r#"{"type":"status","status":"dnd"}"#)
            .frame
            .unwrap(),
        ClientFrame::Status {
            status: Status::Dnd
        }
    );
    assert_eq!(
        ClientFrame::decode(r#"{"type":"history","before":10,"limit":5}"#)
            .frame
            .unwrap(),
        ClientFrame::History {
            page: Page::Before {
                before: 10,
                limit: 5
            }
        }
    );
    assert_eq!(
        ClientFrame::decode(r#"{"type":"history","after":0}"#)
            .frame
            .unwrap(),
        ClientFrame::History {
            page: Page::After {
                after: 0,
                limit: 50
            }
        }
    );
}

#[test]
fn unknown_fields_are_ignored_for_forward_compatibility() {
    assert!(
        ClientFrame::decode(r#"{"type":"typing","on":false,"extra":1}"#)
            .frame
            .is_ok()
    );
}

#[test]
fn refuses_malformed_frames_as_bad_frame() {
    for text in [
        "not json",
        "[]",
        "5",
        "{}",
        r#"{"type":"nope"}"#,
        r#"{"type":5}"#,
        r#"{"type":"send","client_id":"c"}"#,
        r#"{"type":"send","text":5,"client_id":"c"}"#,
        r#"{"type":"send","text":"x","client_id":""}"#,
        r#"{"type":"send","text":"x","client_id":7}"#,
        r#"{"type":"send","text":"x","client_id":"c","reply_to":-1}"#,
        r#"{"type":"send","text":"x","client_id":"c","reply_to":"1"}"#,
        r#"{"type":"typing"}"#,
        r#"{"type":"typing","on":"yes"}"#,
        r#"{"type":"status","status":"busy"}"#,
        r#"{"type":"history","limit":0}"#,
        r#"{"type":"history","limit":101}"#,
        r#"{"type":"history","before":1.5}"#,
        r#"{"type":"history","before":-1}"#,
        r#"{"type":"history","before":5,"after":1}"#,
    ] {
        assert_eq!(refusal(text).code, ErrorCode::BadFrame, "{text}");
    }
    let long_id = "a".repeat(65);
    let r = refusal(&json!({"type":"send","text":"x","client_id":long_id}).to_string());
    assert_eq!(r.code, ErrorCode::BadFrame);
    assert_eq!(r.client_id.as_deref(), Some(long_id.as_str()));
}

#[test]
fn refuses_bad_text_as_invalid_text_with_the_client_id() {
    let r = refusal(r#"{"type":"send","text":"   ","client_id":"c9"}"#);
    assert_eq!(r.code, ErrorCode::InvalidText);
    assert_eq!(r.client_id.as_deref(), Some("c9"));
    let long = "a".repeat(4001);
    let r = refusal(&json!({"type":"send","text":long,"client_id":"c"}).to_string());
    assert_eq!(r.code, ErrorCode::InvalidText);
}

#[test]
fn size_is_checked_before_anything_else() {
    let big = "x".repeat(MAX_FRAME_BYTES + 1);
    assert_eq!(refusal(&big).code, ErrorCode::TooLarge);
    let at_limit = json!({"type":"send","text":"y".repeat(3990),"client_id":"c"}).to_string();
    assert!(at_limit.len() <= MAX_FRAME_BYTES);
    assert!(ClientFrame::decode(&at_limit).frame.is_ok());
    // 4000 three-byte characters are 12000 bytes: within both limits.
    let wide = json!({"type":"send","text":"€".repeat(4000),"client_id":"c"}).to_string();
    assert!(ClientFrame::decode(&wide).frame.is_ok());
}

#[test]
fn a_too_large_frame_keeps_its_client_id() {
    // As a browser writes it: the client_id after a text of 1 MiB.
    let big = format!(
        r#"{{"type":"send","text":"{}","client_id":"big-1"}}"#,
        "a".repeat(1 << 20)
    );
    let d = ClientFrame::decode(&big);
    assert_eq!(d.client_id.as_deref(), Some("big-1"));
    let r = d.frame.unwrap_err();
    assert_eq!(r.code, ErrorCode::TooLarge);
    assert_eq!(r.client_id.as_deref(), Some("big-1"));
    // Not JSON at all: none.
    assert_eq!(ClientFrame::decode(&"x".repeat(20_000)).client_id, None);
}

#[test]
fn a_refused_history_frame_keeps_its_client_id() {
    let d = ClientFrame::decode(r#"{"type":"history","limit":101,"client_id":"h1"}"#);
    assert_eq!(d.client_id.as_deref(), Some("h1"));
    assert_eq!(d.frame.unwrap_err().client_id.as_deref(), Some("h1"));
    let d = ClientFrame::decode(r#"{"type":"typing","on":true,"client_id":"t1"}"#);
    assert_eq!(d.client_id.as_deref(), Some("t1"));
    assert!(d.frame.is_ok());
    let d = ClientFrame::decode(r#"{"type":"typing","on":true}"#);
    assert_eq!(d.client_id, None);
}

/// Every refusal `decode` gives, pinned: its code, its message and the client_id it
/// echoes. The order of the checks shows where a frame has more than one fault:
/// size, then JSON, then the type, then the fields (client_id before text before
/// attachment; a ban's minutes and reason before its name).
#[test]
fn decode_refuses_with_these_exact_answers() {
    use ErrorCode::*;
    let long_reason = format!(
        r#"{{"type":"ban","name":"x","reason":"{}"}}"#,
        "r".repeat(201)
    );
    let too_large = format!(
        r#"{{"type":"send","text":"{}","client_id":"big"}}"#,
        "a".repeat(MAX_FRAME_BYTES)
    );
    let mut cases: Vec<(&str, ErrorCode, &str, Option<&str>)> = vec![
        (
            &too_large,
            TooLarge,
            "frame is 16427 bytes; the limit is 16384",
            Some("big"),
        ),
        (
            &long_reason,
            BadFrame,
            "reason is at most 200 characters, on one line",
            None,
        ),
    ];
    cases.extend_from_slice(&[
    ("not json", BadFrame, "frame is not valid JSON: expected ident at line 1 column 2", None),
    ("", BadFrame, "frame is not valid JSON: EOF while parsing a value at line 1 column 0", None),
    ("[]", BadFrame, "a frame must be a JSON object with a \"type\"", None),
    ("5", BadFrame, "a frame must be a JSON object with a \"type\"", None),
    ("null", BadFrame, "a frame must be a JSON object with a \"type\"", None),
    ("\"s\"", BadFrame, "a frame must be a JSON object with a \"type\"", None),
    ("{}", BadFrame, "missing field `type`", None),
    ("{\"type\":\"nope\"}", BadFrame, "unsupported value: unknown variant `nope`, expected one of `send`, `typing`, `status`, `history`, `edit`, `delete`, `react`, `pin`, `unpin`, `thread`, `kick`, `ban`, `unban`, `appoint`, `dismiss`, `read`, `users`", None),
    ("{\"type\":5}", BadFrame, "invalid type: integer `5`, expected variant identifier", None),
    ("{\"type\":null,\"client_id\":\"c\"}", BadFrame, "invalid type: null, expected variant identifier", Some("c")),
    ("{\"client_id\":\"c\"}", BadFrame, "missing field `type`", Some("c")),
    ("[{\"type\":\"typing\",\"on\":true}]", BadFrame, "a frame must be a JSON object with a \"type\"", None),
    ("{\"type\":\"typing\",\"on\":true} x", BadFrame, "frame is not valid JSON: trailing characters at line 1 column 29", None),
    ("{\"type\":\"typing\",\"on\":true", BadFrame, "frame is not valid JSON: EOF while parsing an object at line 1 column 26", None),
    ("{\"type\":\"send\",\"client_id\":\"c\"}", BadFrame, "missing field `text`", Some("c")),
    ("{\"type\":\"send\",\"text\":\"x\"}", BadFrame, "missing field `client_id`", None),
    ("{\"type\":\"send\",\"text\":5,\"client_id\":\"c\"}", BadFrame, "invalid type: integer `5`, expected a string", Some("c")),
    ("{\"type\":\"send\",\"text\":\"x\",\"client_id\":\"\"}", BadFrame, "client_id must not be empty", Some("")),
    ("{\"type\":\"send\",\"text\":\"  \",\"client_id\":\"\"}", BadFrame, "client_id must not be empty", Some("")),
    ("{\"type\":\"send\",\"text\":\"  \",\"client_id\":\"c\"}", InvalidText, "the message is empty", Some("c")),
    ("{\"type\":\"send\",\"text\":\"x\",\"client_id\":7}", BadFrame, "invalid type: integer `7`, expected a string", None),
    ("{\"type\":\"send\",\"text\":\"x\",\"client_id\":\"c\",\"reply_to\":-1}", BadFrame, "invalid value: integer `-1`, expected u64", Some("c")),
    ("{\"type\":\"send\",\"text\":\"x\",\"client_id\":\"c\",\"reply_to\":\"1\"}", BadFrame, "invalid type: string \"1\", expected u64", Some("c")),
    ("{\"type\":\"send\",\"text\":\"x\",\"client_id\":\"c\",\"attachment\":\"\"}", BadFrame, "attachment must be the id an upload answered", Some("c")),
    ("{\"type\":\"send\",\"text\":\"x\",\"client_id\":\"c\",\"attachment\":\"fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"}", BadFrame, "attachment must be the id an upload answered", Some("c")),
    ("{\"type\":\"send\",\"text\":\"  \",\"client_id\":\"c\",\"attachment\":\"\"}", InvalidText, "the message is empty", Some("c")),
    ("{\"type\":\"send\",\"text\":\"x\",\"client_id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", BadFrame, "client_id is at most 64 characters", Some("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")),
    ("{\"type\":\"typing\"}", BadFrame, "missing field `on`", None),
    ("{\"type\":\"typing\",\"on\":\"yes\"}", BadFrame, "invalid type: string \"yes\", expected a boolean", None),
    ("{\"type\":\"typing\",\"on\":\"yes\",\"client_id\":\"t\"}", BadFrame, "invalid type: string \"yes\", expected a boolean", Some("t")),
    ("{\"type\":\"status\",\"status\":\"busy\"}", BadFrame, "unsupported value: unknown variant `busy`, expected one of `online`, `away`, `dnd`", None),
    ("{\"type\":\"status\",\"status\":\"busy\",\"client_id\":\"s\"}", BadFrame, "unsupported value: unknown variant `busy`, expected one of `online`, `away`, `dnd`", Some("s")),
    ("{\"type\":\"status\"}", BadFrame, "missing field `status`", None),
    ("{\"type\":\"history\",\"limit\":0}", BadFrame, "limit must be between 1 and 100", None),
    ("{\"type\":\"history\",\"limit\":101,\"client_id\":\"h1\"}", BadFrame, "limit must be between 1 and 100", Some("h1")),
    ("{\"type\":\"history\",\"before\":1.5}", BadFrame, "invalid type: floating point `1.5`, expected u64", None),
    ("{\"type\":\"history\",\"before\":-1}", BadFrame, "invalid value: integer `-1`, expected u64", None),
    ("{\"type\":\"history\",\"before\":5,\"after\":1}", BadFrame, "give either before or after, not both", None),
    ("{\"type\":\"history\",\"before\":5,\"after\":1,\"limit\":0}", BadFrame, "limit must be between 1 and 100", None),
    ("{\"type\":\"edit\",\"seq\":1,\"text\":\"  \",\"client_id\":\"e\"}", InvalidText, "the message is empty", Some("e")),
    ("{\"type\":\"edit\",\"seq\":1,\"text\":\"  \",\"client_id\":\"\"}", BadFrame, "client_id must not be empty", Some("")),
    ("{\"type\":\"edit\",\"seq\":-1,\"text\":\"x\"}", BadFrame, "invalid value: integer `-1`, expected u64", None),
    ("{\"type\":\"edit\",\"text\":\"x\"}", BadFrame, "missing field `seq`", None),
    ("{\"type\":\"edit\",\"seq\":1}", BadFrame, "missing field `text`", None),
    ("{\"type\":\"delete\",\"seq\":\"1\"}", BadFrame, "invalid type: string \"1\", expected u64", None),
    ("{\"type\":\"delete\",\"seq\":1,\"client_id\":\"\"}", BadFrame, "client_id must not be empty", Some("")),
    ("{\"type\":\"delete\",\"client_id\":\"d\"}", BadFrame, "missing field `seq`", Some("d")),
    ("{\"type\":\"react\",\"seq\":1}", BadFrame, "missing field `emoji`", None),
    ("{\"type\":\"react\",\"seq\":1,\"emoji\":\"yes\"}", BadFrame, "emoji must be an emoji, not letters or punctuation", None),
    ("{\"type\":\"react\",\"seq\":1,\"emoji\":\"<b>\"}", BadFrame, "emoji must be an emoji, not letters or punctuation", None),
    ("{\"type\":\"react\",\"seq\":1,\"emoji\":\"👍\",\"on\":\"no\"}", BadFrame, "invalid type: string \"no\", expected a boolean", None),
    ("{\"type\":\"react\",\"seq\":1,\"emoji\":\"yes\",\"client_id\":\"\"}", BadFrame, "client_id must not be empty", Some("")),
    ("{\"type\":\"react\",\"seq\":1,\"emoji\":\"\",\"client_id\":\"r\"}", BadFrame, "emoji must be one emoji (1-10 code points)", Some("r")),
    ("{\"type\":\"thread\",\"seq\":1,\"limit\":0}", BadFrame, "limit must be between 1 and 100", None),
    ("{\"type\":\"thread\"}", BadFrame, "missing field `seq`", None),
    ("{\"type\":\"thread\",\"seq\":1,\"after\":-2,\"client_id\":\"th\"}", BadFrame, "invalid value: integer `-2`, expected u64", Some("th")),
    ("{\"type\":\"kick\",\"name\":\"\"}", BadFrame, "a name must not be empty", None),
    ("{\"type\":\"kick\"}", BadFrame, "missing field `name`", None),
    ("{\"type\":\"kick\",\"name\":\"a\\tb\",\"client_id\":\"k\"}", BadFrame, "a name must not contain control characters", Some("k")),
    ("{\"type\":\"ban\",\"name\":\"x\",\"minutes\":0}", BadFrame, "minutes must be from 1 to 525600 (a year)", None),
    ("{\"type\":\"ban\",\"name\":\"x\",\"minutes\":525601}", BadFrame, "minutes must be from 1 to 525600 (a year)", None),
    ("{\"type\":\"ban\",\"name\":\"\",\"minutes\":0}", BadFrame, "minutes must be from 1 to 525600 (a year)", None),
    ("{\"type\":\"ban\",\"name\":\"x\",\"reason\":\"a\\nb\"}", BadFrame, "reason is at most 200 characters, on one line", None),
    ("{\"type\":\"ban\",\"name\":\"\",\"reason\":\"a\\nb\"}", BadFrame, "reason is at most 200 characters, on one line", None),
    ("{\"type\":\"ban\",\"name\":\"x\",\"minutes\":-1}", BadFrame, "invalid value: integer `-1`, expected u32", None),
    ("{\"type\":\"unban\",\"name\":\" \"}", BadFrame, "a name must not be empty", None),
    ("{\"type\":\"appoint\",\"name\":\"\\u202e\"}", BadFrame, "a name must not contain invisible or direction-changing characters", None),
    ("{\"type\":\"dismiss\",\"name\":5}", BadFrame, "invalid type: integer `5`, expected a string", None),
    ("{\"type\":\"read\"}", BadFrame, "missing field `seq`", None),
    ("{\"type\":\"pin\"}", BadFrame, "missing field `seq`", None),
    ("{\"type\":\"unpin\",\"seq\":-1,\"client_id\":\"u1\"}", BadFrame, "invalid value: integer `-1`, expected u64", Some("u1")),
    ("{\"type\":\"pin\",\"seq\":1,\"client_id\":\"\"}", BadFrame, "client_id must not be empty", Some("")),
    ("{\"type\":\"read\",\"seq\":1.0}", BadFrame, "invalid type: floating point `1.0`, expected u64", None),
    ("{\"type\":\"read\",\"seq\":\"1\",\"client_id\":\"rd\"}", BadFrame, "invalid type: string \"1\", expected u64", Some("rd")),
    ]);
    for (text, code, message, client_id) in cases {
        let d = ClientFrame::decode(text);
        let r = d.frame.expect_err(text);
        assert_eq!(
            (
                r.code,
                r.message.as_str(),
                r.client_id.as_deref(),
                d.client_id.as_deref()
            ),
            (code, message, client_id, client_id),
            "{text}"
        );
    }
}

#[test]
fn duplicate_keys_decode_as_the_last_one() {
    // The fast path refuses duplicates; the long way (a `Value`) keeps the last.
    let d = ClientFrame::decode(r#"{"type":"send","text":"x","client_id":"c","client_id":"d"}"#);
    assert_eq!(d.client_id.as_deref(), Some("d"));
    assert!(
        matches!(d.frame, Ok(ClientFrame::Send { client_id, .. }) if client_id.as_str() == "d")
    );
    let d = ClientFrame::decode(r#"{"type":"typing","on":true,"on":false}"#);
    assert_eq!(d.frame, Ok(ClientFrame::Typing { on: false }));
    let d = ClientFrame::decode(r#"{"type":"send","type":"typing","on":true}"#);
    assert_eq!(d.frame, Ok(ClientFrame::Typing { on: true }));
}
