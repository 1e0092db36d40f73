//! The per-connection rate limit: a token bucket.

/// Rate-limit settings (wrangler `[vars]` `RATE_LIMIT_BURST`, `RATE_LIMIT_PER_SEC`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Frames a connection may send at once.
    pub burst: f64,
    /// Frames per second it regains.
    pub per_sec: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            burst: 20.0,
            per_sec: 5.0,
        }
    }
}

impl Limits {
    /// Reads the settings as strings (as wrangler vars arrive); a missing or
    /// unusable value keeps the default.
    pub fn from_settings(burst: Option<&str>, per_sec: Option<&str>) -> Self {
        let d = Limits::default();
        let parse = |v: Option<&str>, default: f64| {
            v.and_then(|s| s.trim().parse::<f64>().ok())
                .filter(|x| x.is_finite() && *x > 0.0)
                .unwrap_or(default)
        };
        Limits {
            burst: parse(burst, d.burst).max(1.0),
            per_sec: parse(per_sec, d.per_sec),
        }
    }
}

/// Tokens left and when they were last counted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TokenBucket {
    tokens: f64,
    at: u64,
}

impl TokenBucket {
    pub fn full(limits: &Limits, now: u64) -> Self {
        TokenBucket {
            tokens: limits.burst,
            at: now,
        }
    }

    /// Takes one token, or says how many milliseconds until one is available.
    pub fn take(&mut self, limits: &Limits, now: u64) -> Result<(), u64> {
        let elapsed_ms = now.saturating_sub(self.at) as f64;
        self.tokens = (self.tokens + elapsed_ms * limits.per_sec / 1000.0).min(limits.burst);
        self.at = now.max(self.at);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - self.tokens) * 1000.0 / limits.per_sec).ceil();
            Err((wait as u64).max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_a_flood_waits_for_refill() {
        let limits = Limits {
            burst: 3.0,
            per_sec: 2.0,
        };
        let mut b = TokenBucket::full(&limits, 1000);
        for _ in 0..3 {
            assert_eq!(b.take(&limits, 1000), Ok(()));
        }
        assert_eq!(b.take(&limits, 1000), Err(500));
        assert_eq!(b.take(&limits, 1250), Err(250));
        assert_eq!(b.take(&limits, 1500), Ok(()));
        // Refill never exceeds the burst.
        let mut b = TokenBucket::full(&limits, 0);
        assert!(b.take(&limits, 1_000_000).is_ok());
        assert!(b.take(&limits, 1_000_000).is_ok());
        assert!(b.take(&limits, 1_000_000).is_ok());
        assert!(b.take(&limits, 1_000_000).is_err());
    }

    #[test]
    fn settings_fall_back_to_defaults() {
        assert_eq!(Limits::from_settings(None, None), Limits::default());
        assert_eq!(
            Limits::from_settings(Some("x"), Some("-1")),
            Limits::default()
        );
        let l = Limits::from_settings(Some("1000"), Some("250.5"));
        assert_eq!((l.burst, l.per_sec), (1000.0, 250.5));
    }
}
