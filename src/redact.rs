//! Masking tokens and secrets for display: the one mask (the first characters stay, so a
//! person can tell two tokens apart, and the rest is gone), the one list of secret fields,
//! and `untrusted`: text from the network made safe for a terminal.

use std::fmt;

use serde_json::{Map, Value};

/// The one list of fields whose values are secrets, wherever they appear: a JSON document
/// (`--redact`) or a form body recorded for the pages (`token` is the token sent for
/// introspection or revocation).
const SECRET_FIELDS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "client_secret",
    "code",
    "code_verifier",
    "client_assertion",
    "device_code",
    "password",
    "registration_access_token",
    "subject_token",
    "assertion",
];

/// Of those, the ones a recorded request never shows even in part: nobody needs to tell two
/// client secrets or PKCE verifiers apart by their first characters.
const NEVER_SHOWN: &[&str] = &[
    "client_secret",
    "code_verifier",
    "client_assertion",
    "password",
    "subject_token",
    "assertion",
];

/// Header-like keys whose whole value is a credential (an echoed request, say).
const CREDENTIAL_KEYS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "dpop",
    "x-api-key",
];

/// Shorter values are not masked inside other text: they would match by chance.
const MIN_KNOWN_LEN: usize = 8;

/// A token shown by its first characters only.
pub fn mask_token(token: &str) -> String {
    if token.chars().count() <= 12 {
        return "****".to_owned();
    }
    shorten(token, 6, "chars")
}

/// The first `shown` characters of `text` and its length in `unit`s: `abcdef…(26 chars)`.
pub fn shorten(text: &str, shown: usize, unit: &str) -> String {
    let count = text.chars().count();
    let head: String = text.chars().take(shown).collect();
    format!("{head}…({count} {unit})")
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_FIELDS.contains(&key.as_str()) || CREDENTIAL_KEYS.contains(&key.as_str())
}

/// A form field's value as a recorded request shows it: `None` when the field is not a
/// secret, `[masked]` for a secret never shown, else the token masked.
pub fn mask_field(name: &str, value: &str) -> Option<String> {
    if NEVER_SHOWN.contains(&name) {
        Some("[masked]".to_owned())
    } else if SECRET_FIELDS.contains(&name) {
        Some(mask_token(value))
    } else {
        None
    }
}

/// The same document with every secret masked (`--redact`, for CI logs others read): the
/// values of token and credential fields at any depth, and every occurrence, anywhere in any
/// string, of a value in `known` (the tokens and secrets this run holds) or of a token field's
/// value found in the document itself (an API that echoes `Authorization: Bearer ...`).
pub fn redact_json(value: &Value, known: &[String]) -> Value {
    let mut secrets: Vec<String> = known
        .iter()
        .filter(|s| s.len() >= MIN_KNOWN_LEN)
        .cloned()
        .collect();
    collect_secrets(value, &mut secrets);
    // Longest first, so a token containing another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    mask_value(value, &secrets)
}

fn collect_secrets(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if is_secret_key(k) => {
                        let s = strip_scheme(s);
                        if s.len() >= MIN_KNOWN_LEN {
                            out.push(s.to_owned());
                        }
                    }
                    other => collect_secrets(other, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secrets(v, out)),
        _ => {}
    }
}

/// `Bearer abc` -> `abc`: the credential itself, after an auth scheme.
fn strip_scheme(s: &str) -> &str {
    match s.split_once(' ') {
        Some((scheme, rest))
            if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            rest.trim()
        }
        _ => s,
    }
}

fn mask_value(value: &Value, secrets: &[String]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) if is_secret_key(k) => Value::String(mask_credential(s)),
                        other => mask_value(other, secrets),
                    };
                    (k.clone(), v)
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| mask_value(v, secrets)).collect()),
        Value::String(s) => Value::String(mask_within(s, secrets)),
        other => other.clone(),
    }
}

/// A credential field: `Bearer abc...` keeps its scheme, the credential is masked.
fn mask_credential(s: &str) -> String {
    let credential = strip_scheme(s);
    if credential.len() == s.len() {
        mask_token(s)
    } else {
        let scheme = &s[..s.len() - credential.len()];
        format!("{scheme}{}", mask_token(credential))
    }
}

fn mask_within(s: &str, secrets: &[String]) -> String {
    let mut out = s.to_owned();
    for secret in secrets {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), &mask_token(secret));
        }
    }
    out
}

/// Text from the network or a request (a query key, a provider's `error_description`, a
/// header, a URL from metadata), for a log line or a message that reaches a terminal. Shown
/// as it is, except the characters that could forge or hide log text: control characters
/// (ESC sequences, CR, LF, C1 such as CSI) and the invisible or bidirectional formatting
/// characters (Trojan Source, CVE-2021-42574) come out as `char::escape_debug` writes them
/// (`\u{1b}`, `\n`, `\u{202e}`). Other Unicode stays readable; escaping twice changes nothing.
pub fn untrusted<T: fmt::Display>(value: T) -> Untrusted<T> {
    Untrusted(value)
}

/// See [`untrusted`].
#[derive(Debug, Clone, Copy)]
pub struct Untrusted<T>(T);

impl<T: fmt::Display> fmt::Display for Untrusted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        write!(Escaping(f), "{}", self.0)
    }
}

/// Escapes as it writes, so no copy is made.
struct Escaping<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some((at, c)) = rest.char_indices().find(|(_, c)| is_unsafe(*c)) {
            self.0.write_str(&rest[..at])?;
            write!(self.0, "{}", c.escape_debug())?;
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

/// Characters that move the cursor, start an escape sequence, reorder or hide text.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Arabic letter mark, LRM, RLM, LRE..RLO, LRI..PDI (Unicode bidi controls).
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            // Line and paragraph separators (line breaks to some terminals and viewers).
            | '\u{2028}' | '\u{2029}'
            // Zero-width space, word joiner and invisible operators, deprecated format
            // characters, the byte order mark, interlinear annotations.
            | '\u{200B}' | '\u{2060}'..='\u{2064}' | '\u{206A}'..='\u{206F}' | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
        )
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
        let r = redact_json(&doc, &[]);
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

    #[test]
    fn echoed_tokens_are_masked_wherever_they_appear() {
        let token = "eyJhbGciOiJSUzI1NiJ9.payload-of-the-access-token.signature";
        let secret = "the-client-secret-value";
        let doc = json!({
            "token": {"access_token": token},
            "steps": [{"response": {
                "headers": {"Authorization": format!("Bearer {token}"), "X-Echo": format!("got {secret}!")},
                "echo": format!("token={token}&x=1"),
            }}],
        });
        let text = redact_json(&doc, &[secret.to_owned()]).to_string();
        assert!(!text.contains(token), "{text}");
        assert!(!text.contains(secret), "{text}");
        assert!(text.contains("Bearer eyJhbG…"), "{text}");
        // Known values of this run are masked even when the document has no token field.
        let alone = json!({"body": format!("echo {token}")});
        assert!(
            !redact_json(&alone, &[token.to_owned()])
                .to_string()
                .contains(token)
        );
    }

    #[test]
    fn untrusted_text_cannot_forge_or_hide_log_text() {
        let shown = |s: &str| untrusted(s).to_string();
        assert_eq!(
            shown("x\u{1b}[2J\u{1b}]0;pwned\u{7}\r\n[INFO] fake"),
            r"x\u{1b}[2J\u{1b}]0;pwned\u{7}\r\n[INFO] fake"
        );
        assert_eq!(shown("\u{9b}31m\u{7f}\0\t"), r"\u{9b}31m\u{7f}\0\t");
        assert_eq!(
            shown("admin\u{202e}gpj.exe\u{2066}\u{2069}\u{200b}\u{feff}\u{2028}"),
            r"admin\u{202e}gpj.exe\u{2066}\u{2069}\u{200b}\u{feff}\u{2028}"
        );
        // Ordinary text, in any script, stays as it is (combining marks, ZWJ emoji too).
        for plain in [
            "https://idp.example/authorize?a=b&c=%20",
            "invalid_grant: \"code\" expired \\ retry",
            "Zoë, Łódź, 東京, عربى, हिन्दी, e\u{301}, 👩\u{200d}💻",
            "",
        ] {
            assert_eq!(shown(plain), plain);
        }
        // Any Display, errors included; escaping twice changes nothing.
        let once = untrusted(format_args!("{}:{}", "a\nb", 7)).to_string();
        assert_eq!(once, r"a\nb:7");
        assert_eq!(untrusted(&once).to_string(), once);
    }

    #[test]
    fn debug_formatting_escapes_the_same_characters() {
        // Log lines that print a provider string with `{:?}` need no `untrusted`.
        for c in (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|c| is_unsafe(*c))
        {
            let debug = format!("{:?}", c.to_string());
            assert!(!debug.chars().any(is_unsafe), "{c:?} -> {debug}");
        }
    }
}
