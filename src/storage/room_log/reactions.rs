//! Who reacted to what in the log, one row per (seq, emoji, claim).

use super::*;

impl ReactionLog for SqlLog {
    fn adopt_legacy(&mut self, claim: &str, name: &Name) {
        self.adopt_legacy_reactions(claim, name);
    }

    fn react(
        &mut self,
        t: &Toggle<'_>,
        names: usize,
    ) -> Result<Option<(u64, Vec<String>)>, LogError> {
        let (seq, emoji) = (t.seq, t.emoji);
        let cursor = if t.on {
            self.sql.exec(
                "INSERT INTO reactions (seq, emoji, claim, name, at) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT DO NOTHING",
                vec![
                    int(seq),
                    emoji.into(),
                    t.claim.into(),
                    t.name.into(),
                    int(t.at),
                ],
            )
        } else {
            self.sql.exec(
                "DELETE FROM reactions WHERE seq = ? AND emoji = ? AND claim = ?",
                vec![int(seq), emoji.into(), t.claim.into()],
            )
        };
        if cursor.map_err(err)?.rows_written() == 0 {
            return Ok(None);
        }
        self.reactors(seq, emoji, names).map(Some)
    }

    fn reacted_by(&self, claim: &str, seqs: &[u64]) -> Result<Vec<(u64, String)>, LogError> {
        #[derive(Deserialize)]
        struct Row {
            seq: f64,
            emoji: String,
        }
        let list = serde_json::to_string(seqs).map_err(|e| LogError(e.to_string()))?;
        let rows: Vec<Row> = self.fetch(
            "SELECT seq, emoji FROM reactions WHERE claim = ? \
             AND seq IN (SELECT value FROM json_each(?))",
            vec![claim.into(), list.into()],
        )?;
        Ok(rows.into_iter().map(|r| (r.seq as u64, r.emoji)).collect())
    }
}
