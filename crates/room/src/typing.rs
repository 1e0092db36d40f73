//! Typing indicators: who is shown typing, coalesced per person, and their expiry.

use crate::frames::send;
use crate::*;

/// What everyone was last told about one person's typing: the name shown, whether it
/// was shown typing, and when that was last changed.
pub(crate) struct Shown {
    pub(crate) name: Rc<str>,
    pub(crate) on: bool,
    pub(crate) at: u64,
}

impl<L: Log> Room<L> {
    pub(crate) fn on_typing(&mut self, id: &ConnId, on: bool, now: u64) -> Vec<Output> {
        let mut out = Vec::new();
        if let Some(conn) = self.conns.get_mut(id) {
            conn.typing_until = on.then_some(now + TYPING_TTL_MS);
        }
        self.announce_typing(&mut out, now);
        out
    }

    /// Time passed: typing that was not renewed expires.
    pub(crate) fn tick(&mut self, now: u64) -> Vec<Output> {
        let mut out = Vec::new();
        let mut expired = false;
        for conn in self.conns.values_mut() {
            if conn.typing_until.is_some_and(|t| t <= now) {
                conn.typing_until = None;
                expired = true;
            }
        }
        if expired || self.typing_due.is_some_and(|t| t <= now) {
            self.announce_typing(&mut out, now);
        }
        out
    }

    /// The typing names everyone was told of (as shown), for a receiver whose key is
    /// `exclude`.
    pub(crate) fn typing_names_for(&self, exclude: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .typing_shown
            .iter()
            .filter(|(key, shown)| shown.on && &***key != exclude)
            .map(|(_, shown)| shown.name.to_string())
            .collect();
        names.sort_by_cached_key(|n| n.to_lowercase());
        names
    }

    /// Sends `typing` frames if what everyone sees of typing changes: one frame for
    /// every receiver who is not shown typing, and one per typist (who is left out of
    /// their own). Coalesced per person: a person's shown state changes at most once
    /// per `typing_interval_ms`; a change inside the interval is held, and when the
    /// interval ends ([`Room::tick`]) the person's state as it is then is shown, so a
    /// start undone within the interval sends nothing. A person with no socket left is
    /// taken off at once.
    pub(crate) fn announce_typing(&mut self, out: &mut Vec<Output>, now: u64) {
        let interval = self.limits.typing_interval_ms;
        let mut typing: BTreeMap<NameKey, Rc<str>> = BTreeMap::new();
        for conn in self.conns.values() {
            if conn.typing_until.is_some_and(|t| t > now) {
                typing
                    .entry(conn.key.clone())
                    .or_insert_with(|| conn.name.clone());
            }
        }
        let mut changed = false;
        let mut due: Option<u64> = None;
        for (key, name) in &typing {
            match self.typing_shown.get_mut(key) {
                Some(shown) if shown.on => {}
                Some(shown) if now < shown.at + interval => {
                    due = Some(due.map_or(shown.at + interval, |d| d.min(shown.at + interval)));
                }
                Some(shown) => {
                    *shown = Shown {
                        name: name.clone(),
                        on: true,
                        at: now,
                    };
                    changed = true;
                }
                None => {
                    let shown = Shown {
                        name: name.clone(),
                        on: true,
                        at: now,
                    };
                    self.typing_shown.insert(key.clone(), shown);
                    changed = true;
                }
            }
        }
        let conns = &self.conns;
        for (key, shown) in self.typing_shown.iter_mut() {
            if !shown.on || typing.contains_key(key) {
                continue;
            }
            let gone = || !conns.values().any(|c| c.key == *key);
            if now >= shown.at + interval || gone() {
                shown.on = false;
                shown.at = now;
                changed = true;
            } else {
                due = Some(due.map_or(shown.at + interval, |d| d.min(shown.at + interval)));
            }
        }
        // Who was shown not typing long enough ago is forgotten: bounded memory.
        self.typing_shown
            .retain(|key, shown| shown.on || now < shown.at + interval || typing.contains_key(key));
        self.typing_due = due;
        if !changed {
            return;
        }
        let mut rest = Vec::new();
        let mut by_typist: BTreeMap<NameKey, Vec<ConnId>> = BTreeMap::new();
        for (id, conn) in &self.conns {
            if self.typing_shown.get(&conn.key).is_some_and(|s| s.on) {
                by_typist
                    .entry(conn.key.clone())
                    .or_default()
                    .push(id.clone());
            } else {
                rest.push(id.clone());
            }
        }
        if !rest.is_empty() {
            let names = self.typing_names_for("");
            send(out, Target::Many(rest), ServerFrame::Typing { names });
        }
        for (key, ids) in by_typist {
            let names = self.typing_names_for(&key);
            send(out, Target::Many(ids), ServerFrame::Typing { names });
        }
    }
}
