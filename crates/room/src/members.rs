//! Who is in the room, by name, kept sorted as people come and go (O(log n) a change),
//! and presence 2: the changes of a short tick coalesced into one `presence` frame for
//! the clients that opted in, with only the count (and a list on demand) above the
//! room's list size. Legacy clients still get a frame per change (see `presence`).

use std::ops::Bound;

use crate::*;

/// Presence settings (wrangler `[vars]` `PRESENCE_TICK_MS`, `PRESENCE_LIST_MAX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresenceSettings {
    /// How long changes are gathered before one `presence` frame tells them.
    pub tick_ms: u64,
    /// Above this many users, presence-2 clients get counts and load the list on demand.
    pub list_max: usize,
}

/// The default tick: 200 ms.
pub const PRESENCE_TICK_MS: u64 = 200;
/// The default list size: 200 users.
pub const PRESENCE_LIST_MAX: usize = 200;

impl Default for PresenceSettings {
    fn default() -> Self {
        PresenceSettings {
            tick_ms: PRESENCE_TICK_MS,
            list_max: PRESENCE_LIST_MAX,
        }
    }
}

impl PresenceSettings {
    /// Reads the settings as strings; a missing or unusable value keeps its default
    /// (a tick of 10 ms to 5 s, a list size of 1 to 10,000).
    pub fn from_settings(tick: Option<&str>, list_max: Option<&str>) -> Self {
        let d = PresenceSettings::default();
        let parse = |v: Option<&str>| v.and_then(|s| s.trim().parse::<u64>().ok());
        PresenceSettings {
            tick_ms: parse(tick)
                .filter(|t| (10..=5000).contains(t))
                .unwrap_or(d.tick_ms),
            list_max: parse(list_max)
                .filter(|m| (1..=10_000).contains(m))
                .map_or(d.list_max, |m| m as usize),
        }
    }
}

/// One connected name: as shown, its status, how many sockets it has here.
#[derive(Clone, Debug)]
pub(crate) struct Present {
    pub(crate) name: Rc<str>,
    pub(crate) status: Status,
    pub(crate) sockets: usize,
}

impl Present {
    fn user(&self) -> User {
        User {
            name: self.name.to_string(),
            status: self.status,
        }
    }
}

/// The room's users and the presence-2 tick.
#[derive(Default)]
pub(crate) struct Members {
    /// Connected names by key: sorted, so a page or the whole list needs no sort.
    pub(crate) by_key: BTreeMap<NameKey, Present>,
    /// Connections that opted in to presence 2.
    pub(crate) modern: BTreeSet<ConnId>,
    /// Connections that did not: they get a frame per change.
    pub(crate) legacy: BTreeSet<ConnId>,
    /// Names changed this tick, with what they were when the tick began (None: absent).
    touched: BTreeMap<NameKey, Option<(Rc<str>, Status)>>,
    /// Presence-2 connections welcomed during this tick: their welcome is newer than
    /// the tick's start, so they hear the end state of every touched name.
    newcomers: BTreeSet<ConnId>,
    /// When this tick's frame is due.
    pub(crate) due: Option<u64>,
    /// The count the last frame (or welcome) told.
    told_count: usize,
    /// The last frame told counts only (the room was above its list size).
    told_partial: bool,
}

impl Members {
    /// The users, sorted by name key.
    pub(crate) fn users(&self) -> Vec<User> {
        self.by_key.values().map(Present::user).collect()
    }

    pub(crate) fn count(&self) -> usize {
        self.by_key.len()
    }

    /// Notes that `key` is about to change, so that the tick knows how it began.
    /// With no presence-2 connection, nobody needs a tick.
    fn touch(&mut self, key: &NameKey, now: u64, tick_ms: u64) {
        if self.modern.is_empty() {
            return;
        }
        if !self.touched.contains_key(key) {
            let was = self.by_key.get(key).map(|p| (p.name.clone(), p.status));
            self.touched.insert(key.clone(), was);
        }
        self.due.get_or_insert(now + tick_ms);
    }

    /// One more socket of `key`; true when the name is new here.
    pub(crate) fn add(&mut self, key: &NameKey, name: &Rc<str>, status: Status) -> bool {
        if let Some(p) = self.by_key.get_mut(key) {
            p.sockets += 1;
            return false;
        }
        let present = Present {
            name: name.clone(),
            status,
            sockets: 1,
        };
        self.by_key.insert(key.clone(), present);
        true
    }

    /// A name arrives (its first socket): the tick hears of it.
    pub(crate) fn joined(
        &mut self,
        key: &NameKey,
        name: &Rc<str>,
        status: Status,
        now: u64,
        s: &PresenceSettings,
    ) {
        self.touch(key, now, s.tick_ms);
        self.add(key, name, status);
    }

    /// One socket of `key` fewer; true when the name is gone (the tick hears of it).
    pub(crate) fn remove(&mut self, key: &NameKey, now: u64, s: &PresenceSettings) -> bool {
        let Some(p) = self.by_key.get_mut(key) else {
            return false;
        };
        if p.sockets > 1 {
            p.sockets -= 1;
            return false;
        }
        self.touch(key, now, s.tick_ms);
        self.by_key.remove(key);
        true
    }

    /// A name's status changed.
    pub(crate) fn set_status(
        &mut self,
        key: &NameKey,
        status: Status,
        now: u64,
        s: &PresenceSettings,
    ) {
        if self.by_key.contains_key(key) {
            self.touch(key, now, s.tick_ms);
            if let Some(p) = self.by_key.get_mut(key) {
                p.status = status;
            }
        }
    }

    /// A connection registers (with its presence mode); a welcomed presence-2 one
    /// hears the end state of this tick's changes.
    pub(crate) fn register(&mut self, id: &ConnId, modern: bool, welcomed: bool) {
        if modern {
            self.modern.insert(id.clone());
            if welcomed && self.due.is_some() {
                self.newcomers.insert(id.clone());
            }
        } else {
            self.legacy.insert(id.clone());
        }
    }

    pub(crate) fn unregister(&mut self, id: &ConnId) {
        self.modern.remove(id);
        self.legacy.remove(id);
        self.newcomers.remove(id);
    }

    /// Legacy connections, all but `except`: who gets a frame per change.
    pub(crate) fn legacy_except(&self, except: Option<&ConnId>) -> Vec<ConnId> {
        self.legacy
            .iter()
            .filter(|c| Some(*c) != except)
            .cloned()
            .collect()
    }

    /// What a presence-2 welcome carries: the count, and the list unless the room is
    /// above its list size.
    pub(crate) fn welcome_list(&self, s: &PresenceSettings) -> (Vec<User>, usize, bool) {
        let count = self.count();
        if count > s.list_max {
            (Vec::new(), count, true)
        } else {
            (self.users(), count, false)
        }
    }

    /// A page of users after the name key `after`, at most `limit`, and the name to
    /// ask after for the next page.
    pub(crate) fn page(&self, after: Option<&str>, limit: usize) -> (Vec<User>, Option<String>) {
        let start = match after {
            Some(key) => Bound::Excluded(key.to_owned()),
            None => Bound::Unbounded,
        };
        let mut range = self
            .by_key
            .range::<str, _>((start.as_ref().map(String::as_str), Bound::Unbounded));
        let users: Vec<User> = range.by_ref().take(limit).map(|(_, p)| p.user()).collect();
        let next = match range.next() {
            Some(_) => users.last().map(|u| u.name.clone()),
            None => None,
        };
        (users, next)
    }

    /// The tick's frames, if it is due at `now`: one for the presence-2 connections
    /// that were here when it began (the net changes: a join and a leave within the
    /// tick cancel out), one for those welcomed during it (every touched name as it is
    /// now). Above the list size both hear the count only, when it changed.
    pub(crate) fn flush(
        &mut self,
        now: u64,
        s: &PresenceSettings,
        seen: &crate::seen::Seen,
    ) -> Vec<Output> {
        if self.due.is_none_or(|d| d > now) {
            return Vec::new();
        }
        self.due = None;
        let touched = std::mem::take(&mut self.touched);
        let newcomers = std::mem::take(&mut self.newcomers);
        let count = self.count();
        let partial = count > s.list_max;
        let mut out = Vec::new();
        let old: Vec<ConnId> = self.modern.difference(&newcomers).cloned().collect();
        let everyone: Vec<ConnId> = self.modern.iter().cloned().collect();
        let at_of = |left: &Vec<String>| -> Vec<edgechat_protocol::LastSeen> {
            left.iter()
                .filter_map(|name| {
                    seen.at_of(&name_key(name))
                        .map(|at| edgechat_protocol::LastSeen {
                            name: name.clone(),
                            at,
                        })
                })
                .collect()
        };
        let frame = |joined, left: Vec<String>, status, users, partial| ServerFrame::Presence {
            count,
            joined,
            last_seen: at_of(&left),
            left,
            status,
            users,
            partial,
        };
        if partial {
            if count != self.told_count || !self.told_partial {
                let f = frame(Vec::new(), Vec::new(), Vec::new(), None, true);
                push(&mut out, everyone, f);
            }
        } else if self.told_partial {
            // Back under the list size: everyone gets the whole list again.
            let f = frame(
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Some(self.users()),
                false,
            );
            push(&mut out, everyone, f);
        } else {
            let (mut joined, mut left, mut status) = (Vec::new(), Vec::new(), Vec::new());
            let (mut all_joined, mut all_left) = (Vec::new(), Vec::new());
            for (key, was) in &touched {
                let is = self.by_key.get(key);
                match is {
                    Some(p) => all_joined.push(p.user()),
                    None => {
                        if let Some((name, _)) = was {
                            all_left.push(name.to_string());
                        }
                    }
                }
                match (was, is) {
                    (None, Some(p)) => joined.push(p.user()),
                    (Some((name, _)), None) => left.push(name.to_string()),
                    (Some((name, st)), Some(p)) if *st != p.status || **name != *p.name => {
                        status.push(p.user())
                    }
                    _ => {}
                }
            }
            if !(joined.is_empty() && left.is_empty() && status.is_empty())
                || count != self.told_count
            {
                push(&mut out, old, frame(joined, left, status, None, false));
            }
            let fresh: Vec<ConnId> = newcomers
                .into_iter()
                .filter(|c| self.modern.contains(c))
                .collect();
            if !(all_joined.is_empty() && all_left.is_empty()) {
                push(
                    &mut out,
                    fresh,
                    frame(all_joined, all_left, Vec::new(), None, false),
                );
            }
        }
        self.told_count = count;
        self.told_partial = partial;
        out
    }
}

fn push(out: &mut Vec<Output>, to: Vec<ConnId>, frame: ServerFrame) {
    if !to.is_empty() {
        out.push(Output::Send {
            to: Target::Many(to),
            frame,
        });
    }
}
