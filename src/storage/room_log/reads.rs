//! Read positions in the log, and which of them D1 has.

use super::*;

impl ReadLog for SqlLog {
    fn read_seq(&self, claim: &str) -> Result<u64, LogError> {
        #[derive(Deserialize)]
        struct Row {
            seq: f64,
        }
        let rows: Vec<Row> =
            self.fetch("SELECT seq FROM reads WHERE claim = ?", vec![claim.into()])?;
        Ok(rows.first().map_or(0, |r| r.seq as u64))
    }

    fn set_read(&mut self, claim: &str, seq: u64) -> Result<(), LogError> {
        self.run(
            "INSERT INTO reads (claim, seq, written) VALUES (?, ?, 0) \
                 ON CONFLICT (claim) DO UPDATE SET seq = excluded.seq, written = 0 \
                 WHERE excluded.seq > reads.seq",
            vec![claim.into(), int(seq)],
        )
    }

    fn unwritten_reads(&self) -> Result<Vec<(String, u64)>, LogError> {
        #[derive(Deserialize)]
        struct Row {
            claim: String,
            seq: f64,
        }
        let rows: Vec<Row> = self.fetch(
            "SELECT claim, seq FROM reads WHERE written = 0 ORDER BY claim",
            None,
        )?;
        Ok(rows.into_iter().map(|r| (r.claim, r.seq as u64)).collect())
    }

    fn max_read_except(&self, claim: &str) -> Result<u64, LogError> {
        #[derive(Deserialize)]
        struct Row {
            seq: Option<f64>,
        }
        let rows: Vec<Row> = self.fetch(
            "SELECT MAX(seq) AS seq FROM reads WHERE claim <> ?",
            vec![claim.into()],
        )?;
        Ok(rows.first().and_then(|r| r.seq).unwrap_or(0.0) as u64)
    }

    fn reads_written(&mut self, reads: &[(ClaimId, u64)]) -> Result<(), LogError> {
        for (key, seq) in reads {
            self.run(
                "UPDATE reads SET written = 1 WHERE claim = ? AND seq <= ?",
                vec![key.as_str().into(), int(*seq)],
            )?;
        }
        Ok(())
    }
}
