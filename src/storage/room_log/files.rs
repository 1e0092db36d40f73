//! Uploads in the log: their lifetime until attached, and the file a send attaches.

use super::*;

impl UploadLog for SqlLog {
    fn add_file(&mut self, file: &FileRef, claim: &str, at: u64) -> Result<(), LogError> {
        self.run(
            "INSERT INTO files (id, claim, file, uploaded_at) VALUES (?, ?, ?, ?)",
            vec![
                file.id.as_str().into(),
                claim.into(),
                json_or_null(Some(file)),
                int(at),
            ],
        )
    }

    fn expired_files(&self, before: u64, limit: u32) -> Result<Vec<String>, LogError> {
        #[derive(Deserialize)]
        struct Row {
            id: String,
        }
        let rows: Vec<Row> = self.fetch(
            "SELECT id FROM files WHERE seq IS NULL AND uploaded_at <= ? \
             ORDER BY uploaded_at LIMIT ?",
            vec![int(before), int(u64::from(limit))],
        )?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    fn oldest_unattached(&self) -> Result<Option<u64>, LogError> {
        #[derive(Deserialize)]
        struct Row {
            at: Option<f64>,
        }
        let rows: Vec<Row> = self.fetch(
            "SELECT MIN(uploaded_at) AS at FROM files WHERE seq IS NULL",
            None,
        )?;
        Ok(rows.first().and_then(|r| r.at).map(|t| t as u64))
    }

    fn remove_file(&mut self, id: &str) -> Result<(), LogError> {
        self.run(
            "DELETE FROM files WHERE id = ? AND seq IS NULL",
            vec![id.into()],
        )
    }
}

impl AttachmentLog for SqlLog {
    fn file(&self, id: &str) -> Result<Option<(FileRef, String, Option<u64>)>, LogError> {
        #[derive(Deserialize)]
        struct Row {
            claim: String,
            file: String,
            seq: Option<f64>,
        }
        let rows: Vec<Row> = self.fetch(
            "SELECT claim, file, seq FROM files WHERE id = ?",
            vec![id.into()],
        )?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let file = serde_json::from_str(&row.file).map_err(|e| LogError(e.to_string()))?;
        Ok(Some((file, row.claim, row.seq.map(|s| s as u64))))
    }

    fn attach_file(&mut self, id: &str, seq: u64) -> Result<(), LogError> {
        self.run(
            "UPDATE files SET seq = ? WHERE id = ?",
            vec![int(seq), id.into()],
        )
    }
}
