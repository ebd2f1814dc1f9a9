//! The ID token's time claims (`exp`, `iat`, `nbf`, `auth_time`), each against this
//! machine's clock with `SKEW_SECS` of skew.

use serde_json::{Map, Value};

use crate::oauth::Check;

/// Clock skew allowed on `exp`, `iat` and `nbf`.
pub const SKEW_SECS: u64 = 60;
/// An `iat` older than this is reported as a warning.
const OLD_IAT_SECS: u64 = 24 * 3600;
/// An `auth_time` before this (2001-09-09) cannot be a sign-in by a user of this provider:
/// 0, or a count in the wrong unit.
const PLAUSIBLE_AUTH_TIME: u64 = 1_000_000_000;

type Claims = Map<String, Value>;

// Times come from the provider: every sum saturates, so u64::MAX is just "far future"
// (never an overflow panic in debug builds or a wrap-around in release).

/// Step 9, with `SKEW_SECS` of clock skew.
pub(super) fn exp_check(claims: &Claims, now: u64) -> Check {
    match claims.get("exp").and_then(Value::as_u64) {
        Some(exp) if now <= exp.saturating_add(SKEW_SECS) => Check::pass(
            "id_token.exp",
            format!("expires in {} s (step 9)", exp.saturating_sub(now)),
        ),
        Some(exp) => Check::fail(
            "id_token.exp",
            format!("expired {} s ago", now.saturating_sub(exp)),
        ),
        None => Check::fail("id_token.exp", "missing or not a number"),
    }
}

/// Step 10: not in the future (beyond the skew); old is a warning.
pub(super) fn iat_check(claims: &Claims, now: u64) -> Check {
    match claims.get("iat").and_then(Value::as_u64) {
        Some(iat) if iat > now.saturating_add(SKEW_SECS) => Check::fail(
            "id_token.iat",
            format!(
                "{} s in the future: check this machine's clock",
                iat.saturating_sub(now)
            ),
        ),
        Some(iat) if now.saturating_sub(iat) > OLD_IAT_SECS => Check::warn(
            "id_token.iat",
            format!("issued {} s ago (step 10)", now.saturating_sub(iat)),
        ),
        Some(iat) => Check::pass(
            "id_token.iat",
            format!("issued {} s ago", now.saturating_sub(iat)),
        ),
        None => Check::fail("id_token.iat", "missing or not a number"),
    }
}

/// RFC 7519 section 4.1.5: not to be accepted before `nbf` (same skew as `iat`).
pub(super) fn nbf_check(claims: &Claims, now: u64) -> Option<Check> {
    let nbf = claims.get("nbf")?;
    Some(match nbf.as_u64() {
        Some(nbf) if nbf > now.saturating_add(SKEW_SECS) => Check::fail(
            "id_token.nbf",
            format!(
                "not valid for another {} s (RFC 7519 section 4.1.5): check this machine's clock",
                nbf.saturating_sub(now)
            ),
        ),
        Some(_) => Check::pass("id_token.nbf", "already valid (RFC 7519 section 4.1.5)"),
        None => Check::fail("id_token.nbf", format!("{nbf} is not a number of seconds")),
    })
}

/// Core 2 (`auth_time`: when the user signed in), when present: a time a sign-in can have
/// happened at. `max_age` processing (Core 3.1.2.1) compares it with now, so 0 (1970) would
/// read as a sign-in too old for any `max_age`.
pub(super) fn auth_time_check(claims: &Claims, now: u64) -> Option<Check> {
    let value = claims.get("auth_time")?;
    Some(match value.as_u64() {
        Some(t) if t < PLAUSIBLE_AUTH_TIME => Check::warn(
            "id_token.auth_time",
            format!(
                "{t}: says the user signed in {t} s after 1970-01-01, which is implausible \
                 (OpenID Connect Core 2: the time of the sign-in; max_age processing, Core \
                 3.1.2.1, would find it too old)"
            ),
        ),
        Some(t) if t > now.saturating_add(SKEW_SECS) => Check::fail(
            "id_token.auth_time",
            format!(
                "{} s in the future (Core 2): check this machine's clock",
                t.saturating_sub(now)
            ),
        ),
        Some(t) => Check::pass(
            "id_token.auth_time",
            format!(
                "the user signed in {} s ago (Core 2)",
                now.saturating_sub(t)
            ),
        ),
        None => Check::fail(
            "id_token.auth_time",
            format!("{value} is not a number of seconds (Core 2)"),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(auth_time: Value) -> Claims {
        let mut c = Map::new();
        c.insert("auth_time".into(), auth_time);
        c
    }

    #[test]
    fn auth_time_is_a_plausible_moment_in_the_past() {
        let now = 1_800_000_000;
        assert!(auth_time_check(&Map::new(), now).is_none(), "optional");
        let zero = auth_time_check(&claims(0.into()), now).unwrap();
        assert_eq!(zero.result, crate::oauth::Verdict::Warn, "{}", zero.detail);
        assert!(zero.detail.contains("implausible"), "{}", zero.detail);
        let recent = auth_time_check(&claims((now - 30).into()), now).unwrap();
        assert_eq!(
            recent.result,
            crate::oauth::Verdict::Pass,
            "{}",
            recent.detail
        );
        let future = auth_time_check(&claims((now + 3600).into()), now).unwrap();
        assert_eq!(future.result, crate::oauth::Verdict::Fail);
        let text = auth_time_check(&claims("yesterday".into()), now).unwrap();
        assert_eq!(text.result, crate::oauth::Verdict::Fail);
        let huge = auth_time_check(&claims(u64::MAX.into()), now).unwrap();
        assert_eq!(huge.result, crate::oauth::Verdict::Fail);
    }
}
