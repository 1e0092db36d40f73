//! Validated values: once one of these exists, it satisfies the contract.

use std::fmt;

use caseless::Caseless;

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

/// A user's name: `display` as shown (trimmed, each run of inner whitespace one
/// U+0020), `key` what names compare by ([`name_key`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    display: String,
    key: String,
}

impl Name {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        // Control characters (C0, C1: tabs and line breaks among them) are refused before
        // whitespace is collapsed, as the contract says; only the ends are trimmed.
        if raw
            .trim()
            .chars()
            .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
        {
            return Err("a name must not contain control characters");
        }
        let mut display = String::with_capacity(raw.len().min(4 * MAX_NAME_CHARS));
        for word in raw.split_whitespace() {
            if !display.is_empty() {
                display.push(' ');
            }
            display.push_str(word);
        }
        if display.is_empty() {
            return Err("a name must not be empty");
        }
        if display.chars().count() > MAX_NAME_CHARS {
            return Err("a name is at most 32 characters");
        }
        for c in display.chars() {
            if c.is_control() {
                return Err("a name must not contain control characters");
            }
            if is_bidi_control(c) {
                return Err("a name must not contain invisible or direction-changing characters");
            }
            if is_blank(c) {
                return Err("a name must not contain blank or invisible characters");
            }
        }
        let key = name_key(&display);
        Ok(Name { display, key })
    }

    /// The name as its connection spelled it (whitespace collapsed).
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The key names compare by: see [`name_key`].
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The name's look-alike skeleton: see [`skeleton`].
    pub fn skeleton(&self) -> String {
        skeleton(&self.display)
    }
}

/// The key names compare by: Unicode compatibility caseless form
/// (NFKC of full case folding), so `Ann`, `ＡＮＮ` and `ann` are one name, and so are
/// `Straße` and `strasse`, and the composed and decomposed spellings of `José`.
/// Idempotent. Meant for names already valid ([`Name::parse`]); nothing is trimmed.
pub fn name_key(name: &str) -> String {
    if name.is_ascii() {
        // ASCII is already NFKC, and its full case folding is its lowercase.
        return name.to_ascii_lowercase();
    }
    compat_caseless::<unicode::Forms>(name)
}

/// UAX #15 / Unicode 3.13 compatibility caseless matching,
/// NFKD(fold(NFKD(fold(NFD(x))))), ending in NFKC instead of NFKD: the same
/// equivalence, in the shorter composed form. The normalization forms come from `N`.
fn compat_caseless<N: unicode::Normalize>(name: &str) -> String {
    let folded: String = N::nfd(name).chars().default_case_fold().collect();
    let folded: String = N::nfkd(&folded).chars().default_case_fold().collect();
    N::nfkc(&folded)
}

/// Where the normalization forms come from. In the Worker (wasm32) they are the
/// runtime's own `String.prototype.normalize`, so the wasm carries no compatibility
/// decomposition or composition tables; elsewhere (host tests, the CLI) they are the
/// `unicode-normalization` crate's. Both implement UAX #15, and
/// `tests/integration/names.test.mjs` checks the Worker's keys against the same cases
/// the host tests check here.
mod unicode {
    pub trait Normalize {
        fn nfd(s: &str) -> String;
        fn nfkd(s: &str) -> String;
        fn nfkc(s: &str) -> String;
    }

    pub struct Forms;

    #[cfg(not(target_arch = "wasm32"))]
    impl Normalize for Forms {
        fn nfd(s: &str) -> String {
            use unicode_normalization::UnicodeNormalization;
            s.nfd().collect()
        }
        fn nfkd(s: &str) -> String {
            use unicode_normalization::UnicodeNormalization;
            s.nfkd().collect()
        }
        fn nfkc(s: &str) -> String {
            use unicode_normalization::UnicodeNormalization;
            s.nfkc().collect()
        }
    }

    #[cfg(target_arch = "wasm32")]
    impl Normalize for Forms {
        fn nfd(s: &str) -> String {
            js(s, "NFD")
        }
        fn nfkd(s: &str) -> String {
            js(s, "NFKD")
        }
        fn nfkc(s: &str) -> String {
            js(s, "NFKC")
        }
    }

    /// `s.normalize(form)` in the runtime. A Rust `&str` is valid UTF-16 once converted
    /// (no lone surrogates), so the answer converts back losslessly.
    #[cfg(target_arch = "wasm32")]
    fn js(s: &str, form: &str) -> String {
        String::from(js_sys::JsString::from(s).normalize(form))
    }
}

/// The key claims were stored under before [`name_key`] folded compatibility forms
/// and case fully: the trimmed name, lowercased. Only for finding such old rows.
pub fn legacy_name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The UTS #39 confusable skeleton of a name as spelled: names that look alike (`Ann`
/// with a Cyrillic `А`, `Нugo` with a Cyrillic `Н`, `B0b` and `Bob`, `Ivan` and `lvan`)
/// have equal skeletons. Taken from the spelling, not the key, because some look-alikes
/// are capitals only (Cyrillic `Н` looks like `H`, its lowercase `н` not like `h`). The
/// skeleton is for comparing only, never for showing.
pub fn skeleton(name: &str) -> String {
    settle(unicode_security::skeleton(name).collect())
}

/// The skeleton of a name's key: what [`skeleton`] gives for the name written in lower
/// case. A new name is compared by both, so that `lvan` also meets an `ivan`.
pub fn key_skeleton(name: &str) -> String {
    settle(unicode_security::skeleton(&name_key(name)).collect())
}

/// Confusable prototypes may be capitals or digit look-alikes (`0` becomes `O`), so a
/// skeleton is folded and taken again until it settles.
fn settle(mut skel: String) -> String {
    for _ in 0..4 {
        let next: String = unicode_security::skeleton(&name_key(&skel)).collect();
        if next == skel {
            break;
        }
        skel = next;
    }
    skel
}

/// The Bidi_Control characters: they reorder the text around them.
fn is_bidi_control(c: char) -> bool {
    matches!(c as u32, 0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069)
}

/// A character that shows as nothing or as an empty space without being whitespace:
/// [`is_invisible`], the Default_Ignorable_Code_Point characters (those UTS #39
/// skeletons drop) and the blank-looking symbols and fillers.
fn is_blank(c: char) -> bool {
    if c.is_ascii() {
        return false;
    }
    if is_invisible(c) || matches!(c as u32, 0x2800 | 0x16FE4 | 0x1D159) {
        return true;
    }
    // A skeleton drops exactly the default ignorable characters (a confusable
    // prototype is never empty), so this asks unicode-security's own table.
    let mut buf = [0; 4];
    let ignorable = unicode_security::skeleton(c.encode_utf8(&mut buf))
        .next()
        .is_none();
    ignorable
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
            "a\u{7f}",
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
        assert_eq!(
            Name::parse("a\u{7}b"),
            Err("a name must not contain control characters")
        );
        assert_eq!(
            Name::parse("evil\u{202E}gnp"),
            Err("a name must not contain invisible or direction-changing characters")
        );
    }

    const BLANK: &str = "a name must not contain blank or invisible characters";

    #[test]
    fn names_refuse_blank_look_alikes_alone_and_inside() {
        for c in [
            '\u{2800}',  // braille pattern blank
            '\u{3164}',  // Hangul filler
            '\u{115F}',  // Hangul choseong filler
            '\u{1160}',  // Hangul jungseong filler
            '\u{FFA0}',  // halfwidth Hangul filler
            '\u{1D159}', // musical symbol null notehead
            '\u{1D173}', // musical symbol begin beam
            '\u{1D17A}', // musical symbol end phrase
            '\u{16FE4}', // Khitan small script filler
            '\u{180E}',  // Mongolian vowel separator
            '\u{17B4}',  // Khmer vowel inherent aq
            '\u{17B5}',  // Khmer vowel inherent aa
            '\u{034F}',  // combining grapheme joiner
            '\u{2062}',  // invisible times
            '\u{2064}',  // invisible plus
            '\u{200C}',  // zero width non-joiner
            '\u{FE0F}',  // variation selector 16
            '\u{E0020}', // tag space
            '\u{FFF0}',  // unassigned, default ignorable
        ] {
            let u = c as u32;
            assert_eq!(Name::parse(&c.to_string()), Err(BLANK), "U+{u:04X} alone");
            assert_eq!(
                Name::parse(&format!("Ann{c}")),
                Err(BLANK),
                "U+{u:04X} after"
            );
            assert_eq!(
                Name::parse(&format!("{c}Ann")),
                Err(BLANK),
                "U+{u:04X} before"
            );
            assert_eq!(
                Name::parse(&format!("An{c}n")),
                Err(BLANK),
                "U+{u:04X} inside"
            );
            assert_eq!(
                Name::parse(&format!("Ann {c} Lee")),
                Err(BLANK),
                "U+{u:04X} word"
            );
        }
    }

    #[test]
    fn names_collapse_inner_whitespace_to_one_space() {
        let shown = |raw: &str| Name::parse(raw).map(|n| n.display().to_owned());
        assert_eq!(shown("Ann   Lee"), Ok("Ann Lee".into()));
        assert_eq!(
            shown("  Ann  Lee\t"),
            Ok("Ann Lee".into()),
            "the ends are trimmed"
        );
        assert!(
            shown("Ann\tLee").is_err(),
            "a tab inside is a control character"
        );
        assert!(shown("two\nlines").is_err());
        assert!(shown("next\u{85}line").is_err(), "C1 NEL");
        assert_eq!(
            shown("Ann\u{A0}Lee"),
            Ok("Ann Lee".into()),
            "no-break space"
        );
        assert_eq!(
            shown("Ann\u{3000}Lee"),
            Ok("Ann Lee".into()),
            "ideographic space"
        );
        assert_eq!(
            shown("Ann\u{2000}\u{200A}Lee"),
            Ok("Ann Lee".into()),
            "en quad, hair space"
        );
        assert_eq!(shown("Ann\u{202F}\u{205F}Lee"), Ok("Ann Lee".into()));
        assert!(
            shown("a\u{2028}b").is_err(),
            "a line separator breaks the line too"
        );
        assert!(shown("a\u{2029}b").is_err());
        assert_eq!(Name::parse("Ann   Lee").unwrap().key(), "ann lee");
        for blank in ["\u{3000}", "\u{A0}\u{2003}", " \t\r\n "] {
            assert_eq!(
                Name::parse(blank),
                Err("a name must not be empty"),
                "{blank:?}"
            );
        }
    }

    #[test]
    fn name_length_counts_the_collapsed_display() {
        let ok = format!("{}     {}", "a".repeat(15), "b".repeat(16));
        assert_eq!(Name::parse(&ok).unwrap().display().chars().count(), 32);
        let long = format!("{}     {}", "a".repeat(15), "b".repeat(17));
        assert_eq!(Name::parse(&long), Err("a name is at most 32 characters"));
        let padded = format!("\u{3000}{}\u{3000}", "x".repeat(32));
        assert!(Name::parse(&padded).is_ok());
    }

    #[test]
    fn keys_fold_width_case_and_normalization() {
        let key = |raw: &str| Name::parse(raw).unwrap().key().to_owned();
        for same in [
            "Ann",
            "ann",
            "ANN",
            "\u{FF21}\u{FF2E}\u{FF2E}",
            "\u{FF41}nn",
        ] {
            assert_eq!(key(same), "ann", "{same:?}");
        }
        assert_eq!(key("Jose\u{301}"), key("Jos\u{E9}"), "NFD and NFC");
        assert_eq!(key("JOS\u{C9}"), "jos\u{E9}", "keys are composed");
        assert_eq!(key("Stra\u{DF}e"), "strasse");
        assert_eq!(key("STRASSE"), "strasse");
        assert_eq!(key("\u{1E9E}"), "ss", "capital sharp s");
        assert_eq!(key("\u{212A}elvin"), "kelvin", "Kelvin sign");
        assert_eq!(key("\u{FB00}"), "ff", "ligature");
        assert_eq!(key("\u{2167}"), "viii", "roman numeral");
        assert_eq!(
            key("\u{3A3}\u{391}\u{3A3}"),
            key("\u{3C3}\u{3B1}\u{3C2}"),
            "final sigma"
        );
        assert_ne!(key("Ann"), key("Bob"));
        // Cyrillic А is another letter: a different key (the skeleton catches it).
        assert_ne!(key("\u{410}nn"), key("Ann"));
    }

    #[test]
    fn turkish_dotted_and_dotless_i() {
        // Default (not Turkic) folding: I and i are one letter; dotless ı and dotted
        // İ are letters of their own.
        assert_eq!(name_key("Ivan"), "ivan");
        assert_eq!(name_key("\u{131}van"), "\u{131}van");
        assert_eq!(name_key("\u{130}van"), "i\u{307}van");
        // ı looks like i: the same key skeleton as Ivan. İ keeps its dot: not like Ivan.
        assert_eq!(key_skeleton("\u{131}van"), key_skeleton("Ivan"));
        assert_eq!(skeleton("\u{131}van"), skeleton("ivan"));
        assert_ne!(skeleton("\u{130}van"), skeleton("Ivan"));
        assert_ne!(key_skeleton("\u{130}van"), key_skeleton("Ivan"));
        // The capital I looks like l: the skeleton of the spelling sees it; the key's not.
        assert_eq!(skeleton("Ivan"), skeleton("lvan"));
        assert_ne!(key_skeleton("Ivan"), key_skeleton("lvan"));
        // A capital-only look-alike: Cyrillic Н is H, its lowercase н is no h.
        assert_eq!(skeleton("\u{41D}ugo"), skeleton("Hugo"));
    }

    #[test]
    fn skeletons_match_look_alikes_only() {
        assert_eq!(skeleton("\u{410}nn"), skeleton("Ann"), "Cyrillic A");
        assert_eq!(skeleton("\u{430}nn"), skeleton("ann"), "Cyrillic a");
        assert_eq!(skeleton("ann"), skeleton("Ann"));
        assert_eq!(skeleton("\u{FF21}nn"), skeleton("Ann"), "fullwidth");
        assert_eq!(skeleton("B0b"), skeleton("Bob"), "zero and O");
        assert_eq!(skeleton("\u{A4D0}ob"), skeleton("Bob"), "Lisu B");
        assert_eq!(skeleton("Ann1"), skeleton("Annl"));
        assert_eq!(skeleton("Jose\u{301}"), skeleton("Jos\u{E9}"));
        assert_ne!(skeleton("Ann"), skeleton("Bob"));
        assert_ne!(skeleton("Ann"), skeleton("Anne"));
        let n = Name::parse("\u{410}nn").unwrap();
        assert_eq!(n.skeleton(), skeleton("Ann"));
        assert_eq!(n.skeleton(), skeleton(n.display()));
    }

    #[test]
    fn legacy_keys_are_the_old_lowercase() {
        assert_eq!(legacy_name_key("  ANN "), "ann");
        assert_eq!(legacy_name_key("Stra\u{DF}e"), "stra\u{DF}e");
        assert_eq!(legacy_name_key("\u{FF21}"), "\u{FF41}");
        assert_eq!(legacy_name_key("Ann"), name_key("Ann"));
    }

    /// A small deterministic generator (xorshift64*), enough to stir up strings.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn string(&mut self) -> String {
            // Characters with case, width, compatibility, combining and confusable
            // quirks, whitespace and blanks, besides random code points.
            const TRICKY: &[char] = &[
                'A',
                'a',
                'I',
                'i',
                'l',
                '1',
                '0',
                'O',
                'S',
                's',
                ' ',
                '\t',
                '\n',
                '\u{A0}',
                '\u{DF}',
                '\u{1E9E}',
                '\u{130}',
                '\u{131}',
                '\u{17F}',
                '\u{212A}',
                '\u{212B}',
                '\u{345}',
                '\u{390}',
                '\u{3A3}',
                '\u{3C2}',
                '\u{1FC3}',
                '\u{1C5}',
                '\u{FB00}',
                '\u{FB06}',
                '\u{2160}',
                '\u{24B6}',
                '\u{3392}',
                '\u{FDFA}',
                '\u{A8}',
                '\u{301}',
                '\u{308}',
                '\u{327}',
                '\u{E9}',
                '\u{410}',
                '\u{430}',
                '\u{A4D0}',
                '\u{13A0}',
                '\u{AB70}',
                '\u{FF21}',
                '\u{FF41}',
                '\u{3000}',
                '\u{2800}',
                '\u{3164}',
                '\u{FFA0}',
                '\u{200B}',
                '\u{202E}',
                '\u{1D400}',
                '\u{1F600}',
                '\u{AC00}',
                '\u{1100}',
                '\u{1161}',
            ];
            let len = self.below(40);
            (0..len)
                .map(|_| match self.below(3) {
                    0 => TRICKY[self.below(TRICKY.len() as u64) as usize],
                    1 => char::from_u32(self.below(0x3000) as u32).unwrap_or('x'),
                    _ => char::from_u32(self.below(0x11_0000) as u32).unwrap_or('x'),
                })
                .collect()
        }
    }

    #[test]
    fn random_names_parse_without_panic_and_keys_are_stable() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut accepted = 0;
        for _ in 0..20_000 {
            let raw = rng.string();
            let Ok(name) = Name::parse(&raw) else {
                continue;
            };
            accepted += 1;
            let (display, key) = (name.display(), name.key());
            assert!(display.chars().count() <= MAX_NAME_CHARS, "{raw:?}");
            assert_eq!(display, display.trim(), "{raw:?}");
            assert!(!display.contains("  "), "{raw:?}");
            assert_eq!(Name::parse(display).as_ref(), Ok(&name), "{raw:?}");
            assert_eq!(name_key(display), key, "{raw:?}");
            assert_eq!(name_key(key), key, "{raw:?}: the key of a key");
            let skel = skeleton(display);
            assert!(!skel.is_empty(), "{raw:?}");
            assert_eq!(key_skeleton(display), key_skeleton(key), "{raw:?}");
            assert_eq!(name.skeleton(), skel, "{raw:?}");
        }
        assert!(accepted > 2_000, "only {accepted} names accepted");
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
