//! Last seen: per claim that has been in the room, when its last socket left, kept for
//! the [`LAST_SEEN_MAX`] most recent claims. The list is durable in the room's log
//! (one write per last-socket leave, nothing per message) and travels in the welcome,
//! in `user_left` and in the presence-2 `presence` frame.
//!
//! Entries belong to claims, not names: when another claim enters under a name (the
//! name was released and claimed again) or a claim is revoked, the old claim's entry
//! goes, so a new holder of a name never shows an old holder's time.

use edgechat_protocol::{LastSeen, LAST_SEEN_MAX};

use crate::*;

/// One claim's entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenEntry {
    pub claim: ClaimId,
    /// The name key it held, to find it by name.
    pub key: String,
    /// The name as shown.
    pub name: String,
    pub at: u64,
}

/// The room's last-seen list, most recent first, at most [`LAST_SEEN_MAX`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Seen {
    entries: Vec<SeenEntry>,
}

impl Seen {
    /// The list as the log kept it (a longer one is cut to the bound).
    pub(crate) fn from_log(mut entries: Vec<SeenEntry>) -> Self {
        entries.sort_by_key(|e| std::cmp::Reverse(e.at));
        let mut seen = Seen::default();
        for e in entries {
            let dupe = seen
                .entries
                .iter()
                .any(|s| s.claim == e.claim || s.key == e.key);
            if !dupe && seen.entries.len() < LAST_SEEN_MAX {
                seen.entries.push(e);
            }
        }
        seen
    }

    pub(crate) fn entries(&self) -> &[SeenEntry] {
        &self.entries
    }

    /// `claim`'s last socket left at `at` under `name`: it goes first, replacing its own
    /// entry and any other claim's under the same name.
    pub(crate) fn left(&mut self, claim: &ClaimId, key: &str, name: &str, at: u64) {
        self.entries.retain(|e| &e.claim != claim && e.key != key);
        self.entries.insert(
            0,
            SeenEntry {
                claim: claim.clone(),
                key: key.to_owned(),
                name: name.to_owned(),
                at,
            },
        );
        self.entries.truncate(LAST_SEEN_MAX);
    }

    /// `claim` entered under `key`: any other claim's entry under that name is an old
    /// holder's. True if something went.
    pub(crate) fn entered(&mut self, claim: &ClaimId, key: &str) -> bool {
        let before = self.entries.len();
        self.entries
            .retain(|e| !(e.key == key && &e.claim != claim));
        self.entries.len() != before
    }

    /// Forgets `claim` (it no longer holds its name). True if it had an entry.
    pub(crate) fn forget(&mut self, claim: &ClaimId) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| &e.claim != claim);
        self.entries.len() != before
    }

    /// The entry of the name `key`, if its claim has one.
    pub(crate) fn at_of(&self, key: &str) -> Option<u64> {
        self.entries.iter().find(|e| e.key == key).map(|e| e.at)
    }

    /// What clients see: the entries of names not online now, most recent first.
    pub(crate) fn shown(&self, online: impl Fn(&str) -> bool) -> Vec<LastSeen> {
        self.entries
            .iter()
            .filter(|e| !online(&e.key))
            .map(|e| LastSeen {
                name: e.name.clone(),
                at: e.at,
            })
            .collect()
    }
}

impl<L: Log> Room<L> {
    /// The last-seen list clients see now (names online left out).
    pub fn last_seen(&self) -> Vec<LastSeen> {
        let members = &self.members;
        self.seen.shown(|key| members.by_key.contains_key(key))
    }

    /// Writes the list to the log after a change; a failure is for the operator's log
    /// (memory keeps the list: only a restart before the next leave would lose it).
    pub(crate) fn save_seen(&mut self, out: &mut Vec<Output>) {
        if let Err(e) = self.log.set_last_seen(self.seen.entries()) {
            out.push(self.noted("saving last seen", &e));
        }
    }
}
