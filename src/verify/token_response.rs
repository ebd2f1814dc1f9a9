//! Checks of the token response itself (RFC 6749 section 5.1).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::oauth::Check;
use crate::oauth::time::ExpiresIn;

/// `token_type`, `access_token`, `expires_in`, granted `scope` against the requested one, and
/// an `id_token` when `openid` was requested.
pub fn checks(token: &Map<String, Value>, requested: &[String]) -> Vec<Check> {
    let mut checks = Vec::new();
    checks.push(match token.get("token_type").and_then(Value::as_str) {
        Some(t) if t.eq_ignore_ascii_case("bearer") => {
            Check::pass("token.token_type", format!("{t} (any case is fine)"))
        }
        Some(t) => Check::fail(
            "token.token_type",
            format!("{t:?}: this client only uses bearer tokens (RFC 6750)"),
        ),
        None => Check::fail(
            "token.token_type",
            "missing (RFC 6749 section 5.1 requires it)",
        ),
    });
    checks.push(match token.get("access_token").and_then(Value::as_str) {
        Some(t) if !t.is_empty() => Check::pass(
            "token.access_token",
            format!("present, {} characters", t.len()),
        ),
        _ => Check::fail("token.access_token", "missing or empty"),
    });
    checks.push(match token.get("expires_in") {
        Some(lifetime) => match (ExpiresIn::read(lifetime), lifetime) {
            (ExpiresIn::Number(n), _) => Check::pass("token.expires_in", format!("{n} s")),
            (ExpiresIn::Text(_), Value::String(s)) => Check::warn(
                "token.expires_in",
                format!("{s:?} is a string; RFC 6749 says a number (accepted)"),
            ),
            (_, other) => Check::fail(
                "token.expires_in",
                format!("{other} is not a number of seconds"),
            ),
        },
        None => Check::warn(
            "token.expires_in",
            "absent: the lifetime is unknown (RFC 6749 RECOMMENDS it)",
        ),
    });
    let wanted: BTreeSet<&str> = requested.iter().map(String::as_str).collect();
    checks.push(match granted_scopes(token.get("scope")) {
        None => Check::pass(
            "token.scope",
            "absent, which means exactly the requested scopes (RFC 6749 section 5.1)",
        ),
        Some(granted) => {
            let granted: BTreeSet<&str> = granted.iter().map(String::as_str).collect();
            let missing: Vec<&str> = wanted.difference(&granted).copied().collect();
            let extra: Vec<&str> = granted.difference(&wanted).copied().collect();
            if !missing.is_empty() {
                Check::warn(
                    "token.scope",
                    format!("narrower than requested: not granted {missing:?}"),
                )
            } else if !extra.is_empty() {
                Check::pass(
                    "token.scope",
                    format!("all requested scopes, plus {extra:?}"),
                )
            } else {
                Check::pass("token.scope", "exactly the requested scopes")
            }
        }
    });
    if wanted.contains("openid") {
        checks.push(match token.get("id_token").and_then(Value::as_str) {
            Some(_) => Check::pass("token.id_token", "present, as the openid scope requires"),
            None => Check::fail(
                "token.id_token",
                "missing, though the openid scope was requested (Core 3.1.3.3)",
            ),
        });
    }
    checks
}

/// Space-separated per RFC 6749; some providers send commas or an array.
pub fn granted_scopes(scope: Option<&Value>) -> Option<Vec<String>> {
    match scope? {
        Value::String(s) => Some(
            s.split([' ', ','])
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::Verdict;
    use serde_json::json;

    fn verdict(token: Value, name: &str) -> Verdict {
        let requested = vec!["openid".to_owned(), "email".to_owned()];
        checks(token.as_object().unwrap(), &requested)
            .into_iter()
            .find(|c| c.check == name)
            .unwrap()
            .result
    }

    #[test]
    fn token_response_rules() {
        let good = json!({"access_token": "a", "token_type": "bearer", "expires_in": 3600,
                          "scope": "openid email", "id_token": "x.y.z"});
        for c in checks(
            good.as_object().unwrap(),
            &["openid".into(), "email".into()],
        ) {
            assert_eq!(c.result, Verdict::Pass, "{c:?}");
        }
        assert_eq!(
            verdict(json!({"token_type": "DPoP"}), "token.token_type"),
            Verdict::Fail
        );
        assert_eq!(
            verdict(json!({"expires_in": "3600"}), "token.expires_in"),
            Verdict::Warn
        );
        assert_eq!(
            verdict(json!({"scope": "openid"}), "token.scope"),
            Verdict::Warn
        );
        assert_eq!(
            verdict(json!({"scope": "openid,email"}), "token.scope"),
            Verdict::Pass
        );
        assert_eq!(
            verdict(json!({"scope": ["openid", "email"]}), "token.scope"),
            Verdict::Pass
        );
        assert_eq!(verdict(json!({}), "token.id_token"), Verdict::Fail);
    }
}
