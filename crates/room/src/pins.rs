//! Pinned messages: the room's owner and moderators pin and unpin a message by seq.
//!
//! A pin is a change of the message like an edit (`pinned` is one of its fields): it
//! takes the next rev, is logged, reaches the history database in the same batch as
//! every other change and is replayed to a client resuming with an older rev. Beside
//! the message's `update`, everyone gets the room's whole pin list (`pins`) whenever it
//! changes, and each `welcome` carries it; the list lives in memory, read once when the
//! room opens, so a welcome costs no read for it. Deleting a pinned message unpins it;
//! editing one refreshes its excerpt. Sends never touch any of this.

use crate::changes::Denied;
use crate::frames::send;
use crate::*;

impl<L: Log> Room<L> {
    /// A `pin` (`on`) or `unpin` frame. Only the owner and moderators may; a deleted or
    /// missing message is `not_found`; at most [`MAX_PINS`] are pinned at once. Pinning
    /// a pinned message (or unpinning one that is not) confirms without a change.
    pub(crate) fn on_pin(
        &mut self,
        id: &ConnId,
        seq: u64,
        on: bool,
        client_id: Option<ClientId>,
        now: u64,
    ) -> Vec<Output> {
        let Some((by, _)) = self.moderator(id) else {
            let why = if self.is_dm() {
                "nobody moderates a direct message: nothing is pinned in one"
            } else {
                "only the room's owner and its moderators can pin and unpin messages"
            };
            let mut refusal = Refusal::new(ErrorCode::Forbidden, why);
            refusal.client_id = client_id.map(ClientId::into_string);
            return frames::refuse(id, &refusal);
        };
        let full = self.pins.len() >= MAX_PINS;
        self.modify(Some(id), seq, client_id, None, |m, _, _, _| {
            if m.deleted {
                return Err(Denied::Refused(Refusal::new(
                    ErrorCode::NotFound,
                    format!("message {seq} was deleted"),
                )));
            }
            match (on, m.pinned.is_some()) {
                (true, true) | (false, false) => Ok(false),
                (true, false) if full => Err(Denied::Refused(Refusal::new(
                    ErrorCode::BadFrame,
                    format!("a room keeps at most {MAX_PINS} pinned messages: unpin one first"),
                ))),
                (true, false) => {
                    m.pinned = Some(Pin {
                        by: by.to_string(),
                        ts: now,
                    });
                    Ok(true)
                }
                (false, true) => {
                    m.pinned = None;
                    Ok(true)
                }
            }
        })
    }

    /// After message `m` changed at `rev`: if that changed the room's pin list (it was
    /// pinned or unpinned, or a pinned message was edited or deleted), the list is kept
    /// and everyone gets it. Messages that are not and were not pinned cost one lookup.
    pub(crate) fn repin(&mut self, m: &Message, rev: u64, out: &mut Vec<Output>) {
        if m.pinned.is_none() && !self.pins.contains_key(&m.seq) {
            return;
        }
        let entry = Pinned::of(m);
        if self.pins.get(&m.seq) == entry.as_ref() {
            return;
        }
        match entry {
            Some(p) => self.pins.insert(m.seq, p),
            None => self.pins.remove(&m.seq),
        };
        let pins = self.pin_list();
        send(out, Target::All, ServerFrame::Pins { pins, rev });
    }

    /// The room's pins, by seq.
    pub fn pin_list(&self) -> Vec<Pinned> {
        self.pins.values().cloned().collect()
    }
}
