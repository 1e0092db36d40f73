//! The room: everything a chat room decides, with no I/O.
//!
//! One way in, one way out, in the style of str0m and quinn-proto: the Durable Object
//! hands the room every event with [`Room::handle`] ([`Input`]: a connection joins, a
//! frame arrives, a connection closes, the alarm rings, a batch reached D1) and then
//! drains [`Room::poll`] until it returns `None`, carrying out each [`Output`]: frames to
//! send (typed, encoded once by the shell), attachments to save, sockets to close, files
//! to delete, one batch to persist. [`Room::deadline`] says when to ring the alarm.
//!
//! Messages go through a [`Log`] the room writes synchronously (the Durable Object's own
//! SQLite, which is durable: the runtime holds every frame the event sends until that
//! write is confirmed). A message is broadcast as soon as it is in the log; everything
//! the history database still lacks (changed messages, moderation audit, read
//! positions, the online count) leaves as one [`Output::Persist`], and each sender is
//! acknowledged once [`Input::Persisted`] reports that batch written. Sends that come
//! while a batch of messages is out wait for its answer and then go into the log in that
//! one event, one storage commit for all of them ([`sending`]: group commit).
//!
//! ```text
//!   Text(send) ─► validate ─► rate limit ─► assign seq, rev ─► Log::append (dedupes client_id)
//!                                                              │
//!                          Send `message` (one frame, everyone) ◄┤
//!   Persist(batch) ◄── poll, once nothing else is queued  ◄──────┘
//!   Persisted { id, ok: true } ─► Send `ack` to each sender
//! ```
//!
//! Every change of the room's history takes the next `rev`, a second counter beside
//! `seq`: a new message (seq and rev), and an edit, a delete, a reaction or a new reply
//! (a new rev for a message that keeps its seq). Each logged row carries the rev of
//! its last change, so D1 is kept in step by writing rows in rev order (a row written
//! twice keeps the later), and a client that resumes with the last rev it saw gets
//! exactly the older messages that changed since, as they are now.
//!
//! The concerns live in modules of their own: [`presence`] (connections, welcome,
//! status, caps), [`typing`], [`frames`] (a frame's way in: bucket, decode, dispatch,
//! policing), [`sending`], [`changes`], [`pins`], [`moderation`], [`reads`], [`files`] and
//! [`outbox`]; [`io`], [`ids`] and [`log`] hold the types they share.

pub mod bounds;
pub mod changes;
pub mod files;
pub mod frames;
pub mod ids;
pub mod io;
mod limits;
pub mod log;
pub mod members;
pub mod memory;
pub mod moderation;
pub mod outbox;
pub mod pins;
pub mod presence;
pub mod reads;
pub mod seen;
pub mod sending;
pub mod typing;

// What the concern modules share: each starts with `use crate::*`.
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use edgechat_protocol::{
    check_frame_size, legacy_claim_id, name_key, ClientFrame, ClientId, Decoded, Emoji, ErrorCode,
    FileRef, Message, MessageText, ModAction, ModEvent, Name, Page, Pin, Pinned, Reaction,
    ReactionChange, Refusal, Role, ServerFrame, Status, User, MAX_PINS, MAX_REACTIONS,
    RESUME_MESSAGES, TYPING_TTL_MS, WELCOME_MESSAGES,
};

pub use bounds::{Bounds, Keep};
pub use ids::{ClaimId, ConnId, NameKey, RoomKind};
pub use io::{Attachment, Batch, Input, Output, PassGrant, Target};
pub use limits::{
    Limits, Strikes, TokenBucket, CLOSE_POLICY, CLOSE_POLICY_REASON, STRIKE_WINDOW_MS,
};
pub use log::{
    AttachmentLog, Ban, Log, LogError, Member, MessageLog, ModerationLog, PageLog, Positions,
    ReactionLog, ReadLog, Roles, SeenLog, Stored, Toggle, UploadLog,
};
pub use members::{PresenceSettings, PRESENCE_LIST_MAX, PRESENCE_TICK_MS};
pub use outbox::{MAX_BATCH, ONLINE_FLUSH_MS, RETRY_MS};
pub use seen::SeenEntry;

use presence::{ClaimState, Conn};
use typing::Shown;

/// The close code a kicked or banned connection gets.
pub const CLOSE_REMOVED: u16 = 4001;
/// The close code of a connection whose claim no longer holds its name (it was
/// released or lapsed while a pass still admitted it): connecting again needs a claim.
pub const CLOSE_CLAIM_GONE: u16 = 4003;

/// A chat room's state and decisions.
pub struct Room<L: Log> {
    id: String,
    log: L,
    limits: Limits,
    last_seq: u64,
    last_rev: u64,
    durable_rev: u64,
    conns: BTreeMap<ConnId, Conn>,
    /// Connected names, sorted, and the presence-2 tick.
    members: members::Members,
    /// The presence tick and list size.
    presence: PresenceSettings,
    /// Logged changes not yet durable, as (rev, the message after it), in rev order.
    pending: VecDeque<(u64, Message)>,
    /// Acks owed once a rev is durable: (connection, client_id, seq).
    waiters: BTreeMap<u64, Vec<(ConnId, String, u64)>>,
    /// What everyone was last told about each person's typing, by name key.
    typing_shown: BTreeMap<NameKey, Shown>,
    /// When a typing change held back by the typing interval is due.
    typing_due: Option<u64>,
    /// Each claim's bucket and socket count here.
    claims: BTreeMap<ClaimId, Rc<ClaimState>>,
    /// Claims with no socket left, whose buckets are dropped once full again.
    idle_claims: Vec<ClaimId>,
    /// A room, or a direct message (nobody owns or moderates it).
    kind: RoomKind,
    /// The room's owner: it moderates and appoints moderators.
    owner: Option<Member>,
    /// The moderators, by claim: the name each was appointed under.
    moderators: BTreeMap<ClaimId, String>,
    /// Names refused until a time, by key.
    bans: BTreeMap<String, Ban>,
    /// Audit entries not yet in the history database, by id.
    pending_audit: VecDeque<(u64, ModEvent)>,
    /// Read positions by claim, as far as this instance has read them.
    reads: BTreeMap<ClaimId, u64>,
    /// Read positions not yet in the history database.
    pending_reads: BTreeMap<ClaimId, u64>,
    /// Reaction names, frame budget, upload lifetime.
    bounds: Bounds,
    /// When the oldest upload not attached to a message is due for deletion.
    sweep_at: Option<u64>,
    /// Uploads being deleted now: they can no longer be attached.
    sweeping: BTreeSet<String>,
    /// What [`Room::poll`] gives next, in order.
    queue: VecDeque<Output>,
    /// The time of the input being handled (or last handled).
    now: u64,
    /// The history database's side: what is in flight, when to retry, the online count.
    outbox: outbox::Outbox,
    /// Sends that arrived while a batch of messages was in flight: they go into the log
    /// together, in one commit, when its answer comes (group commit).
    held: VecDeque<sending::Held>,
    /// The pinned messages' entries, by seq (what `welcome` and `pins` carry).
    pins: BTreeMap<u64, Pinned>,
    /// When each claim that was here last left (bounded, most recent first).
    seen: seen::Seen,
}

/// How long a failed sweep of uploads waits before trying again.
const SWEEP_RETRY_MS: u64 = 60_000;
/// Uploads one sweep deletes at most.
const SWEEP_BATCH: u32 = 50;

impl<L: Log> Room<L> {
    /// Opens a room of this kind over its log, picking up any changes, audit entries
    /// and read positions a crash left unwritten to the history database.
    pub fn open(
        id: impl Into<String>,
        kind: RoomKind,
        log: L,
        limits: Limits,
    ) -> Result<Self, LogError> {
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
        let pins = log
            .pinned()?
            .iter()
            .filter_map(Pinned::of)
            .map(|p| (p.seq, p))
            .collect();
        let seen = seen::Seen::from_log(log.last_seen()?);
        let id: String = id.into();
        let moderators = roles
            .moderators
            .into_iter()
            .map(|m| (m.claim, m.name))
            .collect();
        let bans = bans.into_iter().map(|b| (b.name_key.clone(), b)).collect();
        let pending_audit = log.unwritten_audit(at.audit_durable)?.into();
        let pending_reads = log
            .unwritten_reads()?
            .into_iter()
            .map(|(claim, seq)| (ClaimId::from(claim), seq))
            .collect();
        Ok(Room {
            kind,
            id,
            log,
            limits,
            last_seq: at.last_seq,
            last_rev: at.last_rev,
            durable_rev: at.durable_rev,
            conns: BTreeMap::new(),
            members: members::Members::default(),
            presence: PresenceSettings::default(),
            pending,
            waiters: BTreeMap::new(),
            typing_shown: BTreeMap::new(),
            typing_due: None,
            claims: BTreeMap::new(),
            idle_claims: Vec::new(),
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
            queue: VecDeque::new(),
            now: 0,
            outbox: outbox::Outbox::new(),
            held: VecDeque::new(),
            pins,
            seen,
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

    /// Sets the presence tick and list size (from the shell's settings).
    pub fn set_presence(&mut self, settings: PresenceSettings) {
        self.presence = settings;
    }

    #[cfg(test)]
    pub(crate) fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// Hands the room one event at time `now`. What it decides waits in [`Room::poll`].
    pub fn handle(&mut self, now: u64, input: Input) {
        self.now = now;
        let out = match input {
            Input::Connect {
                conn,
                name,
                claim,
                since,
                rev,
                claimed_token,
                pass,
                presence2,
            } => {
                let resume = (since, rev);
                let issued = (claimed_token, pass);
                self.connect(conn, &name, claim, resume, issued, presence2, now)
            }
            Input::Restore(attachment) => {
                self.restore(attachment, now);
                Vec::new()
            }
            Input::Text { conn, text } => self.on_text(&conn, &text, now),
            Input::Binary { conn, len } => self.on_binary(&conn, len, now),
            Input::Close { conn } => self.leave(&conn, now),
            Input::Revoke { claim } => self.revoke(&claim, now),
            Input::Alarm => self.on_alarm(now),
            Input::Persisted { id, ok } => self.persisted(id, ok, now),
            Input::Deferred { id } => {
                self.deferred(id);
                Vec::new()
            }
            Input::Swept { deleted, kept } => self.uploads_swept(&deleted, &kept, now),
        };
        self.queue.extend(out);
        if !self.held.is_empty() && !self.outbox.messages_in_flight() {
            let released = self.release_held(now);
            self.queue.extend(released);
        }
        // A tick that is due goes with whatever event comes first, the alarm or another.
        let tick = self.members.flush(now, &self.presence, &self.seen);
        self.queue.extend(tick);
    }

    /// What the shell must do next, in order; `None` once nothing is left. When every
    /// frame and file of the events so far is out, the writes the history database
    /// lacks leave as one [`Output::Persist`] (unless one is in flight, or a failed one
    /// waits for its retry).
    pub fn poll(&mut self) -> Option<Output> {
        if let Some(output) = self.queue.pop_front() {
            return Some(output);
        }
        self.next_batch().map(Output::Persist)
    }

    /// When the alarm should next ring ([`Input::Alarm`]): a typing indicator expires,
    /// a typing change held back by the interval is due, a failed batch is retried, the
    /// oldest unattached upload runs out (none: the room needs no alarm).
    pub fn deadline(&self) -> Option<u64> {
        let typing = self.conns.values().filter_map(|c| c.typing_until).min();
        [
            typing,
            self.typing_due,
            self.members.due,
            self.outbox.retry_due(),
            self.outbox.online_due(),
            self.sweep_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The alarm rang: typing that was not renewed expires, and uploads nobody attached
    /// in time are swept.
    fn on_alarm(&mut self, now: u64) -> Vec<Output> {
        let mut out = self.tick(now);
        let sweep = self.expired_uploads(now, &mut out);
        if !sweep.is_empty() {
            out.push(Output::SweepUploads(sweep));
        }
        out
    }

    /// A failure of the log for the operator's log, naming this room and what failed.
    fn noted(&self, what: &str, e: &LogError) -> Output {
        Output::Log(format!("room {}: {what} failed: {}", self.id, e.0))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn kind(&self) -> RoomKind {
        self.kind
    }

    fn is_dm(&self) -> bool {
        self.kind == RoomKind::Dm
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
}

#[cfg(test)]
mod tests;
