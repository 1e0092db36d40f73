//! [`find_client_id`]: the `client_id` of a frame serde did not read (too large to
//! parse) or whose type has no such field, so that its refusal still names the message
//! it refuses. A bounded forward scan, apart from the decoder because it reads bytes,
//! not frames.

/// The most bytes [`find_client_id`] looks at, so that the scan has a stated bound
/// whatever the runtime delivers (a "1 MiB" frame is a little over 1 MiB with its JSON;
/// a client_id further in than this is not found).
pub const CLIENT_ID_SCAN_BYTES: usize = 4 << 20;

/// The `client_id` of a frame that is not parsed (too large) or whose type has no such
/// field: the string value of the top-level key `client_id` of a JSON object, found by
/// one forward scan that keeps no stack (nesting is a counter), copies nothing but the
/// answer, and stops at that key. A value over [`CLIENT_ID_ECHO_BYTES`] as written, or a
/// `client_id` that is not a string, counts as none. It does not validate the JSON: a frame that is
/// broken after its `client_id` still gets it echoed, which is harmless, since the frame
/// is refused anyway. Only the first [`CLIENT_ID_SCAN_BYTES`] bytes are looked at.
pub fn find_client_id(text: &str) -> Option<String> {
    let b = &text.as_bytes()[..text.len().min(CLIENT_ID_SCAN_BYTES)];
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(b, i);
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(b, i)?;
        let key = &b[i + 1..key_end - 1];
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let value_end = value_end(b, i)?;
        if is_client_id_key(key) {
            return client_id_value(&b[i..value_end]);
        }
        i = skip_ws(b, value_end);
        if b.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
    }
}

fn is_client_id_key(key: &[u8]) -> bool {
    if key == b"client_id" {
        return true;
    }
    // An escaped spelling ("client\u005fid") is the same key to a JSON parser.
    key.contains(&b'\\')
        && key.len() <= 64
        && std::str::from_utf8(key)
            .ok()
            .and_then(|k| serde_json::from_str::<String>(&format!("\"{k}\"")).ok())
            .is_some_and(|k| k == "client_id")
}

/// The most bytes a `client_id` found by [`find_client_id`] may take as written: an
/// invalid one (65 code points, say) is still echoed, a huge one is not.
pub const CLIENT_ID_ECHO_BYTES: usize = 1024;

fn client_id_value(raw: &[u8]) -> Option<String> {
    if raw.first() != Some(&b'"') || raw.len() > CLIENT_ID_ECHO_BYTES {
        return None;
    }
    serde_json::from_slice(raw).ok()
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        i += 1;
    }
    i
}

/// Given `b[start] == b'"'`, the index just past the closing quote.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The index just past the JSON value starting at `b[start]`: a string, an object or an
/// array (brackets counted, strings skipped), or a scalar (up to a delimiter).
fn value_end(b: &[u8], start: usize) -> Option<usize> {
    match b.get(start)? {
        b'"' => string_end(b, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = string_end(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let mut i = start;
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                i += 1;
            }
            (i > start).then_some(i)
        }
    }
}
