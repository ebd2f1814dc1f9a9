//! The one clock and the one way to show a time: seconds since the Unix epoch, those seconds
//! as UTC text, and the one reading of a token's `expires_in`.

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

/// A token's `expires_in` (RFC 6749 section 5.1), read the one way: seconds as a JSON number,
/// or as a string of digits (a quirk some providers have).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiresIn {
    /// A number of seconds, as the RFC says.
    Number(u64),
    /// A string of digits, read as seconds.
    Text(u64),
    /// Not a number of seconds (negative, fractional, words, another JSON type).
    Invalid,
}

impl ExpiresIn {
    pub fn read(value: &serde_json::Value) -> Self {
        match value {
            serde_json::Value::String(s) => s.trim().parse().map_or(Self::Invalid, Self::Text),
            other => other.as_u64().map_or(Self::Invalid, Self::Number),
        }
    }

    /// The lifetime in seconds, however it was written.
    pub fn secs(self) -> Option<u64> {
        match self {
            Self::Number(n) | Self::Text(n) => Some(n),
            Self::Invalid => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_in_as_a_number_or_a_numeric_string() {
        use serde_json::json;
        assert_eq!(ExpiresIn::read(&json!(3600)), ExpiresIn::Number(3600));
        assert_eq!(ExpiresIn::read(&json!(" 120 ")), ExpiresIn::Text(120));
        for bad in [
            json!("soon"),
            json!(-5),
            json!(1.5),
            json!(null),
            json!([1]),
        ] {
            assert_eq!(ExpiresIn::read(&bad), ExpiresIn::Invalid, "{bad}");
            assert_eq!(ExpiresIn::read(&bad).secs(), None);
        }
    }

    #[test]
    fn utc_text() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert!(epoch_seconds(&u64::MAX.into()).is_some_and(|s| s.ends_with("UTC)")));
        assert_eq!(epoch_seconds(&serde_json::json!("x")), None);
    }
}
