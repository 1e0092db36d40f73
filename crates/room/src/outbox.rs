//! The outbox: everything the room owes the history database (changed messages, the
//! moderation audit, read positions, the online count) leaves as one [`Batch`], at most
//! one in flight. One rule for its answer: written, every watermark moves and the
//! senders are acked; failed, everything stays owed, the waiting senders hear
//! `internal` (so that they resend with the same client_id), and the next batch waits
//! [`RETRY_MS`].

use crate::frames::send;
use crate::*;

/// Messages (and audit entries, and read positions) one batch carries at most.
pub const MAX_BATCH: usize = 100;

/// How long to wait before writing to the history database again after a failure.
pub const RETRY_MS: u64 = 1_000;

/// How long a change of who is online waits before it is written on its own (a batch
/// with messages carries it at once): the room list's counts are at most this stale,
/// and a burst of joins and leaves is one write, not one each.
pub const ONLINE_FLUSH_MS: u64 = 1_000;

/// The outbox's own state; what is owed lives with the room (`pending`,
/// `pending_audit`, `pending_reads`).
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    /// The batch out now, if any.
    in_flight: Option<InFlight>,
    /// The id of the last batch given out.
    last_id: u64,
    /// When a failed batch may be tried again.
    retry_at: Option<u64>,
    /// Whether the room list's count of who is online may be wrong: the count changed,
    /// or this instance started with nobody connected (after a deploy or a crash,
    /// whatever the list last heard).
    online_owed: bool,
    /// When an owed online count is due on its own (none: at once).
    online_due: Option<u64>,
}

/// What the room remembers of the batch in flight, to move its watermarks once written.
#[derive(Debug)]
struct InFlight {
    id: u64,
    /// The rev of its last change.
    rev: Option<u64>,
    /// The id of its last audit entry.
    audit: Option<u64>,
    reads: Vec<(ClaimId, u64)>,
    /// Whether it carried an online count that was owed.
    online: bool,
}

impl Outbox {
    pub(crate) fn new() -> Self {
        Outbox {
            online_owed: true,
            ..Outbox::default()
        }
    }

    /// Who is online changed at `now`: the room list must hear it, within
    /// [`ONLINE_FLUSH_MS`] (a count already owed keeps its earlier time).
    pub(crate) fn online_changed(&mut self, now: u64) {
        if !self.online_owed {
            self.online_owed = true;
            self.online_due = Some(now + ONLINE_FLUSH_MS);
        }
    }

    /// When the owed online count is due on its own, if one is owed.
    pub(crate) fn online_due(&self) -> Option<u64> {
        self.online_due.filter(|_| self.online_owed)
    }

    /// A woken room found its sockets: the room list heard of them before the sleep.
    pub(crate) fn online_known(&mut self) {
        self.online_owed = false;
    }

    /// Whether a batch carrying messages is out now: sends wait for its answer, to go
    /// into the log together.
    pub(crate) fn messages_in_flight(&self) -> bool {
        self.in_flight.as_ref().is_some_and(|b| b.rev.is_some())
    }

    /// When a failed batch is tried again, while nothing is in flight.
    pub(crate) fn retry_due(&self) -> Option<u64> {
        self.retry_at.filter(|_| self.in_flight.is_none())
    }
}

impl<L: Log> Room<L> {
    /// Whether anything is owed to the history database.
    fn owes(&self) -> bool {
        !self.pending.is_empty()
            || !self.pending_audit.is_empty()
            || !self.pending_reads.is_empty()
            || (self.outbox.online_owed && self.outbox.online_due.is_none_or(|t| t <= self.now))
    }

    /// The next batch, if one may go now: something is owed, none is in flight, and
    /// no failed one waits for its retry.
    pub(crate) fn next_batch(&mut self) -> Option<Batch> {
        let waiting = self.outbox.retry_at.is_some_and(|t| t > self.now);
        if self.outbox.in_flight.is_some() || waiting || !self.owes() {
            return None;
        }
        Some(self.batch_upto(u64::MAX, true))
    }

    /// Makes the batch of what is owed and marks it in flight: its changes up to rev
    /// `upto`, and with `everything` the audit, reads and online count too (tests write
    /// messages alone).
    fn batch_upto(&mut self, upto: u64, everything: bool) -> Batch {
        let messages: Vec<(u64, Message)> = self
            .pending
            .iter()
            .take_while(|(rev, _)| *rev <= upto)
            .take(MAX_BATCH)
            .cloned()
            .collect();
        let max = if everything { MAX_BATCH } else { 0 };
        let audit: Vec<(u64, ModEvent)> = self.pending_audit.iter().take(max).cloned().collect();
        let reads: Vec<(ClaimId, u64)> = self
            .pending_reads
            .iter()
            .take(max)
            .map(|(claim, seq)| (claim.clone(), *seq))
            .collect();
        let owed = everything && std::mem::take(&mut self.outbox.online_owed);
        if owed {
            self.outbox.online_due = None;
        }
        let online = (owed || !messages.is_empty()).then(|| self.online());
        self.outbox.last_id += 1;
        self.outbox.retry_at = None;
        let batch = Batch {
            id: self.outbox.last_id,
            room: self.id.clone(),
            messages,
            audit,
            reads,
            online,
        };
        self.outbox.in_flight = Some(InFlight {
            id: batch.id,
            rev: batch.last_rev(),
            audit: batch.audit.last().map(|(id, _)| *id),
            reads: batch.reads.clone(),
            online: owed,
        });
        batch
    }

    /// The answer to batch `id`; an id that is not the one in flight is ignored.
    pub(crate) fn persisted(&mut self, id: u64, ok: bool, now: u64) -> Vec<Output> {
        let Some(batch) = self.outbox.in_flight.take_if(|b| b.id == id) else {
            return Vec::new();
        };
        if ok {
            self.written(batch, now)
        } else {
            self.outbox.online_owed |= batch.online;
            self.not_written(now)
        }
    }

    /// The shell could not write batch `id` now: what it carried stays owed (it never
    /// left the room's queues but the online count) and nothing waits for a retry.
    pub(crate) fn deferred(&mut self, id: u64) {
        if let Some(batch) = self.outbox.in_flight.take_if(|b| b.id == id) {
            self.outbox.online_owed |= batch.online;
        }
    }

    /// The batch is in the history database: every watermark moves, the senders of
    /// its messages are acked.
    fn written(&mut self, batch: InFlight, now: u64) -> Vec<Output> {
        let mut out = Vec::new();
        if let Some(upto) = batch.audit {
            match self.log.set_audit_durable(upto) {
                Ok(()) => {
                    while self.pending_audit.front().is_some_and(|(i, _)| *i <= upto) {
                        self.pending_audit.pop_front();
                    }
                }
                Err(e) => out.push(self.noted("saving the audit watermark", &e)),
            }
        }
        if !batch.reads.is_empty() {
            match self.log.reads_written(&batch.reads) {
                Ok(()) => {
                    for (claim, seq) in &batch.reads {
                        if self.pending_reads.get(claim).is_some_and(|s| s <= seq) {
                            self.pending_reads.remove(claim);
                        }
                    }
                }
                Err(e) => out.push(self.noted("marking read positions written", &e)),
            }
        }
        if let Some(upto) = batch.rev {
            self.durable(upto, now, &mut out);
        }
        out
    }

    /// Every change up to rev `upto` is now in the history database: ack the senders
    /// of the messages among them.
    fn durable(&mut self, upto: u64, now: u64, out: &mut Vec<Output>) {
        if upto <= self.durable_rev {
            return;
        }
        if let Err(e) = self.log.set_durable(upto) {
            // The history database has the messages; only our watermark failed. They
            // stay owed and will be written again (idempotently), then acked.
            self.outbox.retry_at = Some(now + RETRY_MS);
            out.push(self.noted("saving the durable watermark", &e));
            return;
        }
        self.durable_rev = upto;
        while self.pending.front().is_some_and(|(rev, _)| *rev <= upto) {
            self.pending.pop_front();
        }
        let later = self.waiters.split_off(&(upto + 1));
        let done = std::mem::replace(&mut self.waiters, later);
        for (conn, client_id, seq) in done.into_values().flatten() {
            if self.conns.contains_key(&conn) {
                send(out, Target::One(conn), ServerFrame::Ack { client_id, seq });
            }
        }
    }

    /// The batch failed: everything in it stays owed, the waiting senders are told, the
    /// next batch waits [`RETRY_MS`]. Their messages keep their seq; a resend with the
    /// same client_id is acked once they land.
    fn not_written(&mut self, now: u64) -> Vec<Output> {
        let mut out = Vec::new();
        self.outbox.retry_at = Some(now + RETRY_MS);
        let waiters = std::mem::take(&mut self.waiters);
        for (conn, client_id, _) in waiters.into_values().flatten() {
            let frame = ServerFrame::Error {
                code: ErrorCode::Internal,
                message: "the message is not in the history database yet; resend it with the same client_id for its ack"
                    .into(),
                client_id: Some(client_id),
                retry_after_ms: None,
            };
            send(&mut out, Target::One(conn), frame);
        }
        out
    }

    /// A batch of the changes up to rev `upto` alone, marked in flight (for tests that
    /// land messages apart from the rest).
    #[cfg(test)]
    pub(crate) fn messages_batch(&mut self, upto: u64) -> Batch {
        self.batch_upto(upto, false)
    }

    /// A batch of everything owed, marked in flight, whatever the retry time.
    #[cfg(test)]
    pub(crate) fn whole_batch(&mut self) -> Batch {
        self.batch_upto(u64::MAX, true)
    }

    /// The changes owed to the history database, in rev order, at most [`MAX_BATCH`].
    #[cfg(test)]
    pub(crate) fn pending(&self) -> Vec<(u64, Message)> {
        self.pending.iter().take(MAX_BATCH).cloned().collect()
    }

    /// Whether a batch would go now (something owed, none in flight, no retry waiting).
    #[cfg(test)]
    pub(crate) fn persist_due(&self, now: u64) -> bool {
        self.outbox.in_flight.is_none()
            && self.outbox.retry_at.is_none_or(|t| t <= now)
            && self.owes()
    }
}
