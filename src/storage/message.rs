//! A stored message: how its rows are read back, and its reactions as stored.

use edgechat_protocol::{Message, Reaction};
use serde::Deserialize;

/// Reactions as stored in a TEXT column: a JSON array, or NULL when there are none.
/// Each emoji has its exact count and its first names (`mine` is never stored: it is
/// the viewer's, marked on the way out).
pub fn reactions_json(reactions: &[Reaction]) -> Option<String> {
    if reactions.is_empty() {
        return None;
    }
    serde_json::to_string(reactions).ok()
}

/// A message row as SQLite returns it (numbers arrive as JavaScript doubles). The
/// room's own log has no `room` column: its rows take the room they belong to.
#[derive(Deserialize)]
pub struct MessageRow {
    #[serde(default)]
    room: String,
    seq: f64,
    name: String,
    text: String,
    ts: f64,
    client_id: Option<String>,
    reply_to: Option<f64>,
    #[serde(default)]
    edited_ts: Option<f64>,
    #[serde(default)]
    deleted: Option<f64>,
    #[serde(default)]
    reactions: Option<String>,
    #[serde(default)]
    reply_count: Option<f64>,
    #[serde(default)]
    attachment: Option<String>,
}

impl MessageRow {
    pub fn into_message(self, room: Option<&str>) -> Message {
        Message {
            seq: self.seq as u64,
            room: room.map_or(self.room, str::to_owned),
            name: self.name,
            text: self.text,
            ts: self.ts as u64,
            client_id: self.client_id,
            reply_to: self.reply_to.map(|s| s as u64),
            edited_ts: self.edited_ts.map(|t| t as u64),
            deleted: self.deleted.is_some_and(|d| d != 0.0),
            // A column only this code writes; unreadable JSON would show no reactions.
            reactions: self
                .reactions
                .and_then(|r| serde_json::from_str(&r).ok())
                .map(bounded_reactions)
                .unwrap_or_default(),
            reply_count: self.reply_count.unwrap_or(0.0) as u64,
            attachment: self.attachment.and_then(|a| serde_json::from_str(&a).ok()),
        }
    }
}

/// Reactions as read back: a row written before counts were kept lists every name and
/// no count (migration 0012 and the log's step 5 rewrite those); it reads as its count
/// and a bounded list all the same.
fn bounded_reactions(mut reactions: Vec<Reaction>) -> Vec<Reaction> {
    for r in &mut reactions {
        r.count = r.total();
        r.names.truncate(edgechat_room::bounds::MAX_REACTION_NAMES);
        r.mine = false;
    }
    reactions
}
