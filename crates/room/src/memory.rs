//! A [`Log`] in memory: the room's tests and native tools use it.

use std::collections::HashMap;

use edgechat_protocol::{Message, Page};

use crate::{Log, LogError};

#[derive(Default, Debug, Clone)]
pub struct MemoryLog {
    pub messages: Vec<Message>,
    pub client_ids: HashMap<(String, String), u64>,
    pub durable_seq: u64,
    /// When set, every write fails (to test failure paths).
    pub fail_writes: bool,
}

impl Log for MemoryLog {
    fn positions(&self) -> Result<(u64, u64), LogError> {
        Ok((self.messages.last().map_or(0, |m| m.seq), self.durable_seq))
    }

    fn append(&mut self, message: &Message, name_key: &str) -> Result<Option<u64>, LogError> {
        if self.fail_writes {
            return Err(LogError("write refused".into()));
        }
        if let Some(cid) = &message.client_id {
            let key = (name_key.to_owned(), cid.clone());
            if let Some(&seq) = self.client_ids.get(&key) {
                return Ok(Some(seq));
            }
            self.client_ids.insert(key, message.seq);
        }
        self.messages.push(message.clone());
        Ok(None)
    }

    fn find_client_id(&self, name_key: &str, client_id: &str) -> Result<Option<u64>, LogError> {
        Ok(self
            .client_ids
            .get(&(name_key.to_owned(), client_id.to_owned()))
            .copied())
    }

    fn set_durable(&mut self, seq: u64) -> Result<(), LogError> {
        if self.fail_writes {
            return Err(LogError("write refused".into()));
        }
        self.durable_seq = seq;
        Ok(())
    }

    fn page(&self, page: Page, upto: u64) -> Result<(Vec<Message>, bool), LogError> {
        let visible = self.messages.iter().filter(|m| m.seq <= upto);
        let limit = page.limit() as usize;
        Ok(match page {
            Page::Newest { .. } => newest(visible.collect(), limit),
            Page::Before { before, .. } => {
                newest(visible.filter(|m| m.seq < before).collect(), limit)
            }
            Page::After { after, .. } => {
                let mut v: Vec<Message> = visible.filter(|m| m.seq > after).cloned().collect();
                let more = v.len() > limit;
                v.truncate(limit);
                (v, more)
            }
        })
    }
}

fn newest(v: Vec<&Message>, limit: usize) -> (Vec<Message>, bool) {
    let more = v.len() > limit;
    let start = v.len().saturating_sub(limit);
    (v[start..].iter().map(|m| (*m).clone()).collect(), more)
}
