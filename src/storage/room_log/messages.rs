//! The log's messages: append with dedupe, changes in place, revs and the durable
//! watermark, and pages of history.

use super::*;

impl MessageLog for SqlLog {
    fn positions(&self) -> Result<Positions, LogError> {
        #[derive(Deserialize)]
        struct Row {
            last: Option<f64>,
            rev: Option<f64>,
            durable: Option<f64>,
            audit: Option<f64>,
            unattached: Option<f64>,
        }
        let rows: Vec<Row> = self.fetch(
            "SELECT (SELECT MAX(seq) FROM log) AS last, (SELECT MAX(rev) FROM log) AS rev, \
                 (SELECT value FROM meta WHERE key = 'durable') AS durable, \
                 (SELECT value FROM meta WHERE key = 'audit_durable') AS audit, \
                 (SELECT MIN(uploaded_at) FROM files WHERE seq IS NULL) AS unattached",
            None,
        )?;
        let row = rows.first();
        let last_seq = row.and_then(|r| r.last).unwrap_or(0.0) as u64;
        let last_rev = row.and_then(|r| r.rev).unwrap_or(0.0) as u64;
        let durable = row.and_then(|r| r.durable).unwrap_or(0.0) as u64;
        Ok(Positions {
            last_seq,
            last_rev,
            durable_rev: durable.min(last_rev),
            audit_durable: row.and_then(|r| r.audit).unwrap_or(0.0) as u64,
            oldest_unattached: row.and_then(|r| r.unattached).map(|t| t as u64),
        })
    }

    fn append(
        &mut self,
        m: &Message,
        name_key: &str,
        claim: &str,
        rev: u64,
    ) -> Result<Option<(u64, u64)>, LogError> {
        // One statement: the unique (name_key, client_id) index turns a resend into no
        // row written, and only then is the earlier seq looked up. The runtime runs a
        // statement without result rows to its end inside `exec`.
        let written = self
            .sql
            .exec(
                LOG_APPEND,
                vec![
                    int(m.seq),
                    m.name.as_str().into(),
                    m.text.as_str().into(),
                    int(m.ts),
                    m.client_id.clone().into(),
                    m.reply_to.map(int).unwrap_or(SqlStorageValue::Null),
                    int(rev),
                    json_or_null(m.attachment.as_ref()),
                    name_key.into(),
                    claim.into(),
                ],
            )
            .map_err(err)?
            .rows_written();
        if written > 0 {
            return Ok(None);
        }
        let cid = m.client_id.as_deref().unwrap_or_default();
        match self.find_client_id(name_key, cid)? {
            Some(found) => Ok(Some(found)),
            None => Err(LogError(format!(
                "seq {} was neither stored nor found as a resend",
                m.seq
            ))),
        }
    }

    fn find_client_id(
        &self,
        name_key: &str,
        client_id: &str,
    ) -> Result<Option<(u64, u64)>, LogError> {
        let rows: Vec<SeqRev> = self.fetch(
            "SELECT seq, rev FROM log WHERE name_key = ? AND client_id = ?",
            vec![name_key.into(), client_id.into()],
        )?;
        Ok(rows.first().map(|r| (r.seq as u64, r.rev as u64)))
    }

    fn get(&self, seq: u64) -> Result<Option<Stored>, LogError> {
        let rows: Vec<FullRow> = self.fetch(
            &format!("SELECT {COLS}, name_key, claim, rev FROM log WHERE seq = ?"),
            vec![int(seq)],
        )?;
        Ok(rows.into_iter().next().map(|r| Stored {
            message: r.message.into_message(Some(&self.room)),
            name_key: r.name_key,
            claim: r.claim,
            rev: r.rev as u64,
        }))
    }

    fn update(&mut self, m: &Message, rev: u64) -> Result<(), LogError> {
        let reactions = reactions_json(&m.reactions)
            .map(SqlStorageValue::from)
            .unwrap_or(SqlStorageValue::Null);
        self.run(
            LOG_UPDATE,
            vec![
                m.text.as_str().into(),
                m.edited_ts.map(int).unwrap_or(SqlStorageValue::Null),
                int(u64::from(m.deleted)),
                reactions,
                int(m.reply_count),
                int(rev),
                json_or_null(m.attachment.as_ref()),
                json_or_null(m.pinned.as_ref()),
                int(m.seq),
            ],
        )?;
        if m.deleted {
            // A tombstone has no reactions: nobody reacted any more.
            self.run("DELETE FROM reactions WHERE seq = ?", vec![int(m.seq)])?;
        }
        Ok(())
    }

    fn set_durable(&mut self, rev: u64) -> Result<(), LogError> {
        self.set_meta("durable", int(rev))
    }

    fn replies(
        &self,
        parent: u64,
        after: u64,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), LogError> {
        let mut rows = self.rows(
            &format!("SELECT {COLS} FROM log WHERE reply_to = ? AND seq > ? ORDER BY seq LIMIT ?"),
            vec![int(parent), int(after), int(u64::from(limit) + 1)],
        )?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        Ok((rows, more))
    }

    fn changed(
        &self,
        upto: u64,
        after_rev: u64,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), LogError> {
        let mut rows = self.rows(
            &format!("SELECT {COLS} FROM log WHERE rev > ? AND seq <= ? ORDER BY rev LIMIT ?"),
            vec![int(after_rev), int(upto), int(u64::from(limit) + 1)],
        )?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        Ok((rows, more))
    }

    fn pinned(&self) -> Result<Vec<Message>, LogError> {
        self.rows(
            &format!("SELECT {COLS} FROM log WHERE pinned IS NOT NULL ORDER BY seq"),
            Vec::new(),
        )
    }

    fn unwritten(&self, after_rev: u64, limit: u32) -> Result<Vec<(u64, Message)>, LogError> {
        let rows: Vec<FullRow> = self.fetch(
            &format!(
                "SELECT {COLS}, name_key, claim, rev FROM log WHERE rev > ? ORDER BY rev LIMIT ?"
            ),
            vec![int(after_rev), int(u64::from(limit))],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| (r.rev as u64, r.message.into_message(Some(&self.room))))
            .collect())
    }
}

impl PageLog for SqlLog {
    fn page(&self, page: Page, upto: u64) -> Result<(Vec<Message>, bool), LogError> {
        let limit = page.limit() as u64;
        let (rows, newest_first) = match page {
            Page::Newest { .. } => (
                self.rows(
                    &format!("SELECT {COLS} FROM log WHERE seq <= ? ORDER BY seq DESC LIMIT ?"),
                    vec![int(upto), int(limit + 1)],
                )?,
                true,
            ),
            Page::Before { before, .. } => (
                self.rows(
                    &format!(
                        "SELECT {COLS} FROM log WHERE seq < ? AND seq <= ? ORDER BY seq DESC LIMIT ?"
                    ),
                    vec![int(before), int(upto), int(limit + 1)],
                )?,
                true,
            ),
            Page::After { after, .. } => (
                self.rows(
                    &format!(
                        "SELECT {COLS} FROM log WHERE seq > ? AND seq <= ? ORDER BY seq ASC LIMIT ?"
                    ),
                    vec![int(after), int(upto), int(limit + 1)],
                )?,
                false,
            ),
        };
        Ok(fit(rows, limit as usize, newest_first))
    }
}
