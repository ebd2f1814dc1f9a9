//! Token-endpoint answers that bend RFC 6749 section 5, as real providers send them, turned
//! into what the spec says before the oauth2 crate reads them. What the provider sent is kept
//! apart (as a JSON object) for display, and each quirk is named in a log line.

use serde_json::{Map, Value};

use crate::oauth::time::ExpiresIn;

/// A token-endpoint response, normalised.
#[derive(Debug)]
pub struct Normalized {
    /// What the provider sent, as a JSON object (a form-encoded body converted, values
    /// untouched); `None` when the body is neither.
    pub raw: Option<Map<String, Value>>,
    /// The status and JSON body handed to the oauth2 crate.
    pub status: u16,
    pub body: Vec<u8>,
    /// One sentence per quirk met.
    pub quirks: Vec<String>,
}

/// Reads a token (or introspection) response, whatever shape a provider gave it.
pub fn normalize(status: u16, content_type: Option<&str>, body: &[u8]) -> Normalized {
    let mut quirks = Vec::new();
    let is_form = content_type.is_some_and(|ct| {
        ct.trim_start()
            .starts_with("application/x-www-form-urlencoded")
    });
    let raw: Option<Map<String, Value>> = if is_form {
        // GitHub, unless the request says Accept: application/json.
        quirks.push("the token response is form-encoded, not JSON: read as JSON".to_owned());
        Some(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect(),
        )
    } else {
        serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| match v {
                Value::Object(map) => Some(map),
                _ => None,
            })
    };
    let Some(raw) = raw else {
        return Normalized {
            raw: None,
            status,
            body: body.to_vec(),
            quirks,
        };
    };
    let mut typed = raw.clone();
    let mut status = status;
    if (200..300).contains(&status)
        && typed.contains_key("error")
        && !typed.contains_key("access_token")
    {
        quirks.push(format!(
            "an error came back with HTTP {status}: treated as HTTP 400 (RFC 6749 section 5.2)"
        ));
        status = 400;
    }
    normalize_expires_in(&mut typed, &mut quirks);
    normalize_scope(&mut typed, &mut quirks);
    Normalized {
        body: serde_json::to_vec(&typed).unwrap_or_default(),
        raw: Some(raw),
        status,
        quirks,
    }
}

/// `expires_in` as a string of digits is read as the number; any other string is dropped.
fn normalize_expires_in(typed: &mut Map<String, Value>, quirks: &mut Vec<String>) {
    if let Some(lifetime @ Value::String(s)) = typed.get("expires_in") {
        match ExpiresIn::read(lifetime).secs() {
            Some(n) => {
                quirks.push(format!(
                    "expires_in is the string {s:?}, not a number: read as {n}"
                ));
                typed.insert("expires_in".into(), Value::from(n));
            }
            None => {
                quirks.push(format!(
                    "expires_in {s:?} is not a number of seconds: ignored"
                ));
                typed.remove("expires_in");
            }
        }
    }
}

/// `scope` as an array or comma-separated is made space-separated; any other type dropped.
fn normalize_scope(typed: &mut Map<String, Value>, quirks: &mut Vec<String>) {
    match typed.get("scope") {
        Some(Value::Array(items)) => {
            let joined = items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ");
            quirks.push("scope is an array, not a space-separated string: joined".to_owned());
            typed.insert("scope".into(), Value::String(joined));
        }
        Some(Value::String(s)) if s.contains(',') && !s.contains(' ') => {
            quirks.push(format!(
                "scope {s:?} is comma-separated, not space-separated: split at commas"
            ));
            typed.insert("scope".into(), Value::String(s.replace(',', " ")));
        }
        Some(Value::String(_)) | None => {}
        Some(_) => {
            quirks.push("scope is neither a string nor an array: ignored".to_owned());
            typed.remove("scope");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(n: &Normalized) -> Value {
        serde_json::from_slice(&n.body).unwrap()
    }

    #[test]
    fn a_spec_response_passes_untouched() {
        let sent = br#"{"access_token":"a","token_type":"Bearer","expires_in":3600,"scope":"openid email","x":1}"#;
        let n = normalize(200, Some("application/json"), sent);
        assert!(n.quirks.is_empty());
        assert_eq!(n.status, 200);
        assert_eq!(body(&n), serde_json::from_slice::<Value>(sent).unwrap());
        assert_eq!(Value::Object(n.raw.clone().unwrap()), body(&n));
    }

    #[test]
    fn github_style_form_encoding_and_comma_scopes() {
        let n = normalize(
            200,
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            b"access_token=gho_16C7e42F292c&scope=repo%2Cgist&token_type=bearer",
        );
        assert_eq!(n.quirks.len(), 2, "{:?}", n.quirks);
        assert_eq!(body(&n)["scope"], "repo gist");
        assert_eq!(
            n.raw.unwrap()["scope"],
            "repo,gist",
            "what was sent is kept"
        );
    }

    #[test]
    fn errors_with_http_200_become_400() {
        let n = normalize(200, Some("application/json"), br#"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}"#);
        assert_eq!(n.status, 400);
        assert_eq!(body(&n)["error"], "bad_verification_code");
    }

    #[test]
    fn string_lifetimes_and_array_scopes() {
        let n = normalize(200, None, br#"{"access_token":"a","token_type":"bearer","expires_in":"3599","scope":["openid","email"]}"#);
        assert_eq!(body(&n)["expires_in"], json!(3599));
        assert_eq!(body(&n)["scope"], "openid email");
        assert_eq!(n.raw.unwrap()["expires_in"], "3599");
        let n = normalize(
            200,
            None,
            br#"{"access_token":"a","expires_in":"soon","scope":7}"#,
        );
        assert!(body(&n).get("expires_in").is_none() && body(&n).get("scope").is_none());
    }

    #[test]
    fn anything_else_is_passed_on_for_the_parser_to_refuse() {
        for junk in [&b"<html>oops</html>"[..], b"[1,2]", b"", b"\xff\xfe"] {
            let n = normalize(502, Some("text/html"), junk);
            assert!(n.raw.is_none());
            assert_eq!((n.status, n.body.as_slice()), (502, junk));
        }
    }
}
