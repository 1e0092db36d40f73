//! Connections and presence: who is here (one user per name, any number of sockets),
//! connecting and resuming (the welcome), leaving, status, the socket caps and the
//! rate bucket each claim's sockets share.

use crate::frames::{internal, send};
use crate::*;

/// One connection: who it is and what the room tracks for it.
pub(crate) struct Conn {
    pub(crate) name: Rc<str>,
    pub(crate) key: NameKey,
    pub(crate) claim: ClaimId,
    pub(crate) status: Status,
    /// It opted in to presence 2.
    pub(crate) modern: bool,
    /// What this connection's claim shares with its other sockets here: the bucket.
    pub(crate) shared: Rc<ClaimState>,
    pub(crate) typing_until: Option<u64>,
    /// Refused frames this socket sent lately.
    pub(crate) strikes: Strikes,
    /// Until when a rate-limited frame without a client_id gets no answer: the last
    /// `rate_limited` told the client how long to wait.
    pub(crate) quiet_until: u64,
}

/// What the room keeps for one claim: the rate bucket every socket of the claim takes
/// from (so reconnecting or opening tabs refills nothing), and how many sockets it has
/// here. Kept after the last socket closes until the bucket is full again.
pub(crate) struct ClaimState {
    pub(crate) bucket: Cell<TokenBucket>,
    pub(crate) sockets: Cell<usize>,
}

impl<L: Log> Room<L> {
    /// Re-registers a connection after a wake, from its attachment, announcing nothing.
    /// A woken room's count of who is online is the one the room list last heard.
    pub(crate) fn restore(&mut self, attachment: Attachment, now: u64) {
        let key = NameKey::from(name_key(&attachment.name));
        let claim = if attachment.claim.is_empty() {
            ClaimId::from(legacy_claim_id(&attachment.name.to_lowercase()))
        } else {
            attachment.claim
        };
        let shared = self.claim_socket(&claim, now);
        let name: Rc<str> = attachment.name.into();
        self.members.add(&key, &name, attachment.status);
        self.members
            .register(&attachment.id, attachment.presence2, false);
        let conn = Conn {
            name,
            key,
            claim,
            status: attachment.status,
            modern: attachment.presence2,
            shared,
            typing_until: None,
            strikes: Strikes::default(),
            quiet_until: 0,
        };
        self.conns.insert(attachment.id, conn);
        self.outbox.online_known();
    }

    /// One more socket of `claim`: its shared state, made (with a full bucket) if the
    /// room keeps none for it.
    pub(crate) fn claim_socket(&mut self, claim: &ClaimId, now: u64) -> Rc<ClaimState> {
        self.forget_full_buckets(now);
        let limits = self.limits;
        let state = self
            .claims
            .entry(claim.clone())
            .or_insert_with(|| {
                Rc::new(ClaimState {
                    bucket: Cell::new(TokenBucket::full(&limits, now)),
                    sockets: Cell::new(0),
                })
            })
            .clone();
        state.sockets.set(state.sockets.get() + 1);
        state
    }

    /// A socket of `claim` closed: with none left, its bucket waits to be full again.
    pub(crate) fn release_claim_socket(&mut self, claim: &ClaimId, shared: &ClaimState, now: u64) {
        let left = shared.sockets.get().saturating_sub(1);
        shared.sockets.set(left);
        if left == 0 {
            self.idle_claims.push(claim.clone());
        }
        self.forget_full_buckets(now);
    }

    /// Drops the state of claims with no socket whose bucket has refilled: a fresh one
    /// would be the same. Memory stays bounded by the claims that left within the last
    /// refill time (`burst / per_sec`, 4 s at the defaults).
    pub(crate) fn forget_full_buckets(&mut self, now: u64) {
        let (claims, limits) = (&mut self.claims, &self.limits);
        self.idle_claims.retain(|claim| match claims.get(claim) {
            Some(state) if state.sockets.get() == 0 => {
                if state.bucket.get().is_full(limits, now) {
                    claims.remove(claim);
                    false
                } else {
                    true
                }
            }
            _ => false,
        });
    }

    /// How many claims the room keeps a bucket for (with sockets, or refilling).
    #[cfg(test)]
    pub(crate) fn buckets_kept(&self) -> usize {
        self.claims.len()
    }

    /// Why a new socket may not open now: the name is banned here, or a socket cap is
    /// reached (the claim's, or the room's). Without `claim` (a plain HTTP probe, which
    /// proves no claim) the name's sockets are counted.
    pub fn admission(&self, name: &Name, claim: Option<&ClaimId>, now: u64) -> Option<Refusal> {
        if let Some(ban) = self.refusal_for(name, now) {
            return Some(ban);
        }
        let mine = match claim {
            Some(claim) => self
                .claims
                .get(claim.as_str())
                .map_or(0, |s| s.sockets.get()),
            None => self
                .conns
                .values()
                .filter(|c| &*c.key == name.key())
                .count(),
        };
        let cap = self.limits.sockets_per_claim;
        if mine >= cap {
            return Some(Refusal::new(
                ErrorCode::TooManySockets,
                format!(
                    "{} already has {mine} connection{} open in this room, the most one person may have ({cap}); close a tab or another client and try again",
                    name.display(),
                    if mine == 1 { "" } else { "s" }
                ),
            ));
        }
        let cap = self.limits.sockets_per_room;
        if self.conns.len() >= cap {
            return Some(Refusal::new(
                ErrorCode::TooManySockets,
                format!(
                    "this room is full: it has {} connections open, the most it takes ({cap}); try again later",
                    self.conns.len()
                ),
            ));
        }
        None
    }

    /// A new connection (see [`Input::Connect`]): it is welcomed (and told its new
    /// token right after, if it has one), everyone else hears of a new name.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn connect(
        &mut self,
        id: ConnId,
        name: &Name,
        claim: ClaimId,
        (since, rev): (Option<u64>, Option<u64>),
        (claimed_token, pass): (Option<String>, Option<PassGrant>),
        modern: bool,
        now: u64,
    ) -> Vec<Output> {
        let mut out = Vec::new();
        self.log.adopt_legacy(&claim, name);
        if self.owner.is_none() && !self.is_dm() {
            // A room nobody made is owned by the first claim to enter it.
            let owner = Member {
                claim: claim.clone(),
                name: name.display().to_owned(),
            };
            match self.log.set_owner(&owner) {
                Ok(()) => self.owner = Some(owner),
                Err(e) => out.push(self.noted("saving the owner", &e)),
            }
        }
        let read_seq = self.read_position(&claim, &mut out);
        let existing = self.user_of_key(name.key());
        let first = existing.is_none();
        let (display, status) = existing.unwrap_or_else(|| (name.display().into(), Status::Online));
        let key = NameKey::from(name.key());
        if self.seen.entered(&claim, name.key()) {
            // Another claim held this name before: its time is not this claim's.
            self.save_seen(&mut out);
        }
        let shared = self.claim_socket(&claim, now);
        if first {
            let presence = self.presence;
            self.members.joined(&key, &display, status, now, &presence);
        } else {
            self.members.add(&key, &display, status);
        }
        self.members.register(&id, modern, true);
        self.conns.insert(
            id.clone(),
            Conn {
                name: display.clone(),
                key,
                claim: claim.clone(),
                status,
                modern,
                shared,
                typing_until: None,
                strikes: Strikes::default(),
                quiet_until: 0,
            },
        );
        out.push(Output::Save(Attachment {
            id: id.clone(),
            name: display.to_string(),
            claim: claim.clone(),
            status,
            presence2: modern,
        }));
        let you = User {
            name: display.to_string(),
            status,
        };
        let page = match since {
            Some(after) => Page::After {
                after,
                limit: RESUME_MESSAGES,
            },
            None => Page::Newest {
                limit: WELCOME_MESSAGES,
            },
        };
        let updates = match (since, rev) {
            (Some(since), Some(rev)) if rev < self.last_rev => {
                self.log
                    .changed(since.min(self.last_seq), rev, RESUME_MESSAGES)
            }
            _ => Ok((Vec::new(), false)),
        };
        let welcome = match (self.log.page(page, self.last_seq), updates) {
            (Ok((mut messages, has_more)), Ok((mut updates, updates_truncated))) => {
                self.mark_mine(&claim, &mut messages, &mut out);
                self.mark_mine(&claim, &mut updates, &mut out);
                let (users, user_count, users_partial) = if modern {
                    let (users, count, partial) = self.members.welcome_list(&self.presence);
                    (users, Some(count), partial)
                } else {
                    (self.users(), None, false)
                };
                let mut frame = ServerFrame::Welcome {
                    room: self.id.clone(),
                    you: you.clone(),
                    users,
                    user_count,
                    users_partial,
                    messages: Vec::new(),
                    last_seq: self.last_seq,
                    has_more,
                    rev: self.last_rev,
                    updates: Vec::new(),
                    updates_truncated,
                    creator: self.creator().map(str::to_owned),
                    owner: self.creator().map(str::to_owned),
                    moderators: self.moderator_names(),
                    role: self.role(&claim),
                    read_seq,
                    peer_read_seq: if self.is_dm() {
                        self.log.max_read_except(&claim).ok()
                    } else {
                        None
                    },
                    pins: self.pin_list(),
                    last_seen: self.last_seen(),
                };
                let keep = if since.is_some() {
                    Keep::Oldest
                } else {
                    Keep::Newest
                };
                self.fit_welcome(&mut frame, messages, updates, keep);
                frame
            }
            (Err(e), _) | (_, Err(e)) => internal(&mut out, &e, None),
        };
        send(&mut out, Target::One(id.clone()), welcome);
        if let Some(token) = claimed_token {
            // Right after the welcome, the first frame the room addresses to this socket.
            let frame = ServerFrame::NameClaimed {
                name: name.display().to_owned(),
                token,
                claim: claim.to_string(),
            };
            send(&mut out, Target::One(id.clone()), frame);
        }
        if let Some(PassGrant { pass, expires_at }) = pass {
            send(
                &mut out,
                Target::One(id.clone()),
                ServerFrame::Pass { pass, expires_at },
            );
        }
        if first {
            // Legacy connections hear of it now; presence-2 ones at the tick.
            let legacy = self.members.legacy_except(Some(&id));
            if !legacy.is_empty() {
                let frame = ServerFrame::UserJoined { user: you };
                send(&mut out, Target::Many(legacy), frame);
            }
            self.outbox.online_changed(now);
        }
        let typing = self.typing_names_for(name.key());
        if !typing.is_empty() {
            send(
                &mut out,
                Target::One(id),
                ServerFrame::Typing { names: typing },
            );
        }
        out
    }

    /// Puts a welcome's messages and updates in, as many as the frame budget holds:
    /// the messages first (at least one, from the end `keep` names: more are then
    /// paged with `history`), then the updates (if not all fit, `updates_truncated`
    /// tells the client to reload). A welcome of small messages is only summed up.
    pub(crate) fn fit_welcome(
        &self,
        frame: &mut ServerFrame,
        mut messages: Vec<Message>,
        mut updates: Vec<Message>,
        keep: Keep,
    ) {
        let budget = self.bounds.frame_budget;
        let ServerFrame::Welcome {
            users,
            moderators,
            pins,
            last_seen,
            ..
        } = &*frame
        else {
            return;
        };
        let names: usize = users
            .iter()
            .map(|u| &u.name)
            .chain(moderators)
            .chain(last_seen.iter().map(|s| &s.name))
            .map(|n| 6 * n.len() + 40)
            .sum::<usize>()
            + pins
                .iter()
                .map(|p| 6 * (p.name.len() + p.text.len() + p.by.len()) + 100)
                .sum::<usize>();
        let quick = 2048 + names + bounds::quick_len(&messages) + bounds::quick_len(&updates);
        let (mut cut, mut cut_updates) = (false, false);
        if quick > budget {
            let rest = frame.encode().len();
            let room = budget.saturating_sub(rest);
            cut = bounds::fit(&mut messages, room, keep);
            let left = room.saturating_sub(bounds::encoded_list_len(&messages));
            cut_updates = bounds::fit_some(&mut updates, left, Keep::Oldest);
        }
        if let ServerFrame::Welcome {
            messages: m,
            updates: u,
            has_more,
            updates_truncated,
            ..
        } = frame
        {
            *m = messages;
            *u = updates;
            *has_more |= cut;
            *updates_truncated |= cut_updates;
        }
    }

    /// A connection closed (or failed).
    /// Lets go of every connection of `claim`, which no longer holds its name: each
    /// hears why (`name_taken`) and is closed with [`CLOSE_CLAIM_GONE`].
    pub(crate) fn revoke(&mut self, claim: &ClaimId, now: u64) -> Vec<Output> {
        let conns: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| &c.claim == claim)
            .map(|(id, _)| id.clone())
            .collect();
        let mut out = Vec::new();
        if conns.is_empty() {
            return out;
        }
        let frame = ServerFrame::Error {
            code: ErrorCode::NameTaken,
            message: "this name's claim was released or lapsed: connect again to claim a name"
                .to_owned(),
            client_id: None,
            retry_after_ms: None,
        };
        send(&mut out, Target::Many(conns.clone()), frame);
        for id in &conns {
            out.extend(self.leave(id, now));
        }
        if self.seen.forget(claim) {
            // The claim no longer holds its name: a later holder must not show its time.
            self.save_seen(&mut out);
        }
        out.push(Output::Close {
            conns,
            code: CLOSE_CLAIM_GONE,
            reason: "name claim gone".to_owned(),
        });
        out
    }

    pub(crate) fn leave(&mut self, id: &ConnId, now: u64) -> Vec<Output> {
        let mut out = Vec::new();
        let Some(conn) = self.conns.remove(id) else {
            return out;
        };
        self.release_claim_socket(&conn.claim, &conn.shared, now);
        if conn.shared.sockets.get() == 0 {
            // The claim's last socket here: one write of the bounded list.
            self.seen.left(&conn.claim, &conn.key, &conn.name, now);
            self.save_seen(&mut out);
        }
        self.members.unregister(id);
        let presence = self.presence;
        if self.members.remove(&conn.key, now, &presence) {
            let legacy = self.members.legacy_except(None);
            if !legacy.is_empty() {
                let user = User {
                    name: conn.name.to_string(),
                    status: conn.status,
                };
                let at = self.seen.at_of(&conn.key);
                send(
                    &mut out,
                    Target::Many(legacy),
                    ServerFrame::UserLeft { user, at },
                );
            }
            self.outbox.online_changed(now);
        }
        let shown = self.typing_shown.get(&conn.key).is_some_and(|s| s.on);
        if conn.typing_until.is_some() || shown {
            self.announce_typing(&mut out, now);
        }
        out
    }

    pub(crate) fn on_status(&mut self, id: &ConnId, status: Status) -> Vec<Output> {
        let mut out = Vec::new();
        let Some(key) = self.conns.get(id).map(|c| c.key.clone()) else {
            return out;
        };
        if self.conns.get(id).is_some_and(|c| c.status == status) {
            // Every tab of a name has its status: nothing changes, nobody hears of it.
            return out;
        }
        let mut name = None;
        for (cid, conn) in self.conns.iter_mut().filter(|(_, c)| c.key == key) {
            conn.status = status;
            name = Some(conn.name.to_string());
            out.push(Output::Save(Attachment {
                id: cid.clone(),
                name: conn.name.to_string(),
                claim: conn.claim.clone(),
                status,
                presence2: conn.modern,
            }));
        }
        if let Some(name) = name {
            let presence = self.presence;
            self.members.set_status(&key, status, self.now, &presence);
            let legacy = self.members.legacy_except(Some(id));
            if !legacy.is_empty() {
                let frame = ServerFrame::UserStatus {
                    user: User { name, status },
                };
                send(&mut out, Target::Many(legacy), frame);
            }
        }
        out
    }

    /// How many names are connected now.
    pub(crate) fn online(&self) -> usize {
        self.members.count()
    }

    /// The users connected now, one per name, sorted by name key.
    pub fn users(&self) -> Vec<User> {
        self.members.users()
    }

    pub(crate) fn user_of_key(&self, key: &str) -> Option<(Rc<str>, Status)> {
        self.members
            .by_key
            .get(key)
            .map(|p| (p.name.clone(), p.status))
    }

    /// A `users` frame: a page of the connected users after `after`, to this socket.
    pub(crate) fn on_users(&self, id: &ConnId, after: Option<Name>, limit: u32) -> Vec<Output> {
        let mut out = Vec::new();
        let after = after.map(|n| n.key().to_owned());
        let (users, next) = self.members.page(after.as_deref(), limit as usize);
        let frame = ServerFrame::Users {
            users,
            count: self.members.count(),
            next,
        };
        send(&mut out, Target::One(id.clone()), frame);
        out
    }
}
