//! The one clock and the one way to show a time: seconds since the Unix epoch, and those
//! seconds as UTC text.

use time::OffsetDateTime;

/// Seconds since the Unix epoch, now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`; past year 9999 (a provider's
/// "never expires"), a plain statement of that.
pub fn utc(secs: u64) -> String {
    let at = i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok());
    match at {
        Some(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => "after 9999-12-31 UTC".to_owned(),
    }
}

/// A claim holding seconds since the epoch, as `1700000000 (2023-11-14 22:13:20 UTC)`.
pub fn epoch_seconds(value: &serde_json::Value) -> Option<String> {
    let secs = value.as_u64()?;
    Some(format!("{secs} ({})", utc(secs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert!(epoch_seconds(&u64::MAX.into()).is_some_and(|s| s.ends_with("UTC)")));
        assert_eq!(epoch_seconds(&serde_json::json!("x")), None);
    }
}
