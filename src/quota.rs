//! Limits per address and per claim (issue 10).
//!
//! - **Per minute, per address**: connects, fresh name claims, searches and exports go
//!   through the Workers rate-limiting binding (`[[ratelimits]]` `CONNECT_LIMITER`,
//!   `CLAIM_LIMITER`, `SEARCH_LIMITER`, `EXPORT_LIMITER`, each `period = 60`), keyed by `CF-Connecting-IP`. The binding keeps
//!   its counts beside the Worker, costs no storage and no round trip to D1, and is
//!   approximate per location, which is what a per-minute flood guard needs. A missing or
//!   failing binding lets the request through (logged, without any header's value).
//! - **Per hour**: rooms made (per claim, per address) and uploads (count and bytes, per
//!   claim) are counted in D1 ([`crate::storage::quotas`]), because the binding's period can
//!   only be 10 or 60 seconds. A key never holds a raw address, only its HMAC under
//!   `DM_SECRET`.
//!
//! Every refusal is HTTP 429 with a `Retry-After` header and a message that says which
//! limit it met.

use edgechat_protocol::{ErrorCode, HttpError};
use worker::{D1Database, Date, Env, Request, Response, Result};

use crate::storage::quotas;
use crate::{dms, http, names};

/// How long an hourly window lasts.
const HOUR_MS: u64 = 3_600_000;
/// The period of every per-minute limiter, as configured in `[[ratelimits]]`.
const MINUTE_SECS: u64 = 60;

/// The hourly quotas' defaults (each a `[vars]` setting of the same name).
pub const ROOMS_PER_CLAIM_PER_HOUR: u64 = 10;
pub const ROOMS_PER_ADDRESS_PER_HOUR: u64 = 30;
pub const UPLOADS_PER_CLAIM_PER_HOUR: u64 = 60;
pub const UPLOAD_BYTES_PER_CLAIM_PER_HOUR: u64 = 100 * 1024 * 1024;

/// A per-minute limiter on the rate-limiting binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limiter {
    /// Every WebSocket connect to a room or a DM.
    Connect,
    /// Every fresh name claim (a connect that claims, `POST /api/names/claim`).
    Claim,
    /// Every `GET /api/search`.
    Search,
    /// Every `GET /room/:id/export` (a whole history: many D1 reads).
    Export,
}

impl Limiter {
    fn binding(self) -> &'static str {
        match self {
            Limiter::Connect => "CONNECT_LIMITER",
            Limiter::Claim => "CLAIM_LIMITER",
            Limiter::Search => "SEARCH_LIMITER",
            Limiter::Export => "EXPORT_LIMITER",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Limiter::Connect => "connects",
            Limiter::Claim => "new name claims",
            Limiter::Search => "searches",
            Limiter::Export => "exports",
        }
    }
}

/// The address a request comes from: `CF-Connecting-IP`, which Cloudflare sets on every
/// request (a client cannot choose it on a deployed Worker). Without it, one shared key.
pub fn address(req: &Request) -> String {
    req.headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty() && a.len() <= 64)
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A 429 with `Retry-After` (whole seconds, at least 1).
pub fn refusal(code: ErrorCode, message: String, retry_after_secs: u64) -> Result<Response> {
    let mut response = http::error(&HttpError::new(code, message))?;
    response
        .headers_mut()
        .set("retry-after", &retry_after_secs.max(1).to_string())?;
    Ok(response)
}

/// Counts one request of `limiter` for `address`; `Some(answer)` refuses it. Fails open:
/// a missing or failing binding lets the request through, with a log line.
pub async fn per_minute(env: &Env, limiter: Limiter, address: &str) -> Option<Response> {
    let outcome = match env.rate_limiter(limiter.binding()) {
        Ok(binding) => binding.limit(address.to_owned()).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(o) if o.success => None,
        Ok(_) => {
            let message = format!(
                "too many {} from your address in the last minute; try again in {MINUTE_SECS} s",
                limiter.what()
            );
            match refusal(ErrorCode::RateLimited, message, MINUTE_SECS) {
                Ok(answer) => Some(answer),
                Err(e) => {
                    worker::console_error!("answering a rate-limited request: {e}");
                    None
                }
            }
        }
        Err(e) => {
            // The error names the binding, never the key (an address) or a header.
            worker::console_error!(
                "rate limiter {} unavailable, letting the request through: {e}",
                limiter.binding()
            );
            None
        }
    }
}

/// A positive whole-number setting, or its default when absent or unusable.
pub fn parse_setting(value: Option<&str>, default: u64) -> u64 {
    value
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

pub fn setting(env: &Env, name: &str, default: u64) -> u64 {
    let value = env.var(name).ok().map(|v| v.to_string());
    parse_setting(value.as_deref(), default)
}

/// The hour-long window `now` falls in: its start, and the whole seconds left in it.
pub fn window(now: u64) -> (u64, u64) {
    let start = now - now % HOUR_MS;
    (start, (start + HOUR_MS - now).div_ceil(1000))
}

/// "12 min" or "40 s": how long a client waits, for a message.
pub fn wait_text(secs: u64) -> String {
    if secs >= 120 {
        format!("{} min", secs.div_ceil(60))
    } else {
        format!("{secs} s")
    }
}

/// "100 MiB", "512 KiB" or "300 bytes".
pub fn bytes_text(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// One counter to add to: its key, the bytes it adds (besides one to the count) and the
/// limits it must stay within.
struct Counter {
    key: String,
    bytes: u64,
    max_count: u64,
    max_bytes: u64,
}

/// What an hourly quota took; `release` gives it back (a room that was not made, an
/// upload the room refused).
pub struct Reservation {
    window_start: u64,
    taken: Vec<(String, u64)>,
}

impl Reservation {
    /// Gives back what was taken. Best effort: a failure is logged, and the quota is
    /// then stricter than it should be until the window ends.
    pub async fn release(self, env: &Env) {
        match env.d1("DB") {
            Ok(db) => self.release_in(&db).await,
            Err(e) => worker::console_error!("giving back an hourly quota: {e}"),
        }
    }

    async fn release_in(self, db: &D1Database) {
        quotas::give_back(db, &self.taken, self.window_start).await;
    }
}

/// Adds to every counter in one D1 batch (each an upsert that returns the new totals,
/// after deleting that key's windows older than two hours). `Ok(None)` if all stay within
/// their limits; otherwise everything is given back and the index of the first counter
/// over its limit comes back, with its totals.
async fn take(
    db: &D1Database,
    counters: &[Counter],
    now: u64,
) -> Result<std::result::Result<Reservation, (usize, u64, u64)>> {
    let (start, _) = window(now);
    let adds: Vec<(&str, u64)> = counters.iter().map(|c| (c.key.as_str(), c.bytes)).collect();
    let totals = quotas::add(db, &adds, start, start.saturating_sub(2 * HOUR_MS)).await?;
    let reservation = Reservation {
        window_start: start,
        taken: counters.iter().map(|c| (c.key.clone(), c.bytes)).collect(),
    };
    for (i, (c, &(count, bytes))) in counters.iter().zip(&totals).enumerate() {
        if count > c.max_count || bytes > c.max_bytes {
            reservation.release_in(db).await;
            return Ok(Err((i, count, bytes)));
        }
    }
    Ok(Ok(reservation))
}

/// The quota key of an address: never the address itself, an HMAC of it under the
/// server secret. None (and a log line) if the secret is missing.
async fn address_key(env: &Env, address: &str) -> Option<String> {
    let keyed = async { names::hmac(&dms::secret(env)?, &format!("address:{address}")).await };
    match keyed.await {
        Ok(mac) => Some(mac),
        Err(e) => {
            worker::console_error!("no address quota without the server secret: {e}");
            None
        }
    }
}

/// `POST /api/rooms`: takes one room from the maker's claim and from its address;
/// `Err(answer)` refuses (429 `quota_exceeded`). The caller gives it back unless a room
/// was actually made.
pub async fn rooms(
    env: &Env,
    req: &Request,
    claim: &str,
) -> Result<std::result::Result<Reservation, Response>> {
    let per_claim = setting(env, "ROOMS_PER_CLAIM_PER_HOUR", ROOMS_PER_CLAIM_PER_HOUR);
    let per_address = setting(
        env,
        "ROOMS_PER_ADDRESS_PER_HOUR",
        ROOMS_PER_ADDRESS_PER_HOUR,
    );
    let mut counters = vec![Counter {
        key: format!("rooms:claim:{claim}"),
        bytes: 0,
        max_count: per_claim,
        max_bytes: u64::MAX,
    }];
    if let Some(key) = address_key(env, &address(req)).await {
        counters.push(Counter {
            key: format!("rooms:addr:{key}"),
            bytes: 0,
            max_count: per_address,
            max_bytes: u64::MAX,
        });
    }
    let now = Date::now().as_millis();
    let (_, wait) = window(now);
    match take(&env.d1("DB")?, &counters, now).await? {
        Ok(reservation) => Ok(Ok(reservation)),
        Err((which, _, _)) => {
            let message = if which == 0 {
                format!(
                    "your name has made {per_claim} rooms this hour, the most one name may \
                     (ROOMS_PER_CLAIM_PER_HOUR); try again in {}",
                    wait_text(wait)
                )
            } else {
                format!(
                    "{per_address} rooms were made from your address this hour, the most one \
                     address may (ROOMS_PER_ADDRESS_PER_HOUR); try again in {}",
                    wait_text(wait)
                )
            };
            Ok(Err(refusal(ErrorCode::QuotaExceeded, message, wait)?))
        }
    }
}

/// `POST /room/:id/files`: takes one upload of `declared` bytes from the uploader's claim;
/// `Err(answer)` refuses (429 `quota_exceeded`). The caller gives it back if the room
/// did not store the file.
pub async fn upload(
    env: &Env,
    claim: &str,
    declared: u64,
) -> Result<std::result::Result<Reservation, Response>> {
    let max_count = setting(
        env,
        "UPLOADS_PER_CLAIM_PER_HOUR",
        UPLOADS_PER_CLAIM_PER_HOUR,
    );
    let max_bytes = setting(
        env,
        "UPLOAD_BYTES_PER_CLAIM_PER_HOUR",
        UPLOAD_BYTES_PER_CLAIM_PER_HOUR,
    );
    let counters = [Counter {
        key: format!("uploads:claim:{claim}"),
        bytes: declared,
        max_count,
        max_bytes,
    }];
    let now = Date::now().as_millis();
    let (_, wait) = window(now);
    match take(&env.d1("DB")?, &counters, now).await? {
        Ok(reservation) => Ok(Ok(reservation)),
        Err((_, count, _)) => {
            let message = if count > max_count {
                format!(
                    "you have uploaded {max_count} files this hour, the most one name may \
                     (UPLOADS_PER_CLAIM_PER_HOUR); try again in {}",
                    wait_text(wait)
                )
            } else {
                format!(
                    "this file ({}) would take your uploads this hour past {}, the most one \
                     name may (UPLOAD_BYTES_PER_CLAIM_PER_HOUR); try again in {}",
                    bytes_text(declared),
                    bytes_text(max_bytes),
                    wait_text(wait)
                )
            };
            Ok(Err(refusal(ErrorCode::QuotaExceeded, message, wait)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_fall_back_to_their_default() {
        assert_eq!(parse_setting(Some("5"), 10), 5);
        assert_eq!(parse_setting(Some(" 7 "), 10), 7);
        for bad in [
            None,
            Some(""),
            Some("0"),
            Some("-3"),
            Some("lots"),
            Some("1.5"),
        ] {
            assert_eq!(parse_setting(bad, 10), 10, "{bad:?}");
        }
    }

    #[test]
    fn windows_are_whole_hours() {
        assert_eq!(window(0), (0, 3600));
        assert_eq!(window(HOUR_MS - 1), (0, 1));
        assert_eq!(window(HOUR_MS), (HOUR_MS, 3600));
        assert_eq!(window(5 * HOUR_MS + 1_500), (5 * HOUR_MS, 3599));
    }

    #[test]
    fn waits_and_sizes_read_well() {
        assert_eq!(wait_text(40), "40 s");
        assert_eq!(wait_text(3600), "60 min");
        assert_eq!(wait_text(121), "3 min");
        assert_eq!(bytes_text(100 * 1024 * 1024), "100 MiB");
        assert_eq!(bytes_text(2048), "2 KiB");
        assert_eq!(bytes_text(1500), "1500 bytes");
    }
}
