//! The web client's copy of the wire contract, `public/protocol.js`, checked against this
//! crate: every constant that file declares must equal the Rust one (or, for the room's
//! close codes, which live in `edgechat_room`, not a dependency of this crate, the literal
//! value PROTOCOL.md gives). A constant added there without a check here fails the test,
//! so that the browser cannot drift from the server unnoticed.

use std::collections::BTreeMap;

use edgechat_protocol as p;

/// `public/protocol.js`, read from the repository.
fn source() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../public/protocol.js");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// Each `export const NAME = value;` of the file (UPPER_CASE names: the helpers beside
/// them, such as `export const cleanName = ...`, are no constants), its value as written
/// (over several lines for arrays and objects).
fn constants(js: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = js.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("export const ") else {
            continue;
        };
        let (name, value) = rest.split_once(" = ").expect("export const NAME = value");
        let mut value = value.to_owned();
        while !value.trim_end().ends_with(';') {
            value.push('\n');
            value.push_str(lines.next().expect("an unterminated constant"));
        }
        let value = value.trim_end().trim_end_matches(';').to_owned();
        if name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            out.insert(name.to_owned(), value);
        }
    }
    out
}

/// A number as written: `4000`, `16 * 1024`, `10_000`.
fn number(value: &str) -> u64 {
    value
        .split('*')
        .map(|factor| {
            factor
                .trim()
                .replace('_', "")
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("not a number: {value}"))
        })
        .product()
}

/// A quoted string: `'dm--'`.
fn string(value: &str) -> String {
    let v = value.trim();
    assert!(
        v.starts_with('\'') && v.ends_with('\''),
        "not a string: {value}"
    );
    v[1..v.len() - 1].to_owned()
}

/// The quoted strings of an array, or the keys of an object.
fn strings(value: &str) -> Vec<String> {
    if value.trim_start().starts_with('{') {
        return value
            .trim()
            .trim_start_matches('{')
            .trim_end_matches('}')
            .split(',')
            .filter_map(|entry| entry.split_once(':'))
            .map(|(k, _)| k.trim().to_owned())
            .collect();
    }
    value
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// How many error codes there are. The match fails to compile when `ErrorCode` gains a
/// variant: add it there, count it here, and add it to the client's `ERROR_CODES`.
const ERROR_CODE_COUNT: usize = 17;

fn counted(code: p::ErrorCode) -> bool {
    use p::ErrorCode::*;
    match code {
        BadFrame | TooLarge | InvalidText | RateLimited | NotFound | Internal | InvalidRoom
        | InvalidName | BadRequest | Forbidden | Banned | UnsupportedType | NameTaken
        | Unauthorized | RoomExists | QuotaExceeded | TooManySockets => true,
    }
}

#[test]
fn public_protocol_js_matches_the_rust_contract() {
    let js = constants(&source());
    let mut checked = Vec::new();
    let mut num = |name: &str, rust: u64| {
        let value = js
            .get(name)
            .unwrap_or_else(|| panic!("public/protocol.js lacks {name}"));
        assert_eq!(number(value), rust, "{name} in public/protocol.js");
        checked.push(name.to_owned());
    };
    num("MAX_TEXT_CHARS", p::MAX_TEXT_CHARS as u64);
    num("MAX_FRAME_BYTES", p::MAX_FRAME_BYTES as u64);
    num("MAX_NAME_CHARS", p::MAX_NAME_CHARS as u64);
    num("MAX_ROOM_CHARS", p::MAX_ROOM_CHARS as u64);
    num("PAGE_SIZE", u64::from(p::DEFAULT_PAGE));
    num("CATCHUP_PAGE", u64::from(p::MAX_PAGE));
    num("THREAD_PAGE", u64::from(p::MAX_PAGE));
    num("MAX_FILE_BYTES", p::MAX_FILE_BYTES as u64);
    num("SEARCH_PAGE", u64::from(p::DEFAULT_SEARCH_LIMIT));
    num("SEARCH_MIN_CHARS", p::SEARCH_MIN_CHARS as u64);
    num("MAX_SEARCH_CHARS", p::MAX_SEARCH_CHARS as u64);
    num("SEARCH_MAX_OFFSET", p::SEARCH_MAX_OFFSET);
    num("MAX_USERS_PAGE", u64::from(p::MAX_USERS_PAGE));
    // The room's close codes live in edgechat_room (CLOSE_REMOVED, limits::CLOSE_POLICY),
    // which this crate does not depend on: checked against PROTOCOL.md's values.
    num("CLOSE_REMOVED", 4001);
    num("CLOSE_CLAIM_GONE", 4003);
    num("CLOSE_POLICY", 1008);

    let mut text = |name: &str, rust: &str| {
        assert_eq!(string(&js[name]), rust, "{name} in public/protocol.js");
        checked.push(name.to_owned());
    };
    text("DM_PREFIX", p::DM_PREFIX);
    text("WS_PROTOCOL", p::WS_PROTOCOL);
    text("WS_BEARER_PREFIX", p::WS_BEARER_PREFIX);
    text("WS_PASS_PREFIX", p::WS_PASS_PREFIX);

    // Room ids: the pattern's length bound is MAX_ROOM_CHARS.
    assert_eq!(
        js["ROOM_RE"],
        format!("/^[a-z0-9_-]{{1,{}}}$/", p::MAX_ROOM_CHARS),
        "ROOM_RE"
    );
    let long = "a".repeat(p::MAX_ROOM_CHARS + 1);
    for (room, ok) in [
        ("team-chat_1", true),
        ("a b", false),
        ("é", false),
        ("", false),
        (long.as_str(), false),
    ] {
        assert_eq!(
            p::RoomId::parse(room).is_ok(),
            ok,
            "the server's verdict on {room:?}"
        );
    }
    checked.push("ROOM_RE".into());

    // Each of ERROR_CODES is an error code (parsed as the server parses it, spelled as it
    // spells it), none twice, and as many as there are: so every one.
    let js_codes = strings(&js["ERROR_CODES"]);
    for code in &js_codes {
        let parsed: p::ErrorCode = serde_json::from_str(&format!("\"{code}\""))
            .unwrap_or_else(|_| panic!("ERROR_CODES has {code:?}, which is no error code"));
        assert!(counted(parsed));
        assert_eq!(parsed.as_str(), code);
    }
    let distinct: std::collections::BTreeSet<&String> = js_codes.iter().collect();
    assert_eq!(
        distinct.len(),
        js_codes.len(),
        "ERROR_CODES lists a code twice"
    );
    assert_eq!(
        js_codes.len(),
        ERROR_CODE_COUNT,
        "ERROR_CODES in public/protocol.js lacks error codes"
    );
    for code in strings(&js["ERROR_MEANINGS"]) {
        assert!(
            js_codes.contains(&code),
            "ERROR_MEANINGS explains {code:?}, which is no error code"
        );
    }
    checked.extend(["ERROR_CODES".into(), "ERROR_MEANINGS".into()]);

    // Statuses: each one the server reads.
    let statuses = strings(&js["STATUS_LABELS"]);
    assert_eq!(statuses, ["online", "away", "dnd"]);
    for status in &statuses {
        serde_json::from_str::<p::Status>(&format!("\"{status}\""))
            .unwrap_or_else(|e| panic!("status {status:?}: {e}"));
    }
    checked.push("STATUS_LABELS".into());

    // Uploads: each type the picker offers is one the server accepts (a wrong signature
    // is refused for that reason, never because the type is unknown).
    for ty in strings(&js["ACCEPTED_TYPES"]) {
        if let Err(e) = p::check_upload(&ty, b"\0") {
            assert!(
                !e.error.message.contains("not accepted"),
                "{ty}: {}",
                e.error.message
            );
        }
    }
    checked.push("ACCEPTED_TYPES".into());

    // Names: the characters the client's pattern names explicitly (a control, a format
    // character, line and paragraph separators, variation selectors, fillers) are refused
    // by the server's `Name::parse` too. The pattern itself is JavaScript, checked in use.
    let bad_name = &js["BAD_NAME_RE"];
    for c in [
        '\u{7}',
        '\u{200b}',
        '\u{2028}',
        '\u{2029}',
        '\u{fe0f}',
        '\u{e0100}',
        '\u{115f}',
        '\u{3164}',
        '\u{ffa0}',
    ] {
        assert!(
            p::Name::parse(&format!("a{c}b")).is_err(),
            "the server accepts U+{:04X} in a name",
            c as u32
        );
    }
    for class in [
        "\\p{Cc}",
        "\\p{Cf}",
        "\\u2028",
        "\\u2029",
        "\\ufe00-\\ufe0f",
        "\\u3164",
    ] {
        assert!(bad_name.contains(class), "BAD_NAME_RE lost {class}");
    }
    checked.push("BAD_NAME_RE".into());

    let unchecked: Vec<&String> = js.keys().filter(|name| !checked.contains(name)).collect();
    assert!(
        unchecked.is_empty(),
        "constants of public/protocol.js with no check here: {unchecked:?}"
    );
}
