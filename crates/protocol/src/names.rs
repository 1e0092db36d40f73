//! Name claims: the first connection with a free name claims it and gets a secret
//! token; while the claim lives, connecting with that name needs the token.
//!
//! This module holds the wire side (the connect parameter, the release body, the
//! answers) and the pure decision the Worker takes at connect.

use serde::{Deserialize, Serialize};

use crate::{ErrorCode, HttpError, Name};

/// How long a claim lives without being used, by default (30 days), in seconds.
pub const NAME_CLAIM_TTL_SECS: u64 = 30 * 24 * 3600;
/// A live claim's `last_used` is written again at most this often, in seconds.
pub const NAME_CLAIM_REFRESH_SECS: u64 = 3600;
/// The longest token a client may send, in bytes. Tokens the server issues are 64
/// hex digits; anything else simply never matches.
pub const MAX_TOKEN_CHARS: usize = 256;
/// The largest release body the server reads, in bytes.
pub const MAX_RELEASE_BODY_BYTES: usize = 4096;

/// The `token` connect parameter, if any (the last one counts; an empty one is none).
pub fn parse_connect_token<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Option<String> {
    let mut token = None;
    for (k, v) in pairs {
        if k.as_ref() == "token" {
            token = Some(v.as_ref().to_owned());
        }
    }
    token.filter(|t| !t.is_empty())
}

/// The refusal of a connect (or a release) for a name someone else holds.
pub fn name_taken(display: &str) -> HttpError {
    HttpError::new(
        ErrorCode::NameTaken,
        format!(
            "the name \"{display}\" is claimed; connect from the browser that claimed it \
             (its token) or pick another name"
        ),
    )
}

/// `POST /api/names/release` body: `{"name": "...", "token": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseRequest {
    pub name: Name,
    pub token: String,
}

#[derive(Deserialize)]
struct RawRelease {
    name: String,
    token: String,
}

impl ReleaseRequest {
    pub fn parse(body: &str) -> Result<ReleaseRequest, HttpError> {
        let bad = |m: String| HttpError::new(ErrorCode::BadRequest, m);
        if body.len() > MAX_RELEASE_BODY_BYTES {
            return Err(bad(format!(
                "the body is over {MAX_RELEASE_BODY_BYTES} bytes"
            )));
        }
        let raw: RawRelease = serde_json::from_str(body).map_err(|e| {
            bad(format!(
                "the body must be JSON {{\"name\": string, \"token\": string}} ({})",
                crate::frames::describe_serde_error(&e)
            ))
        })?;
        let name = Name::parse(&raw.name).map_err(|m| bad(m.to_owned()))?;
        if raw.token.is_empty() || raw.token.len() > MAX_TOKEN_CHARS {
            return Err(bad(format!("token must be 1-{MAX_TOKEN_CHARS} characters")));
        }
        Ok(ReleaseRequest {
            name,
            token: raw.token,
        })
    }
}

/// `GET /api/names/:name`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameInfo {
    pub name: String,
    pub claimed: bool,
}

/// The answer to a successful release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Released {
    pub released: bool,
}

/// A claim as stored: the hash of its token and when it was last used (ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub token_hash: String,
    pub last_used: u64,
}

/// What a connect with a name does about its claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimDecision {
    /// Nobody holds the name (or the claim expired): claim it with a fresh token.
    Claim,
    /// The right token: go ahead, and write `last_used` again.
    Refresh,
    /// The right token, used recently: go ahead without a write.
    Accept,
    /// Someone else holds the name.
    Refuse,
}

impl Claim {
    /// Whether the claim still holds at `now` (ms) with a lifetime of `ttl_ms`.
    pub fn is_live(&self, now: u64, ttl_ms: u64) -> bool {
        now.saturating_sub(self.last_used) < ttl_ms
    }
}

/// Decides a connect: `claim` is the stored claim, `token_hash` the hash of the token
/// the connect brought.
pub fn decide_claim(
    claim: Option<&Claim>,
    token_hash: Option<&str>,
    now: u64,
    ttl_ms: u64,
) -> ClaimDecision {
    let Some(claim) = claim.filter(|c| c.is_live(now, ttl_ms)) else {
        return ClaimDecision::Claim;
    };
    if token_hash != Some(claim.token_hash.as_str()) {
        return ClaimDecision::Refuse;
    }
    // A short lifetime (tests) refreshes more often than hourly, or it would lapse.
    let refresh_ms = (NAME_CLAIM_REFRESH_SECS * 1000).min(ttl_ms / 4);
    if now.saturating_sub(claim.last_used) >= refresh_ms {
        ClaimDecision::Refresh
    } else {
        ClaimDecision::Accept
    }
}

/// The claim lifetime in ms from the `NAME_CLAIM_TTL_SECS` setting: a positive whole
/// number of seconds, else the default.
pub fn claim_ttl_ms(setting: Option<&str>) -> u64 {
    setting
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .unwrap_or(NAME_CLAIM_TTL_SECS)
        .saturating_mul(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: u64 = 10_000;

    fn claim(last_used: u64) -> Claim {
        Claim {
            token_hash: "h".into(),
            last_used,
        }
    }

    #[test]
    fn a_free_or_expired_name_is_claimed() {
        assert_eq!(decide_claim(None, None, 5, TTL), ClaimDecision::Claim);
        assert_eq!(decide_claim(None, Some("x"), 5, TTL), ClaimDecision::Claim);
        let old = claim(1_000);
        assert_eq!(
            decide_claim(Some(&old), None, 1_000 + TTL, TTL),
            ClaimDecision::Claim
        );
        assert_eq!(
            decide_claim(Some(&old), Some("h"), 1_000 + TTL, TTL),
            ClaimDecision::Claim,
            "an expired token starts a new claim"
        );
    }

    #[test]
    fn a_live_claim_needs_its_token() {
        let c = claim(1_000);
        assert_eq!(
            decide_claim(Some(&c), None, 2_000, TTL),
            ClaimDecision::Refuse
        );
        assert_eq!(
            decide_claim(Some(&c), Some("other"), 2_000, TTL),
            ClaimDecision::Refuse
        );
        assert_eq!(
            decide_claim(Some(&c), Some("h"), 2_000, TTL),
            ClaimDecision::Accept
        );
        assert_eq!(
            decide_claim(Some(&c), Some("h"), 1_000 + TTL / 4, TTL),
            ClaimDecision::Refresh
        );
        let day = 24 * 3600 * 1000;
        let long = NAME_CLAIM_TTL_SECS * 1000;
        assert_eq!(
            decide_claim(Some(&claim(day)), Some("h"), day + 59 * 60 * 1000, long),
            ClaimDecision::Accept,
            "at most one write an hour"
        );
        assert_eq!(
            decide_claim(Some(&claim(day)), Some("h"), day + 3600 * 1000, long),
            ClaimDecision::Refresh
        );
    }

    #[test]
    fn connect_token_and_ttl_setting() {
        assert_eq!(parse_connect_token([("name", "a")]), None);
        assert_eq!(parse_connect_token([("token", "")]), None);
        assert_eq!(
            parse_connect_token([("token", "a"), ("token", "b")]),
            Some("b".into())
        );
        assert_eq!(claim_ttl_ms(None), NAME_CLAIM_TTL_SECS * 1000);
        assert_eq!(claim_ttl_ms(Some("2")), 2000);
        assert_eq!(claim_ttl_ms(Some("0")), NAME_CLAIM_TTL_SECS * 1000);
        assert_eq!(claim_ttl_ms(Some("x")), NAME_CLAIM_TTL_SECS * 1000);
    }

    #[test]
    fn release_bodies_are_checked() {
        let r = ReleaseRequest::parse(r#"{"name":" Ann ","token":"t"}"#).unwrap();
        assert_eq!(r.name.key(), "ann");
        assert_eq!(r.token, "t");
        for body in [
            "",
            "nope",
            "[]",
            r#"{"name":"Ann"}"#,
            r#"{"token":"t"}"#,
            r#"{"name":"","token":"t"}"#,
            r#"{"name":"Ann","token":""}"#,
            r#"{"name":"Ann","token":5}"#,
        ] {
            let e = ReleaseRequest::parse(body).unwrap_err();
            assert_eq!(e.error.code, ErrorCode::BadRequest, "{body}");
        }
        let huge = format!(r#"{{"name":"Ann","token":"{}"}}"#, "t".repeat(5000));
        assert!(ReleaseRequest::parse(&huge).is_err());
    }

    #[test]
    fn name_taken_is_a_403_with_a_clear_message() {
        let e = name_taken("Ann");
        assert_eq!(e.error.code.http_status(), 403);
        assert_eq!(e.error.code.as_str(), "name_taken");
        assert!(e.error.message.contains("\"Ann\" is claimed"));
        let frame = crate::ServerFrame::NameClaimed {
            name: "Ann".into(),
            token: "abc".into(),
        };
        assert_eq!(
            frame.encode(),
            r#"{"type":"name_claimed","name":"Ann","token":"abc"}"#
        );
    }
}
