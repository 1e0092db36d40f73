//! Changes to logged messages (edit, delete, react, a new reply's count) and the reads
//! of history that mark a claim's own reactions (`history`, `thread`).

use crate::frames::{internal, send};
use crate::*;

/// Why a change was not made: refused (for the client), or the log failed.
pub(crate) enum Denied {
    Refused(Refusal),
    Failed(LogError),
}

impl From<Refusal> for Denied {
    fn from(r: Refusal) -> Self {
        Denied::Refused(r)
    }
}

impl<L: Log> Room<L> {
    /// Marks the reactions `claim` made among these messages (`mine`), for a frame
    /// addressed to one of its connections. Messages without reactions cost nothing.
    pub(crate) fn mark_mine(&self, claim: &str, messages: &mut [Message], out: &mut Vec<Output>) {
        let seqs: Vec<u64> = messages
            .iter()
            .filter(|m| !m.reactions.is_empty())
            .map(|m| m.seq)
            .collect();
        if seqs.is_empty() {
            return;
        }
        match self.log.reacted_by(claim, &seqs) {
            Ok(mine) => {
                let mine: BTreeSet<(u64, &str)> =
                    mine.iter().map(|(s, e)| (*s, e.as_str())).collect();
                for m in messages {
                    for r in &mut m.reactions {
                        r.mine = mine.contains(&(m.seq, r.emoji.as_str()));
                    }
                }
            }
            Err(e) => out.push(self.noted("reading a claim's reactions", &e)),
        }
    }

    /// A page for connection `id`: its reactions marked, cut to the frame budget.
    pub(crate) fn page_for(
        &self,
        id: &ConnId,
        page: (Vec<Message>, bool),
        keep: Keep,
        out: &mut Vec<Output>,
    ) -> (Vec<Message>, bool) {
        let (mut messages, has_more) = page;
        if let Some(conn) = self.conns.get(id) {
            self.mark_mine(&conn.claim, &mut messages, out);
        }
        bounds::fit_page((messages, has_more), self.bounds.frame_budget, keep)
    }

    pub(crate) fn on_edit(
        &mut self,
        id: &ConnId,
        seq: u64,
        text: MessageText,
        client_id: Option<ClientId>,
        now: u64,
    ) -> Vec<Output> {
        let Some(me) = self.conns.get(id).map(|c| c.claim.clone()) else {
            return Vec::new();
        };
        let text = text.into_string();
        self.modify(Some(id), seq, client_id, None, |m, author, _, _| {
            own(m, author, &me, "edit")?;
            if m.text == text {
                return Ok(false);
            }
            m.text = text;
            m.edited_ts = Some(now);
            Ok(true)
        })
    }

    pub(crate) fn on_delete(
        &mut self,
        id: &ConnId,
        seq: u64,
        client_id: Option<ClientId>,
        now: u64,
    ) -> Vec<Output> {
        let Some(me) = self.conns.get(id).map(|c| c.claim.clone()) else {
            return Vec::new();
        };
        let moderator = self.moderator(id).map(|(name, _)| name);
        let mut moderated = None;
        let mut file = None;
        let mut out = self.modify(Some(id), seq, client_id, None, |m, author, _, _| {
            if m.deleted {
                // Deleting twice is deleting once.
                return Ok(false);
            }
            if author != &*me && moderator.is_some() {
                // The room's owner and moderators may delete anyone's message; audited.
                moderated = Some(m.name.clone());
            } else {
                own(m, author, &me, "delete")?;
            }
            m.deleted = true;
            m.text.clear();
            m.reactions.clear();
            // A deleted message is no longer pinned.
            m.pinned = None;
            file = m.attachment.take();
            Ok(true)
        });
        if let Some(file) = file {
            // Deleting the message deletes its file.
            out.push(Output::DeleteFiles(vec![file.id]));
        }
        if let (Some(name), Some(by)) = (moderated, moderator) {
            out.extend(self.record(ModEvent {
                action: ModAction::Delete,
                by: by.to_string(),
                name,
                seq: Some(seq),
                until: None,
                reason: None,
                ts: now,
            }));
        }
        out
    }

    pub(crate) fn on_react(
        &mut self,
        id: &ConnId,
        seq: u64,
        emoji: Emoji,
        on: bool,
        client_id: Option<ClientId>,
    ) -> Vec<Output> {
        let Some((claim, my_name)) = self
            .conns
            .get(id)
            .map(|c| (c.claim.clone(), c.name.clone()))
        else {
            return Vec::new();
        };
        let names = self.bounds.reaction_names;
        let change = ReactionChange {
            emoji: emoji.as_str().to_owned(),
            name: my_name.to_string(),
            on,
        };
        self.modify(Some(id), seq, client_id, Some(change), |m, _, log, rev| {
            if m.deleted {
                return Err(was_deleted(m.seq).into());
            }
            let at = m.reactions.iter().position(|r| r.emoji == emoji.as_str());
            if on && at.is_none() && m.reactions.len() >= MAX_REACTIONS {
                return Err(Refusal::new(
                    ErrorCode::BadFrame,
                    format!("a message carries at most {MAX_REACTIONS} different reactions"),
                )
                .into());
            }
            let toggle = Toggle {
                seq: m.seq,
                emoji: emoji.as_str(),
                claim: &claim,
                name: &my_name,
                on,
                at: rev,
            };
            let changed = log.react(&toggle, names).map_err(Denied::Failed)?;
            let Some((count, listed)) = changed else {
                return Ok(false);
            };
            match at {
                Some(i) if count == 0 => {
                    m.reactions.remove(i);
                }
                Some(i) => {
                    m.reactions[i].count = count;
                    m.reactions[i].names = listed;
                }
                None if count > 0 => m.reactions.push(Reaction {
                    emoji: emoji.as_str().to_owned(),
                    count,
                    names: listed,
                    mine: false,
                }),
                None => {}
            }
            Ok(true)
        })
    }

    /// A page of history for connection `id`, its reactions marked, within the budget.
    pub(crate) fn on_history(&mut self, id: &ConnId, page: Page) -> Vec<Output> {
        let mut out = Vec::new();
        let keep = match page {
            Page::After { .. } => Keep::Oldest,
            _ => Keep::Newest,
        };
        let frame = match self.log.page(page, self.last_seq) {
            Ok(found) => {
                let (messages, has_more) = self.page_for(id, found, keep, &mut out);
                ServerFrame::History { messages, has_more }
            }
            Err(e) => internal(&mut out, &e, None),
        };
        send(&mut out, Target::One(id.clone()), frame);
        out
    }

    pub(crate) fn on_thread(
        &mut self,
        id: &ConnId,
        seq: u64,
        after: u64,
        limit: u32,
    ) -> Vec<Output> {
        let mut out = Vec::new();
        let frame = if seq == 0 || seq > self.last_seq {
            no_such_message(seq, None).to_frame()
        } else {
            match self.log.replies(seq, after, limit) {
                Ok(found) => {
                    let (messages, has_more) = self.page_for(id, found, Keep::Oldest, &mut out);
                    ServerFrame::Thread {
                        seq,
                        messages,
                        has_more,
                    }
                }
                Err(e) => internal(&mut out, &e, None),
            }
        };
        send(&mut out, Target::One(id.clone()), frame);
        out
    }

    /// Changes one logged message in place. `change` sees the message, its author's
    /// claim, the log and the rev the change will take, and says whether it changed
    /// anything: a change takes that rev, is logged and goes to everyone as an `update`
    /// (with `reaction`, when it was one); no change sends the message as it is to the
    /// asking connection only (a repeated edit, delete or reaction confirms without
    /// doing anything twice). A refusal goes to the asking connection.
    pub(crate) fn modify(
        &mut self,
        id: Option<&ConnId>,
        seq: u64,
        client_id: Option<ClientId>,
        reaction: Option<ReactionChange>,
        change: impl FnOnce(&mut Message, &str, &mut L, u64) -> Result<bool, Denied>,
    ) -> Vec<Output> {
        let mut out = Vec::new();
        let client_id = client_id.map(ClientId::into_string);
        let reply_to = |out: &mut Vec<Output>, frame: ServerFrame| {
            if let Some(id) = id {
                send(out, Target::One(id.clone()), frame);
            }
        };
        let found = if seq == 0 || seq > self.last_seq {
            Ok(None)
        } else {
            self.log.get(seq)
        };
        let mut stored = match found {
            Ok(Some(stored)) => stored,
            Ok(None) => {
                reply_to(&mut out, no_such_message(seq, client_id).to_frame());
                return out;
            }
            Err(e) => {
                let frame = internal(&mut out, &e, client_id);
                reply_to(&mut out, frame);
                return out;
            }
        };
        let rev = self.last_rev + 1;
        match change(&mut stored.message, &stored.claim, &mut self.log, rev) {
            Err(Denied::Refused(mut refusal)) => {
                refusal.client_id = client_id;
                reply_to(&mut out, refusal.to_frame());
            }
            Err(Denied::Failed(e)) => {
                let frame = internal(&mut out, &e, client_id);
                reply_to(&mut out, frame);
            }
            Ok(false) => {
                let mut message = stored.message;
                if let Some(conn) = id.and_then(|id| self.conns.get(id)) {
                    let claim = conn.claim.clone();
                    self.mark_mine(&claim, std::slice::from_mut(&mut message), &mut out);
                }
                reply_to(
                    &mut out,
                    ServerFrame::Update {
                        message,
                        rev: self.last_rev,
                        reaction: None,
                    },
                )
            }
            Ok(true) => {
                if let Err(e) = self.log.update(&stored.message, rev) {
                    let frame = internal(&mut out, &e, client_id);
                    reply_to(&mut out, frame);
                    return out;
                }
                self.last_rev = rev;
                send(
                    &mut out,
                    Target::All,
                    ServerFrame::Update {
                        message: stored.message.clone(),
                        rev,
                        reaction,
                    },
                );
                self.repin(&stored.message, rev, &mut out);
                self.pending.push_back((rev, stored.message));
            }
        }
        out
    }
}

/// Only a message's author may change it.
fn own(m: &Message, author: &str, me: &str, what: &str) -> Result<(), Refusal> {
    if author != me {
        return Err(Refusal::new(
            ErrorCode::Forbidden,
            format!("you can only {what} your own messages"),
        ));
    }
    if m.deleted {
        return Err(was_deleted(m.seq));
    }
    Ok(())
}

fn was_deleted(seq: u64) -> Refusal {
    Refusal::new(ErrorCode::NotFound, format!("message {seq} was deleted"))
}

fn no_such_message(seq: u64, client_id: Option<String>) -> Refusal {
    Refusal {
        code: ErrorCode::NotFound,
        message: format!("message {seq} does not exist in this room"),
        client_id,
    }
}
