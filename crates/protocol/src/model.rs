//! The domain model the frames carry: users and their presence, messages with their
//! reactions, history pages, moderation events and roles. These shapes travel inside
//! both directions' frames and the HTTP bodies, so they live apart from any of them.

use serde::{Deserialize, Serialize};

use crate::{MAX_PAGE, MIN_PAGE};

/// A user's presence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Online,
    Away,
    Dnd,
}

/// A connected user: one per name, however many connections it has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub status: Status,
}

/// When a claim last left a room (its last socket closed), under the name it held:
/// what a people list shows as "last seen" for someone offline. `at` is ms since the
/// epoch. Kept per claim: a name released and claimed again is a new claim and
/// inherits no entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastSeen {
    pub name: String,
    pub at: u64,
}

/// The most offline claims a room remembers the last-seen time of (the most recent).
pub const LAST_SEEN_MAX: usize = 50;

/// A stored message, as it is now: edits, deletion, reactions and replies change it
/// in place (its `seq` never changes). The fields after `reply_to` are left out of the
/// JSON while they hold their defaults, so an untouched message keeps the v1 shape.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub seq: u64,
    pub room: String,
    pub name: String,
    pub text: String,
    pub ts: u64,
    pub client_id: Option<String>,
    pub reply_to: Option<u64>,
    /// When the text was last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_ts: Option<u64>,
    /// A tombstone: the text is gone (empty), the seq stays.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
    /// Reactions in the order each emoji was first used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// How many messages reply to this one.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reply_count: u64,
    /// A file sent with the message (gone once the message is deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<crate::FileRef>,
    /// Pinned to the room by its owner or a moderator (unpinned when deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<Pin>,
}

/// Who pinned a message, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The name of the owner or moderator who pinned it.
    pub by: String,
    /// When (ms since the epoch).
    pub ts: u64,
}

/// The most messages a room keeps pinned at once.
pub const MAX_PINS: usize = 50;

/// The longest excerpt of a pinned message's text a pin list carries, in code points.
pub const PIN_EXCERPT_CHARS: usize = 80;

/// One entry of a room's pin list (in `welcome` and `pins`): enough to show it and to
/// jump to it without the message itself being loaded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pinned {
    pub seq: u64,
    /// The message's author.
    pub name: String,
    /// The start of its text, at most [`PIN_EXCERPT_CHARS`] code points.
    pub text: String,
    pub by: String,
    /// When it was pinned.
    pub ts: u64,
}

impl Pinned {
    /// The entry of a pinned message (none if it is not pinned).
    pub fn of(m: &Message) -> Option<Pinned> {
        let pin = m.pinned.as_ref()?;
        let text = match m.text.char_indices().nth(PIN_EXCERPT_CHARS) {
            Some((at, _)) => m.text[..at].to_owned(),
            None => m.text.clone(),
        };
        Some(Pinned {
            seq: m.seq,
            name: m.name.clone(),
            text,
            by: pin.by.clone(),
            ts: pin.ts,
        })
    }
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One emoji on a message: how many reacted with it and the first of them, in the
/// order they reacted (at most [`REACTION_NAMES_MAX`] by default; the count is exact).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    /// How many claims reacted with this emoji. Stores from before it was kept (and
    /// older servers) leave it out: then it is the length of `names`.
    #[serde(default)]
    pub count: u64,
    pub names: Vec<String>,
    /// Only in frames addressed to one connection (welcome, history, thread, the
    /// answer to one's own change): this connection's claim reacted with it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub mine: bool,
}

impl Reaction {
    /// How many reacted: `count`, or the names listed when an older store has no count.
    pub fn total(&self) -> u64 {
        self.count.max(self.names.len() as u64)
    }
}

/// The most different emoji one message carries.
pub const MAX_REACTIONS: usize = 20;

/// Names a reaction lists by default (`REACTION_NAMES_MAX`); its count is always exact.
pub const REACTION_NAMES_MAX: usize = 10;

/// The most bytes one message takes on the wire (its JSON, as every frame carries it),
/// with reactions listing at most `names_max` names each. Every field at its longest:
/// numbers of 20 digits; strings of code points that JSON escapes to 6 bytes
/// (`\u0001`) where the field allows control characters (text, client_id), else of
/// 4-byte code points (names, emoji, file names); 20 emoji, each with its count,
/// `"mine":true` and `names_max` names; an attachment. A message carries no copy of its
/// parent (a reply names it by `reply_to`), so a reply is no larger.
pub const fn message_max_bytes(names_max: usize) -> usize {
    const NUM: usize = 20;
    const SKELETON: usize = 320; // every key, quote, colon, comma and brace
    let room = crate::MAX_ROOM_CHARS;
    let name = 4 * crate::MAX_NAME_CHARS;
    let text = 6 * crate::MAX_TEXT_CHARS;
    let client_id = 6 * crate::MAX_CLIENT_ID_CHARS;
    let attachment = 64 + 4 * crate::MAX_FILENAME_CHARS + 32 + NUM + 64;
    let reaction = 48 + 4 * crate::MAX_EMOJI_CHARS + NUM + names_max * (name + 3);
    let pinned = 32 + name + NUM;
    SKELETON
        + 5 * NUM
        + room
        + name
        + text
        + client_id
        + attachment
        + pinned
        + MAX_REACTIONS * reaction
}

/// [`message_max_bytes`] at the default [`REACTION_NAMES_MAX`]: 54,196 bytes.
pub const MESSAGE_MAX_BYTES: usize = message_max_bytes(REACTION_NAMES_MAX);

/// A history page request, from a `history` frame or the REST query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// The newest `limit` messages.
    Newest { limit: u32 },
    /// Up to `limit` messages with seq below `before`, the newest of them.
    Before { before: u64, limit: u32 },
    /// Up to `limit` messages with seq above `after`, the oldest of them.
    After { after: u64, limit: u32 },
}

impl Page {
    pub fn new(before: Option<u64>, after: Option<u64>, limit: u32) -> Result<Page, &'static str> {
        if !(MIN_PAGE..=MAX_PAGE).contains(&limit) {
            return Err("limit must be between 1 and 100");
        }
        match (before, after) {
            (Some(_), Some(_)) => Err("give either before or after, not both"),
            (Some(before), None) => Ok(Page::Before { before, limit }),
            (None, Some(after)) => Ok(Page::After { after, limit }),
            (None, None) => Ok(Page::Newest { limit }),
        }
    }

    pub fn limit(&self) -> u32 {
        match *self {
            Page::Newest { limit } | Page::Before { limit, .. } | Page::After { limit, .. } => {
                limit
            }
        }
    }
}

/// What a moderator did, as broadcast and audited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModAction {
    Kick,
    Ban,
    Unban,
    Delete,
}

impl ModAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ModAction::Kick => "kick",
            ModAction::Ban => "ban",
            ModAction::Unban => "unban",
            ModAction::Delete => "delete",
        }
    }
}

/// One moderation action: broadcast to the room and kept in the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModEvent {
    pub action: ModAction,
    /// Who did it (the room's creator).
    pub by: String,
    /// The name acted on (kick, ban, unban), or the author of the deleted message.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// When a ban ends (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub ts: u64,
}

/// The reaction an `update` is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionChange {
    pub emoji: String,
    pub name: String,
    pub on: bool,
}

/// What a claim may do in a room beyond chatting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Made the room (or entered it first): moderates and appoints moderators.
    Owner,
    /// Deletes messages, kicks, bans and unbans; appointed by the owner.
    Moderator,
}
