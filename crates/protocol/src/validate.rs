//! Validated values: once one of these exists, it satisfies the contract.

use std::fmt;

use crate::{MAX_CLIENT_ID_CHARS, MAX_NAME_CHARS, MAX_ROOM_CHARS, MAX_TEXT_CHARS};

/// A room id: 1-64 characters of `[a-z0-9_-]`, after ASCII case folding.
///
/// Only ASCII letters are folded: a non-ASCII character is refused rather than folded
/// into an ASCII one (the Kelvin sign would otherwise become `k`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId(String);

impl RoomId {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let id = raw.to_ascii_lowercase();
        if id.is_empty() {
            return Err("a room id must not be empty");
        }
        if id.len() > MAX_ROOM_CHARS {
            return Err("a room id is at most 64 characters");
        }
        if !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        {
            return Err("a room id may contain only a-z, 0-9, '_' and '-'");
        }
        Ok(RoomId(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user's name as spelled, trimmed, with its case-insensitive key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    display: String,
    key: String,
}

impl Name {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let display = raw.trim();
        if display.is_empty() {
            return Err("a name must not be empty");
        }
        if display.chars().count() > MAX_NAME_CHARS {
            return Err("a name is at most 32 characters");
        }
        if display.chars().any(char::is_control) {
            return Err("a name must not contain control characters");
        }
        if display.chars().any(is_invisible) {
            return Err("a name must not contain invisible or direction-changing characters");
        }
        Ok(Name {
            display: display.to_owned(),
            key: name_key(display),
        })
    }

    /// The name as its connection spelled it.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The key names compare by (case-insensitive).
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The case-insensitive key of a name that is already known to be valid.
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// Format characters (Unicode category Cf: bidi controls, zero-width characters, tags...)
/// and the few other characters that render as nothing, plus line and paragraph
/// separators. None of them belongs in a name: they let one name pass for another.
pub fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD
        | 0x034F
        | 0x0600..=0x0605
        | 0x061C
        | 0x06DD
        | 0x070F
        | 0x0890..=0x0891
        | 0x08E2
        | 0x115F..=0x1160
        | 0x17B4..=0x17B5
        | 0x180B..=0x180F
        | 0x200B..=0x200F
        | 0x2028..=0x202E
        | 0x2060..=0x206F
        | 0x3164
        | 0xFE00..=0xFE0F
        | 0xFEFF
        | 0xFFA0
        | 0xFFF9..=0xFFFB
        | 0x110BD
        | 0x110CD
        | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF
    )
}

/// Message text, trimmed, 1-4000 code points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let text = raw.trim();
        if text.is_empty() {
            return Err("the message is empty");
        }
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err("the message is longer than 4000 characters");
        }
        Ok(MessageText(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A reaction: one emoji, as a short run of non-ASCII symbols (joiners, skin tones,
/// variation selectors and keycaps included), never words or markup.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Emoji(String);

/// The most code points one reaction takes (a family emoji joined with ZWJs is 7).
pub const MAX_EMOJI_CHARS: usize = 10;

impl Emoji {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let n = raw.chars().count();
        if n == 0 || n > MAX_EMOJI_CHARS {
            return Err("emoji must be one emoji (1-10 code points)");
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("emoji must not contain spaces or control characters");
        }
        if !raw.chars().any(|c| (c as u32) >= 0xA9 && !is_invisible(c)) {
            return Err("emoji must be an emoji, not letters or punctuation");
        }
        if raw
            .chars()
            .any(|c| c.is_alphabetic() && (c as u32) < 0x2000)
        {
            return Err("emoji must be an emoji, not letters or punctuation");
        }
        Ok(Emoji(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A sender's idempotency key: 1-64 code points.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let n = raw.chars().count();
        if n == 0 {
            return Err("client_id must not be empty");
        }
        if n > MAX_CLIENT_ID_CHARS {
            return Err("client_id is at most 64 characters");
        }
        Ok(ClientId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_ids_fold_case_and_refuse_the_rest() {
        assert_eq!(RoomId::parse("General").unwrap().as_str(), "general");
        assert_eq!(RoomId::parse("a-b_c9").unwrap().as_str(), "a-b_c9");
        assert!(RoomId::parse(&"x".repeat(64)).is_ok());
        assert!(RoomId::parse(&"x".repeat(65)).is_err());
        assert!(RoomId::parse("").is_err());
        assert!(RoomId::parse("bad!id").is_err());
        assert!(RoomId::parse("sp ace").is_err());
        assert!(RoomId::parse("caf\u{e9}").is_err());
        assert!(
            RoomId::parse("\u{212A}").is_err(),
            "Kelvin sign is not folded to k"
        );
        assert!(RoomId::parse("a%20b").is_err());
    }

    #[test]
    fn names_are_trimmed_and_keyed_case_insensitively() {
        let n = Name::parse("  Alice ").unwrap();
        assert_eq!(n.display(), "Alice");
        assert_eq!(n.key(), "alice");
        assert_eq!(Name::parse("ÉLODIE").unwrap().key(), "élodie");
        assert!(Name::parse("Ann Lee").is_ok());
    }

    #[test]
    fn names_count_code_points() {
        assert!(Name::parse(&"é".repeat(32)).is_ok());
        assert!(Name::parse(&"é".repeat(33)).is_err());
        assert!(Name::parse(&"🙂".repeat(32)).is_ok());
    }

    #[test]
    fn names_refuse_empty_control_and_invisible_characters() {
        for bad in [
            "",
            "   ",
            "a\u{0}b",
            "a\nb",
            "a\u{7f}",
            "a\u{85}b",
            "a\u{9f}",
            "\u{202E}evil",
            "zero\u{200B}width",
            "joiner\u{200D}",
            "bom\u{FEFF}",
            "iso\u{2066}late",
            "tag\u{E0041}",
            "soft\u{AD}hyphen",
        ] {
            assert!(Name::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn text_is_trimmed_and_bounded_in_code_points() {
        assert_eq!(MessageText::parse("  hi \n").unwrap().as_str(), "hi");
        assert!(MessageText::parse(" \n\t ").is_err());
        assert!(MessageText::parse(&"a".repeat(4000)).is_ok());
        assert!(MessageText::parse(&"a".repeat(4001)).is_err());
        assert!(MessageText::parse(&"😀".repeat(4000)).is_ok());
        assert!(MessageText::parse(&format!("  {}  ", "b".repeat(4000))).is_ok());
    }

    #[test]
    fn client_ids_are_1_to_64_code_points() {
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse("a").is_ok());
        assert!(ClientId::parse(&"a".repeat(64)).is_ok());
        assert!(ClientId::parse(&"a".repeat(65)).is_err());
        assert!(ClientId::parse(&"é".repeat(64)).is_ok());
    }
}
