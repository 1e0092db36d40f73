//! `find_client_id`, the bounded scan for the client_id of a frame serde did not read.

use serde_json::json;

use crate::*;

#[test]
fn find_client_id_reads_only_the_top_level_key() {
    let cases: &[(&str, Option<&str>)] = &[
        (r#"{"client_id":"a"}"#, Some("a")),
        (
            r#" { "type" : "send" , "client_id" : "b c" } "#,
            Some("b c"),
        ),
        (
            r#"{"text":"x","client_id":"\u00e9\ud83d\ude00"}"#,
            Some("é😀"),
        ),
        (r#"{"client\u005fid":"esc"}"#, Some("esc")),
        // Inside a string or a nested value it is not the frame's.
        (
            r#"{"text":"\"client_id\":\"no\"","client_id":"yes"}"#,
            Some("yes"),
        ),
        (
            r#"{"a":{"client_id":"no"},"b":[{"client_id":"no"}],"client_id":"yes"}"#,
            Some("yes"),
        ),
        (r#"{"a":{"client_id":"no"}}"#, None),
        (r#"{"a":"}{][","client_id":"k"}"#, Some("k")),
        (
            r#"{"n":-1.5e3,"t":true,"z":null,"client_id":"n"}"#,
            Some("n"),
        ),
        // Broken after the client_id: still found; broken before it: not.
        (r#"{"client_id":"early","text":"#, Some("early")),
        (r#"{"text":"unterminated,"client_id":"late"#, None),
        (r#"{"text" "x","client_id":"c"}"#, None),
        (r#"{"client_id":5}"#, None),
        (r#"{"client_id":null}"#, None),
        (r#"["client_id","a"]"#, None),
        (r#""client_id""#, None),
        ("", None),
        ("{", None),
        (r#"{"a":"\"#, None),
    ];
    for (text, want) in cases {
        assert_eq!(find_client_id(text).as_deref(), *want, "{text}");
    }
    // A long invalid client_id is echoed; a huge one is not.
    let long = json!({"client_id": "x".repeat(65)}).to_string();
    assert_eq!(find_client_id(&long).map(|c| c.len()), Some(65));
    let huge = json!({"client_id": "x".repeat(5000)}).to_string();
    assert_eq!(find_client_id(&huge), None);
}

#[test]
fn find_client_id_agrees_with_serde_and_never_panics_on_arbitrary_bytes() {
    // A small xorshift generator: reproducible, no dependency.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pieces = [
        "{",
        "}",
        "[",
        "]",
        "\"",
        ":",
        ",",
        "\\",
        "\\\"",
        " ",
        "client_id",
        "\"client_id\"",
        "\"a\"",
        "1",
        "-2.5",
        "true",
        "null",
        "é",
        "😀",
        "\\u0041",
        "\\n",
        "\u{0}",
    ];
    for _ in 0..50_000 {
        let mut s = String::new();
        if next() % 2 == 0 {
            s.push_str(r#"{"type":"send","#);
        }
        for _ in 0..next() % 24 {
            s.push_str(pieces[(next() % pieces.len() as u64) as usize]);
        }
        let found = find_client_id(&s);
        // On valid JSON objects the scan and serde agree (serde takes the last of
        // duplicate keys, the scan the first: only compare frames with one).
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&s) {
            if s.matches("client_id").count() <= 1 {
                let want = map
                    .get("client_id")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned);
                assert_eq!(found, want, "{s}");
            }
        }
        // Valid objects of random values, the client_id among them (keys sort: a.., client_id, z..).
        let mut obj = serde_json::Map::new();
        for k in 0..next() % 5 {
            let v = match next() % 4 {
                0 => json!(s),
                1 => json!({"client_id": s, "x": [s, {"client_id": 1}]}),
                2 => json!([next() % 100, null, true]),
                _ => json!(-1.5),
            };
            obj.insert(format!("a{k}"), v);
        }
        obj.insert(
            "client_id".into(),
            json!(s.chars().take(20).collect::<String>()),
        );
        for k in 5..5 + next() % 3 {
            obj.insert(format!("z{k}"), json!({"t": s}));
        }
        let text = serde_json::Value::Object(obj.clone()).to_string();
        assert_eq!(
            find_client_id(&text).as_deref(),
            obj["client_id"].as_str(),
            "{text}"
        );
        // Arbitrary bytes, cut anywhere that is a char boundary.
        let cut = (next() as usize) % (s.len() + 1);
        if s.is_char_boundary(cut) {
            let _ = find_client_id(&s[..cut]);
        }
    }
}
