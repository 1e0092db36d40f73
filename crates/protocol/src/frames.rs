//! The frames of the WebSocket protocol and the shapes inside them.

use serde::{Deserialize, Serialize};

use crate::{ClientId, Emoji, MessageText, Name, MAX_FRAME_BYTES, MAX_PAGE, MIN_PAGE};

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
}

fn is_false(b: &bool) -> bool {
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
    SKELETON + 5 * NUM + room + name + text + client_id + attachment + MAX_REACTIONS * reaction
}

/// [`message_max_bytes`] at the default [`REACTION_NAMES_MAX`]: 54,016 bytes.
pub const MESSAGE_MAX_BYTES: usize = message_max_bytes(REACTION_NAMES_MAX);

/// Error codes, on the socket and over HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadFrame,
    TooLarge,
    InvalidText,
    RateLimited,
    NotFound,
    Internal,
    InvalidRoom,
    InvalidName,
    BadRequest,
    Forbidden,
    Banned,
    UnsupportedType,
    /// The name is claimed by another browser or client (see `names`).
    NameTaken,
    /// The request needs a name's token and came without one.
    Unauthorized,
    /// A room with this id exists already.
    RoomExists,
    /// An hourly quota (rooms made, uploads) is used up; HTTP 429 with `Retry-After`.
    QuotaExceeded,
    /// A connect over the room's socket caps: this claim's, or the room's.
    TooManySockets,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::InvalidText => "invalid_text",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Internal => "internal",
            ErrorCode::InvalidRoom => "invalid_room",
            ErrorCode::InvalidName => "invalid_name",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Banned => "banned",
            ErrorCode::UnsupportedType => "unsupported_type",
            ErrorCode::NameTaken => "name_taken",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::RoomExists => "room_exists",
            ErrorCode::QuotaExceeded => "quota_exceeded",
            ErrorCode::TooManySockets => "too_many_sockets",
        }
    }

    /// The HTTP status this code is answered with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::NotFound => 404,
            ErrorCode::NameTaken => 403,
            ErrorCode::TooLarge => 413,
            ErrorCode::RateLimited | ErrorCode::QuotaExceeded | ErrorCode::TooManySockets => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Forbidden | ErrorCode::Banned => 403,
            ErrorCode::UnsupportedType => 415,
            ErrorCode::Unauthorized => 401,
            ErrorCode::RoomExists => 409,
            _ => 400,
        }
    }
}

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

/// A frame from a client, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientFrame {
    Send {
        text: MessageText,
        client_id: ClientId,
        reply_to: Option<u64>,
        /// The id of a file this connection's user uploaded to the room.
        attachment: Option<String>,
    },
    Typing {
        on: bool,
    },
    Status {
        status: Status,
    },
    History {
        page: Page,
    },
    /// Replace the text of one's own message.
    Edit {
        seq: u64,
        text: MessageText,
        client_id: Option<ClientId>,
    },
    /// Delete one's own message, leaving a tombstone.
    Delete {
        seq: u64,
        client_id: Option<ClientId>,
    },
    /// Add (`on`) or remove one's reaction to a message.
    React {
        seq: u64,
        emoji: Emoji,
        on: bool,
        client_id: Option<ClientId>,
    },
    /// A page of the replies to a message, oldest first, after `after`.
    Thread {
        seq: u64,
        after: Option<u64>,
        limit: u32,
    },
    /// The room's creator removes every connection of a name (it may come back).
    Kick {
        name: Name,
    },
    /// The room's creator removes a name and refuses it for `minutes`.
    Ban {
        name: Name,
        minutes: u32,
        reason: Option<String>,
    },
    /// The room's creator lifts a ban.
    Unban {
        name: Name,
    },
    /// The room's owner makes a connected name's claim a moderator.
    Appoint {
        name: Name,
    },
    /// The room's owner takes a moderator's role away.
    Dismiss {
        name: Name,
    },
    /// Everything up to `seq` has been read by this connection's user.
    Read {
        seq: u64,
    },
}

/// The longest ban, in minutes: a year.
pub const MAX_BAN_MINUTES: u32 = 525_600;
/// A ban without `minutes` lasts an hour.
pub const DEFAULT_BAN_MINUTES: u32 = 60;
/// The longest moderation reason, in code points.
pub const MAX_REASON_CHARS: usize = 200;

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

/// Why a client frame was refused, ready to become an `error` frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    pub client_id: Option<String>,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
            client_id: None,
        }
    }

    pub fn to_frame(&self) -> ServerFrame {
        ServerFrame::Error {
            code: self.code,
            message: self.message.clone(),
            client_id: self.client_id.clone(),
            retry_after_ms: None,
        }
    }
}

/// The frames as they appear on the wire, before validation.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum RawClientFrame {
    Send {
        text: String,
        client_id: String,
        #[serde(default)]
        reply_to: Option<u64>,
        #[serde(default)]
        attachment: Option<String>,
    },
    Typing {
        on: bool,
    },
    Status {
        status: Status,
    },
    History {
        #[serde(default)]
        before: Option<u64>,
        #[serde(default)]
        after: Option<u64>,
        #[serde(default)]
        limit: Option<u32>,
    },
    Edit {
        seq: u64,
        text: String,
        #[serde(default)]
        client_id: Option<String>,
    },
    Delete {
        seq: u64,
        #[serde(default)]
        client_id: Option<String>,
    },
    React {
        seq: u64,
        emoji: String,
        #[serde(default = "yes")]
        on: bool,
        #[serde(default)]
        client_id: Option<String>,
    },
    Thread {
        seq: u64,
        #[serde(default)]
        after: Option<u64>,
        #[serde(default)]
        limit: Option<u32>,
    },
    Kick {
        name: String,
    },
    Ban {
        name: String,
        #[serde(default)]
        minutes: Option<u32>,
        #[serde(default)]
        reason: Option<String>,
    },
    Unban {
        name: String,
    },
    Appoint {
        name: String,
    },
    Dismiss {
        name: String,
    },
    Read {
        seq: u64,
    },
}

fn yes() -> bool {
    true
}

/// What the server got in one socket message, decoded far enough to know its sender's
/// `client_id` even when the frame is refused.
#[derive(Debug)]
pub struct Decoded {
    pub client_id: Option<String>,
    pub frame: Result<ClientFrame, Refusal>,
}

/// The first check of every frame, text or binary: its size in bytes.
pub fn check_frame_size(len: usize) -> Result<(), Refusal> {
    if len > MAX_FRAME_BYTES {
        return Err(Refusal::new(
            ErrorCode::TooLarge,
            format!("frame is {len} bytes; the limit is {MAX_FRAME_BYTES}"),
        ));
    }
    Ok(())
}

impl ClientFrame {
    /// Decodes a text frame: size first, then JSON, then the typed frame, then its values.
    pub fn decode(text: &str) -> Decoded {
        if let Err(mut refusal) = check_frame_size(text.len()) {
            // Not parsed: a bounded scan finds its client_id, if it has one.
            let client_id = find_client_id(text);
            refusal.client_id.clone_from(&client_id);
            return Decoded {
                client_id,
                frame: Err(refusal),
            };
        }
        // The common case, a well-formed frame, is read in one pass; anything else goes
        // the long way, which also finds the client_id of a frame it refuses.
        let (client_id, frame) = match serde_json::from_str::<RawClientFrame>(text) {
            Ok(raw) => {
                let client_id = match &raw {
                    RawClientFrame::Send { client_id, .. } => Some(client_id.clone()),
                    RawClientFrame::Edit { client_id, .. }
                    | RawClientFrame::Delete { client_id, .. }
                    | RawClientFrame::React { client_id, .. } => client_id.clone(),
                    // Frames whose type has no client_id may still carry one (unknown
                    // fields are ignored): a refusal echoes it all the same. These
                    // frames are small, and the scan allocates only what it finds.
                    _ => find_client_id(text),
                };
                (client_id, Self::from_raw(raw))
            }
            Err(_) => match serde_json::from_str::<serde_json::Value>(text) {
                Ok(value) => {
                    let client_id = value
                        .get("client_id")
                        .and_then(|v| v.as_str())
                        .map(str::to_owned);
                    (client_id, Self::from_value(value))
                }
                Err(e) => {
                    return Decoded {
                        client_id: None,
                        frame: Err(Refusal::new(
                            ErrorCode::BadFrame,
                            format!("frame is not valid JSON: {e}"),
                        )),
                    }
                }
            },
        };
        let frame = frame.map_err(|mut r| {
            r.client_id.clone_from(&client_id);
            r
        });
        Decoded { client_id, frame }
    }

    fn from_value(value: serde_json::Value) -> Result<ClientFrame, Refusal> {
        if !value.is_object() {
            return Err(Refusal::new(
                ErrorCode::BadFrame,
                "a frame must be a JSON object with a \"type\"",
            ));
        }
        let raw: RawClientFrame = serde_json::from_value(value)
            .map_err(|e| Refusal::new(ErrorCode::BadFrame, describe_serde_error(&e)))?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawClientFrame) -> Result<ClientFrame, Refusal> {
        let bad = |m: &str| Refusal::new(ErrorCode::BadFrame, m);
        Ok(match raw {
            RawClientFrame::Send {
                text,
                client_id,
                reply_to,
                attachment,
            } => {
                let client_id = ClientId::parse(&client_id).map_err(bad)?;
                let text = MessageText::parse(&text)
                    .map_err(|m| Refusal::new(ErrorCode::InvalidText, m))?;
                if attachment
                    .as_ref()
                    .is_some_and(|a| a.is_empty() || a.len() > 64)
                {
                    return Err(bad("attachment must be the id an upload answered"));
                }
                ClientFrame::Send {
                    text,
                    client_id,
                    reply_to,
                    attachment,
                }
            }
            RawClientFrame::Typing { on } => ClientFrame::Typing { on },
            RawClientFrame::Status { status } => ClientFrame::Status { status },
            RawClientFrame::History {
                before,
                after,
                limit,
            } => ClientFrame::History {
                page: Page::new(before, after, limit.unwrap_or(crate::DEFAULT_PAGE))
                    .map_err(bad)?,
            },
            RawClientFrame::Edit {
                seq,
                text,
                client_id,
            } => ClientFrame::Edit {
                seq,
                client_id: optional_client_id(client_id)?,
                text: MessageText::parse(&text)
                    .map_err(|m| Refusal::new(ErrorCode::InvalidText, m))?,
            },
            RawClientFrame::Delete { seq, client_id } => ClientFrame::Delete {
                seq,
                client_id: optional_client_id(client_id)?,
            },
            RawClientFrame::React {
                seq,
                emoji,
                on,
                client_id,
            } => ClientFrame::React {
                seq,
                on,
                client_id: optional_client_id(client_id)?,
                emoji: Emoji::parse(&emoji).map_err(bad)?,
            },
            RawClientFrame::Thread { seq, after, limit } => {
                let limit = limit.unwrap_or(crate::DEFAULT_PAGE);
                Page::new(None, after, limit).map_err(bad)?;
                ClientFrame::Thread { seq, after, limit }
            }
            RawClientFrame::Kick { name } => ClientFrame::Kick {
                name: Name::parse(&name).map_err(bad)?,
            },
            RawClientFrame::Read { seq } => ClientFrame::Read { seq },
            RawClientFrame::Unban { name } => ClientFrame::Unban {
                name: Name::parse(&name).map_err(bad)?,
            },
            RawClientFrame::Appoint { name } => ClientFrame::Appoint {
                name: Name::parse(&name).map_err(bad)?,
            },
            RawClientFrame::Dismiss { name } => ClientFrame::Dismiss {
                name: Name::parse(&name).map_err(bad)?,
            },
            RawClientFrame::Ban {
                name,
                minutes,
                reason,
            } => {
                let minutes = minutes.unwrap_or(DEFAULT_BAN_MINUTES);
                if !(1..=MAX_BAN_MINUTES).contains(&minutes) {
                    return Err(bad("minutes must be from 1 to 525600 (a year)"));
                }
                let reason = reason
                    .map(|r| r.trim().to_owned())
                    .filter(|r| !r.is_empty());
                if reason.as_ref().is_some_and(|r| {
                    r.chars().count() > MAX_REASON_CHARS || r.chars().any(char::is_control)
                }) {
                    return Err(bad("reason is at most 200 characters, on one line"));
                }
                ClientFrame::Ban {
                    name: Name::parse(&name).map_err(bad)?,
                    minutes,
                    reason,
                }
            }
        })
    }
}

impl ClientFrame {
    /// The frame as JSON text, as a client sends it. `ClientFrame::decode` reads it back
    /// unchanged, so a client built on this crate cannot send what the server misreads.
    pub fn encode(&self) -> String {
        let value = match self {
            ClientFrame::Send {
                text,
                client_id,
                reply_to,
                attachment,
            } => {
                let mut v = serde_json::json!({
                    "type": "send",
                    "text": text.as_str(),
                    "client_id": client_id.as_str(),
                });
                if let Some(seq) = reply_to {
                    v["reply_to"] = (*seq).into();
                }
                if let Some(id) = attachment {
                    v["attachment"] = id.as_str().into();
                }
                v
            }
            ClientFrame::Typing { on } => serde_json::json!({"type": "typing", "on": on}),
            ClientFrame::Status { status } => {
                serde_json::json!({"type": "status", "status": status})
            }
            ClientFrame::History { page } => match *page {
                Page::Newest { limit } => serde_json::json!({"type": "history", "limit": limit}),
                Page::Before { before, limit } => {
                    serde_json::json!({"type": "history", "before": before, "limit": limit})
                }
                Page::After { after, limit } => {
                    serde_json::json!({"type": "history", "after": after, "limit": limit})
                }
            },
            ClientFrame::Edit {
                seq,
                text,
                client_id,
            } => with_client_id(
                serde_json::json!({"type": "edit", "seq": seq, "text": text.as_str()}),
                client_id,
            ),
            ClientFrame::Delete { seq, client_id } => {
                with_client_id(serde_json::json!({"type": "delete", "seq": seq}), client_id)
            }
            ClientFrame::React {
                seq,
                emoji,
                on,
                client_id,
            } => with_client_id(
                serde_json::json!({"type": "react", "seq": seq, "emoji": emoji.as_str(), "on": on}),
                client_id,
            ),
            ClientFrame::Thread { seq, after, limit } => {
                let mut v = serde_json::json!({"type": "thread", "seq": seq, "limit": limit});
                if let Some(after) = after {
                    v["after"] = (*after).into();
                }
                v
            }
            ClientFrame::Kick { name } => {
                serde_json::json!({"type": "kick", "name": name.display()})
            }
            ClientFrame::Unban { name } => {
                serde_json::json!({"type": "unban", "name": name.display()})
            }
            ClientFrame::Appoint { name } => {
                serde_json::json!({"type": "appoint", "name": name.display()})
            }
            ClientFrame::Dismiss { name } => {
                serde_json::json!({"type": "dismiss", "name": name.display()})
            }
            ClientFrame::Read { seq } => serde_json::json!({"type": "read", "seq": seq}),
            ClientFrame::Ban {
                name,
                minutes,
                reason,
            } => {
                let mut v =
                    serde_json::json!({"type": "ban", "name": name.display(), "minutes": minutes});
                if let Some(reason) = reason {
                    v["reason"] = reason.as_str().into();
                }
                v
            }
        };
        value.to_string()
    }
}

fn optional_client_id(raw: Option<String>) -> Result<Option<ClientId>, Refusal> {
    raw.map(|c| ClientId::parse(&c))
        .transpose()
        .map_err(|m| Refusal::new(ErrorCode::BadFrame, m))
}

fn with_client_id(mut v: serde_json::Value, client_id: &Option<ClientId>) -> serde_json::Value {
    if let Some(c) = client_id {
        v["client_id"] = c.as_str().into();
    }
    v
}

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

/// serde's messages name the field and the expectation; they never echo large input.
pub(crate) fn describe_serde_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    if msg.starts_with("unknown variant") {
        // Either an unknown frame type or an unknown status.
        format!("unsupported value: {msg}")
    } else {
        msg
    }
}

/// A frame from the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Welcome {
        room: String,
        you: User,
        users: Vec<User>,
        messages: Vec<Message>,
        last_seq: u64,
        has_more: bool,
        /// The room's last change (a message, an edit, a delete, a reaction, a reply).
        #[serde(default)]
        rev: u64,
        /// On a resume (`since` and `rev`): the messages up to `since` that changed
        /// after `rev`, as they are now.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        updates: Vec<Message>,
        /// More older messages changed than `updates` carries: reload what is shown.
        #[serde(default, skip_serializing_if = "is_false")]
        updates_truncated: bool,
        /// The room's owner's name (kept for older clients; see `owner`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        creator: Option<String>,
        /// The name the room's owner claimed it under; none in a direct message.
        #[serde(default)]
        owner: Option<String>,
        /// The names of the room's moderators (claims the owner appointed).
        #[serde(default)]
        moderators: Vec<String>,
        /// The receiver's own role here, if any.
        #[serde(default)]
        role: Option<Role>,
        /// The last seq this user has read here (0: nothing yet).
        #[serde(default)]
        read_seq: u64,
        /// In a direct-message room: how far the other name has read ("seen").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer_read_seq: Option<u64>,
    },
    Message {
        message: Message,
    },
    /// A message changed (edited, deleted, reacted to, replied to): here it is now.
    Update {
        message: Message,
        rev: u64,
        /// When the change was a reaction: which, by whom, added or removed, so that the
        /// reacting name's connections know the reaction is theirs (a broadcast carries
        /// no `mine`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reaction: Option<ReactionChange>,
    },
    /// The answer to a `thread` frame.
    Thread {
        seq: u64,
        messages: Vec<Message>,
        has_more: bool,
    },
    /// A read position moved: this user's (from another of their connections), or, in a
    /// direct-message room, the other name's (`name` says whose).
    Read {
        seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// The room's creator kicked, banned or unbanned a name, or deleted a message.
    Moderation {
        #[serde(flatten)]
        event: ModEvent,
    },
    Ack {
        client_id: String,
        seq: u64,
    },
    UserJoined {
        user: User,
    },
    UserLeft {
        user: User,
    },
    UserStatus {
        user: User,
    },
    Typing {
        names: Vec<String>,
    },
    History {
        messages: Vec<Message>,
        has_more: bool,
    },
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// Sent right after `welcome` on the one socket whose connect claimed its name:
    /// the secret that later connects with this name must bring.
    NameClaimed {
        name: String,
        token: String,
        /// The claim's id: what the name's ownership is bound to.
        #[serde(default)]
        claim: String,
    },
    /// The room's owner or moderators changed.
    Roles {
        owner: Option<String>,
        moderators: Vec<String>,
    },
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

impl ServerFrame {
    /// The frame as JSON text. Serializing these types cannot fail (no maps with
    /// non-string keys, no foreign `Serialize` impls), so this never returns an error
    /// in practice; the fallback keeps a panic off the request path all the same.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","code":"internal","message":"could not encode a frame"}"#.to_owned()
        })
    }

    pub fn decode(text: &str) -> Result<ServerFrame, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// The JSON body of every HTTP error answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpError {
    pub error: HttpErrorBody,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

impl HttpError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        HttpError {
            error: HttpErrorBody {
                code,
                message: message.into(),
            },
        }
    }
}

/// `GET /room/:id/messages` and the `history` frame's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesPage {
    pub messages: Vec<Message>,
    pub has_more: bool,
}

/// `GET /room/:id/users`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersList {
    pub users: Vec<User>,
}

/// One entry of `GET /api/rooms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSummary {
    pub id: String,
    pub message_count: u64,
    pub last_activity: u64,
    /// With `?name=`: the messages after that name's last read seq in this room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<u64>,
    /// A title and description, for rooms made with `POST /api/rooms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Names connected now.
    #[serde(default)]
    pub online: u64,
    /// The newest message: who wrote it and how it begins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<Preview>,
}

/// The start of a room's newest message, for the room list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub name: String,
    pub text: String,
}

/// The longest preview text, in code points.
pub const PREVIEW_CHARS: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomsList {
    pub rooms: Vec<RoomSummary>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refusal(text: &str) -> Refusal {
        match ClientFrame::decode(text).frame {
            Err(r) => r,
            Ok(f) => panic!("{text} was accepted as {f:?}"),
        }
    }

    #[test]
    fn encoded_client_frames_decode_to_themselves() {
        let frames = [
            ClientFrame::Send {
                text: MessageText::parse("hi \"there\"").unwrap(),
                client_id: ClientId::parse("c-1").unwrap(),
                reply_to: Some(3),
                attachment: Some("f1".into()),
            },
            ClientFrame::Send {
                text: MessageText::parse("plain").unwrap(),
                client_id: ClientId::parse("c-2").unwrap(),
                reply_to: None,
                attachment: None,
            },
            ClientFrame::Typing { on: true },
            ClientFrame::Status {
                status: Status::Dnd,
            },
            ClientFrame::History {
                page: Page::Newest { limit: 7 },
            },
            ClientFrame::History {
                page: Page::Before {
                    before: 9,
                    limit: 100,
                },
            },
            ClientFrame::History {
                page: Page::After { after: 0, limit: 1 },
            },
            ClientFrame::Edit {
                seq: 4,
                text: MessageText::parse("fixed").unwrap(),
                client_id: Some(ClientId::parse("e-1").unwrap()),
            },
            ClientFrame::Delete {
                seq: 4,
                client_id: None,
            },
            ClientFrame::React {
                seq: 2,
                emoji: Emoji::parse("👍🏽").unwrap(),
                on: false,
                client_id: None,
            },
            ClientFrame::Thread {
                seq: 2,
                after: Some(5),
                limit: 10,
            },
            ClientFrame::Thread {
                seq: 2,
                after: None,
                limit: 50,
            },
        ];
        for frame in frames {
            let text = frame.encode();
            assert_eq!(
                ClientFrame::decode(&text).frame.as_ref(),
                Ok(&frame),
                "{text}"
            );
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
            if let Ok(serde_json::Value::Object(map)) =
                serde_json::from_str::<serde_json::Value>(&s)
            {
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

    #[test]
    fn server_frames_have_the_contract_shape() {
        let m = Message {
            seq: 1,
            room: "r".into(),
            name: "a".into(),
            text: "t".into(),
            ts: 5,
            client_id: None,
            reply_to: None,
            ..Message::default()
        };
        let v: serde_json::Value =
            serde_json::from_str(&ServerFrame::Message { message: m.clone() }.encode()).unwrap();
        assert_eq!(
            v,
            json!({"type":"message","message":{"seq":1,"room":"r","name":"a","text":"t","ts":5,"client_id":null,"reply_to":null}})
        );
        // A changed message carries only the fields that say how it changed.
        let changed = Message {
            edited_ts: Some(9),
            reactions: vec![Reaction {
                emoji: "🎉".into(),
                count: 1,
                names: vec!["a".into()],
                mine: false,
            }],
            reply_count: 2,
            ..m
        };
        let u = ServerFrame::Update {
            message: changed,
            rev: 12,
            reaction: None,
        };
        let v: serde_json::Value = serde_json::from_str(&u.encode()).unwrap();
        assert_eq!(
            v,
            json!({"type":"update","rev":12,"message":{"seq":1,"room":"r","name":"a","text":"t","ts":5,
                   "client_id":null,"reply_to":null,"edited_ts":9,
                   "reactions":[{"emoji":"🎉","count":1,"names":["a"]}],"reply_count":2}})
        );
        assert_eq!(ServerFrame::decode(&u.encode()).unwrap(), u);
        let e = ServerFrame::Error {
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
            client_id: Some("c".into()),
            retry_after_ms: Some(200),
        };
        let v: serde_json::Value = serde_json::from_str(&e.encode()).unwrap();
        assert_eq!(
            v,
            json!({"type":"error","code":"rate_limited","message":"slow down","client_id":"c","retry_after_ms":200})
        );
        let e = Refusal::new(ErrorCode::BadFrame, "no").to_frame().encode();
        assert_eq!(e, r#"{"type":"error","code":"bad_frame","message":"no"}"#);
        let t = ServerFrame::UserStatus {
            user: User {
                name: "A".into(),
                status: Status::Dnd,
            },
        };
        assert_eq!(
            t.encode(),
            r#"{"type":"user_status","user":{"name":"A","status":"dnd"}}"#
        );
        assert_eq!(ServerFrame::decode(&t.encode()).unwrap(), t);
    }

    /// The largest message the room can produce: every field at its longest, with
    /// characters that encode to the most bytes each field allows.
    fn worst_case_message(names_max: usize) -> Message {
        let wide = |n: usize| "😀".repeat(n); // 4 bytes per code point, no escape
        let escaped = |n: usize| "\u{1}".repeat(n); // JSON writes \u0001: 6 bytes
        let name = wide(crate::MAX_NAME_CHARS);
        Message {
            seq: u64::MAX,
            room: "r".repeat(crate::MAX_ROOM_CHARS),
            name: name.clone(),
            text: escaped(crate::MAX_TEXT_CHARS),
            ts: u64::MAX,
            client_id: Some(escaped(crate::MAX_CLIENT_ID_CHARS)),
            reply_to: Some(u64::MAX),
            edited_ts: Some(u64::MAX),
            deleted: true,
            reactions: (0..MAX_REACTIONS)
                .map(|_| Reaction {
                    emoji: wide(crate::MAX_EMOJI_CHARS),
                    count: u64::MAX,
                    names: vec![name.clone(); names_max],
                    mine: true,
                })
                .collect(),
            reply_count: u64::MAX,
            attachment: Some(crate::FileRef {
                id: "f".repeat(64),
                filename: wide(crate::MAX_FILENAME_CHARS),
                content_type: "application/octet-stream".into(),
                size: u64::MAX,
            }),
        }
    }

    #[test]
    fn a_message_never_encodes_larger_than_its_stated_bound() {
        for names_max in [0, 1, REACTION_NAMES_MAX, 100] {
            let m = worst_case_message(names_max);
            let len = serde_json::to_string(&m).unwrap().len();
            let bound = message_max_bytes(names_max);
            assert!(len <= bound, "{names_max} names: {len} > {bound}");
            // The bound is close, not a guess: within 2% of the worst case.
            assert!(
                len * 100 >= bound * 98,
                "{names_max} names: {len} vs {bound}"
            );
        }
        assert_eq!(MESSAGE_MAX_BYTES, message_max_bytes(REACTION_NAMES_MAX));
        assert_eq!(MESSAGE_MAX_BYTES, 54_016);
        // A reaction without a count (older stores) counts its names.
        let old: Reaction = serde_json::from_str(r#"{"emoji":"👍","names":["a","b"]}"#).unwrap();
        assert_eq!((old.count, old.total(), old.mine), (0, 2, false));
    }

    /// One frame of every variant, each optional field both given and left out, with the
    /// JSON a client sends for it today: keys in byte order (as `serde_json` writes an
    /// object it builds), optional fields left out when they are none.
    fn golden_frames() -> Vec<(ClientFrame, &'static str)> {
        let cid = |s: &str| ClientId::parse(s).unwrap();
        let text = |s: &str| MessageText::parse(s).unwrap();
        let name = |s: &str| Name::parse(s).unwrap();
        let emoji = |s: &str| Emoji::parse(s).unwrap();
        vec![
            (
                ClientFrame::Send {
                    text: text("hi \"there\" é\u{1}"),
                    client_id: cid("c-1"),
                    reply_to: Some(3),
                    attachment: Some("f1".into()),
                },
                r#"{"attachment":"f1","client_id":"c-1","reply_to":3,"text":"hi \"there\" é\u0001","type":"send"}"#,
            ),
            (
                ClientFrame::Send {
                    text: text("plain"),
                    client_id: cid("c-2"),
                    reply_to: None,
                    attachment: None,
                },
                r#"{"client_id":"c-2","text":"plain","type":"send"}"#,
            ),
            (
                ClientFrame::Typing { on: true },
                r#"{"on":true,"type":"typing"}"#,
            ),
            (
                ClientFrame::Typing { on: false },
                r#"{"on":false,"type":"typing"}"#,
            ),
            (
                ClientFrame::Status {
                    status: Status::Online,
                },
                r#"{"status":"online","type":"status"}"#,
            ),
            (
                ClientFrame::Status {
                    status: Status::Away,
                },
                r#"{"status":"away","type":"status"}"#,
            ),
            (
                ClientFrame::Status {
                    status: Status::Dnd,
                },
                r#"{"status":"dnd","type":"status"}"#,
            ),
            (
                ClientFrame::History {
                    page: Page::Newest { limit: 7 },
                },
                r#"{"limit":7,"type":"history"}"#,
            ),
            (
                ClientFrame::History {
                    page: Page::Before {
                        before: 9,
                        limit: 100,
                    },
                },
                r#"{"before":9,"limit":100,"type":"history"}"#,
            ),
            (
                ClientFrame::History {
                    page: Page::After { after: 0, limit: 1 },
                },
                r#"{"after":0,"limit":1,"type":"history"}"#,
            ),
            (
                ClientFrame::Edit {
                    seq: 4,
                    text: text("fixed"),
                    client_id: Some(cid("e-1")),
                },
                r#"{"client_id":"e-1","seq":4,"text":"fixed","type":"edit"}"#,
            ),
            (
                ClientFrame::Edit {
                    seq: 4,
                    text: text("fixed"),
                    client_id: None,
                },
                r#"{"seq":4,"text":"fixed","type":"edit"}"#,
            ),
            (
                ClientFrame::Delete {
                    seq: 4,
                    client_id: Some(cid("d-1")),
                },
                r#"{"client_id":"d-1","seq":4,"type":"delete"}"#,
            ),
            (
                ClientFrame::Delete {
                    seq: 4,
                    client_id: None,
                },
                r#"{"seq":4,"type":"delete"}"#,
            ),
            (
                ClientFrame::React {
                    seq: 2,
                    emoji: emoji("👍🏽"),
                    on: false,
                    client_id: None,
                },
                r#"{"emoji":"👍🏽","on":false,"seq":2,"type":"react"}"#,
            ),
            (
                ClientFrame::React {
                    seq: 2,
                    emoji: emoji("❤️"),
                    on: true,
                    client_id: Some(cid("r-1")),
                },
                r#"{"client_id":"r-1","emoji":"❤️","on":true,"seq":2,"type":"react"}"#,
            ),
            (
                ClientFrame::Thread {
                    seq: 2,
                    after: Some(5),
                    limit: 10,
                },
                r#"{"after":5,"limit":10,"seq":2,"type":"thread"}"#,
            ),
            (
                ClientFrame::Thread {
                    seq: 2,
                    after: None,
                    limit: 50,
                },
                r#"{"limit":50,"seq":2,"type":"thread"}"#,
            ),
            (
                ClientFrame::Kick {
                    name: name("  Ann   Lee "),
                },
                r#"{"name":"Ann Lee","type":"kick"}"#,
            ),
            (
                ClientFrame::Ban {
                    name: name("Bob"),
                    minutes: 60,
                    reason: None,
                },
                r#"{"minutes":60,"name":"Bob","type":"ban"}"#,
            ),
            (
                ClientFrame::Ban {
                    name: name("Bob"),
                    minutes: 525_600,
                    reason: Some("spam".into()),
                },
                r#"{"minutes":525600,"name":"Bob","reason":"spam","type":"ban"}"#,
            ),
            (
                ClientFrame::Unban { name: name("Bob") },
                r#"{"name":"Bob","type":"unban"}"#,
            ),
            (
                ClientFrame::Appoint { name: name("Zoë") },
                r#"{"name":"Zoë","type":"appoint"}"#,
            ),
            (
                ClientFrame::Dismiss { name: name("Zoë") },
                r#"{"name":"Zoë","type":"dismiss"}"#,
            ),
            (ClientFrame::Read { seq: 17 }, r#"{"seq":17,"type":"read"}"#),
        ]
    }

    #[test]
    fn client_frames_encode_to_the_bytes_clients_send() {
        for (frame, golden) in golden_frames() {
            assert_eq!(frame.encode(), golden, "{frame:?}");
        }
    }

    #[test]
    fn every_client_frame_round_trips() {
        for (frame, golden) in golden_frames() {
            let decoded = ClientFrame::decode(golden);
            assert_eq!(decoded.frame.as_ref(), Ok(&frame), "{golden}");
            let cid = match &frame {
                ClientFrame::Send { client_id, .. } => Some(client_id.as_str()),
                ClientFrame::Edit { client_id, .. }
                | ClientFrame::Delete { client_id, .. }
                | ClientFrame::React { client_id, .. } => client_id.as_ref().map(|c| c.as_str()),
                _ => None,
            };
            assert_eq!(decoded.client_id.as_deref(), cid, "{golden}");
        }
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
        ("{\"type\":\"nope\"}", BadFrame, "unsupported value: unknown variant `nope`, expected one of `send`, `typing`, `status`, `history`, `edit`, `delete`, `react`, `thread`, `kick`, `ban`, `unban`, `appoint`, `dismiss`, `read`", None),
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
        let d =
            ClientFrame::decode(r#"{"type":"send","text":"x","client_id":"c","client_id":"d"}"#);
        assert_eq!(d.client_id.as_deref(), Some("d"));
        assert!(
            matches!(d.frame, Ok(ClientFrame::Send { client_id, .. }) if client_id.as_str() == "d")
        );
        let d = ClientFrame::decode(r#"{"type":"typing","on":true,"on":false}"#);
        assert_eq!(d.frame, Ok(ClientFrame::Typing { on: false }));
        let d = ClientFrame::decode(r#"{"type":"send","type":"typing","on":true}"#);
        assert_eq!(d.frame, Ok(ClientFrame::Typing { on: true }));
    }
}
