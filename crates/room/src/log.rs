//! The room's durable log (the Durable Object's own SQLite in production, memory in
//! tests), as one trait per concern: [`MessageLog`] (the messages and their revs),
//! [`PageLog`] (pages of history), [`ModerationLog`] (roles, bans, audit), [`ReadLog`]
//! (read positions), [`UploadLog`] (uploads' lifetime), [`AttachmentLog`] (a send's
//! attachment) and [`ReactionLog`] (who reacted). [`Log`] is all of them.

use edgechat_protocol::{FileRef, Message, ModEvent, Name, Page};

use crate::ClaimId;

/// A claim and the name it was seen under: who owns or moderates a room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub claim: ClaimId,
    pub name: String,
}

/// Who runs a room: its owner and the moderators the owner appointed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roles {
    pub owner: Option<Member>,
    pub moderators: Vec<Member>,
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

/// A logged message with its author's name key and claim, and the rev of its last change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub message: Message,
    pub name_key: String,
    /// Who wrote it: only this claim may edit or delete it as its author.
    pub claim: String,
    pub rev: u64,
}

/// The room's messages: an append-only sequence of messages that change in place,
/// each row marked with the rev of its last change, plus the watermark of what has
/// reached the history database.
pub trait MessageLog {
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
    /// The messages pinned now, by seq (read when the room opens).
    fn pinned(&self) -> Result<Vec<Message>, LogError>;
    /// Rows changed after `after_rev` with their revs, in rev order: what may not be in
    /// the history database yet.
    fn unwritten(&self, after_rev: u64, limit: u32) -> Result<Vec<(u64, Message)>, LogError>;
}

/// Pages of the room's history, for a welcome and `history`.
pub trait PageLog {
    /// A page of messages with seq at most `upto`, oldest first, and whether more
    /// exist in the page's direction.
    fn page(&self, page: Page, upto: u64) -> Result<(Vec<Message>, bool), LogError>;
}

/// Who runs the room, whom it bans, and the audit of every moderation action.
pub trait ModerationLog {
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
}

/// How far each claim has read, and which positions reached the history database.
pub trait ReadLog {
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
    fn reads_written(&mut self, reads: &[(ClaimId, u64)]) -> Result<(), LogError>;
}

/// Uploads' lifetime: recorded when uploaded, forgotten when swept.
pub trait UploadLog {
    /// Records a file a claim uploaded at `at`, not yet attached to a message.
    fn add_file(&mut self, file: &FileRef, claim: &str, at: u64) -> Result<(), LogError>;
    /// Files not attached to a message that were uploaded at `before` or earlier,
    /// oldest first.
    fn expired_files(&self, before: u64, limit: u32) -> Result<Vec<String>, LogError>;
    /// When the oldest file not attached to a message was uploaded.
    fn oldest_unattached(&self) -> Result<Option<u64>, LogError>;
    /// Forgets a file that is still not attached to a message (its bytes are gone).
    fn remove_file(&mut self, id: &str) -> Result<(), LogError>;
}

/// The file a send attaches.
pub trait AttachmentLog {
    /// A file, its uploader's claim and the message it is attached to, if any.
    fn file(&self, id: &str) -> Result<Option<(FileRef, String, Option<u64>)>, LogError>;
    /// Attaches a file to a message.
    fn attach_file(&mut self, id: &str, seq: u64) -> Result<(), LogError>;
}

/// Who reacted to what, per (seq, emoji, claim).
pub trait ReactionLog {
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
    /// Gives `claim` the reactions made under `name` before reactions were kept by
    /// claim, when it connects (a log that never had such reactions does nothing).
    fn adopt_legacy(&mut self, _claim: &str, _name: &Name) {}
}

/// When each claim last left the room (see [`crate::seen`]): the whole bounded list,
/// read when the room opens and written whenever a claim's last socket leaves.
pub trait SeenLog {
    fn last_seen(&self) -> Result<Vec<crate::SeenEntry>, LogError>;
    fn set_last_seen(&mut self, entries: &[crate::SeenEntry]) -> Result<(), LogError>;
}

/// The room's durable log: every concern's part.
pub trait Log:
    MessageLog + PageLog + ModerationLog + ReadLog + UploadLog + AttachmentLog + ReactionLog + SeenLog
{
}

impl<T> Log for T where
    T: MessageLog
        + PageLog
        + ModerationLog
        + ReadLog
        + UploadLog
        + AttachmentLog
        + ReactionLog
        + SeenLog
{
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
