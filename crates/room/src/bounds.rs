//! Bounds on what the room sends and keeps: names listed per reaction, the byte budget
//! of a welcome or history frame, and how long an upload may wait to be attached.

use edgechat_protocol::{message_max_bytes, Message, REACTION_NAMES_MAX};

/// Settings (wrangler `[vars]` `REACTION_NAMES_MAX`, `FRAME_BUDGET_BYTES`,
/// `UNATTACHED_UPLOAD_TTL_SECS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Names a reaction lists (its count is always exact).
    pub reaction_names: usize,
    /// The most bytes of one welcome, history or thread frame (or HTTP page). Never
    /// below one message at its largest plus the frame around it.
    pub frame_budget: usize,
    /// An upload not attached to a message after this long is deleted.
    pub upload_ttl_ms: u64,
}

/// The default byte budget of one welcome or history frame: 256 KiB.
pub const FRAME_BUDGET_BYTES: usize = 256 * 1024;
/// The default time an upload may wait to be attached: an hour.
pub const UNATTACHED_UPLOAD_TTL_SECS: u64 = 3600;
/// Room left in a budget for what surrounds the messages of a history page.
const PAGE_FRAME_BYTES: usize = 1024;
/// The most names a reaction may be set to list.
pub const MAX_REACTION_NAMES: usize = 100;

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            reaction_names: REACTION_NAMES_MAX,
            frame_budget: FRAME_BUDGET_BYTES,
            upload_ttl_ms: UNATTACHED_UPLOAD_TTL_SECS * 1000,
        }
    }
}

impl Bounds {
    /// Reads the settings as strings (as wrangler vars arrive); a missing or unusable
    /// value keeps its default, and a budget too small for one message grows to fit one.
    pub fn from_settings(names: Option<&str>, budget: Option<&str>, ttl: Option<&str>) -> Self {
        let d = Bounds::default();
        let parse = |v: Option<&str>| v.and_then(|s| s.trim().parse::<u64>().ok());
        let reaction_names = parse(names)
            .map(|n| n as usize)
            .filter(|&n| n <= MAX_REACTION_NAMES)
            .unwrap_or(d.reaction_names);
        let frame_budget = parse(budget)
            .filter(|&b| b > 0)
            .map_or(d.frame_budget, |b| b as usize)
            .max(min_budget(reaction_names));
        let upload_ttl_ms = parse(ttl)
            .filter(|&t| t > 0 && t <= 365 * 86_400)
            .map_or(d.upload_ttl_ms, |t| t * 1000);
        Bounds {
            reaction_names,
            frame_budget,
            upload_ttl_ms,
        }
    }
}

/// The smallest budget that always holds one message and its frame.
pub fn min_budget(reaction_names: usize) -> usize {
    message_max_bytes(reaction_names) + PAGE_FRAME_BYTES
}

/// Which end of a page to keep when it does not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// The newest messages (a welcome's tail, a page `before` a seq, the newest page).
    Newest,
    /// The oldest (a page `after` a seq: a resume, a catch-up, a thread).
    Oldest,
}

/// A cheap upper bound of a message's JSON size, without encoding it: every string
/// byte counted as the 6 bytes of its worst escape, plus the fixed parts.
fn quick_bound(m: &Message) -> usize {
    let strings = m.room.len()
        + m.name.len()
        + m.text.len()
        + m.client_id.as_ref().map_or(0, String::len)
        + m.attachment
            .as_ref()
            .map_or(0, |a| a.id.len() + a.filename.len() + a.content_type.len())
        + m.reactions
            .iter()
            .map(|r| r.emoji.len() + r.names.iter().map(|n| n.len() + 3).sum::<usize>())
            .sum::<usize>();
    6 * strings + 500 + m.reactions.len() * 80
}

/// The exact length of a message's JSON, counted without keeping the text.
pub fn encoded_len(m: &Message) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, m) {
        Ok(()) => count.0,
        Err(_) => usize::MAX / 2,
    }
}

/// A cheap upper bound of the JSON of these messages as an array.
pub fn quick_len(messages: &[Message]) -> usize {
    messages.iter().map(|m| quick_bound(m) + 1).sum::<usize>() + 2
}

/// The exact length of the JSON of these messages as an array.
pub fn encoded_list_len(messages: &[Message]) -> usize {
    messages.iter().map(|m| encoded_len(m) + 1).sum::<usize>() + 1
}

/// Keeps as many of `messages` (oldest first) as fit in `budget` bytes of JSON (as an
/// array), from the end `keep` names, never fewer than one. Answers whether any were
/// left out. Costs nothing but a sum of lengths when a page is clearly small; only a
/// page that may not fit is measured exactly.
pub fn fit(messages: &mut Vec<Message>, budget: usize, keep: Keep) -> bool {
    cut_to(messages, budget, keep, 1)
}

/// [`fit`], but keeping none if not even one fits.
pub fn fit_some(messages: &mut Vec<Message>, budget: usize, keep: Keep) -> bool {
    cut_to(messages, budget, keep, 0)
}

fn cut_to(messages: &mut Vec<Message>, budget: usize, keep: Keep, at_least: usize) -> bool {
    if quick_len(messages) <= budget {
        return false;
    }
    let mut sizes: Vec<usize> = messages.iter().map(encoded_len).collect();
    if keep == Keep::Newest {
        sizes.reverse();
    }
    let mut used = 2;
    let mut kept = 0;
    for size in sizes {
        if kept >= at_least && used + size + 1 > budget {
            break;
        }
        used += size + 1;
        kept += 1;
    }
    let cut = messages.len() - kept;
    if cut == 0 {
        return false;
    }
    match keep {
        Keep::Newest => {
            messages.drain(..cut);
        }
        Keep::Oldest => messages.truncate(kept),
    }
    true
}

/// A page of messages that fits `budget`: the page's `has_more`, made true when some
/// were left out (the client pages on for them).
pub fn fit_page(mut page: (Vec<Message>, bool), budget: usize, keep: Keep) -> (Vec<Message>, bool) {
    let cut = fit(&mut page.0, budget.saturating_sub(PAGE_FRAME_BYTES), keep);
    (page.0, page.1 || cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgechat_protocol::Reaction;

    fn message(seq: u64, text_len: usize) -> Message {
        Message {
            seq,
            room: "r".into(),
            name: "n".into(),
            text: "x".repeat(text_len),
            ..Message::default()
        }
    }

    #[test]
    fn a_small_page_is_left_alone_and_a_big_one_keeps_the_end_asked_for() {
        let mut small: Vec<Message> = (1..=50).map(|s| message(s, 20)).collect();
        assert!(!fit(&mut small, FRAME_BUDGET_BYTES, Keep::Newest));
        assert_eq!(small.len(), 50);

        let big: Vec<Message> = (1..=100).map(|s| message(s, 4000)).collect();
        let mut newest = big.clone();
        assert!(fit(&mut newest, 20_000, Keep::Newest));
        let seqs: Vec<u64> = newest.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, [97, 98, 99, 100]);
        let mut oldest = big.clone();
        assert!(fit(&mut oldest, 20_000, Keep::Oldest));
        let seqs: Vec<u64> = oldest.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
        // What is kept really fits, as a JSON array.
        assert!(serde_json::to_string(&oldest).unwrap().len() <= 20_000);
    }

    #[test]
    fn one_message_over_the_budget_still_makes_a_page() {
        let mut one = vec![message(7, 4000), message(8, 4000)];
        assert!(fit(&mut one, 100, Keep::Oldest));
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].seq, 7);
        let (page, more) = fit_page((vec![message(9, 4000)], false), 10, Keep::Newest);
        assert_eq!((page.len(), more), (1, false));
        assert!(!fit(&mut Vec::new(), 0, Keep::Newest));
    }

    #[test]
    fn a_page_of_largest_messages_stays_in_budget_and_pages_every_one() {
        let wide = |n: usize| "😀".repeat(n);
        let big = |seq| Message {
            seq,
            room: "r".into(),
            name: wide(32),
            text: "\u{1}".repeat(4000),
            reactions: (0..20)
                .map(|_| Reaction {
                    emoji: wide(10),
                    count: 999,
                    names: vec![wide(32); 10],
                    mine: false,
                })
                .collect(),
            ..Message::default()
        };
        let all: Vec<Message> = (1..=30).map(big).collect();
        let b = Bounds::default();
        let mut seen = Vec::new();
        let mut after = 0;
        loop {
            let rest: Vec<Message> = all.iter().filter(|m| m.seq > after).cloned().collect();
            let (page, more) = fit_page((rest, false), b.frame_budget, Keep::Oldest);
            let frame = edgechat_protocol::ServerFrame::History {
                messages: page.clone(),
                has_more: more,
            };
            assert!(frame.encode().len() <= b.frame_budget);
            assert!(!page.is_empty());
            after = page.last().unwrap().seq;
            seen.extend(page.iter().map(|m| m.seq));
            if !more {
                break;
            }
        }
        assert_eq!(seen, (1..=30).collect::<Vec<_>>());
    }

    #[test]
    fn settings_fall_back_to_defaults_and_the_budget_holds_one_message() {
        assert_eq!(Bounds::from_settings(None, None, None), Bounds::default());
        assert_eq!(
            Bounds::from_settings(Some("x"), Some("-3"), Some("0")),
            Bounds::default()
        );
        let b = Bounds::from_settings(Some("3"), Some("10"), Some("2"));
        assert_eq!(b.reaction_names, 3);
        assert_eq!(b.frame_budget, min_budget(3));
        assert_eq!(b.upload_ttl_ms, 2000);
        assert!(FRAME_BUDGET_BYTES >= min_budget(REACTION_NAMES_MAX));
        assert_eq!(
            Bounds::from_settings(Some("1000"), None, None).reaction_names,
            10
        );
    }
}
