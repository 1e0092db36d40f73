//! Randomised queries against the search expression builder: whatever a user types,
//! `fts_match` either refuses it with a message or produces a well-formed FTS5 MATCH
//! expression of quoted strings joined by ` AND `, the last one a prefix, whose strings
//! unquote to exactly the user's words. Nothing the user typed is ever read as syntax.
//! `SEARCH_RUNS=N cargo test -p edgechat-protocol --test search_random` runs longer.

use edgechat_protocol::{fts_match, MAX_SEARCH_CHARS, MAX_SEARCH_TERMS};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Pieces users type, FTS5 syntax included.
const PIECES: &[&str] = &[
    "\"", "\"\"", "*", "^", ":", "(", ")", "-", "+", "NEAR(", "NEAR", "OR", "AND", "NOT", "{", "}",
    ",", "'", "\\", " ", "  ", "\t", "\n", "a", "hello", "é", "Ünï", "42", "日本", "🙂", "\u{2}",
    "\u{3}", "\u{0}", "col:", "x*", "\u{a0}", "_", ".",
];

/// Parses an expression of the only shape allowed and returns its unquoted strings.
fn parse(expr: &str) -> Result<Vec<String>, String> {
    let body = expr
        .strip_suffix('*')
        .ok_or("the expression must end with the prefix star")?;
    let mut terms = Vec::new();
    let mut chars = body.chars().peekable();
    loop {
        if chars.next() != Some('"') {
            return Err("a string must open with a quote".into());
        }
        let mut term = String::new();
        loop {
            match chars.next() {
                None => return Err("unterminated string".into()),
                Some('"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    term.push('"');
                }
                Some('"') => break,
                Some(c) => term.push(c),
            }
        }
        terms.push(term);
        match chars.next() {
            None => return Ok(terms),
            Some(' ') => {
                let and: String = chars.by_ref().take(4).collect();
                if and != "AND " {
                    return Err(format!("expected AND between strings, got {and:?}"));
                }
            }
            Some(c) => return Err(format!("unexpected {c:?} after a string")),
        }
    }
}

#[test]
fn every_query_is_refused_or_well_formed() {
    let runs: usize = std::env::var("SEARCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut rng = Rng(0x5EA2C4);
    let (mut accepted, mut refused) = (0, 0);
    for run in 0..runs {
        let mut q = String::new();
        for _ in 0..rng.below(if run % 50 == 0 { 120 } else { 12 }) {
            q.push_str(PIECES[rng.below(PIECES.len())]);
        }
        let spaced: String = q
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let words: Vec<&str> = spaced
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .collect();
        match fts_match(&q) {
            Ok(expr) => {
                accepted += 1;
                let terms = parse(&expr).unwrap_or_else(|e| panic!("{q:?} -> {expr:?}: {e}"));
                assert_eq!(terms, words, "{q:?} -> {expr:?}");
                assert!(!expr.chars().any(char::is_control), "{expr:?}");
                assert!(!terms.is_empty() && terms.len() <= MAX_SEARCH_TERMS);
                assert!(q.trim().chars().count() <= MAX_SEARCH_CHARS);
            }
            Err(message) => {
                refused += 1;
                assert!(!message.is_empty());
                assert!(
                    words.is_empty()
                        || words.len() > MAX_SEARCH_TERMS
                        || q.trim().chars().count() > MAX_SEARCH_CHARS,
                    "{q:?} was refused: {message}"
                );
            }
        }
    }
    assert!(
        accepted > runs / 4 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}
