//! Uploads: recording a file a claim uploaded, and sweeping the ones no message
//! attached within their lifetime.

use crate::*;

impl<L: Log> Room<L> {
    /// Records a file `claim` uploaded to this room at `now` (the shell stored its
    /// bytes). Unless a message attaches it, it is deleted after the upload lifetime.
    pub fn add_file(&mut self, claim: &str, file: &FileRef, now: u64) -> Result<(), LogError> {
        self.log.add_file(file, claim, now)?;
        let due = now + self.bounds.upload_ttl_ms;
        self.sweep_at = Some(self.sweep_at.map_or(due, |t| t.min(due)));
        Ok(())
    }

    /// Whether uploads are due for deletion at `now`.
    pub(crate) fn sweep_due(&self, now: u64) -> bool {
        self.sweep_at.is_some_and(|t| t <= now)
    }

    /// The uploads due for deletion at `now` (at most 50): nothing can attach them any
    /// more. The shell deletes their bytes and answers with [`Input::Swept`].
    pub(crate) fn expired_uploads(&mut self, now: u64, out: &mut Vec<Output>) -> Vec<String> {
        if !self.sweep_due(now) {
            return Vec::new();
        }
        let before = now.saturating_sub(self.bounds.upload_ttl_ms);
        match self.log.expired_files(before, SWEEP_BATCH) {
            Ok(ids) => {
                let ids: Vec<String> = ids
                    .into_iter()
                    .filter(|id| self.sweeping.insert(id.clone()))
                    .collect();
                if ids.is_empty() {
                    self.next_sweep(now, false, out);
                }
                ids
            }
            Err(e) => {
                out.push(self.noted("listing expired uploads", &e));
                self.sweep_at = Some(now + SWEEP_RETRY_MS);
                Vec::new()
            }
        }
    }

    /// The shell deleted the bytes of `deleted`, and could not delete those of `kept`:
    /// the first are forgotten, the second wait for the next sweep.
    pub(crate) fn uploads_swept(
        &mut self,
        deleted: &[String],
        kept: &[String],
        now: u64,
    ) -> Vec<Output> {
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
    pub(crate) fn next_sweep(&mut self, now: u64, failed: bool, out: &mut Vec<Output>) {
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
}
