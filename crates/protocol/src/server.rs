//! The frames the server sends, with their one serde definition: [`ServerFrame`] is
//! written by its derived `Serialize` ([`ServerFrame::encode`]) and read back by the
//! derived `Deserialize` (the CLI and the tests).

use serde::{Deserialize, Serialize};

use crate::model::is_false;
use crate::{ErrorCode, LastSeen, Message, ModEvent, Pinned, ReactionChange, Role, User};

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
        /// To a client that opted in to presence 2 (`?presence=2`): how many users are
        /// connected. Above the room's list size, `users` is empty and `users_partial`
        /// set: the list is loaded on demand with `users` frames.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_count: Option<usize>,
        #[serde(default, skip_serializing_if = "is_false")]
        users_partial: bool,
        /// The room's pinned messages, by seq (at most [`crate::MAX_PINS`]).
        #[serde(default)]
        pins: Vec<Pinned>,
        /// Names that were here and are offline now, with when each one's claim last
        /// left (most recent first, at most [`crate::LAST_SEEN_MAX`]; none online).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        last_seen: Vec<LastSeen>,
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
    /// The room's pins changed (a pin, an unpin, a pinned message edited or deleted):
    /// the whole list now, by seq, and the rev of the change (the message's `update`
    /// carries the same rev).
    Pins {
        pins: Vec<Pinned>,
        rev: u64,
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
        /// When the name's last socket left (ms since the epoch): its "last seen".
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<u64>,
    },
    UserStatus {
        user: User,
    },
    Typing {
        names: Vec<String>,
    },
    /// Presence 2 (opted in at connect): what changed in the room's users during the
    /// last tick, one frame for all of it. `joined` and `status` are users as they are
    /// now (apply them as upserts), `left` names that are gone. `partial`: the room is
    /// above its list size and only the count is kept up to date; `users`, when present,
    /// is the whole list again (the room fell back under its list size).
    Presence {
        count: usize,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        joined: Vec<User>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        left: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        status: Vec<User>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        users: Option<Vec<User>>,
        #[serde(default, skip_serializing_if = "is_false")]
        partial: bool,
        /// For names in `left`: when each one's last socket left (its "last seen").
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        last_seen: Vec<LastSeen>,
    },
    /// The answer to a `users` frame: a page of the connected users sorted by name key;
    /// `next` is the `after` of the next page, if there is one.
    Users {
        users: Vec<User>,
        count: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
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
    /// Sent after `welcome` (and `name_claimed`) on a socket the Worker admitted by
    /// checking its name's claim in D1: a short-lived signed credential for the same
    /// claim and name, which later connects offer as the `edgechat.pass.<pass>`
    /// subprotocol to be admitted without that check (see [`crate::Pass`]).
    Pass {
        pass: String,
        /// When it stops being accepted (ms since the epoch).
        expires_at: u64,
    },
    /// The room's owner or moderators changed.
    Roles {
        owner: Option<String>,
        moderators: Vec<String>,
    },
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
