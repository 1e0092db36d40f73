//! The room's limits: the rate bucket each claim has in the room, the socket caps, the
//! refused-frame strikes that close a socket, and the typing interval.

/// The room's settings (wrangler `[vars]`, see [`Limits::from_vars`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Frames a claim may send at once in the room, all its sockets together
    /// (`RATE_LIMIT_BURST`).
    pub burst: f64,
    /// Frames per second it regains (`RATE_LIMIT_PER_SEC`).
    pub per_sec: f64,
    /// Open sockets one claim may hold in the room (`MAX_SOCKETS_PER_CLAIM`).
    pub sockets_per_claim: usize,
    /// Open sockets in the room (`MAX_SOCKETS_PER_ROOM`).
    pub sockets_per_room: usize,
    /// Refused frames a socket may send in a minute; one more closes it with 1008
    /// (`REFUSED_FRAMES_PER_MIN`).
    pub refused_per_min: u32,
    /// The least time between two typing frames about one person that reach everyone
    /// (`TYPING_INTERVAL_MS`; 0 sends every change at once).
    pub typing_interval_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            burst: 20.0,
            per_sec: 5.0,
            sockets_per_claim: 10,
            sockets_per_room: 2500,
            refused_per_min: 30,
            typing_interval_ms: 500,
        }
    }
}

/// The close code of a socket that sent too many refused frames (policy violation).
pub const CLOSE_POLICY: u16 = 1008;
/// The close reason that goes with it.
pub const CLOSE_POLICY_REASON: &str = "too many refused frames";
/// The window refused frames are counted in.
pub const STRIKE_WINDOW_MS: u64 = 60_000;

impl Limits {
    /// Reads every setting by its `[vars]` name; a missing or unusable value keeps its
    /// default.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let d = Limits::default();
        let rate = Limits::from_settings(
            var("RATE_LIMIT_BURST").as_deref(),
            var("RATE_LIMIT_PER_SEC").as_deref(),
        );
        let count = |name: &str, default: u64, max: u64| {
            var(name)
                .and_then(|s| s.trim().parse::<u64>().ok())
                .filter(|n| (1..=max).contains(n))
                .unwrap_or(default)
        };
        let typing = var("TYPING_INTERVAL_MS")
            .and_then(|s| s.trim().parse::<u64>().ok())
            .filter(|n| *n <= 60_000)
            .unwrap_or(d.typing_interval_ms);
        Limits {
            sockets_per_claim: count(
                "MAX_SOCKETS_PER_CLAIM",
                d.sockets_per_claim as u64,
                1_000_000,
            ) as usize,
            sockets_per_room: count("MAX_SOCKETS_PER_ROOM", d.sockets_per_room as u64, 1_000_000)
                as usize,
            refused_per_min: count(
                "REFUSED_FRAMES_PER_MIN",
                d.refused_per_min.into(),
                1_000_000,
            ) as u32,
            typing_interval_ms: typing,
            ..rate
        }
    }

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
            ..d
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

    /// Whether the bucket has refilled completely by `now`: it can be forgotten, since a
    /// fresh one would be the same.
    pub fn is_full(&self, limits: &Limits, now: u64) -> bool {
        let elapsed_ms = now.saturating_sub(self.at) as f64;
        self.tokens + elapsed_ms * limits.per_sec / 1000.0 >= limits.burst
    }
}

/// Refused frames of one socket, counted in fixed one-minute windows from the first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Strikes {
    since: u64,
    count: u32,
}

impl Strikes {
    /// Counts one refusal at `now`; false once the socket is past the limit.
    pub fn strike(&mut self, limits: &Limits, weight: u32, now: u64) -> bool {
        if self.count == 0 || now >= self.since.saturating_add(STRIKE_WINDOW_MS) {
            *self = Strikes {
                since: now,
                count: 0,
            };
        }
        self.count = self.count.saturating_add(weight);
        self.count <= limits.refused_per_min
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
            ..Limits::default()
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
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Limits::from_vars(vars(&[])), Limits::default());
        let bad: &'static [(&str, &str)] = &[
            ("MAX_SOCKETS_PER_CLAIM", "0"),
            ("MAX_SOCKETS_PER_ROOM", "-3"),
            ("REFUSED_FRAMES_PER_MIN", "many"),
            ("TYPING_INTERVAL_MS", "1e9"),
        ];
        assert_eq!(Limits::from_vars(vars(bad)), Limits::default());
        let good: &'static [(&str, &str)] = &[
            ("RATE_LIMIT_BURST", "7"),
            ("MAX_SOCKETS_PER_CLAIM", " 3 "),
            ("MAX_SOCKETS_PER_ROOM", "40"),
            ("REFUSED_FRAMES_PER_MIN", "5"),
            ("TYPING_INTERVAL_MS", "0"),
        ];
        let l = Limits::from_vars(vars(good));
        assert_eq!(
            (l.burst, l.per_sec, l.sockets_per_claim, l.sockets_per_room),
            (7.0, 5.0, 3, 40)
        );
        assert_eq!((l.refused_per_min, l.typing_interval_ms), (5, 0));
    }

    #[test]
    fn a_bucket_is_full_again_once_refilled() {
        let limits = Limits {
            burst: 4.0,
            per_sec: 2.0,
            ..Limits::default()
        };
        let mut b = TokenBucket::full(&limits, 0);
        assert!(b.is_full(&limits, 0));
        for _ in 0..4 {
            b.take(&limits, 0).unwrap();
        }
        assert!(!b.is_full(&limits, 1999));
        assert!(b.is_full(&limits, 2000));
    }

    #[test]
    fn strikes_close_past_the_limit_per_minute() {
        let limits = Limits {
            refused_per_min: 3,
            ..Limits::default()
        };
        let mut s = Strikes::default();
        assert!(s.strike(&limits, 1, 1000));
        assert!(s.strike(&limits, 1, 2000));
        assert!(s.strike(&limits, 1, 3000));
        assert!(!s.strike(&limits, 1, 4000), "the fourth in a minute");
        // A new minute starts afresh.
        let mut s = Strikes::default();
        for t in [0, 10, 20] {
            assert!(s.strike(&limits, 1, t));
        }
        assert!(s.strike(&limits, 1, 60_000));
        assert!(s.strike(&limits, 1, 60_001));
    }
}
