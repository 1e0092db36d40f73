//! Moderation: the room's owner and moderators, making a room, kicks, bans and unbans,
//! appointing, and the audit of every moderation action.

use crate::frames::{fail, refuse, send};
use crate::*;

impl<L: Log> Room<L> {
    /// The name the room's owner was seen under.
    pub(crate) fn creator(&self) -> Option<&str> {
        self.owner.as_ref().map(|m| m.name.as_str())
    }

    /// Whether a room of this id was made already: it has history or an owner.
    pub(crate) fn exists(&self) -> bool {
        self.last_seq > 0 || self.owner.is_some()
    }

    /// Makes the room for `maker` (`POST /api/rooms`): refused if it exists, unless
    /// `maker` already owns it and nothing was said in it (a retry of the same making).
    pub fn make(&mut self, maker: Member) -> Result<(), Refusal> {
        let again =
            self.last_seq == 0 && self.owner.as_ref().is_some_and(|o| o.claim == maker.claim);
        if again {
            return Ok(());
        }
        if self.exists() || self.is_dm() {
            return Err(Refusal::new(
                ErrorCode::RoomExists,
                format!("the room {} exists already; pick another id", self.id),
            ));
        }
        self.log.set_owner(&maker).map_err(|_| {
            Refusal::new(ErrorCode::Internal, "the room could not be made; try again")
        })?;
        self.owner = Some(maker);
        Ok(())
    }

    /// The role of a claim here.
    pub fn role_of(&self, claim: &ClaimId) -> Option<Role> {
        self.role(claim)
    }

    /// The role of the claim with this id here.
    pub(crate) fn role(&self, claim: &str) -> Option<Role> {
        if self.owner.as_ref().is_some_and(|o| o.claim == claim) {
            Some(Role::Owner)
        } else if self.moderators.contains_key(claim) {
            Some(Role::Moderator)
        } else {
            None
        }
    }

    /// The moderators' names, sorted.
    pub(crate) fn moderator_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.moderators.values().cloned().collect();
        names.sort_by_cached_key(|n| (name_key(n), n.clone()));
        names
    }

    /// Why `name` may not connect now, if it may not: a ban that has not run out.
    pub fn refusal_for(&self, name: &Name, now: u64) -> Option<Refusal> {
        let ban = self.bans.get(name.key()).filter(|b| b.until > now)?;
        let minutes = (ban.until - now).div_ceil(60_000);
        let reason = ban
            .reason
            .as_deref()
            .map(|r| format!(" (reason: {r})"))
            .unwrap_or_default();
        Some(Refusal::new(
            ErrorCode::Banned,
            format!(
                "{} is banned from this room by {} for {minutes} more minute{}{reason}",
                name.display(),
                ban.by,
                if minutes == 1 { "" } else { "s" }
            ),
        ))
    }

    /// The display name and role of connection `id`, if its claim owns or moderates
    /// the room.
    pub(crate) fn moderator(&self, id: &ConnId) -> Option<(Rc<str>, Role)> {
        let conn = self.conns.get(id)?;
        let role = self.role(&conn.claim)?;
        Some((conn.name.clone(), role))
    }

    pub(crate) fn not_moderator(&self, id: &ConnId) -> Vec<Output> {
        let why = if self.is_dm() {
            "nobody moderates a direct message: either of you can leave it"
        } else {
            "only the room's owner and its moderators can kick, ban and unban"
        };
        refuse(id, &Refusal::new(ErrorCode::Forbidden, why))
    }

    /// Whether `name` (and every claim connected under it) is beyond what a moderator
    /// of role `by` may act on: a moderator may not act on the owner or on another
    /// moderator.
    pub(crate) fn protected(&self, by: Role, name: &Name) -> bool {
        if by == Role::Owner {
            return false;
        }
        let runs_room = |claim: &str| self.role(claim).is_some();
        let connected = self
            .conns
            .values()
            .any(|c| &*c.key == name.key() && runs_room(&c.claim));
        let named = self
            .owner
            .iter()
            .map(|o| &o.name)
            .chain(self.moderators.values())
            .any(|n| name_key(n) == name.key());
        connected || named
    }

    /// A kick (`ban` is None) or a ban (for minutes, with a reason): every connection of
    /// the name is closed; a ban also refuses the name until it runs out.
    pub(crate) fn on_remove(
        &mut self,
        id: &ConnId,
        name: &Name,
        ban: Option<(u32, Option<String>)>,
        now: u64,
    ) -> Vec<Output> {
        let Some((by, role)) = self.moderator(id) else {
            return self.not_moderator(id);
        };
        if self.protected(role, name) {
            return refuse(
                id,
                &Refusal::new(
                    ErrorCode::Forbidden,
                    format!(
                        "{} runs this room: only its owner can remove them",
                        name.display()
                    ),
                ),
            );
        }
        if self.conns.get(id).is_some_and(|c| &*c.key == name.key()) {
            return refuse(
                id,
                &Refusal::new(ErrorCode::BadFrame, "you cannot remove yourself"),
            );
        }
        let targets: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| &*c.key == name.key())
            .map(|(cid, _)| cid.clone())
            .collect();
        let shown = self
            .user_of_key(name.key())
            .map_or_else(|| name.display().to_owned(), |(n, _)| n.to_string());
        let mut event = ModEvent {
            action: ModAction::Kick,
            by: by.to_string(),
            name: shown.clone(),
            seq: None,
            until: None,
            reason: None,
            ts: now,
        };
        let is_ban = ban.is_some();
        match ban {
            None if targets.is_empty() => {
                return refuse(
                    id,
                    &Refusal::new(
                        ErrorCode::NotFound,
                        format!("{} is not in the room", name.display()),
                    ),
                )
            }
            None => {}
            Some((minutes, reason)) => {
                let until = now + u64::from(minutes) * 60_000;
                let record = Ban {
                    name_key: name.key().to_owned(),
                    name: shown.clone(),
                    until,
                    reason: reason.clone(),
                    by: by.to_string(),
                };
                if let Err(e) = self.log.set_ban(&record) {
                    let mut out = Vec::new();
                    fail(&mut out, id, &e, None);
                    return out;
                }
                self.bans.insert(record.name_key.clone(), record);
                event.action = ModAction::Ban;
                event.until = Some(until);
                event.reason = reason;
            }
        }
        let mut out = self.record(event);
        let reason = if is_ban {
            format!("banned from the room by {by}")
        } else {
            format!("removed from the room by {by}")
        };
        for target in &targets {
            out.extend(self.leave(target, now));
        }
        if !targets.is_empty() {
            out.push(Output::Close {
                conns: targets,
                code: CLOSE_REMOVED,
                reason,
            });
        }
        out
    }

    /// The owner appoints (`on`) a connected name's claim as a moderator, or takes a
    /// moderator's role away; everyone hears the room's roles as they are now.
    pub(crate) fn on_appoint(&mut self, id: &ConnId, name: &Name, on: bool) -> Vec<Output> {
        let is_owner = self
            .conns
            .get(id)
            .is_some_and(|c| self.role(&c.claim) == Some(Role::Owner));
        if !is_owner {
            let why = if self.is_dm() {
                "nobody moderates a direct message"
            } else {
                "only the room's owner appoints and dismisses moderators"
            };
            return refuse(id, &Refusal::new(ErrorCode::Forbidden, why));
        }
        let member = if on {
            let Some(conn) = self.conns.values().find(|c| &*c.key == name.key()) else {
                return refuse(
                    id,
                    &Refusal::new(
                        ErrorCode::NotFound,
                        format!(
                            "{} is not in the room: moderators are appointed while here",
                            name.display()
                        ),
                    ),
                );
            };
            if self.role(&conn.claim).is_some() {
                return refuse(
                    id,
                    &Refusal::new(
                        ErrorCode::BadFrame,
                        format!("{} already runs this room", conn.name),
                    ),
                );
            }
            Member {
                claim: conn.claim.clone(),
                name: conn.name.to_string(),
            }
        } else {
            let found = self
                .moderators
                .iter()
                .find(|(_, n)| name_key(n) == name.key())
                .map(|(c, n)| Member {
                    claim: c.clone(),
                    name: n.clone(),
                });
            let Some(member) = found else {
                return refuse(
                    id,
                    &Refusal::new(
                        ErrorCode::NotFound,
                        format!("{} is not a moderator here", name.display()),
                    ),
                );
            };
            member
        };
        let mut out = Vec::new();
        if let Err(e) = self.log.set_moderator(&member, on) {
            fail(&mut out, id, &e, None);
            return out;
        }
        if on {
            self.moderators.insert(member.claim, member.name);
        } else {
            self.moderators.remove(&member.claim);
        }
        send(
            &mut out,
            Target::All,
            ServerFrame::Roles {
                owner: self.creator().map(str::to_owned),
                moderators: self.moderator_names(),
            },
        );
        out
    }

    pub(crate) fn on_unban(&mut self, id: &ConnId, name: &Name, now: u64) -> Vec<Output> {
        let Some((by, _)) = self.moderator(id) else {
            return self.not_moderator(id);
        };
        let Some(ban) = self.bans.get(name.key()).cloned() else {
            return refuse(
                id,
                &Refusal::new(
                    ErrorCode::NotFound,
                    format!("{} is not banned here", name.display()),
                ),
            );
        };
        if let Err(e) = self.log.remove_ban(name.key()) {
            let mut out = Vec::new();
            fail(&mut out, id, &e, None);
            return out;
        }
        self.bans.remove(name.key());
        self.record(ModEvent {
            action: ModAction::Unban,
            by: by.to_string(),
            name: ban.name,
            seq: None,
            until: None,
            reason: None,
            ts: now,
        })
    }

    /// Audits a moderation action and tells the room. The audit entry is in the log
    /// before anyone hears of it; it reaches the history database with the next batch.
    pub(crate) fn record(&mut self, event: ModEvent) -> Vec<Output> {
        let mut out = Vec::new();
        match self.log.audit(&event) {
            Ok(audit_id) => self.pending_audit.push_back((audit_id, event.clone())),
            Err(e) => out.push(self.noted(&format!("auditing a {}", event.action.as_str()), &e)),
        }
        send(&mut out, Target::All, ServerFrame::Moderation { event });
        out
    }
}
