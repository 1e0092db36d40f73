//! Direct messages: a private room of two claimed names. Its id is derived from the two
//! names, so each pair has exactly one, and it starts with a prefix no public room may
//! use without being one.

use serde::{Deserialize, Serialize};

use crate::{ErrorCode, HttpError, Name};

/// Every direct-message room id starts with this.
pub const DM_PREFIX: &str = "dm--";

/// Whether a room id names a direct-message room (which only its two names may open).
pub fn is_dm_room(room: &str) -> bool {
    room.starts_with(DM_PREFIX)
}

/// The two name keys of a pair in a fixed order, and the text whose hash names their room.
pub fn dm_pair<'a>(a: &'a Name, b: &'a Name) -> (&'a Name, &'a Name, String) {
    let (first, second) = if a.key() <= b.key() { (a, b) } else { (b, a) };
    let seed = format!("edgechat-dm\n{}\n{}", first.key(), second.key());
    (first, second, seed)
}

/// The room id of a pair from the hex digest of its seed: the prefix and 40 hex digits.
pub fn dm_room_id(seed_hex_digest: &str) -> String {
    let digits: String = seed_hex_digest.chars().take(40).collect();
    format!("{DM_PREFIX}{digits}")
}

/// `POST /api/dms` body: open (or find) the direct messages of `name` and `with`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmRequest {
    pub name: Name,
    pub token: String,
    pub with: Name,
}

#[derive(Deserialize)]
struct RawDm {
    name: String,
    token: String,
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
        let name = Name::parse(&raw.name).map_err(|m| HttpError::new(ErrorCode::InvalidName, m))?;
        let with = Name::parse(&raw.with).map_err(|m| HttpError::new(ErrorCode::InvalidName, m))?;
        if name.key() == with.key() {
            return Err(bad("a direct message needs two different names".into()));
        }
        if raw.token.is_empty() || raw.token.len() > 128 {
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

    #[test]
    fn a_pair_has_one_room_whatever_the_order_or_case() {
        let ann = Name::parse("Ann").unwrap();
        let bo = Name::parse("bo").unwrap();
        let (a1, b1, s1) = dm_pair(&ann, &bo);
        let bo2 = Name::parse("BO").unwrap();
        let ann2 = Name::parse("ann").unwrap();
        let (_, _, s2) = dm_pair(&bo2, &ann2);
        assert_eq!(s1, s2);
        assert_eq!((a1.key(), b1.key()), ("ann", "bo"));
        let id = dm_room_id(&"ab".repeat(32));
        assert_eq!(id.len(), 44);
        assert!(is_dm_room(&id));
        assert!(crate::RoomId::parse(&id).is_ok());
        assert!(!is_dm_room("general"));
    }

    #[test]
    fn requests_are_checked() {
        let ok = DmRequest::parse(r#"{"name":"Ann","token":"t","with":"Bo"}"#).unwrap();
        assert_eq!(ok.with.display(), "Bo");
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
