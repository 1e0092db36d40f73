//! A [`Log`](crate::Log) in memory: the room's tests and native tools use it.

use std::collections::{BTreeMap, HashMap};

use edgechat_protocol::{FileRef, Message, ModEvent, Page};

use crate::{
    AttachmentLog, Ban, ClaimId, LogError, Member, MessageLog, ModerationLog, PageLog, Positions,
    ReactionLog, ReadLog, Roles, SeenEntry, SeenLog, Stored, Toggle, UploadLog,
};

#[derive(Default, Debug, Clone)]
pub struct MemoryLog {
    /// Every message in seq order, with its author's name key and its last rev.
    pub rows: Vec<Stored>,
    pub client_ids: HashMap<(String, String), u64>,
    pub durable_rev: u64,
    pub roles: Roles,
    pub bans: HashMap<String, Ban>,
    pub audit: Vec<ModEvent>,
    pub audit_durable: u64,
    /// Read positions by claim, and whether each reached the history database.
    pub reads: HashMap<String, (u64, bool)>,
    /// Files by id: the file, its uploader's claim, the message it is attached to.
    pub files: HashMap<String, (FileRef, String, Option<u64>)>,
    /// When each file was uploaded.
    pub uploaded_at: HashMap<String, u64>,
    /// Who reacted: (seq, emoji, claim) to (name, order).
    pub reactions: BTreeMap<(u64, String, String), (String, u64)>,
    /// The last-seen list as last written.
    pub last_seen: Vec<SeenEntry>,
    /// How many times the last-seen list was written.
    pub last_seen_writes: u64,
    /// When set, every write fails (to test failure paths).
    pub fail_writes: bool,
}

impl SeenLog for MemoryLog {
    fn last_seen(&self) -> Result<Vec<SeenEntry>, LogError> {
        Ok(self.last_seen.clone())
    }

    fn set_last_seen(&mut self, entries: &[SeenEntry]) -> Result<(), LogError> {
        self.check()?;
        self.last_seen = entries.to_vec();
        self.last_seen_writes += 1;
        Ok(())
    }
}

impl MemoryLog {
    fn check(&self) -> Result<(), LogError> {
        if self.fail_writes {
            return Err(LogError("write refused".into()));
        }
        Ok(())
    }

    fn row(&self, seq: u64) -> Option<&Stored> {
        let i = usize::try_from(seq.checked_sub(1)?).ok()?;
        self.rows.get(i)
    }
}

impl MessageLog for MemoryLog {
    fn positions(&self) -> Result<Positions, LogError> {
        Ok(Positions {
            last_seq: self.rows.last().map_or(0, |r| r.message.seq),
            last_rev: self.rows.iter().map(|r| r.rev).max().unwrap_or(0),
            durable_rev: self.durable_rev,
            audit_durable: self.audit_durable,
            oldest_unattached: self.oldest_unattached()?,
        })
    }

    fn append(
        &mut self,
        message: &Message,
        name_key: &str,
        claim: &str,
        rev: u64,
    ) -> Result<Option<(u64, u64)>, LogError> {
        self.check()?;
        if let Some(cid) = &message.client_id {
            let key = (name_key.to_owned(), cid.clone());
            if let Some(&seq) = self.client_ids.get(&key) {
                return Ok(Some((seq, self.row(seq).map_or(0, |r| r.rev))));
            }
            self.client_ids.insert(key, message.seq);
        }
        self.rows.push(Stored {
            message: message.clone(),
            name_key: name_key.to_owned(),
            claim: claim.to_owned(),
            rev,
        });
        Ok(None)
    }

    fn find_client_id(
        &self,
        name_key: &str,
        client_id: &str,
    ) -> Result<Option<(u64, u64)>, LogError> {
        Ok(self
            .client_ids
            .get(&(name_key.to_owned(), client_id.to_owned()))
            .map(|&seq| (seq, self.row(seq).map_or(0, |r| r.rev))))
    }

    fn get(&self, seq: u64) -> Result<Option<Stored>, LogError> {
        Ok(self.row(seq).cloned())
    }

    fn update(&mut self, message: &Message, rev: u64) -> Result<(), LogError> {
        self.check()?;
        let i = usize::try_from(message.seq.saturating_sub(1)).unwrap_or(usize::MAX);
        match self.rows.get_mut(i) {
            Some(row) => {
                row.message = message.clone();
                row.rev = rev;
                if message.deleted {
                    self.reactions.retain(|(seq, _, _), _| *seq != message.seq);
                }
                Ok(())
            }
            None => Err(LogError(format!("no message {}", message.seq))),
        }
    }

    fn set_durable(&mut self, rev: u64) -> Result<(), LogError> {
        self.check()?;
        self.durable_rev = rev;
        Ok(())
    }

    fn replies(
        &self,
        parent: u64,
        after: u64,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), LogError> {
        let replies = self
            .rows
            .iter()
            .map(|r| &r.message)
            .filter(|m| m.reply_to == Some(parent) && m.seq > after);
        Ok(first(replies, limit as usize))
    }

    fn changed(
        &self,
        upto: u64,
        after_rev: u64,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), LogError> {
        let mut rows: Vec<&Stored> = self
            .rows
            .iter()
            .filter(|r| r.message.seq <= upto && r.rev > after_rev)
            .collect();
        rows.sort_by_key(|r| r.rev);
        Ok(first(rows.into_iter().map(|r| &r.message), limit as usize))
    }

    fn pinned(&self) -> Result<Vec<Message>, LogError> {
        Ok(self
            .rows
            .iter()
            .filter(|r| r.message.pinned.is_some())
            .map(|r| r.message.clone())
            .collect())
    }

    fn unwritten(&self, after_rev: u64, limit: u32) -> Result<Vec<(u64, Message)>, LogError> {
        let mut rows: Vec<&Stored> = self.rows.iter().filter(|r| r.rev > after_rev).collect();
        rows.sort_by_key(|r| r.rev);
        Ok(rows
            .into_iter()
            .take(limit as usize)
            .map(|r| (r.rev, r.message.clone()))
            .collect())
    }
}

impl PageLog for MemoryLog {
    fn page(&self, page: Page, upto: u64) -> Result<(Vec<Message>, bool), LogError> {
        let visible = self
            .rows
            .iter()
            .map(|r| &r.message)
            .filter(|m| m.seq <= upto);
        let limit = page.limit() as usize;
        Ok(match page {
            Page::Newest { .. } => newest(visible.collect(), limit),
            Page::Before { before, .. } => {
                newest(visible.filter(|m| m.seq < before).collect(), limit)
            }
            Page::After { after, .. } => first(visible.filter(|m| m.seq > after), limit),
        })
    }
}

impl ModerationLog for MemoryLog {
    fn moderation(&self) -> Result<(Roles, Vec<Ban>), LogError> {
        Ok((self.roles.clone(), self.bans.values().cloned().collect()))
    }

    fn set_owner(&mut self, owner: &Member) -> Result<(), LogError> {
        self.check()?;
        self.roles.owner = Some(owner.clone());
        Ok(())
    }

    fn set_moderator(&mut self, member: &Member, on: bool) -> Result<(), LogError> {
        self.check()?;
        self.roles.moderators.retain(|m| m.claim != member.claim);
        if on {
            self.roles.moderators.push(member.clone());
        }
        Ok(())
    }

    fn set_ban(&mut self, ban: &Ban) -> Result<(), LogError> {
        self.check()?;
        self.bans.insert(ban.name_key.clone(), ban.clone());
        Ok(())
    }

    fn remove_ban(&mut self, name_key: &str) -> Result<(), LogError> {
        self.check()?;
        self.bans.remove(name_key);
        Ok(())
    }

    fn audit(&mut self, event: &ModEvent) -> Result<u64, LogError> {
        self.check()?;
        self.audit.push(event.clone());
        Ok(self.audit.len() as u64)
    }

    fn unwritten_audit(&self, after: u64) -> Result<Vec<(u64, ModEvent)>, LogError> {
        Ok((after as usize..self.audit.len())
            .map(|i| (i as u64 + 1, self.audit[i].clone()))
            .collect())
    }

    fn set_audit_durable(&mut self, id: u64) -> Result<(), LogError> {
        self.check()?;
        self.audit_durable = id;
        Ok(())
    }
}

impl ReadLog for MemoryLog {
    fn read_seq(&self, name_key: &str) -> Result<u64, LogError> {
        Ok(self.reads.get(name_key).map_or(0, |r| r.0))
    }

    fn set_read(&mut self, name_key: &str, seq: u64) -> Result<(), LogError> {
        self.check()?;
        let entry = self.reads.entry(name_key.to_owned()).or_insert((0, true));
        if seq > entry.0 {
            *entry = (seq, false);
        }
        Ok(())
    }

    fn unwritten_reads(&self) -> Result<Vec<(String, u64)>, LogError> {
        let mut v: Vec<(String, u64)> = self
            .reads
            .iter()
            .filter(|(_, (_, written))| !written)
            .map(|(k, (s, _))| (k.clone(), *s))
            .collect();
        v.sort();
        Ok(v)
    }

    fn max_read_except(&self, name_key: &str) -> Result<u64, LogError> {
        Ok(self
            .reads
            .iter()
            .filter(|(k, _)| k.as_str() != name_key)
            .map(|(_, (s, _))| *s)
            .max()
            .unwrap_or(0))
    }

    fn reads_written(&mut self, reads: &[(ClaimId, u64)]) -> Result<(), LogError> {
        self.check()?;
        for (key, seq) in reads {
            if let Some(r) = self.reads.get_mut(key.as_str()) {
                if r.0 <= *seq {
                    r.1 = true;
                }
            }
        }
        Ok(())
    }
}

impl UploadLog for MemoryLog {
    fn add_file(&mut self, file: &FileRef, name_key: &str, at: u64) -> Result<(), LogError> {
        self.check()?;
        self.files
            .insert(file.id.clone(), (file.clone(), name_key.to_owned(), None));
        self.uploaded_at.insert(file.id.clone(), at);
        Ok(())
    }

    fn expired_files(&self, before: u64, limit: u32) -> Result<Vec<String>, LogError> {
        let mut due: Vec<(u64, String)> = self
            .files
            .iter()
            .filter(|(_, f)| f.2.is_none())
            .filter_map(|(id, _)| {
                let at = *self.uploaded_at.get(id)?;
                (at <= before).then(|| (at, id.clone()))
            })
            .collect();
        due.sort();
        Ok(due
            .into_iter()
            .take(limit as usize)
            .map(|(_, id)| id)
            .collect())
    }

    fn oldest_unattached(&self) -> Result<Option<u64>, LogError> {
        Ok(self
            .files
            .iter()
            .filter(|(_, f)| f.2.is_none())
            .filter_map(|(id, _)| self.uploaded_at.get(id).copied())
            .min())
    }

    fn remove_file(&mut self, id: &str) -> Result<(), LogError> {
        self.check()?;
        if self.files.get(id).is_some_and(|f| f.2.is_none()) {
            self.files.remove(id);
            self.uploaded_at.remove(id);
        }
        Ok(())
    }
}

impl AttachmentLog for MemoryLog {
    fn file(&self, id: &str) -> Result<Option<(FileRef, String, Option<u64>)>, LogError> {
        Ok(self.files.get(id).cloned())
    }

    fn attach_file(&mut self, id: &str, seq: u64) -> Result<(), LogError> {
        self.check()?;
        if let Some(f) = self.files.get_mut(id) {
            f.2 = Some(seq);
        }
        Ok(())
    }
}

impl ReactionLog for MemoryLog {
    fn react(
        &mut self,
        toggle: &Toggle<'_>,
        names: usize,
    ) -> Result<Option<(u64, Vec<String>)>, LogError> {
        let Toggle {
            seq,
            emoji,
            claim,
            name,
            on,
            at,
        } = *toggle;
        self.check()?;
        let key = (seq, emoji.to_owned(), claim.to_owned());
        let changed = if on {
            match self.reactions.entry(key) {
                std::collections::btree_map::Entry::Occupied(_) => false,
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert((name.to_owned(), at));
                    true
                }
            }
        } else {
            self.reactions.remove(&key).is_some()
        };
        if !changed {
            return Ok(None);
        }
        let mut who: Vec<&(String, u64)> = self
            .reactions
            .iter()
            .filter(|((s, e, _), _)| *s == seq && e == emoji)
            .map(|(_, v)| v)
            .collect();
        who.sort_by_key(|(_, at)| *at);
        let count = who.len() as u64;
        Ok(Some((
            count,
            who.into_iter()
                .take(names)
                .map(|(n, _)| n.clone())
                .collect(),
        )))
    }

    fn reacted_by(&self, claim: &str, seqs: &[u64]) -> Result<Vec<(u64, String)>, LogError> {
        Ok(self
            .reactions
            .keys()
            .filter(|(s, _, c)| c == claim && seqs.contains(s))
            .map(|(s, e, _)| (*s, e.clone()))
            .collect())
    }
}

fn first<'a>(items: impl Iterator<Item = &'a Message>, limit: usize) -> (Vec<Message>, bool) {
    let mut v: Vec<Message> = items.take(limit + 1).cloned().collect();
    let more = v.len() > limit;
    v.truncate(limit);
    (v, more)
}

fn newest(v: Vec<&Message>, limit: usize) -> (Vec<Message>, bool) {
    let more = v.len() > limit;
    let start = v.len().saturating_sub(limit);
    (v[start..].iter().map(|m| (*m).clone()).collect(), more)
}
