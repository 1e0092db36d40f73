//! Sending: a new message is validated, deduplicated by its client_id, given the next
//! seq and rev, logged and broadcast; its ack waits for the history database.
//!
//! Group commit: a send that arrives while a batch of messages is out to the history
//! database is held, and every held send goes into the log when that batch's answer
//! comes, in that one event, so that the runtime commits them in one storage commit and
//! the next batch carries them all. A lone send (nothing in flight) is logged at once.
//! A held send is neither logged, seen nor acked: if the room is lost meanwhile, its
//! sender, who has no ack, resends it with the same client_id.

use crate::frames::{fail, refuse, send};
use crate::*;

/// Sends held at most; beyond, a send is logged at once (in a commit of its own).
pub const MAX_HELD: usize = MAX_BATCH;

/// A send waiting for the batch in flight, as it arrived.
#[derive(Debug)]
pub(crate) struct Held {
    conn: ConnId,
    text: MessageText,
    client_id: ClientId,
    reply_to: Option<u64>,
    attachment: Option<String>,
}

impl<L: Log> Room<L> {
    pub(crate) fn on_send(
        &mut self,
        id: &ConnId,
        text: MessageText,
        client_id: ClientId,
        reply_to: Option<u64>,
        attachment: Option<String>,
        now: u64,
    ) -> Vec<Output> {
        if !self.conns.contains_key(id) {
            return Vec::new();
        }
        let held = Held {
            conn: id.clone(),
            text,
            client_id,
            reply_to,
            attachment,
        };
        if self.outbox.messages_in_flight() && self.held.len() < MAX_HELD {
            self.held.push_back(held);
            return Vec::new();
        }
        self.log_send(held, now)
    }

    /// The batch in flight is answered: every held send goes into the log now, in
    /// arrival order (a sender gone meanwhile has no ack and resends on its return).
    pub(crate) fn release_held(&mut self, now: u64) -> Vec<Output> {
        let mut out = Vec::new();
        for h in std::mem::take(&mut self.held) {
            out.extend(self.log_send(h, now));
        }
        out
    }

    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held.len()
    }

    fn log_send(&mut self, held: Held, now: u64) -> Vec<Output> {
        let Held {
            conn: id,
            text,
            client_id,
            reply_to,
            attachment,
        } = held;
        let id = &id;
        let mut out = Vec::new();
        let Some(conn) = self.conns.get(id) else {
            return out;
        };
        let (name, key, claim) = (conn.name.clone(), conn.key.clone(), conn.claim.clone());
        let file = match attachment {
            None => None,
            Some(file_id) => match self.attachable(&key, &claim, &file_id, client_id.as_str()) {
                Ok(file) => Some(file),
                Err(Some((seq, rev))) => {
                    return self.already_stored(id, client_id.into_string(), seq, rev)
                }
                Err(None) => {
                    return refuse(
                        id,
                        &Refusal {
                            code: ErrorCode::NotFound,
                            message: format!(
                                "attachment {file_id} is no file you uploaded to this room, or it is attached already"
                            ),
                            client_id: Some(client_id.into_string()),
                        },
                    )
                }
            },
        };
        if let Some(parent) = reply_to.filter(|&p| p == 0 || p > self.last_seq) {
            // A resend of a stored message is acked whatever it says; anything else
            // must answer a message that exists.
            return match self.log.find_client_id(&key, client_id.as_str()) {
                Ok(Some((seq, rev))) => self.already_stored(id, client_id.into_string(), seq, rev),
                Ok(None) => refuse(
                    id,
                    &Refusal {
                        code: ErrorCode::NotFound,
                        message: format!("reply_to {parent} names no message of this room"),
                        client_id: Some(client_id.into_string()),
                    },
                ),
                Err(e) => {
                    fail(&mut out, id, &e, Some(client_id.into_string()));
                    out
                }
            };
        }
        let message = Message {
            seq: self.last_seq + 1,
            room: self.id.clone(),
            name: name.to_string(),
            text: text.into_string(),
            ts: now,
            client_id: Some(client_id.into_string()),
            reply_to,
            attachment: file,
            ..Message::default()
        };
        let cid = message.client_id.clone().unwrap_or_default();
        let rev = self.last_rev + 1;
        match self.log.append(&message, &key, &claim, rev) {
            Err(e) => {
                fail(&mut out, id, &e, Some(cid));
                return out;
            }
            Ok(Some((seq, rev))) => return self.already_stored(id, cid, seq, rev),
            Ok(None) => {}
        }
        if let Some(file) = &message.attachment {
            if let Err(e) = self.log.attach_file(&file.id, message.seq) {
                out.push(self.noted(&format!("attaching file {}", file.id), &e));
            }
        }
        // In the room's durable log now: everyone may see it (the runtime holds these
        // frames until that write is confirmed). The ack waits for the history database.
        self.last_seq = message.seq;
        self.last_rev = rev;
        self.waiters
            .entry(rev)
            .or_default()
            .push((id.clone(), cid, message.seq));
        send(
            &mut out,
            Target::All,
            ServerFrame::Message {
                message: message.clone(),
            },
        );
        self.pending.push_back((rev, message));
        if let Some(parent) = reply_to {
            // The parent counts its replies; everyone sees the new count.
            out.extend(self.modify(None, parent, None, None, |m, _, _, _| {
                m.reply_count += 1;
                Ok(true)
            }));
        }
        // Sending ends the sender's typing.
        let mut was_typing = false;
        for conn in self.conns.values_mut().filter(|c| c.key == key) {
            was_typing |= conn.typing_until.take().is_some();
        }
        if was_typing {
            self.announce_typing(&mut out, now);
        }
        out
    }

    /// The file a send names, if this claim uploaded it here and it is not attached yet.
    /// `Err(Some((seq, rev)))`: it is attached, by a send with this very client_id (a
    /// resend); `Err(None)`: refused.
    pub(crate) fn attachable(
        &self,
        key: &str,
        claim: &str,
        file_id: &str,
        client_id: &str,
    ) -> Result<FileRef, Option<(u64, u64)>> {
        if self.sweeping.contains(file_id) {
            return Err(None);
        }
        match self.log.file(file_id) {
            Ok(Some((file, owner, None))) if owner == claim => Ok(file),
            Ok(Some((_, owner, Some(_)))) if owner == claim => {
                match self.log.find_client_id(key, client_id) {
                    Ok(Some(found)) => Err(Some(found)),
                    _ => Err(None),
                }
            }
            _ => Err(None),
        }
    }

    /// A `send` whose client_id this name already used: no new message; an ack with
    /// the original seq, now if its row is in the history database, else once it lands.
    pub(crate) fn already_stored(
        &mut self,
        id: &ConnId,
        client_id: String,
        seq: u64,
        rev: u64,
    ) -> Vec<Output> {
        let mut out = Vec::new();
        if rev <= self.durable_rev {
            send(
                &mut out,
                Target::One(id.clone()),
                ServerFrame::Ack { client_id, seq },
            );
        } else {
            self.waiters
                .entry(rev)
                .or_default()
                .push((id.clone(), client_id, seq));
        }
        out
    }
}
