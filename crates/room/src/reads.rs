//! Read positions: how far each claim has read, shown to its other sockets (and to the
//! other person of a direct message).

use crate::frames::{fail, send};
use crate::*;

impl<L: Log> Room<L> {
    /// A name's read position, from the log the first time this instance needs it.
    pub(crate) fn read_position(&mut self, key: &ClaimId, out: &mut Vec<Output>) -> u64 {
        if let Some(&seq) = self.reads.get(key) {
            return seq;
        }
        match self.log.read_seq(key) {
            Ok(seq) => {
                self.reads.insert(key.clone(), seq);
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
    pub(crate) fn on_read(&mut self, id: &ConnId, seq: u64) -> Vec<Output> {
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
        self.pending_reads.insert(key.clone(), seq);
        if self.is_dm() {
            // In a direct message the other name sees it too: "seen".
            let name = self.conns.get(id).map(|c| c.name.to_string());
            send(
                &mut out,
                Target::AllExcept(id.clone()),
                ServerFrame::Read { seq, name },
            );
            return out;
        }
        let others: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(cid, c)| c.claim == key && *cid != id)
            .map(|(cid, _)| cid.clone())
            .collect();
        if !others.is_empty() {
            send(
                &mut out,
                Target::Many(others),
                ServerFrame::Read { seq, name: None },
            );
        }
        out
    }
}
