//! The room: everything a chat room decides, with no I/O.
//!
//! The Durable Object hands the room events (a connection joins, a frame arrives, a
//! connection closes, time passes, a batch reached D1) and carries out the [`Effect`]s
//! it gets back: frames to send, attachments to save. Messages go through a [`Log`] the
//! room writes synchronously (the Durable Object's own SQLite, which is durable: the
//! runtime holds every frame the event sends until that write is confirmed). A message
//! is broadcast as soon as it is in the log; the room tells the shell which logged
//! messages still need to reach D1, and acknowledges each sender only once the shell
//! reports its message written there.
//!
//! ```text
//!   send ─► validate ─► rate limit ─► assign seq, rev ─► Log::append (dedupes client_id)
//!                                                        │
//!                          broadcast `message` (encoded once) ◄─┤
//!   Room::pending() ◄── shell batches them into one D1 write ◄──┘
//!   Room::durable(upto rev) ─► `ack` each sender
//! ```
//!
//! Every change of the room's history takes the next `rev`, a second counter beside
//! `seq`: a new message (seq and rev), and an edit, a delete, a reaction or a new reply
//! (a new rev for a message that keeps its seq). Each logged row carries the rev of
//! its last change, so D1 is kept in step by writing rows in rev order (a row written
//! twice keeps the later), and a client that resumes with the last rev it saw gets
//! exactly the older messages that changed since, as they are now.

pub mod bounds;
mod limits;
pub mod memory;

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use edgechat_protocol::{
    check_frame_size, is_dm_room, legacy_claim_id, name_key, ClientFrame, ClientId, Decoded, Emoji,
    ErrorCode, FileRef, Message, MessageText, ModAction, ModEvent, Name, Page, Reaction,
    ReactionChange, Refusal, Role, ServerFrame, Status, User, MAX_REACTIONS, RESUME_MESSAGES,
    TYPING_TTL_MS, WELCOME_MESSAGES,
};
use serde::{Deserialize, Serialize};

pub use bounds::{Bounds, Keep};
pub use limits::{
    Limits, Strikes, TokenBucket, CLOSE_POLICY, CLOSE_POLICY_REASON, STRIKE_WINDOW_MS,
};

/// Identifies one WebSocket connection of the room.
pub type ConnId = String;

/// What the room stores on each connection, so that it survives hibernation: the
/// connection's id, its user's name as shown, the claim it connected with (who it is)
/// and its user's status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: ConnId,
    pub name: String,
    /// Empty on a socket accepted before claims had ids: it is the name's legacy claim.
    #[serde(default)]
    pub claim: String,
    pub status: Status,
}

/// A claim and the name it was seen under: who owns or moderates a room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub claim: String,
    pub name: String,
}

/// Who runs a room: its owner and the moderators the owner appointed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roles {
    pub owner: Option<Member>,
    pub moderators: Vec<Member>,
}

/// Who a frame goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    One(ConnId),
    All,
    AllExcept(ConnId),
    Many(Vec<ConnId>),
}

impl Target {
    pub fn includes(&self, conn: &str) -> bool {
        match self {
            Target::One(c) => c == conn,
            Target::All => true,
            Target::AllExcept(c) => c != conn,
            Target::Many(cs) => cs.iter().any(|c| c == conn),
        }
    }
}

/// What the shell must do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Send this text frame (already encoded, shared by every receiver).
    Send { to: Target, frame: Rc<str> },
    /// Store this attachment on the connection.
    Save { attachment: Attachment },
    /// How many names are connected changed: this many now (for the room list).
    Online { count: usize },
    /// Delete this stored file (its message was deleted).
    DeleteFile { id: String },
    /// Close these connections (kicked or banned); the room has already let them go.
    Close {
        ids: Vec<ConnId>,
        code: u16,
        reason: String,
    },
    /// Something failed inside; for the operator's log, never for a client.
    Log { message: String },
}

/// A failure of the room's log. Its text is for the operator's log, never a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogError(pub String);

/// Where a log stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Positions {
    /// The last appended seq.
    pub last_seq: u64,
    /// The rev of the last change.
    pub last_rev: u64,
    /// Every change up to this rev is in the history database.
    pub durable_rev: u64,
    /// Every audit entry up to this id is in the history database.
    pub audit_durable: u64,
    /// When the oldest upload not attached to a message was uploaded.
    pub oldest_unattached: Option<u64>,
}

/// A name refused in a room until a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ban {
    pub name_key: String,
    /// The name as the moderator wrote it.
    pub name: String,
    pub until: u64,
    pub reason: Option<String>,
    pub by: String,
}

/// The close code a kicked or banned connection gets.
pub const CLOSE_REMOVED: u16 = 4001;

/// A logged message with its author's name key and claim, and the rev of its last change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub message: Message,
    pub name_key: String,
    /// Who wrote it: only this claim may edit or delete it as its author.
    pub claim: String,
    pub rev: u64,
}

/// The room's durable log of messages: an append-only sequence of messages that
/// change in place, each row marked with the rev of its last change, plus the
/// watermark of what has reached the history database.
pub trait Log {
    fn positions(&self) -> Result<Positions, LogError>;
    /// Appends one message, its seq exactly one more than the last, unless its name
    /// already used its `client_id`: then nothing is stored and the answer is the
    /// `(seq, rev)` of that earlier message. One write, no read, on the common path.
    fn append(
        &mut self,
        message: &Message,
        name_key: &str,
        claim: &str,
        rev: u64,
    ) -> Result<Option<(u64, u64)>, LogError>;
    /// The `(seq, rev)` of the message a name already sent with this `client_id`.
    fn find_client_id(
        &self,
        name_key: &str,
        client_id: &str,
    ) -> Result<Option<(u64, u64)>, LogError>;
    /// One message as it is now.
    fn get(&self, seq: u64) -> Result<Option<Stored>, LogError>;
    /// Stores a changed message (same seq) with the rev of this change.
    fn update(&mut self, message: &Message, rev: u64) -> Result<(), LogError>;
    /// Records that every change up to `rev` is durable.
    fn set_durable(&mut self, rev: u64) -> Result<(), LogError>;
    /// A page of messages with seq at most `upto`, oldest first, and whether more
    /// exist in the page's direction.
    fn page(&self, page: Page, upto: u64) -> Result<(Vec<Message>, bool), LogError>;
    /// Replies to `parent` with seq above `after`, oldest first, and whether more follow.
    fn replies(
        &self,
        parent: u64,
        after: u64,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), LogError>;
    /// Messages with seq at most `upto` whose last change is after `after_rev`, in rev
    /// order, and whether more follow.
    fn changed(
        &self,
        upto: u64,
        after_rev: u64,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), LogError>;
    /// Rows changed after `after_rev` with their revs, in rev order: what may not be in
    /// the history database yet.
    fn unwritten(&self, after_rev: u64, limit: u32) -> Result<Vec<(u64, Message)>, LogError>;
    /// The room's owner and moderators, and its bans, read when the room opens.
    fn moderation(&self) -> Result<(Roles, Vec<Ban>), LogError>;
    fn set_owner(&mut self, owner: &Member) -> Result<(), LogError>;
    /// Makes a claim a moderator (`on`) or takes the role away.
    fn set_moderator(&mut self, member: &Member, on: bool) -> Result<(), LogError>;
    /// Adds or replaces the ban of `ban.name_key`.
    fn set_ban(&mut self, ban: &Ban) -> Result<(), LogError>;
    fn remove_ban(&mut self, name_key: &str) -> Result<(), LogError>;
    /// Appends a moderation action to the audit log; its id (1, 2, 3...).
    fn audit(&mut self, event: &ModEvent) -> Result<u64, LogError>;
    /// Audit entries with id above `after`, oldest first.
    fn unwritten_audit(&self, after: u64) -> Result<Vec<(u64, ModEvent)>, LogError>;
    /// Records that every audit entry up to `id` is durable.
    fn set_audit_durable(&mut self, id: u64) -> Result<(), LogError>;
    /// The last seq a claim has read here (0: none).
    fn read_seq(&self, claim: &str) -> Result<u64, LogError>;
    /// Moves a claim's read position (never backwards), to be written to the history
    /// database.
    fn set_read(&mut self, claim: &str, seq: u64) -> Result<(), LogError>;
    /// Read positions not yet in the history database.
    fn unwritten_reads(&self) -> Result<Vec<(String, u64)>, LogError>;
    /// The furthest read position of any claim but this one.
    fn max_read_except(&self, claim: &str) -> Result<u64, LogError>;
    /// These read positions (or later ones) are in the history database.
    fn reads_written(&mut self, reads: &[(String, u64)]) -> Result<(), LogError>;
    /// Records a file a claim uploaded at `at`, not yet attached to a message.
    fn add_file(&mut self, file: &FileRef, claim: &str, at: u64) -> Result<(), LogError>;
    /// A file, its uploader's claim and the message it is attached to, if any.
    fn file(&self, id: &str) -> Result<Option<(FileRef, String, Option<u64>)>, LogError>;
    /// Attaches a file to a message.
    fn attach_file(&mut self, id: &str, seq: u64) -> Result<(), LogError>;
    /// Files not attached to a message that were uploaded at `before` or earlier,
    /// oldest first.
    fn expired_files(&self, before: u64, limit: u32) -> Result<Vec<String>, LogError>;
    /// When the oldest file not attached to a message was uploaded.
    fn oldest_unattached(&self) -> Result<Option<u64>, LogError>;
    /// Forgets a file that is still not attached to a message (its bytes are gone).
    fn remove_file(&mut self, id: &str) -> Result<(), LogError>;
    /// Adds or takes away one claim's reaction (see [`Toggle`]). If that changed
    /// anything: how many claims react with that emoji now, and the first `names` of
    /// their names in the order they reacted. Who reacted is kept per (seq, emoji,
    /// claim), so a toggle costs a row, never a rewrite of everyone who reacted. A
    /// deleted message (see `update`) loses its reactions.
    fn react(
        &mut self,
        toggle: &Toggle<'_>,
        names: usize,
    ) -> Result<Option<(u64, Vec<String>)>, LogError>;
    /// The (seq, emoji) among these messages that `claim` reacted with.
    fn reacted_by(&self, claim: &str, seqs: &[u64]) -> Result<Vec<(u64, String)>, LogError>;
}

/// One claim adding (`on`) or taking away its reaction `emoji` to message `seq`, shown as
/// `name`; `at` orders who reacted first.
#[derive(Clone, Copy, Debug)]
pub struct Toggle<'a> {
    pub seq: u64,
    pub emoji: &'a str,
    pub claim: &'a str,
    pub name: &'a str,
    pub on: bool,
    pub at: u64,
}

/// Why a change was not made: refused (for the client), or the log failed.
enum Denied {
    Refused(Refusal),
    Failed(LogError),
}

impl From<Refusal> for Denied {
    fn from(r: Refusal) -> Self {
        Denied::Refused(r)
    }
}

struct Conn {
    name: Rc<str>,
    key: Rc<str>,
    claim: Rc<str>,
    status: Status,
    /// What this connection's claim shares with its other sockets here: the bucket.
    shared: Rc<ClaimState>,
    typing_until: Option<u64>,
    /// Refused frames this socket sent lately.
    strikes: Strikes,
    /// Until when a rate-limited frame without a client_id gets no answer: the last
    /// `rate_limited` told the client how long to wait.
    quiet_until: u64,
}

/// What the room keeps for one claim: the rate bucket every socket of the claim takes
/// from (so reconnecting or opening tabs refills nothing), and how many sockets it has
/// here. Kept after the last socket closes until the bucket is full again.
struct ClaimState {
    bucket: Cell<TokenBucket>,
    sockets: Cell<usize>,
}

/// What everyone was last told about one person's typing: the name shown, whether it
/// was shown typing, and when that was last changed.
struct Shown {
    name: Rc<str>,
    on: bool,
    at: u64,
}

/// How every error frame starts (the tag comes first), so that the room can tell which
/// answers to a frame were refusals without decoding them.
const ERROR_PREFIX: &str = r#"{"type":"error","#;
/// An `internal` error: the room's failure, not the client's, so it is no strike.
const INTERNAL_PREFIX: &str = r#"{"type":"error","code":"internal""#;

/// A chat room's state and decisions.
pub struct Room<L: Log> {
    id: String,
    log: L,
    limits: Limits,
    last_seq: u64,
    last_rev: u64,
    durable_rev: u64,
    conns: BTreeMap<ConnId, Conn>,
    /// Logged changes not yet durable, as (rev, the message after it), in rev order.
    pending: VecDeque<(u64, Message)>,
    /// Acks owed once a rev is durable: (connection, client_id, seq).
    waiters: BTreeMap<u64, Vec<(ConnId, String, u64)>>,
    /// What everyone was last told about each person's typing, by name key.
    typing_shown: BTreeMap<Rc<str>, Shown>,
    /// When a typing change held back by the typing interval is due.
    typing_due: Option<u64>,
    /// Each claim's bucket and socket count here.
    claims: BTreeMap<Rc<str>, Rc<ClaimState>>,
    /// Claims with no socket left, whose buckets are dropped once full again.
    idle_claims: Vec<Rc<str>>,
    /// When a failed write to the history database should be tried again.
    retry_at: Option<u64>,
    /// A direct message: nobody owns or moderates it.
    dm: bool,
    /// The room's owner: it moderates and appoints moderators.
    owner: Option<Member>,
    /// The moderators, by claim: the name each was appointed under.
    moderators: BTreeMap<String, String>,
    /// Names refused until a time, by key.
    bans: BTreeMap<String, Ban>,
    /// Audit entries not yet in the history database, by id.
    pending_audit: VecDeque<(u64, ModEvent)>,
    /// Read positions by claim, as far as this instance has read them.
    reads: BTreeMap<Rc<str>, u64>,
    /// Read positions not yet in the history database.
    pending_reads: BTreeMap<String, u64>,
    /// Reaction names, frame budget, upload lifetime.
    bounds: Bounds,
    /// When the oldest upload not attached to a message is due for deletion.
    sweep_at: Option<u64>,
    /// Uploads being deleted now: they can no longer be attached.
    sweeping: BTreeSet<String>,
}

/// How long a failed sweep of uploads waits before trying again.
const SWEEP_RETRY_MS: u64 = 60_000;
/// Uploads one sweep deletes at most.
const SWEEP_BATCH: u32 = 50;

/// Messages a room keeps ready for a batch write at most.
pub const MAX_BATCH: usize = 100;

impl<L: Log> Room<L> {
    /// Opens a room over its log, picking up any messages a crash left undelivered.
    pub fn open(id: impl Into<String>, log: L, limits: Limits) -> Result<Self, LogError> {
        let at = log.positions()?;
        let mut pending = VecDeque::new();
        let mut after = at.durable_rev;
        while after < at.last_rev {
            let batch = log.unwritten(after, edgechat_protocol::MAX_PAGE)?;
            let Some(&(last, _)) = batch.last() else {
                break;
            };
            after = last;
            pending.extend(batch);
        }
        let (roles, bans) = log.moderation()?;
        let id: String = id.into();
        let moderators = roles
            .moderators
            .into_iter()
            .map(|m| (m.claim, m.name))
            .collect();
        let bans = bans.into_iter().map(|b| (b.name_key.clone(), b)).collect();
        let pending_audit = log.unwritten_audit(at.audit_durable)?.into();
        let pending_reads = log.unwritten_reads()?.into_iter().collect();
        Ok(Room {
            dm: is_dm_room(&id),
            id,
            log,
            limits,
            last_seq: at.last_seq,
            last_rev: at.last_rev,
            durable_rev: at.durable_rev,
            conns: BTreeMap::new(),
            pending,
            waiters: BTreeMap::new(),
            typing_shown: BTreeMap::new(),
            typing_due: None,
            claims: BTreeMap::new(),
            idle_claims: Vec::new(),
            retry_at: None,
            owner: roles.owner,
            moderators,
            bans,
            pending_audit,
            reads: BTreeMap::new(),
            pending_reads,
            bounds: Bounds::default(),
            sweep_at: at
                .oldest_unattached
                .map(|t| t + Bounds::default().upload_ttl_ms),
            sweeping: BTreeSet::new(),
        })
    }

    /// Sets the room's bounds (the shell reads them from its settings). Until then the
    /// defaults hold.
    pub fn set_bounds(&mut self, bounds: Bounds) {
        let old_ttl = self.bounds.upload_ttl_ms;
        self.bounds = bounds;
        if let Some(due) = self.sweep_at {
            // The oldest upload is due after the new lifetime instead.
            self.sweep_at = Some(due - old_ttl + bounds.upload_ttl_ms);
        }
    }

    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// A failure of the log for the operator's log, naming this room and what failed.
    fn noted(&self, what: &str, e: &LogError) -> Effect {
        Effect::Log {
            message: format!("room {}: {what} failed: {}", self.id, e.0),
        }
    }

    /// The name the room's owner was seen under.
    pub fn creator(&self) -> Option<&str> {
        self.owner.as_ref().map(|m| m.name.as_str())
    }

    /// The room's owner, if it has one.
    pub fn owner(&self) -> Option<&Member> {
        self.owner.as_ref()
    }

    /// Whether a room of this id was made already: it has history or an owner.
    pub fn exists(&self) -> bool {
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
        if self.exists() || self.dm {
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
    pub fn role_of(&self, claim: &str) -> Option<Role> {
        if self.owner.as_ref().is_some_and(|o| o.claim == claim) {
            Some(Role::Owner)
        } else if self.moderators.contains_key(claim) {
            Some(Role::Moderator)
        } else {
            None
        }
    }

    /// The moderators' names, sorted.
    pub fn moderator_names(&self) -> Vec<String> {
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

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    pub fn last_rev(&self) -> u64 {
        self.last_rev
    }

    pub fn durable_rev(&self) -> u64 {
        self.durable_rev
    }

    pub fn log(&self) -> &L {
        &self.log
    }

    /// Re-registers a connection after a wake, from its attachment, announcing nothing.
    pub fn restore(&mut self, attachment: Attachment, now: u64) {
        let key: Rc<str> = name_key(&attachment.name).into();
        let claim: Rc<str> = if attachment.claim.is_empty() {
            legacy_claim_id(&attachment.name.to_lowercase()).into()
        } else {
            attachment.claim.into()
        };
        let shared = self.claim_socket(&claim, now);
        let conn = Conn {
            name: attachment.name.into(),
            key,
            claim,
            status: attachment.status,
            shared,
            typing_until: None,
            strikes: Strikes::default(),
            quiet_until: 0,
        };
        self.conns.insert(attachment.id, conn);
    }

    /// One more socket of `claim`: its shared state, made (with a full bucket) if the
    /// room keeps none for it.
    fn claim_socket(&mut self, claim: &Rc<str>, now: u64) -> Rc<ClaimState> {
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
    fn release_claim_socket(&mut self, claim: &Rc<str>, shared: &ClaimState, now: u64) {
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
    fn forget_full_buckets(&mut self, now: u64) {
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
    pub fn buckets_kept(&self) -> usize {
        self.claims.len()
    }

    /// Why a new socket may not open now: the name is banned here, or a socket cap is
    /// reached (the claim's, or the room's). Without `claim` (a plain HTTP probe, which
    /// proves no claim) the name's sockets are counted.
    pub fn admission(&self, name: &Name, claim: Option<&str>, now: u64) -> Option<Refusal> {
        if let Some(ban) = self.refusal_for(name, now) {
            return Some(ban);
        }
        let mine = match claim {
            Some(claim) => self.claims.get(claim).map_or(0, |s| s.sockets.get()),
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

    /// A new connection whose claim is its name's key (tools and tests, where every name
    /// is one person). `since` asks for the messages after that seq.
    pub fn join(&mut self, id: ConnId, name: &Name, since: Option<u64>, now: u64) -> Vec<Effect> {
        let claim = name.key().to_owned();
        self.resume(id, name, &claim, since, None, now)
    }

    /// A new connection of `claim` under `name` that may be resuming: `since` asks for
    /// the messages after that seq, and `rev` (with `since`) for the older ones that
    /// changed after that rev.
    pub fn resume(
        &mut self,
        id: ConnId,
        name: &Name,
        claim: &str,
        since: Option<u64>,
        rev: Option<u64>,
        now: u64,
    ) -> Vec<Effect> {
        let mut out = Vec::new();
        if self.owner.is_none() && !self.dm {
            // A room nobody made is owned by the first claim to enter it.
            let owner = Member {
                claim: claim.to_owned(),
                name: name.display().to_owned(),
            };
            match self.log.set_owner(&owner) {
                Ok(()) => self.owner = Some(owner),
                Err(e) => out.push(self.noted("saving the owner", &e)),
            }
        }
        let read_seq = self.read_position(claim, &mut out);
        let existing = self.user_of_key(name.key());
        let first = existing.is_none();
        let (display, status) = existing.unwrap_or_else(|| (name.display().into(), Status::Online));
        let key: Rc<str> = name.key().into();
        let claim_rc: Rc<str> = claim.into();
        let shared = self.claim_socket(&claim_rc, now);
        self.conns.insert(
            id.clone(),
            Conn {
                name: display.clone(),
                key,
                claim: claim_rc,
                status,
                shared,
                typing_until: None,
                strikes: Strikes::default(),
                quiet_until: 0,
            },
        );
        out.push(Effect::Save {
            attachment: Attachment {
                id: id.clone(),
                name: display.to_string(),
                claim: claim.to_owned(),
                status,
            },
        });
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
                self.mark_mine(claim, &mut messages, &mut out);
                self.mark_mine(claim, &mut updates, &mut out);
                let mut frame = ServerFrame::Welcome {
                    room: self.id.clone(),
                    you: you.clone(),
                    users: self.users(),
                    messages: Vec::new(),
                    last_seq: self.last_seq,
                    has_more,
                    rev: self.last_rev,
                    updates: Vec::new(),
                    updates_truncated,
                    creator: self.creator().map(str::to_owned),
                    owner: self.creator().map(str::to_owned),
                    moderators: self.moderator_names(),
                    role: self.role_of(claim),
                    read_seq,
                    peer_read_seq: if self.dm {
                        self.log.max_read_except(claim).ok()
                    } else {
                        None
                    },
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
        send(&mut out, Target::One(id.clone()), &welcome);
        if first {
            send(
                &mut out,
                Target::AllExcept(id.clone()),
                &ServerFrame::UserJoined { user: you },
            );
            out.push(Effect::Online {
                count: self.online(),
            });
        }
        let typing = self.typing_names_for(name.key());
        if !typing.is_empty() {
            send(
                &mut out,
                Target::One(id),
                &ServerFrame::Typing { names: typing },
            );
        }
        out
    }

    /// Puts a welcome's messages and updates in, as many as the frame budget holds:
    /// the messages first (at least one, from the end `keep` names: more are then
    /// paged with `history`), then the updates (if not all fit, `updates_truncated`
    /// tells the client to reload). A welcome of small messages is only summed up.
    fn fit_welcome(
        &self,
        frame: &mut ServerFrame,
        mut messages: Vec<Message>,
        mut updates: Vec<Message>,
        keep: Keep,
    ) {
        let budget = self.bounds.frame_budget;
        let ServerFrame::Welcome {
            users, moderators, ..
        } = &*frame
        else {
            return;
        };
        let names: usize = users
            .iter()
            .map(|u| &u.name)
            .chain(moderators)
            .map(|n| 6 * n.len() + 40)
            .sum();
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

    /// Marks the reactions `claim` made among these messages (`mine`), for a frame
    /// addressed to one of its connections. Messages without reactions cost nothing.
    fn mark_mine(&self, claim: &str, messages: &mut [Message], out: &mut Vec<Effect>) {
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
    fn page_for(
        &self,
        id: &str,
        page: (Vec<Message>, bool),
        keep: Keep,
        out: &mut Vec<Effect>,
    ) -> (Vec<Message>, bool) {
        let (mut messages, has_more) = page;
        if let Some(conn) = self.conns.get(id) {
            self.mark_mine(&conn.claim, &mut messages, out);
        }
        bounds::fit_page((messages, has_more), self.bounds.frame_budget, keep)
    }

    /// A connection closed (or failed).
    pub fn leave(&mut self, id: &str, now: u64) -> Vec<Effect> {
        let mut out = Vec::new();
        let Some(conn) = self.conns.remove(id) else {
            return out;
        };
        self.release_claim_socket(&conn.claim, &conn.shared, now);
        if self.user_of_key(&conn.key).is_none() {
            send(
                &mut out,
                Target::All,
                &ServerFrame::UserLeft {
                    user: User {
                        name: conn.name.to_string(),
                        status: conn.status,
                    },
                },
            );
            out.push(Effect::Online {
                count: self.online(),
            });
        }
        let shown = self.typing_shown.get(&conn.key).is_some_and(|s| s.on);
        if conn.typing_until.is_some() || shown {
            self.announce_typing(&mut out, now);
        }
        out
    }

    /// A binary frame of `len` bytes: the protocol has none.
    pub fn on_binary(&mut self, id: &str, len: usize, now: u64) -> Vec<Effect> {
        let frame = check_frame_size(len).and_then(|()| {
            Err(Refusal::new(
                ErrorCode::BadFrame,
                "binary frames are not supported",
            ))
        });
        let decoded = Decoded {
            client_id: None,
            frame,
        };
        self.on_frame(id, decoded, strike_weight(len), now)
    }

    /// A text frame from a connection.
    pub fn on_text(&mut self, id: &str, text: &str, now: u64) -> Vec<Effect> {
        let weight = strike_weight(text.len());
        self.on_frame(id, ClientFrame::decode(text), weight, now)
    }

    /// Every frame takes a token from its claim's bucket first, refused ones (too large,
    /// binary, not JSON, unknown type) included. Then its answer is policed: every error
    /// it got carries its client_id, and a refusal is a strike against the socket.
    /// A refused frame is `weight` strikes (see [`strike_weight`]).
    fn on_frame(&mut self, id: &str, decoded: Decoded, weight: u32, now: u64) -> Vec<Effect> {
        let limits = self.limits;
        let Some(conn) = self.conns.get_mut(id) else {
            return Vec::new();
        };
        let mut bucket = conn.shared.bucket.get();
        let taken = bucket.take(&limits, now);
        conn.shared.bucket.set(bucket);
        let Decoded { client_id, frame } = decoded;
        let mut out = match taken {
            Err(wait_ms) => {
                // A flood is told the wait once per wait; a frame with a client_id is
                // always answered, since its sender waits for that very answer. A frame
                // refused without an answer is still a refused frame: a strike.
                if client_id.is_none() && now < conn.quiet_until {
                    let mut out = Vec::new();
                    self.strike(id, weight, now, &mut out);
                    return out;
                }
                conn.quiet_until = now + wait_ms;
                rate_limited(id, client_id.clone(), wait_ms)
            }
            Ok(()) => self.dispatch(id, frame, now),
        };
        self.police(id, &mut out, client_id.as_deref(), weight, now);
        out
    }

    /// After a frame's answer: its errors get the frame's client_id if they lack it, and
    /// if any was a refusal (not `internal`, the room's own failure), the socket takes a
    /// strike; past `refused_per_min` in a minute it is let go and closed with 1008,
    /// after this last error frame.
    fn police(
        &mut self,
        id: &str,
        out: &mut Vec<Effect>,
        client_id: Option<&str>,
        weight: u32,
        now: u64,
    ) {
        let mut refused = false;
        for effect in out.iter_mut() {
            let Effect::Send {
                to: Target::One(to),
                frame,
            } = effect
            else {
                continue;
            };
            if to != id || !frame.starts_with(ERROR_PREFIX) {
                continue;
            }
            refused |= !frame.starts_with(INTERNAL_PREFIX);
            if let Some(cid) = client_id {
                stamp_client_id(frame, cid);
            }
        }
        if refused {
            self.strike(id, weight, now, out);
        }
    }

    /// `weight` strikes against socket `id` for a refused frame; past `refused_per_min`
    /// in a minute the socket is let go and closed with 1008 (after what `out` holds).
    fn strike(&mut self, id: &str, weight: u32, now: u64, out: &mut Vec<Effect>) {
        let limits = self.limits;
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        if conn.strikes.strike(&limits, weight, now) {
            return;
        }
        out.extend(self.leave(id, now));
        out.push(Effect::Close {
            ids: vec![id.to_owned()],
            code: CLOSE_POLICY,
            reason: CLOSE_POLICY_REASON.to_owned(),
        });
    }

    fn dispatch(&mut self, id: &str, frame: Result<ClientFrame, Refusal>, now: u64) -> Vec<Effect> {
        match frame {
            Err(r) => refuse(id, &r),
            Ok(ClientFrame::Send {
                text,
                client_id,
                reply_to,
                attachment,
            }) => self.on_send(id, text, client_id, reply_to, attachment, now),
            Ok(ClientFrame::Typing { on }) => self.on_typing(id, on, now),
            Ok(ClientFrame::Status { status }) => self.on_status(id, status),
            Ok(ClientFrame::History { page }) => {
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
                send(&mut out, Target::One(id.to_owned()), &frame);
                out
            }
            Ok(ClientFrame::Edit {
                seq,
                text,
                client_id,
            }) => self.on_edit(id, seq, text, client_id, now),
            Ok(ClientFrame::Delete { seq, client_id }) => self.on_delete(id, seq, client_id, now),
            Ok(ClientFrame::React {
                seq,
                emoji,
                on,
                client_id,
            }) => self.on_react(id, seq, emoji, on, client_id),
            Ok(ClientFrame::Thread { seq, after, limit }) => {
                self.on_thread(id, seq, after.unwrap_or(0), limit)
            }
            Ok(ClientFrame::Kick { name }) => self.on_remove(id, &name, None, now),
            Ok(ClientFrame::Ban {
                name,
                minutes,
                reason,
            }) => self.on_remove(id, &name, Some((minutes, reason)), now),
            Ok(ClientFrame::Unban { name }) => self.on_unban(id, &name, now),
            Ok(ClientFrame::Appoint { name }) => self.on_appoint(id, &name, true),
            Ok(ClientFrame::Dismiss { name }) => self.on_appoint(id, &name, false),
            Ok(ClientFrame::Read { seq }) => self.on_read(id, seq),
        }
    }

    /// A name's read position, from the log the first time this instance needs it.
    fn read_position(&mut self, key: &str, out: &mut Vec<Effect>) -> u64 {
        if let Some(&seq) = self.reads.get(key) {
            return seq;
        }
        match self.log.read_seq(key) {
            Ok(seq) => {
                self.reads.insert(key.into(), seq);
                seq
            }
            Err(e) => {
                out.push(self.noted("reading a read position", &e));
                0
            }
        }
    }

    /// The user has read everything up to `seq` (clamped to the last seq). The position
    /// only moves forward; the user's other connections are told.
    fn on_read(&mut self, id: &str, seq: u64) -> Vec<Effect> {
        let mut out = Vec::new();
        let Some(key) = self.conns.get(id).map(|c| c.claim.clone()) else {
            return out;
        };
        let seq = seq.min(self.last_seq);
        if seq <= self.read_position(&key, &mut out) {
            return out;
        }
        if let Err(e) = self.log.set_read(&key, seq) {
            fail(&mut out, id, &e, None);
            return out;
        }
        self.reads.insert(key.clone(), seq);
        self.pending_reads.insert(key.to_string(), seq);
        if self.dm {
            // In a direct message the other name sees it too: "seen".
            let name = self.conns.get(id).map(|c| c.name.to_string());
            send(
                &mut out,
                Target::AllExcept(id.to_owned()),
                &ServerFrame::Read { seq, name },
            );
            return out;
        }
        let others: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(cid, c)| c.claim == key && cid.as_str() != id)
            .map(|(cid, _)| cid.clone())
            .collect();
        if !others.is_empty() {
            send(
                &mut out,
                Target::Many(others),
                &ServerFrame::Read { seq, name: None },
            );
        }
        out
    }

    /// Read positions that still need to reach the history database.
    pub fn pending_reads(&self) -> Vec<(String, u64)> {
        self.pending_reads
            .iter()
            .take(MAX_BATCH)
            .map(|(k, s)| (k.clone(), *s))
            .collect()
    }

    /// These read positions are in the history database.
    pub fn reads_durable(&mut self, written: &[(String, u64)]) -> Vec<Effect> {
        let mut out = Vec::new();
        if let Err(e) = self.log.reads_written(written) {
            out.push(self.noted("marking read positions written", &e));
            return out;
        }
        for (key, seq) in written {
            if self.pending_reads.get(key).is_some_and(|s| s <= seq) {
                self.pending_reads.remove(key);
            }
        }
        out
    }

    /// The display name and role of connection `id`, if its claim owns or moderates
    /// the room.
    fn moderator(&self, id: &str) -> Option<(Rc<str>, Role)> {
        let conn = self.conns.get(id)?;
        let role = self.role_of(&conn.claim)?;
        Some((conn.name.clone(), role))
    }

    fn not_moderator(&self, id: &str) -> Vec<Effect> {
        let why = if self.dm {
            "nobody moderates a direct message: either of you can leave it"
        } else {
            "only the room's owner and its moderators can kick, ban and unban"
        };
        refuse(id, &Refusal::new(ErrorCode::Forbidden, why))
    }

    /// Whether `name` (and every claim connected under it) is beyond what a moderator
    /// of role `by` may act on: a moderator may not act on the owner or on another
    /// moderator.
    fn protected(&self, by: Role, name: &Name) -> bool {
        if by == Role::Owner {
            return false;
        }
        let runs_room = |claim: &str| self.role_of(claim).is_some();
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
    fn on_remove(
        &mut self,
        id: &str,
        name: &Name,
        ban: Option<(u32, Option<String>)>,
        now: u64,
    ) -> Vec<Effect> {
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
            out.push(Effect::Close {
                ids: targets,
                code: CLOSE_REMOVED,
                reason,
            });
        }
        out
    }

    /// The owner appoints (`on`) a connected name's claim as a moderator, or takes a
    /// moderator's role away; everyone hears the room's roles as they are now.
    fn on_appoint(&mut self, id: &str, name: &Name, on: bool) -> Vec<Effect> {
        let is_owner = self
            .conns
            .get(id)
            .is_some_and(|c| self.role_of(&c.claim) == Some(Role::Owner));
        if !is_owner {
            let why = if self.dm {
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
            if self.role_of(&conn.claim).is_some() {
                return refuse(
                    id,
                    &Refusal::new(
                        ErrorCode::BadFrame,
                        format!("{} already runs this room", conn.name),
                    ),
                );
            }
            Member {
                claim: conn.claim.to_string(),
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
            &ServerFrame::Roles {
                owner: self.creator().map(str::to_owned),
                moderators: self.moderator_names(),
            },
        );
        out
    }

    fn on_unban(&mut self, id: &str, name: &Name, now: u64) -> Vec<Effect> {
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
    fn record(&mut self, event: ModEvent) -> Vec<Effect> {
        let mut out = Vec::new();
        match self.log.audit(&event) {
            Ok(audit_id) => self.pending_audit.push_back((audit_id, event.clone())),
            Err(e) => out.push(self.noted(&format!("auditing a {}", event.action.as_str()), &e)),
        }
        send(&mut out, Target::All, &ServerFrame::Moderation { event });
        out
    }

    /// Audit entries that still need to reach the history database, oldest first.
    pub fn pending_audit(&self) -> Vec<(u64, ModEvent)> {
        self.pending_audit.iter().take(MAX_BATCH).cloned().collect()
    }

    /// Every audit entry up to `upto` is in the history database.
    pub fn audit_durable(&mut self, upto: u64) -> Vec<Effect> {
        let mut out = Vec::new();
        if let Err(e) = self.log.set_audit_durable(upto) {
            out.push(self.noted("saving the audit watermark", &e));
            return out;
        }
        while self.pending_audit.front().is_some_and(|(i, _)| *i <= upto) {
            self.pending_audit.pop_front();
        }
        out
    }

    fn on_send(
        &mut self,
        id: &str,
        text: MessageText,
        client_id: ClientId,
        reply_to: Option<u64>,
        attachment: Option<String>,
        now: u64,
    ) -> Vec<Effect> {
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
            .push((id.to_owned(), cid, message.seq));
        send(
            &mut out,
            Target::All,
            &ServerFrame::Message {
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
    fn attachable(
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

    /// Records a file `claim` uploaded to this room at `now` (the shell stored its
    /// bytes). Unless a message attaches it, it is deleted after the upload lifetime.
    pub fn add_file(&mut self, claim: &str, file: &FileRef, now: u64) -> Result<(), LogError> {
        self.log.add_file(file, claim, now)?;
        let due = now + self.bounds.upload_ttl_ms;
        self.sweep_at = Some(self.sweep_at.map_or(due, |t| t.min(due)));
        Ok(())
    }

    /// Whether uploads are due for deletion at `now`.
    pub fn sweep_due(&self, now: u64) -> bool {
        self.sweep_at.is_some_and(|t| t <= now)
    }

    /// The uploads due for deletion at `now` (at most 50): nothing can attach them any
    /// more. The shell deletes their bytes and reports with [`Room::uploads_swept`].
    pub fn expired_uploads(&mut self, now: u64) -> (Vec<String>, Vec<Effect>) {
        let mut out = Vec::new();
        if !self.sweep_due(now) {
            return (Vec::new(), out);
        }
        let before = now.saturating_sub(self.bounds.upload_ttl_ms);
        match self.log.expired_files(before, SWEEP_BATCH) {
            Ok(ids) => {
                let ids: Vec<String> = ids
                    .into_iter()
                    .filter(|id| self.sweeping.insert(id.clone()))
                    .collect();
                if ids.is_empty() {
                    self.next_sweep(now, false, &mut out);
                }
                (ids, out)
            }
            Err(e) => {
                out.push(self.noted("listing expired uploads", &e));
                self.sweep_at = Some(now + SWEEP_RETRY_MS);
                (Vec::new(), out)
            }
        }
    }

    /// The shell deleted the bytes of `deleted`, and could not delete those of `kept`:
    /// the first are forgotten, the second wait for the next sweep.
    pub fn uploads_swept(&mut self, deleted: &[String], kept: &[String], now: u64) -> Vec<Effect> {
        let mut out = Vec::new();
        for id in deleted {
            if let Err(e) = self.log.remove_file(id) {
                out.push(self.noted(&format!("forgetting upload {id}"), &e));
            }
            self.sweeping.remove(id);
        }
        for id in kept {
            self.sweeping.remove(id);
        }
        self.next_sweep(now, !kept.is_empty(), &mut out);
        out
    }

    /// When the next sweep is due: when the oldest upload left runs out (none: no
    /// alarm for it), or a minute from now after a failure.
    fn next_sweep(&mut self, now: u64, failed: bool, out: &mut Vec<Effect>) {
        self.sweep_at = match self.log.oldest_unattached() {
            Ok(oldest) => oldest.map(|t| t + self.bounds.upload_ttl_ms),
            Err(e) => {
                out.push(self.noted("finding the oldest upload", &e));
                Some(now + SWEEP_RETRY_MS)
            }
        };
        if failed {
            self.sweep_at = self.sweep_at.map(|t| t.max(now + SWEEP_RETRY_MS));
        }
    }

    /// A `send` whose client_id this name already used: no new message; an ack with
    /// the original seq, now if its row is in the history database, else once it lands.
    fn already_stored(&mut self, id: &str, client_id: String, seq: u64, rev: u64) -> Vec<Effect> {
        let mut out = Vec::new();
        if rev <= self.durable_rev {
            send(
                &mut out,
                Target::One(id.to_owned()),
                &ServerFrame::Ack { client_id, seq },
            );
        } else {
            self.waiters
                .entry(rev)
                .or_default()
                .push((id.to_owned(), client_id, seq));
        }
        out
    }

    fn on_edit(
        &mut self,
        id: &str,
        seq: u64,
        text: MessageText,
        client_id: Option<ClientId>,
        now: u64,
    ) -> Vec<Effect> {
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

    fn on_delete(
        &mut self,
        id: &str,
        seq: u64,
        client_id: Option<ClientId>,
        now: u64,
    ) -> Vec<Effect> {
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
            file = m.attachment.take();
            Ok(true)
        });
        if let Some(file) = file {
            // Deleting the message deletes its file.
            out.push(Effect::DeleteFile { id: file.id });
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

    fn on_react(
        &mut self,
        id: &str,
        seq: u64,
        emoji: Emoji,
        on: bool,
        client_id: Option<ClientId>,
    ) -> Vec<Effect> {
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

    fn on_thread(&mut self, id: &str, seq: u64, after: u64, limit: u32) -> Vec<Effect> {
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
        send(&mut out, Target::One(id.to_owned()), &frame);
        out
    }

    /// Changes one logged message in place. `change` sees the message, its author's
    /// claim, the log and the rev the change will take, and says whether it changed
    /// anything: a change takes that rev, is logged and goes to everyone as an `update`
    /// (with `reaction`, when it was one); no change sends the message as it is to the
    /// asking connection only (a repeated edit, delete or reaction confirms without
    /// doing anything twice). A refusal goes to the asking connection.
    fn modify(
        &mut self,
        id: Option<&str>,
        seq: u64,
        client_id: Option<ClientId>,
        reaction: Option<ReactionChange>,
        change: impl FnOnce(&mut Message, &str, &mut L, u64) -> Result<bool, Denied>,
    ) -> Vec<Effect> {
        let mut out = Vec::new();
        let client_id = client_id.map(ClientId::into_string);
        let reply_to = |out: &mut Vec<Effect>, frame: &ServerFrame| {
            if let Some(id) = id {
                send(out, Target::One(id.to_owned()), frame);
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
                reply_to(&mut out, &no_such_message(seq, client_id).to_frame());
                return out;
            }
            Err(e) => {
                let frame = internal(&mut out, &e, client_id);
                reply_to(&mut out, &frame);
                return out;
            }
        };
        let rev = self.last_rev + 1;
        match change(&mut stored.message, &stored.claim, &mut self.log, rev) {
            Err(Denied::Refused(mut refusal)) => {
                refusal.client_id = client_id;
                reply_to(&mut out, &refusal.to_frame());
            }
            Err(Denied::Failed(e)) => {
                let frame = internal(&mut out, &e, client_id);
                reply_to(&mut out, &frame);
            }
            Ok(false) => {
                let mut message = stored.message;
                if let Some(conn) = id.and_then(|id| self.conns.get(id)) {
                    let claim = conn.claim.clone();
                    self.mark_mine(&claim, std::slice::from_mut(&mut message), &mut out);
                }
                reply_to(
                    &mut out,
                    &ServerFrame::Update {
                        message,
                        rev: self.last_rev,
                        reaction: None,
                    },
                )
            }
            Ok(true) => {
                if let Err(e) = self.log.update(&stored.message, rev) {
                    let frame = internal(&mut out, &e, client_id);
                    reply_to(&mut out, &frame);
                    return out;
                }
                self.last_rev = rev;
                send(
                    &mut out,
                    Target::All,
                    &ServerFrame::Update {
                        message: stored.message.clone(),
                        rev,
                        reaction,
                    },
                );
                self.pending.push_back((rev, stored.message));
            }
        }
        out
    }

    fn on_typing(&mut self, id: &str, on: bool, now: u64) -> Vec<Effect> {
        let mut out = Vec::new();
        if let Some(conn) = self.conns.get_mut(id) {
            conn.typing_until = on.then_some(now + TYPING_TTL_MS);
        }
        self.announce_typing(&mut out, now);
        out
    }

    fn on_status(&mut self, id: &str, status: Status) -> Vec<Effect> {
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
            out.push(Effect::Save {
                attachment: Attachment {
                    id: cid.clone(),
                    name: conn.name.to_string(),
                    claim: conn.claim.to_string(),
                    status,
                },
            });
        }
        if let Some(name) = name {
            send(
                &mut out,
                Target::AllExcept(id.to_owned()),
                &ServerFrame::UserStatus {
                    user: User { name, status },
                },
            );
        }
        out
    }

    /// Time passed: typing that was not renewed expires.
    pub fn tick(&mut self, now: u64) -> Vec<Effect> {
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

    /// When [`Room::tick`], a retry of the history write or a sweep of unattached
    /// uploads is next due: a typing indicator expires, a typing change held back by
    /// the interval is due, a retry, the oldest unattached upload runs out (none: the
    /// room needs no alarm).
    pub fn next_deadline(&self) -> Option<u64> {
        let typing = self.conns.values().filter_map(|c| c.typing_until).min();
        [typing, self.typing_due, self.retry_at, self.sweep_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// The logged changes that still need to reach the history database, as (rev, the
    /// message after that change), in rev order, at most [`MAX_BATCH`].
    pub fn pending(&self) -> Vec<(u64, Message)> {
        self.pending.iter().take(MAX_BATCH).cloned().collect()
    }

    /// Whether the shell should write pending changes or audit entries now: some wait,
    /// and no failed write asked to wait before trying again.
    pub fn should_flush(&self, now: u64) -> bool {
        (!self.pending.is_empty()
            || !self.pending_audit.is_empty()
            || !self.pending_reads.is_empty())
            && self.retry_at.is_none_or(|t| t <= now)
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Every change up to rev `upto` is now in the history database: ack the senders
    /// of the messages among them.
    pub fn durable(&mut self, upto: u64) -> Vec<Effect> {
        let mut out = Vec::new();
        if upto <= self.durable_rev {
            return out;
        }
        if let Err(e) = self.log.set_durable(upto) {
            // The history database has the messages; only our watermark failed. They
            // stay pending and will be written again (idempotently) and then delivered.
            self.retry_at = Some(0);
            out.push(self.noted("saving the durable watermark", &e));
            return out;
        }
        self.durable_rev = upto;
        self.retry_at = None;
        while self.pending.front().is_some_and(|(rev, _)| *rev <= upto) {
            self.pending.pop_front();
        }
        let later = self.waiters.split_off(&(upto + 1));
        let done = std::mem::replace(&mut self.waiters, later);
        for (conn, client_id, seq) in done.into_values().flatten() {
            if self.conns.contains_key(&conn) {
                send(
                    &mut out,
                    Target::One(conn),
                    &ServerFrame::Ack { client_id, seq },
                );
            }
        }
        out
    }

    /// The history write failed: tell the waiting senders, try again later. Their
    /// messages keep their seq; a resend with the same client_id is acked once they land.
    pub fn durable_failed(&mut self, now: u64, retry_in_ms: u64) -> Vec<Effect> {
        let mut out = Vec::new();
        self.retry_at = Some(now + retry_in_ms);
        let waiters = std::mem::take(&mut self.waiters);
        for (conn, client_id, _) in waiters.into_values().flatten() {
            let frame = ServerFrame::Error {
                code: ErrorCode::Internal,
                message: "the message is not in the history database yet; resend it with the same client_id for its ack"
                    .into(),
                client_id: Some(client_id),
                retry_after_ms: None,
            };
            send(&mut out, Target::One(conn), &frame);
        }
        out
    }

    /// How many names are connected now.
    pub fn online(&self) -> usize {
        self.conns
            .values()
            .map(|c| &c.key)
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// The users connected now, one per name, sorted by name.
    pub fn users(&self) -> Vec<User> {
        let mut seen = BTreeSet::new();
        let mut users: Vec<User> = self
            .conns
            .values()
            .filter(|c| seen.insert(c.key.clone()))
            .map(|c| User {
                name: c.name.to_string(),
                status: c.status,
            })
            .collect();
        users.sort_by_cached_key(|u| (u.name.to_lowercase(), u.name.clone()));
        users
    }

    fn user_of_key(&self, key: &str) -> Option<(Rc<str>, Status)> {
        self.conns
            .values()
            .find(|c| &*c.key == key)
            .map(|c| (c.name.clone(), c.status))
    }

    /// The typing names everyone was told of (as shown), for a receiver whose key is
    /// `exclude`.
    fn typing_names_for(&self, exclude: &str) -> Vec<String> {
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
    fn announce_typing(&mut self, out: &mut Vec<Effect>, now: u64) {
        let interval = self.limits.typing_interval_ms;
        let mut typing: BTreeMap<Rc<str>, Rc<str>> = BTreeMap::new();
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
        let mut by_typist: BTreeMap<Rc<str>, Vec<ConnId>> = BTreeMap::new();
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
            send(out, Target::Many(rest), &ServerFrame::Typing { names });
        }
        for (key, ids) in by_typist {
            let names = self.typing_names_for(&key);
            send(out, Target::Many(ids), &ServerFrame::Typing { names });
        }
    }
}

fn send(out: &mut Vec<Effect>, to: Target, frame: &ServerFrame) {
    out.push(Effect::Send {
        to,
        frame: frame.encode().into(),
    });
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

/// Gives an encoded error frame this client_id if it has none (rare: only refusals of
/// frames whose handlers do not carry one, such as a `history` with a client_id).
fn stamp_client_id(frame: &mut Rc<str>, client_id: &str) {
    if frame.contains(r#""client_id":"#) {
        return;
    }
    if let Ok(ServerFrame::Error {
        code,
        message,
        client_id: None,
        retry_after_ms,
    }) = ServerFrame::decode(frame)
    {
        let stamped = ServerFrame::Error {
            code,
            message,
            client_id: Some(client_id.to_owned()),
            retry_after_ms,
        };
        *frame = stamped.encode().into();
    }
}

fn refuse(id: &str, refusal: &Refusal) -> Vec<Effect> {
    let mut out = Vec::new();
    send(&mut out, Target::One(id.to_owned()), &refusal.to_frame());
    out
}

/// How many strikes a refused frame of `len` bytes is: one per started multiple of the
/// frame limit past the first. A frame of any size a client of ours sends is one strike;
/// a frame of 1 MiB (64 times the limit) is a minute's worth at the default settings, so
/// the socket is closed after its one answer instead of being read 30 times. Receiving
/// such frames is what costs a room (and its network) the most, and no honest client
/// sends one.
fn strike_weight(len: usize) -> u32 {
    u32::try_from(len.saturating_sub(1) / edgechat_protocol::MAX_FRAME_BYTES)
        .unwrap_or(u32::MAX)
        .max(1)
}

fn rate_limited(id: &str, client_id: Option<String>, wait_ms: u64) -> Vec<Effect> {
    let mut out = Vec::new();
    let frame = ServerFrame::Error {
        code: ErrorCode::RateLimited,
        message: format!("too many frames; try again in {wait_ms} ms"),
        client_id,
        retry_after_ms: Some(wait_ms),
    };
    send(&mut out, Target::One(id.to_owned()), &frame);
    out
}

/// An internal failure answered to connection `id`: the details to the log, a sanitized
/// `internal` error (with the frame's client_id, if it had one) to the connection.
fn fail(out: &mut Vec<Effect>, id: &str, e: &LogError, client_id: Option<String>) {
    let frame = internal(out, e, client_id);
    send(out, Target::One(id.to_owned()), &frame);
}

/// An internal failure becomes a sanitized `internal` error; details stay server-side.
fn internal(out: &mut Vec<Effect>, e: &LogError, client_id: Option<String>) -> ServerFrame {
    out.push(Effect::Log {
        message: format!("room log failed: {}", e.0),
    });
    ServerFrame::Error {
        code: ErrorCode::Internal,
        message: "the room could not do that; try again".into(),
        client_id,
        retry_after_ms: None,
    }
}

#[cfg(test)]
mod tests;
