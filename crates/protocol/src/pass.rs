//! Claim passes (issue 12): a short-lived credential that lets a returning connect be
//! admitted without asking D1 about its name's claim.
//!
//! A pass is `v1.<claim id>.<expires_at ms>.<mac>`, where `mac` is the lowercase hex
//! HMAC-SHA-256, under the Worker secret `CLAIM_PASS_KEY`, of [`pass_message`] (which
//! also binds the name's key, so a pass speaks for one name only). It is presented as
//! the WebSocket subprotocol `edgechat.pass.<pass>`, never in a URL. This module is
//! only the format and the rules; signing and the constant-time check are Web Crypto's
//! (`sign` / `verify`), in the Worker.

use crate::Claim;
use crate::ClaimTimes;

/// The subprotocol prefix a pass is offered under.
pub const WS_PASS_PREFIX: &str = "edgechat.pass.";
/// How long a pass lasts by default (the `CLAIM_PASS_TTL_SECS` setting overrides it).
pub const CLAIM_PASS_TTL_SECS: u64 = 600;
/// The longest pass string read (anything longer is not a pass).
const MAX_PASS_CHARS: usize = 160;

/// A pass as presented: what it claims to be, and its MAC to check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pass {
    pub claim: String,
    pub expires_at: u64,
    pub mac: String,
}

fn is_lower_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Pass {
    /// Reads a pass string; `None` for anything not shaped like one.
    pub fn parse(raw: &str) -> Option<Pass> {
        if raw.len() > MAX_PASS_CHARS {
            return None;
        }
        let mut parts = raw.split('.');
        let (version, claim, expires, mac) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version != "v1" || parts.next().is_some() {
            return None;
        }
        if !is_lower_hex(claim) || claim.len() > 64 || !is_lower_hex(mac) || mac.len() != 64 {
            return None;
        }
        if expires.is_empty() || expires.len() > 16 || !expires.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Some(Pass {
            claim: claim.to_owned(),
            expires_at: expires.parse().ok()?,
            mac: mac.to_owned(),
        })
    }

    /// The string form, as issued and presented.
    pub fn encode(&self) -> String {
        format!("v1.{}.{}.{}", self.claim, self.expires_at, self.mac)
    }

    /// Whether the pass has not yet expired at `now` (its MAC is checked apart).
    pub fn is_current(&self, now: u64) -> bool {
        now < self.expires_at
    }

    /// The MAC's 32 bytes (from its 64 lowercase hex digits, which `parse` checked).
    pub fn mac_bytes(&self) -> Vec<u8> {
        self.mac
            .as_bytes()
            .chunks(2)
            .filter_map(|pair| {
                let digit = |b: u8| (b as char).to_digit(16);
                Some((digit(pair[0])? * 16 + digit(*pair.get(1)?)?) as u8)
            })
            .collect()
    }
}

/// The bytes a pass's MAC covers: its version, claim id, name key and expiry, one to a
/// line (no field can hold a newline, so no two passes sign the same message).
pub fn pass_message(claim: &str, name_key: &str, expires_at: u64) -> String {
    format!("edgechat-pass-v1\n{claim}\n{name_key}\n{expires_at}")
}

/// When a pass issued at `now` for `claim` expires: its lifetime, but never after the
/// claim itself would lapse unused (from its `last_used` as stored), so a pass never
/// outlives the claim it speaks for.
pub fn pass_expiry(now: u64, pass_ttl_ms: u64, claim: &Claim, times: ClaimTimes) -> u64 {
    let lapses = if claim.confirmed {
        claim.last_used.saturating_add(times.ttl_ms)
    } else {
        claim.claimed_at.saturating_add(times.pending_ms)
    };
    now.saturating_add(pass_ttl_ms).min(lapses)
}

/// The pass offered among a socket's subprotocols, if any.
pub fn subprotocol_pass(protocols: Option<&str>) -> Option<String> {
    protocols?
        .split(',')
        .map(str::trim)
        .find_map(|p| p.strip_prefix(WS_PASS_PREFIX))
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const TIMES: ClaimTimes = ClaimTimes {
        ttl_ms: 1_000_000,
        pending_ms: 10_000,
    };

    fn claim(confirmed: bool) -> Claim {
        Claim {
            id: "ab12".into(),
            name: "Ann".into(),
            token_hash: "h".into(),
            confirmed,
            claimed_at: 1_000,
            last_used: 1_000,
        }
    }

    #[test]
    fn passes_round_trip() {
        let pass = Pass {
            claim: "ab12".into(),
            expires_at: 1_700_000_000_000,
            mac: MAC.into(),
        };
        assert_eq!(Pass::parse(&pass.encode()), Some(pass.clone()));
        assert!(pass.is_current(1_699_999_999_999));
        assert!(!pass.is_current(1_700_000_000_000));
    }

    #[test]
    fn the_mac_is_read_as_its_bytes() {
        let pass = Pass::parse(&format!("v1.ab12.5.{MAC}")).unwrap();
        let bytes = pass.mac_bytes();
        assert_eq!(bytes.len(), 32);
        assert_eq!(&bytes[..3], &[0x00, 0x11, 0x22]);
        assert_eq!(bytes[31], 0xff);
    }

    #[test]
    fn malformed_passes_are_not_passes() {
        for bad in [
            "",
            "v1",
            &format!("v2.ab12.5.{MAC}"),
            &format!("v1.AB12.5.{MAC}"),
            &format!("v1.ab12.-5.{MAC}"),
            &format!("v1.ab12..{MAC}"),
            &format!("v1.ab12.5.{}", &MAC[1..]),
            &format!("v1.ab12.5.{MAC}.x"),
            &format!("v1.{}.5.{MAC}", "a".repeat(90)),
        ] {
            assert_eq!(Pass::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_message_binds_claim_name_and_expiry() {
        let m = pass_message("ab12", "ann", 5);
        assert_ne!(m, pass_message("ab12", "bob", 5));
        assert_ne!(m, pass_message("ab13", "ann", 5));
        assert_ne!(m, pass_message("ab12", "ann", 6));
    }

    #[test]
    fn a_pass_never_outlives_its_claim() {
        // A confirmed claim lasts long: the pass gets its whole lifetime.
        assert_eq!(pass_expiry(2_000, 600_000, &claim(true), TIMES), 602_000);
        // A pending claim lapses at claimed_at + pending: the pass stops there too.
        assert_eq!(pass_expiry(2_000, 600_000, &claim(false), TIMES), 11_000);
    }

    #[test]
    fn the_pass_is_found_among_subprotocols() {
        let offer = "edgechat, edgechat.bearer.t, edgechat.pass.v1.ab.5.cd";
        assert_eq!(subprotocol_pass(Some(offer)), Some("v1.ab.5.cd".into()));
        assert_eq!(subprotocol_pass(Some("edgechat, edgechat.pass.")), None);
        assert_eq!(subprotocol_pass(None), None);
    }
}
