//! Roles, bans and the moderation audit in the log.

use super::*;

impl ModerationLog for SqlLog {
    fn moderation(&self) -> Result<(Roles, Vec<Ban>), LogError> {
        #[derive(Deserialize)]
        struct Row {
            name_key: String,
            name: String,
            until: f64,
            reason: Option<String>,
            by: String,
        }
        #[derive(Deserialize)]
        struct RoleRow {
            claim: String,
            name: String,
            role: String,
        }
        let mut roles = Roles::default();
        let rows: Vec<RoleRow> =
            self.fetch("SELECT claim, name, role FROM roles ORDER BY name", None)?;
        for r in rows {
            let member = Member {
                claim: r.claim.into(),
                name: r.name,
            };
            if r.role == "owner" {
                roles.owner = Some(member);
            } else {
                roles.moderators.push(member);
            }
        }
        let rows: Vec<Row> =
            self.fetch("SELECT name_key, name, until, reason, by FROM bans", None)?;
        let bans = rows
            .into_iter()
            .map(|r| Ban {
                name_key: r.name_key,
                name: r.name,
                until: r.until as u64,
                reason: r.reason,
                by: r.by,
            })
            .collect();
        Ok((roles, bans))
    }

    fn set_owner(&mut self, owner: &Member) -> Result<(), LogError> {
        self.run(
            "DELETE FROM roles WHERE role = 'owner' OR claim = ?",
            vec![owner.claim.as_str().into()],
        )?;
        self.run(
            "INSERT INTO roles (claim, name, role) VALUES (?, ?, 'owner')",
            vec![owner.claim.as_str().into(), owner.name.as_str().into()],
        )
    }

    fn set_moderator(&mut self, member: &Member, on: bool) -> Result<(), LogError> {
        if on {
            self.run(
                "INSERT INTO roles (claim, name, role) VALUES (?, ?, 'moderator') \
                     ON CONFLICT (claim) DO NOTHING",
                vec![member.claim.as_str().into(), member.name.as_str().into()],
            )
        } else {
            self.run(
                "DELETE FROM roles WHERE claim = ? AND role = 'moderator'",
                vec![member.claim.as_str().into()],
            )
        }
    }

    fn set_ban(&mut self, ban: &Ban) -> Result<(), LogError> {
        self.run(
            "INSERT INTO bans (name_key, name, until, reason, by) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (name_key) DO UPDATE SET name = excluded.name, \
                 until = excluded.until, reason = excluded.reason, by = excluded.by",
            vec![
                ban.name_key.as_str().into(),
                ban.name.as_str().into(),
                int(ban.until),
                ban.reason.clone().into(),
                ban.by.as_str().into(),
            ],
        )
    }

    fn remove_ban(&mut self, name_key: &str) -> Result<(), LogError> {
        self.run("DELETE FROM bans WHERE name_key = ?", vec![name_key.into()])
    }

    fn audit(&mut self, event: &ModEvent) -> Result<u64, LogError> {
        #[derive(Deserialize)]
        struct Id {
            id: f64,
        }
        let json = serde_json::to_string(event).map_err(|e| LogError(e.to_string()))?;
        let rows: Vec<Id> = self.fetch(
            "INSERT INTO audit (event) VALUES (?) RETURNING id",
            vec![json.into()],
        )?;
        rows.first()
            .map(|r| r.id as u64)
            .ok_or_else(|| LogError("the audit insert returned no id".into()))
    }

    fn unwritten_audit(&self, after: u64) -> Result<Vec<(u64, ModEvent)>, LogError> {
        #[derive(Deserialize)]
        struct Row {
            id: f64,
            event: String,
        }
        let rows: Vec<Row> = self.fetch(
            "SELECT id, event FROM audit WHERE id > ? ORDER BY id",
            vec![int(after)],
        )?;
        rows.into_iter()
            .map(|r| {
                serde_json::from_str(&r.event)
                    .map(|e| (r.id as u64, e))
                    .map_err(|e| LogError(format!("audit entry {}: {e}", r.id)))
            })
            .collect()
    }

    fn set_audit_durable(&mut self, id: u64) -> Result<(), LogError> {
        self.set_meta("audit_durable", int(id))
    }
}
