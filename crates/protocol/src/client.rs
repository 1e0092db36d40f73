//! The frames a client sends: [`ClientFrame`] (validated) and its wire form, the one
//! serde definition of their JSON, read and written; [`ClientFrame::decode`], the
//! server's reading of a socket message (size, then JSON, then the type, then the
//! values, each refusal naming the sender's `client_id`); and [`ClientFrame::encode`],
//! a client's writing. Every chat message takes this path, so a well-formed frame is
//! parsed once.

use serde::{Deserialize, Serialize};

use crate::errors::describe_serde_error;
use crate::{
    find_client_id, ClientId, Emoji, ErrorCode, MessageText, Name, Page, Refusal, Status,
    MAX_FRAME_BYTES,
};

/// A frame from a client, validated: a value of this type is one the server accepts.
///
/// Its JSON is `RawClientFrame`'s, the one definition of the wire form: serde reads a
/// frame as that and validates it into this (`try_from`), and writes this back through it
/// (`into`). [`ClientFrame::decode`] is the server's way in, with typed refusals and the
/// sender's `client_id`; [`ClientFrame::encode`] a client's way out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawClientFrame", into = "RawClientFrame")]
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
    /// The room's owner or a moderator pins a message (`on`) or unpins it.
    Pin {
        seq: u64,
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
    /// A page of the room's connected users (sorted by name key), after the name
    /// `after` (none: from the start), at most `limit` ([`MAX_USERS_PAGE`]).
    Users {
        after: Option<Name>,
        limit: u32,
    },
}

/// The most users one `users` page holds.
pub const MAX_USERS_PAGE: u32 = 200;

/// The longest ban, in minutes: a year.
pub const MAX_BAN_MINUTES: u32 = 525_600;
/// A ban without `minutes` lasts an hour.
pub const DEFAULT_BAN_MINUTES: u32 = 60;
/// The longest moderation reason, in code points.
pub const MAX_REASON_CHARS: usize = 200;

/// The frames as they appear on the wire, before validation: the field names, which
/// fields may be left out (and are left out when none), their defaults. Serialized
/// only from a valid [`ClientFrame`].
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum RawClientFrame {
    Send {
        text: String,
        client_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attachment: Option<String>,
    },
    Typing {
        on: bool,
    },
    Status {
        status: Status,
    },
    History {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    Edit {
        seq: u64,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
    Delete {
        seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
    React {
        seq: u64,
        emoji: String,
        #[serde(default = "yes")]
        on: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
    Pin {
        seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
    Unpin {
        seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
    Thread {
        seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    Kick {
        name: String,
    },
    Ban {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        minutes: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
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
    Users {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
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
                    | RawClientFrame::React { client_id, .. }
                    | RawClientFrame::Pin { client_id, .. }
                    | RawClientFrame::Unpin { client_id, .. } => client_id.clone(),
                    // Frames whose type has no client_id may still carry one (unknown
                    // fields are ignored): a refusal echoes it all the same. These
                    // frames are small, and the scan allocates only what it finds.
                    _ => find_client_id(text),
                };
                (client_id, Self::try_from(raw))
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
        Self::try_from(raw)
    }

    /// The frame as JSON text, as a client sends it; [`ClientFrame::decode`] reads it
    /// back unchanged. It goes through a `serde_json::Value`, whose object keeps its keys
    /// in byte order (`"type"` last): the bytes clients have always sent.
    pub fn encode(&self) -> String {
        // Strings, numbers and booleans only: serializing cannot fail.
        serde_json::to_value(self)
            .map(|v| v.to_string())
            .unwrap_or_default()
    }
}

impl TryFrom<RawClientFrame> for ClientFrame {
    type Error = Refusal;

    /// Validates a frame's values, in the order the contract checks them.
    fn try_from(raw: RawClientFrame) -> Result<ClientFrame, Refusal> {
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
            RawClientFrame::Pin { seq, client_id } => ClientFrame::Pin {
                seq,
                on: true,
                client_id: optional_client_id(client_id)?,
            },
            RawClientFrame::Unpin { seq, client_id } => ClientFrame::Pin {
                seq,
                on: false,
                client_id: optional_client_id(client_id)?,
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
            RawClientFrame::Users { after, limit } => {
                let limit = limit.unwrap_or(MAX_USERS_PAGE);
                if !(1..=MAX_USERS_PAGE).contains(&limit) {
                    return Err(bad(&format!(
                        "limit must be 1 to {MAX_USERS_PAGE}, not {limit}"
                    )));
                }
                let after = after.map(|n| Name::parse(&n)).transpose().map_err(bad)?;
                ClientFrame::Users { after, limit }
            }
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

fn optional_client_id(raw: Option<String>) -> Result<Option<ClientId>, Refusal> {
    raw.map(|c| ClientId::parse(&c))
        .transpose()
        .map_err(|m| Refusal::new(ErrorCode::BadFrame, m))
}

impl From<ClientFrame> for RawClientFrame {
    fn from(frame: ClientFrame) -> RawClientFrame {
        let id = |c: Option<ClientId>| c.map(ClientId::into_string);
        let name = |n: Name| n.display().to_owned();
        match frame {
            ClientFrame::Send {
                text,
                client_id,
                reply_to,
                attachment,
            } => RawClientFrame::Send {
                text: text.into_string(),
                client_id: client_id.into_string(),
                reply_to,
                attachment,
            },
            ClientFrame::Typing { on } => RawClientFrame::Typing { on },
            ClientFrame::Status { status } => RawClientFrame::Status { status },
            ClientFrame::History { page } => {
                let (before, after, limit) = match page {
                    Page::Newest { limit } => (None, None, limit),
                    Page::Before { before, limit } => (Some(before), None, limit),
                    Page::After { after, limit } => (None, Some(after), limit),
                };
                RawClientFrame::History {
                    before,
                    after,
                    limit: Some(limit),
                }
            }
            ClientFrame::Edit {
                seq,
                text,
                client_id,
            } => RawClientFrame::Edit {
                seq,
                text: text.into_string(),
                client_id: id(client_id),
            },
            ClientFrame::Delete { seq, client_id } => RawClientFrame::Delete {
                seq,
                client_id: id(client_id),
            },
            ClientFrame::React {
                seq,
                emoji,
                on,
                client_id,
            } => RawClientFrame::React {
                seq,
                emoji: emoji.as_str().to_owned(),
                on,
                client_id: id(client_id),
            },
            ClientFrame::Pin {
                seq,
                on: true,
                client_id,
            } => RawClientFrame::Pin {
                seq,
                client_id: id(client_id),
            },
            ClientFrame::Pin {
                seq,
                on: false,
                client_id,
            } => RawClientFrame::Unpin {
                seq,
                client_id: id(client_id),
            },
            ClientFrame::Thread { seq, after, limit } => RawClientFrame::Thread {
                seq,
                after,
                limit: Some(limit),
            },
            ClientFrame::Kick { name: n } => RawClientFrame::Kick { name: name(n) },
            ClientFrame::Ban {
                name: n,
                minutes,
                reason,
            } => RawClientFrame::Ban {
                name: name(n),
                minutes: Some(minutes),
                reason,
            },
            ClientFrame::Unban { name: n } => RawClientFrame::Unban { name: name(n) },
            ClientFrame::Appoint { name: n } => RawClientFrame::Appoint { name: name(n) },
            ClientFrame::Dismiss { name: n } => RawClientFrame::Dismiss { name: name(n) },
            ClientFrame::Read { seq } => RawClientFrame::Read { seq },
            ClientFrame::Users { after, limit } => RawClientFrame::Users {
                after: after.map(name),
                limit: Some(limit),
            },
        }
    }
}
