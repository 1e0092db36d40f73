//! What goes into the room ([`Input`]) and what comes out ([`Output`]), and the types
//! they carry: the one way in and the one way out of the core.

use edgechat_protocol::{Message, ModEvent, Name, ServerFrame, Status};
use serde::{Deserialize, Serialize};

use crate::{ClaimId, ConnId};

/// A claim pass issued to one connection: the string and when it expires (ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassGrant {
    pub pass: String,
    pub expires_at: u64,
}

/// Everything that happens to a room, handed to [`crate::Room::handle`] with the time.
#[derive(Clone, Debug)]
pub enum Input {
    /// A new connection of `claim` under `name` that may be resuming: `since` asks for
    /// the messages after that seq, and `rev` (with `since`) for the older ones that
    /// changed after that rev. `claimed_token` is the token the Worker has just issued
    /// for this name: it follows the welcome as a `name_claimed` frame, on this socket
    /// only. `pass` is a claim pass the Worker signed for this connect (it checked the
    /// claim in D1): it follows as a `pass` frame, on this socket only.
    Connect {
        conn: ConnId,
        name: Name,
        claim: ClaimId,
        since: Option<u64>,
        rev: Option<u64>,
        claimed_token: Option<String>,
        pass: Option<PassGrant>,
        /// The client opted in to presence 2 (`?presence=2`).
        presence2: bool,
    },
    /// A connection found again after a wake, from its attachment: announces nothing.
    Restore(Attachment),
    /// A text frame from a connection.
    Text { conn: ConnId, text: String },
    /// A binary frame of `len` bytes (the protocol has none).
    Binary { conn: ConnId, len: usize },
    /// A connection closed (or failed).
    Close { conn: ConnId },
    /// The claim `claim` no longer holds its name (released, or lapsed) although a
    /// connection was admitted under it by a pass: its connections are told and closed.
    Revoke { claim: ClaimId },
    /// The deadline ([`crate::Room::deadline`]) came: typing expires, uploads are
    /// swept, a failed batch is tried again.
    Alarm,
    /// The answer to [`Output::Persist`]: whether batch `id` reached the history
    /// database.
    Persisted { id: u64, ok: bool },
    /// The shell cannot write batch `id` now (it is answering a request that must not
    /// wait for D1): everything in it stays owed, with no retry wait and no error to
    /// anyone, and the next [`crate::Room::poll`] may give it again, with what came since.
    Deferred { id: u64 },
    /// The answer to [`Output::SweepUploads`]: the files whose bytes are deleted, and
    /// those whose deletion failed.
    Swept {
        deleted: Vec<String>,
        kept: Vec<String>,
    },
}

/// What the shell must do, in the order [`crate::Room::poll`] gives it.
///
/// A frame travels unboxed: it is moved into the queue once and out once, and a box
/// would cost an allocation per frame for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send this frame to these connections: encoded once, shared by every receiver.
    Send { to: Target, frame: ServerFrame },
    /// Store this attachment on its connection.
    Save(Attachment),
    /// Close these connections (kicked, banned, or past the refusal limit); the room has
    /// already let them go.
    Close {
        conns: Vec<ConnId>,
        code: u16,
        reason: String,
    },
    /// Delete these stored files (their messages were deleted).
    DeleteFiles(Vec<String>),
    /// Delete these uploads nobody attached, and answer with [`Input::Swept`].
    SweepUploads(Vec<String>),
    /// Write this batch to the history database in one atomic write, and answer with
    /// [`Input::Persisted`]. At most one is out at a time.
    Persist(Batch),
    /// Something failed inside; for the operator's log, never for a client.
    Log(String),
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

/// What the room stores on each connection, so that it survives hibernation: the
/// connection's id, its user's name as shown, the claim it connected with (who it is)
/// and its user's status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: ConnId,
    pub name: String,
    /// Empty on a socket accepted before claims had ids: it is the name's legacy claim.
    #[serde(default)]
    pub claim: ClaimId,
    pub status: Status,
    /// The connection opted in to presence 2.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub presence2: bool,
}

/// Everything the room owes the history database, to be written as one atomic batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Answered by [`Input::Persisted`] with this id.
    pub id: u64,
    /// The room's id.
    pub room: String,
    /// Changed messages as `(rev, the message after that change)`, in rev order, at
    /// most [`crate::MAX_BATCH`].
    pub messages: Vec<(u64, Message)>,
    /// Moderation audit entries as `(id, event)`, oldest first.
    pub audit: Vec<(u64, ModEvent)>,
    /// Read positions as `(claim, seq)`.
    pub reads: Vec<(ClaimId, u64)>,
    /// How many names are connected, when the room list must hear it: it changed, or
    /// messages go with it (the room's summary row carries the count).
    pub online: Option<usize>,
}

impl Batch {
    /// The rev of the last change in the batch.
    pub fn last_rev(&self) -> Option<u64> {
        self.messages.last().map(|(rev, _)| *rev)
    }
}
