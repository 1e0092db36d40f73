//! Direct messages: a private room of two claims. Its id is derived from the two claim
//! ids with a server secret (HMAC), so each pair has exactly one, nobody outside can
//! compute it from the names, and it starts with a prefix no public room may use.

use serde::{Deserialize, Serialize};

use crate::{ErrorCode, HttpError, Name};

/// Every direct-message room id starts with this.
pub const DM_PREFIX: &str = "dm--";

/// Whether a room id names a direct-message room (which only its two names may open).
pub fn is_dm_room(room: &str) -> bool {
    room.starts_with(DM_PREFIX)
}

/// A DM's party: its claim id and the name it was claimed under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    pub claim: String,
    pub name: String,
}

/// The two parties in a fixed order (by claim id), and the text whose HMAC names their room.
pub fn dm_pair(a: Party, b: Party) -> (Party, Party, String) {
    let (first, second) = if a.claim <= b.claim { (a, b) } else { (b, a) };
    let seed = format!("edgechat-dm\n{}\n{}", first.claim, second.claim);
    (first, second, seed)
}

/// The room id of a pair from the hex digest of its seed: the prefix and 40 hex digits.
pub fn dm_room_id(seed_hex_digest: &str) -> String {
    let digits: String = seed_hex_digest.chars().take(40).collect();
    format!("{DM_PREFIX}{digits}")
}

/// `POST /api/dms` body: open (or find) the direct messages of the caller and `with`.
/// The caller is the claim of `Authorization: Bearer`; `name` and `token` in the body are
/// the deprecated way to say the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmRequest {
    pub name: Option<Name>,
    pub token: Option<String>,
    pub with: Name,
}

#[derive(Deserialize)]
struct RawDm {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    token: Option<String>,
    with: String,
}

impl DmRequest {
    pub fn parse(body: &str) -> Result<DmRequest, HttpError> {
        let bad = |m: String| HttpError::new(ErrorCode::BadRequest, m);
        let raw: RawDm = serde_json::from_str(body).map_err(|e| {
            bad(format!(
                "the body must be JSON {{\"name\", \"token\", \"with\"}}: {e}"
            ))
        })?;
        let name = raw
            .name
            .map(|n| Name::parse(&n).map_err(|m| HttpError::new(ErrorCode::InvalidName, m)))
            .transpose()?;
        let with = Name::parse(&raw.with).map_err(|m| HttpError::new(ErrorCode::InvalidName, m))?;
        if name.as_ref().is_some_and(|n| n.key() == with.key()) {
            return Err(bad("a direct message needs two different names".into()));
        }
        if raw
            .token
            .as_ref()
            .is_some_and(|t| t.is_empty() || t.len() > 128)
        {
            return Err(bad(
                "token must be the token your name was claimed with".into()
            ));
        }
        Ok(DmRequest {
            name,
            token: raw.token,
            with,
        })
    }
}

/// One direct-message room as its party sees it in the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmSummary {
    pub room: String,
    /// The other name, as it was claimed.
    pub with: String,
    /// Messages after this name's read position.
    pub unread: u64,
    /// The last message's time, 0 before the first.
    pub last_activity: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmList {
    pub dms: Vec<DmSummary>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(claim: &str, name: &str) -> Party {
        Party {
            claim: claim.into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_pair_has_one_room_whatever_the_order() {
        let (a1, b1, s1) = dm_pair(party("c2", "Bo"), party("c1", "Ann"));
        let (_, _, s2) = dm_pair(party("c1", "Ann"), party("c2", "Bo"));
        assert_eq!(s1, s2);
        assert_eq!((a1.name.as_str(), b1.name.as_str()), ("Ann", "Bo"));
        let (_, _, s3) = dm_pair(party("c1", "Ann"), party("c3", "Bo"));
        assert_ne!(s1, s3, "a new claim of a name is a new pair");
        let id = dm_room_id(&"ab".repeat(32));
        assert_eq!(id.len(), 44);
        assert!(is_dm_room(&id));
        assert!(crate::RoomId::parse(&id).is_ok());
        assert!(!is_dm_room("general"));
    }

    #[test]
    fn requests_are_checked() {
        let ok = DmRequest::parse(r#"{"with":"Bo"}"#).unwrap();
        assert_eq!(ok.with.display(), "Bo");
        assert_eq!(ok.name, None);
        let old = DmRequest::parse(r#"{"name":"Ann","token":"t","with":"Bo"}"#).unwrap();
        assert_eq!(old.token.as_deref(), Some("t"));
        for bad in [
            "{}",
            "nope",
            r#"{"name":"Ann","token":"t","with":"ann"}"#,
            r#"{"name":"Ann","token":"","with":"Bo"}"#,
        ] {
            assert_eq!(
                DmRequest::parse(bad).unwrap_err().error.code,
                ErrorCode::BadRequest,
                "{bad}"
            );
        }
        let e = DmRequest::parse(r#"{"name":"","token":"t","with":"Bo"}"#).unwrap_err();
        assert_eq!(e.error.code, ErrorCode::InvalidName);
    }
}
