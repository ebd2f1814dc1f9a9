//! Masking tokens and secrets for display: the first characters stay, so a person can tell
//! two tokens apart, and the rest is gone.

use serde_json::Value;

/// Fields whose values are masked by `--redact` wherever they appear in a document.
const TOKEN_FIELDS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code",
];

/// A token shown by its first characters only.
pub fn mask_token(token: &str) -> String {
    let count = token.chars().count();
    if count <= 12 {
        return "****".to_owned();
    }
    let head: String = token.chars().take(6).collect();
    format!("{head}…({count} chars)")
}

/// The same document with every token field masked (`--redact`, for CI logs others read).
pub fn redact_json(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) if TOKEN_FIELDS.contains(&k.as_str()) => {
                            Value::String(mask_token(s))
                        }
                        other => redact_json(other),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_json).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_are_masked_at_any_depth() {
        let doc = json!({
            "token": {"access_token": "abcdefghijklmnopqrstuvwxyz", "expires_in": 3600, "scope": "openid"},
            "steps": [{"response": {"refresh_token": "0123456789abcdefghij", "sub": "u1"}}],
            "id_token": "short"
        });
        let r = redact_json(&doc);
        assert_eq!(r["token"]["access_token"], "abcdef…(26 chars)");
        assert_eq!(r["token"]["expires_in"], 3600);
        assert_eq!(r["token"]["scope"], "openid");
        assert_eq!(
            r["steps"][0]["response"]["refresh_token"],
            "012345…(20 chars)"
        );
        assert_eq!(r["steps"][0]["response"]["sub"], "u1");
        assert_eq!(r["id_token"], "****");
    }
}
