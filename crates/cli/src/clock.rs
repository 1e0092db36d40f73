//! Timestamps (milliseconds since the epoch) as a person reads them, in local time.

use chrono::{DateTime, Local, Utc};

fn local(ts: u64) -> Option<DateTime<Local>> {
    let ms = i64::try_from(ts).ok()?;
    Some(DateTime::<Utc>::from_timestamp_millis(ms)?.with_timezone(&Local))
}

/// `14:05`
pub fn time(ts: u64) -> String {
    local(ts).map_or_else(|| "--:--".into(), |t| t.format("%H:%M").to_string())
}

/// `2026-11-23 14:05`
pub fn date_time(ts: u64) -> String {
    local(ts).map_or_else(
        || "unknown".into(),
        |t| t.format("%Y-%m-%d %H:%M").to_string(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_and_survives_out_of_range_values() {
        assert_eq!(super::time(u64::MAX), "--:--");
        assert_eq!(super::time(1_700_000_000_000).len(), 5);
        assert_eq!(super::date_time(0).len(), 16);
    }
}
