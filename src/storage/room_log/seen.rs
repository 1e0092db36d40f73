//! The last-seen list in the log: one `meta` row (`last_seen`, a JSON array of at most
//! [`edgechat_protocol::LAST_SEEN_MAX`] entries), read with the rest of `meta` when the
//! log opens and rewritten when a claim's last socket leaves.

use serde::Serialize;

use super::*;
use edgechat_room::{SeenEntry, SeenLog};

/// One entry as the `meta` row keeps it.
#[derive(Serialize, Deserialize)]
pub(super) struct SeenRow {
    claim: String,
    key: String,
    name: String,
    at: u64,
}

/// The entries a `meta` value holds (nothing, if it is not a list of them).
pub(super) fn seen_of(value: serde_json::Value) -> Vec<SeenEntry> {
    // The row keeps the list as JSON text.
    let rows = match value {
        serde_json::Value::String(text) => serde_json::from_str::<Vec<SeenRow>>(&text),
        other => serde_json::from_value::<Vec<SeenRow>>(other),
    };
    rows.unwrap_or_default()
        .into_iter()
        .map(|r| SeenEntry {
            claim: ClaimId::from(r.claim),
            key: r.key,
            name: r.name,
            at: r.at,
        })
        .collect()
}

impl SeenLog for SqlLog {
    fn last_seen(&self) -> Result<Vec<SeenEntry>, LogError> {
        Ok(self.stored_seen.clone())
    }

    fn set_last_seen(&mut self, entries: &[SeenEntry]) -> Result<(), LogError> {
        let rows: Vec<SeenRow> = entries
            .iter()
            .map(|e| SeenRow {
                claim: e.claim.to_string(),
                key: e.key.clone(),
                name: e.name.clone(),
                at: e.at,
            })
            .collect();
        let text = serde_json::to_string(&rows).map_err(|e| LogError(e.to_string()))?;
        self.set_meta("last_seen", text.into())?;
        self.stored_seen = entries.to_vec();
        Ok(())
    }
}
