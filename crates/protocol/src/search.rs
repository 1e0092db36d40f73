//! Full-text search: the `GET /api/search` query, the FTS5 MATCH expression built from
//! it, and the answer's shapes.
//!
//! User text never reaches FTS5 as syntax: every term becomes a quoted FTS5 string, so
//! `"`, `*`, `^`, `:`, parentheses, `NEAR`, `OR`, `AND` and `NOT` are all searched as
//! plain text (or, being punctuation, ignored by the tokenizer).

use serde::{Deserialize, Serialize};

use crate::{parse_limit, parse_seq, ErrorCode, HttpError, RoomId};

/// The longest search query, in code points, after trimming.
pub const MAX_SEARCH_CHARS: usize = 200;
/// The most words a search query may have.
pub const MAX_SEARCH_TERMS: usize = 16;
/// Results per search page unless `limit` says otherwise (1-100).
pub const DEFAULT_SEARCH_LIMIT: u32 = 20;
/// The shortest search query, in code points after trimming, unless the `SEARCH_MIN_CHARS`
/// setting says otherwise: shorter prefixes match too much of the index to be cheap.
pub const SEARCH_MIN_CHARS: usize = 3;
/// The largest `offset` a search page may start at, unless the `SEARCH_MAX_OFFSET`
/// setting says otherwise (every page up to it is ranked again from the start).
pub const SEARCH_MAX_OFFSET: u64 = 200;
/// What FTS5's `snippet()` puts before and after a matching word. Control characters
/// are token separators for the tokenizer, and the search index stores message text with
/// these two replaced by spaces, so in a snippet they can only be markers.
pub const HIT_OPEN: char = '\u{2}';
pub const HIT_CLOSE: char = '\u{3}';

/// A parsed `GET /api/search` query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    /// The FTS5 MATCH expression: quoted terms, ANDed, the last one a prefix.
    pub fts: String,
    /// Only this room, or every room the searcher can see.
    pub room: Option<RoomId>,
    pub limit: u32,
    pub offset: u64,
}

/// Whether a term holds anything the tokenizer indexes (letters or digits); a term of
/// punctuation alone would be an empty FTS5 phrase, which matches nothing.
fn searchable(term: &str) -> bool {
    term.chars().any(char::is_alphanumeric)
}

/// A term as an FTS5 string: in double quotes, a quote inside doubled.
fn quote(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    out.push('"');
    for c in term.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Builds the MATCH expression for a user's query: whitespace-separated terms, each
/// quoted, ANDed, the last one matched as a prefix (`"ann" AND "hel"*`). Control
/// characters count as whitespace.
pub fn fts_match(q: &str) -> Result<String, &'static str> {
    fts_match_with(q, 0)
}

/// [`fts_match`], except that a last word shorter than `min_prefix_chars` matches only
/// as a whole word: a one-letter prefix would make FTS5 expand and score every word that
/// starts with it (`a b` searches the words "a" and "b", not everything that starts with b).
pub fn fts_match_with(q: &str, min_prefix_chars: usize) -> Result<String, &'static str> {
    let q = q.trim();
    if q.is_empty() {
        return Err("the search query is empty");
    }
    if q.chars().count() > MAX_SEARCH_CHARS {
        return Err("the search query is longer than 200 characters");
    }
    // Control characters separate words for the tokenizer too; none reaches SQLite.
    let q: String = q
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let terms: Vec<&str> = q.split_whitespace().filter(|t| searchable(t)).collect();
    if terms.is_empty() {
        return Err("the search query has no word to search for (letters or digits)");
    }
    if terms.len() > MAX_SEARCH_TERMS {
        return Err("the search query has more than 16 words");
    }
    let mut expr = terms
        .iter()
        .map(|t| quote(t))
        .collect::<Vec<_>>()
        .join(" AND ");
    if terms
        .last()
        .is_some_and(|t| t.chars().count() >= min_prefix_chars)
    {
        expr.push('*');
    }
    Ok(expr)
}

/// The server's settings a search query is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchRules {
    /// The shortest `q`, in code points after trimming.
    pub min_chars: usize,
    /// The largest `offset`.
    pub max_offset: u64,
}

impl Default for SearchRules {
    fn default() -> Self {
        SearchRules {
            min_chars: SEARCH_MIN_CHARS,
            max_offset: SEARCH_MAX_OFFSET,
        }
    }
}

/// [`parse_search_query_with`] the default rules.
pub fn parse_search_query<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Result<SearchQuery, HttpError> {
    parse_search_query_with(pairs, SearchRules::default())
}

/// `?q=TEXT[&room=ID][&limit=N][&offset=N]`. When a parameter is repeated, the last one
/// counts; unknown parameters are ignored.
pub fn parse_search_query_with<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
    rules: SearchRules,
) -> Result<SearchQuery, HttpError> {
    let (mut q, mut room, mut limit, mut offset) = (None, None, DEFAULT_SEARCH_LIMIT, 0);
    for (k, v) in pairs {
        let v = v.as_ref();
        match k.as_ref() {
            "q" => q = Some(v.to_owned()),
            "room" => {
                room =
                    Some(RoomId::parse(v).map_err(|m| HttpError::new(ErrorCode::InvalidRoom, m))?)
            }
            "limit" => limit = parse_limit(v)?,
            "offset" => offset = parse_seq("offset", v)?,
            _ => {}
        }
    }
    if offset > rules.max_offset {
        return Err(HttpError::new(
            ErrorCode::BadRequest,
            format!(
                "offset must be an integer from 0 to {}: refine the search instead of paging further",
                rules.max_offset
            ),
        ));
    }
    let q = q.ok_or_else(|| {
        HttpError::new(ErrorCode::BadRequest, "a search query is required (?q=...)")
    })?;
    let chars = q.trim().chars().count();
    if chars > 0 && chars < rules.min_chars {
        return Err(HttpError::new(
            ErrorCode::BadRequest,
            format!(
                "a search needs at least {} characters (this one has {chars})",
                rules.min_chars
            ),
        ));
    }
    let fts = fts_match_with(&q, rules.min_chars)
        .map_err(|m| HttpError::new(ErrorCode::BadRequest, m))?;
    Ok(SearchQuery {
        fts,
        room,
        limit,
        offset,
    })
}

/// A piece of a snippet: plain text, or a word that matched (`hit`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetPart {
    pub text: String,
    pub hit: bool,
}

/// Splits a snippet marked with [`HIT_OPEN`] and [`HIT_CLOSE`] into parts. Empty parts
/// are left out, and neighbouring parts of one kind are joined.
pub fn split_snippet(marked: &str) -> Vec<SnippetPart> {
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut push = |text: &str, hit: bool| {
        if text.is_empty() {
            return;
        }
        match parts.last_mut() {
            Some(last) if last.hit == hit => last.text.push_str(text),
            _ => parts.push(SnippetPart {
                text: text.to_owned(),
                hit,
            }),
        }
    };
    let (mut hit, mut start) = (false, 0);
    for (i, c) in marked.char_indices() {
        if c == HIT_OPEN || c == HIT_CLOSE {
            push(&marked[start..i], hit);
            hit = c == HIT_OPEN;
            start = i + c.len_utf8();
        }
    }
    push(&marked[start..], hit);
    parts
}

/// One search result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    pub room: String,
    pub seq: u64,
    pub name: String,
    pub ts: u64,
    pub snippet: Vec<SnippetPart>,
}

/// The answer to `GET /api/search`: best match first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    pub results: Vec<SearchResult>,
    pub has_more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(pairs: &[(&str, &str)]) -> Result<SearchQuery, HttpError> {
        parse_search_query(pairs.iter().copied())
    }

    #[test]
    fn terms_are_quoted_anded_and_the_last_is_a_prefix() {
        assert_eq!(fts_match("hello").unwrap(), "\"hello\"*");
        assert_eq!(
            fts_match("  ann   said hel ").unwrap(),
            "\"ann\" AND \"said\" AND \"hel\"*"
        );
        assert_eq!(fts_match("café").unwrap(), "\"café\"*");
        assert_eq!(
            fts_match("a\u{0}b\u{2}c").unwrap(),
            "\"a\" AND \"b\" AND \"c\"*"
        );
    }

    #[test]
    fn fts_syntax_is_searched_as_text() {
        assert_eq!(fts_match("a\"b").unwrap(), "\"a\"\"b\"*");
        assert_eq!(
            fts_match("NEAR(a b) OR x").unwrap(),
            "\"NEAR(a\" AND \"b)\" AND \"OR\" AND \"x\"*"
        );
        assert_eq!(
            fts_match("text:foo ^bar baz*").unwrap(),
            "\"text:foo\" AND \"^bar\" AND \"baz*\"*"
        );
        assert_eq!(
            fts_match("hi *** \"\" - ()").unwrap(),
            "\"hi\"*",
            "terms without letters or digits are left out"
        );
    }

    #[test]
    fn queries_without_a_word_or_too_long_are_refused() {
        for bad in ["", "   ", "***", "\" \" ()", "- + ^ :"] {
            assert!(fts_match(bad).is_err(), "{bad:?}");
        }
        assert!(fts_match(&"a".repeat(200)).is_ok());
        assert!(fts_match(&format!("  {}  ", "é".repeat(200))).is_ok());
        assert!(fts_match(&"a".repeat(201)).is_err());
        let words = |n: usize| vec!["w"; n].join(" ");
        assert!(fts_match(&words(16)).is_ok());
        assert!(fts_match(&words(17)).is_err());
    }

    #[test]
    fn the_query_string_is_parsed_strictly() {
        let q = search(&[
            ("q", "hey"),
            ("room", "General"),
            ("limit", "5"),
            ("offset", "10"),
        ])
        .unwrap();
        assert_eq!(q.fts, "\"hey\"*");
        assert_eq!(q.room.unwrap().as_str(), "general");
        assert_eq!((q.limit, q.offset), (5, 10));
        let q = search(&[("q", "hey"), ("x", "y")]).unwrap();
        assert_eq!((q.room, q.limit, q.offset), (None, DEFAULT_SEARCH_LIMIT, 0));

        let code = |pairs: &[(&str, &str)]| search(pairs).unwrap_err().error.code;
        assert_eq!(code(&[]), ErrorCode::BadRequest);
        assert_eq!(code(&[("q", " ")]), ErrorCode::BadRequest);
        assert_eq!(
            code(&[("q", "hi"), ("room", "bad!")]),
            ErrorCode::InvalidRoom
        );
        assert_eq!(code(&[("q", "hi"), ("room", "")]), ErrorCode::InvalidRoom);
        assert_eq!(code(&[("q", "hi"), ("limit", "0")]), ErrorCode::BadRequest);
        assert_eq!(
            code(&[("q", "hi"), ("limit", "101")]),
            ErrorCode::BadRequest
        );
        assert_eq!(
            code(&[("q", "hi"), ("offset", "-1")]),
            ErrorCode::BadRequest
        );
        assert_eq!(
            code(&[("q", "hey"), ("offset", "201")]),
            ErrorCode::BadRequest
        );
        assert!(search(&[("q", "hey"), ("offset", "200")]).is_ok());
    }

    #[test]
    fn short_queries_and_deep_offsets_are_refused_by_the_rules() {
        let err = |q: &str, rules| {
            parse_search_query_with([("q", q)], rules)
                .unwrap_err()
                .error
                .message
        };
        let rules = SearchRules::default();
        assert!(err("a", rules).contains("at least 3 characters"));
        assert!(err("  ab  ", rules).contains("at least 3 characters"));
        assert!(err("é😀", rules).contains("has 2"));
        assert!(parse_search_query_with([("q", " abc ")], rules).is_ok());
        let short_last = parse_search_query_with([("q", "a b")], rules).unwrap();
        assert_eq!(
            short_last.fts, "\"a\" AND \"b\"",
            "a short last word is no prefix"
        );
        let long_last = parse_search_query_with([("q", "a bcd")], rules).unwrap();
        assert_eq!(long_last.fts, "\"a\" AND \"bcd\"*");
        let loose = SearchRules {
            min_chars: 1,
            max_offset: 1000,
        };
        assert!(parse_search_query_with([("q", "a")], loose).is_ok());
        assert!(parse_search_query_with([("q", "abc"), ("offset", "1000")], loose).is_ok());
        let msg = parse_search_query_with([("q", "abc"), ("offset", "201")], rules)
            .unwrap_err()
            .error
            .message;
        assert!(msg.contains("from 0 to 200"), "{msg}");
    }

    #[test]
    fn snippets_split_into_plain_and_hit_parts() {
        let part = |text: &str, hit| SnippetPart {
            text: text.into(),
            hit,
        };
        assert_eq!(
            split_snippet("…say \u{2}hello\u{3} to \u{2}Ann\u{3}"),
            vec![
                part("…say ", false),
                part("hello", true),
                part(" to ", false),
                part("Ann", true)
            ]
        );
        assert_eq!(
            split_snippet("\u{2}a\u{3}\u{2}b\u{3}"),
            vec![part("ab", true)]
        );
        assert_eq!(split_snippet("plain <b>"), vec![part("plain <b>", false)]);
        assert!(split_snippet("").is_empty());
        assert_eq!(split_snippet("\u{2}dangling"), vec![part("dangling", true)]);
    }
}
