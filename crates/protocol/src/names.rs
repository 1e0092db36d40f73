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
/// How long a fresh claim waits for its client to confirm it kept the token, by default,
/// in seconds; unconfirmed, it then lapses and the name is free again.
pub const NAME_PENDING_SECS: u64 = 120;
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
    /// Required with a token in the body; with `Authorization: Bearer` the token names
    /// its claim and `name`, if given, must be that claim's.
    pub name: Option<Name>,
    pub token: Option<String>,
}

#[derive(Deserialize)]
struct RawRelease {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

impl ReleaseRequest {
    pub fn parse(body: &str) -> Result<ReleaseRequest, HttpError> {
        let bad = |m: String| HttpError::new(ErrorCode::BadRequest, m);
        if body.len() > MAX_RELEASE_BODY_BYTES {
            return Err(bad(format!(
                "the body is over {MAX_RELEASE_BODY_BYTES} bytes"
            )));
        }
        let body = if body.trim().is_empty() { "{}" } else { body };
        if !body.trim_start().starts_with('{') {
            return Err(bad("the body must be a JSON object".into()));
        }
        let raw: RawRelease = serde_json::from_str(body).map_err(|e| {
            bad(format!(
                "the body must be JSON {{\"name\": string}} ({})",
                crate::errors::describe_serde_error(&e)
            ))
        })?;
        let name = raw
            .name
            .map(|n| Name::parse(&n).map_err(|m| bad(m.to_owned())))
            .transpose()?;
        if let Some(token) = &raw.token {
            if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
                return Err(bad(format!("token must be 1-{MAX_TOKEN_CHARS} characters")));
            }
            if name.is_none() {
                return Err(bad("a token in the body needs its name".into()));
            }
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

/// A claim as stored: its id, the hash of its token, whether the client confirmed it
/// has the token, and when it was made and last used (ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub id: String,
    pub name: String,
    pub token_hash: String,
    pub confirmed: bool,
    pub claimed_at: u64,
    pub last_used: u64,
}

/// How long a claim lives: unused for `ttl_ms` once confirmed; `pending_ms` after it
/// was made while its client has not yet shown it kept the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimTimes {
    pub ttl_ms: u64,
    pub pending_ms: u64,
}

/// What a connect with a name does about its claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimDecision {
    /// Nobody holds the name (or the claim lapsed): claim it with a fresh token.
    Claim,
    /// The right token: go ahead, and write `last_used` again (and confirm a pending claim).
    Refresh,
    /// The right token, used recently: go ahead without a write.
    Accept,
    /// Someone else holds the name.
    Refuse,
}

impl Claim {
    /// Whether the claim still holds at `now` (ms).
    pub fn is_live(&self, now: u64, times: ClaimTimes) -> bool {
        if self.confirmed {
            now.saturating_sub(self.last_used) < times.ttl_ms
        } else {
            now.saturating_sub(self.claimed_at) < times.pending_ms
        }
    }
}

/// Decides a connect: `claim` is the stored claim, `token_hash` the hash of the token
/// the connect brought.
pub fn decide_claim(
    claim: Option<&Claim>,
    token_hash: Option<&str>,
    now: u64,
    times: ClaimTimes,
) -> ClaimDecision {
    let Some(claim) = claim.filter(|c| c.is_live(now, times)) else {
        return ClaimDecision::Claim;
    };
    if token_hash != Some(claim.token_hash.as_str()) {
        return ClaimDecision::Refuse;
    }
    if !claim.confirmed {
        // Bringing the token back proves the client kept it.
        return ClaimDecision::Refresh;
    }
    // A short lifetime (tests) refreshes more often than hourly, or it would lapse.
    let refresh_ms = (NAME_CLAIM_REFRESH_SECS * 1000).min(times.ttl_ms / 4);
    if now.saturating_sub(claim.last_used) >= refresh_ms {
        ClaimDecision::Refresh
    } else {
        ClaimDecision::Accept
    }
}

/// A lifetime in ms from a setting in seconds: a positive whole number, else `default`.
pub fn secs_setting_ms(setting: Option<&str>, default_secs: u64) -> u64 {
    setting
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .unwrap_or(default_secs)
        .saturating_mul(1000)
}

/// The claim lifetime in ms from the `NAME_CLAIM_TTL_SECS` setting.
pub fn claim_ttl_ms(setting: Option<&str>) -> u64 {
    secs_setting_ms(setting, NAME_CLAIM_TTL_SECS)
}

/// The refusal of a new claim that looks like a live one of another spelling.
pub fn looks_like(display: &str, existing: &str) -> HttpError {
    HttpError::new(
        ErrorCode::NameTaken,
        format!(
            "the name \"{display}\" looks like \"{existing}\", which is claimed; pick a name \
             that cannot be mistaken for another"
        ),
    )
}

/// The claim id the claims made before claims had ids were given: "legacy:" and the
/// name as they were keyed then (lowercased). Random ids are hex, so never collide.
pub fn legacy_claim_id(old_key: &str) -> String {
    format!("{LEGACY_CLAIM_PREFIX}{old_key}")
}

pub const LEGACY_CLAIM_PREFIX: &str = "legacy:";

/// `POST /api/names/confirm`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmed {
    pub name: String,
    pub claim: String,
    pub confirmed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMES: ClaimTimes = ClaimTimes {
        ttl_ms: 10_000,
        pending_ms: 1_000,
    };

    fn claim(last_used: u64) -> Claim {
        Claim {
            id: "c1".into(),
            name: "Ann".into(),
            token_hash: "h".into(),
            confirmed: true,
            claimed_at: last_used,
            last_used,
        }
    }

    #[test]
    fn a_free_or_expired_name_is_claimed() {
        assert_eq!(decide_claim(None, None, 5, TIMES), ClaimDecision::Claim);
        assert_eq!(
            decide_claim(None, Some("x"), 5, TIMES),
            ClaimDecision::Claim
        );
        let old = claim(1_000);
        assert_eq!(
            decide_claim(Some(&old), None, 11_000, TIMES),
            ClaimDecision::Claim
        );
        assert_eq!(
            decide_claim(Some(&old), Some("h"), 11_000, TIMES),
            ClaimDecision::Claim,
            "an expired token starts a new claim"
        );
    }

    #[test]
    fn a_live_claim_needs_its_token() {
        let c = claim(1_000);
        assert_eq!(
            decide_claim(Some(&c), None, 2_000, TIMES),
            ClaimDecision::Refuse
        );
        assert_eq!(
            decide_claim(Some(&c), Some("other"), 2_000, TIMES),
            ClaimDecision::Refuse
        );
        assert_eq!(
            decide_claim(Some(&c), Some("h"), 2_000, TIMES),
            ClaimDecision::Accept
        );
        assert_eq!(
            decide_claim(Some(&c), Some("h"), 3_500, TIMES),
            ClaimDecision::Refresh
        );
        let day = 24 * 3600 * 1000;
        let long = ClaimTimes {
            ttl_ms: NAME_CLAIM_TTL_SECS * 1000,
            pending_ms: NAME_PENDING_SECS * 1000,
        };
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
    fn a_pending_claim_lapses_unless_its_token_comes_back() {
        let pending = Claim {
            confirmed: false,
            ..claim(1_000)
        };
        assert_eq!(
            decide_claim(Some(&pending), None, 1_500, TIMES),
            ClaimDecision::Refuse,
            "two first connects at once: one wins"
        );
        assert_eq!(
            decide_claim(Some(&pending), Some("h"), 1_500, TIMES),
            ClaimDecision::Refresh,
            "the token coming back confirms it"
        );
        assert_eq!(
            decide_claim(Some(&pending), None, 2_000, TIMES),
            ClaimDecision::Claim,
            "a token nobody kept locks the name only briefly"
        );
        assert!(!pending.is_live(2_000, TIMES));
        assert!(claim(1_000).is_live(2_000, TIMES));
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
        assert_eq!(secs_setting_ms(Some("3"), 9), 3000);
        assert_eq!(secs_setting_ms(None, 9), 9000);
    }

    #[test]
    fn release_bodies_are_checked() {
        let r = ReleaseRequest::parse(r#"{"name":" Ann ","token":"t"}"#).unwrap();
        assert_eq!(r.name.unwrap().key(), "ann");
        assert_eq!(r.token.as_deref(), Some("t"));
        let bearer = ReleaseRequest::parse("").unwrap();
        assert_eq!((bearer.name, bearer.token), (None, None));
        assert!(ReleaseRequest::parse(r#"{"name":"Ann"}"#).is_ok());
        for body in [
            "nope",
            "[]",
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
    fn refusals_are_403s_with_clear_messages() {
        let e = name_taken("Ann");
        assert_eq!(e.error.code.http_status(), 403);
        assert_eq!(e.error.code.as_str(), "name_taken");
        assert!(e.error.message.contains("\"Ann\" is claimed"));
        let e = looks_like("\u{410}nn", "Ann");
        assert_eq!(e.error.code, ErrorCode::NameTaken);
        assert!(e.error.message.contains("looks like \"Ann\""));
        let frame = crate::ServerFrame::NameClaimed {
            name: "Ann".into(),
            token: "abc".into(),
            claim: "c1".into(),
        };
        assert_eq!(
            frame.encode(),
            r#"{"type":"name_claimed","name":"Ann","token":"abc","claim":"c1"}"#
        );
        assert_eq!(legacy_claim_id("ann"), "legacy:ann");
    }
}
