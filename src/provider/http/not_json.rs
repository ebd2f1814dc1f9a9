//! `NotJson`: an answer that should have been JSON (an HTML error page, a proxy's text),
//! described by its status, content type and first line, with anything token-like masked and
//! control characters escaped, so the message is safe to print.

/// A response that should have been JSON and is not (an HTML error page, an empty body),
/// said with its status, `content-type` and first line only: shortened, control characters
/// escaped and token-like runs masked, since an error page may echo the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotJson {
    /// What answered: "the token endpoint", ...
    pub what: &'static str,
    pub status: u16,
    pub content_type: Option<String>,
    pub kind: BodyKind,
    pub first_line: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Html,
    Empty,
    Other,
}

/// The longest first line shown, in characters.
const FIRST_LINE_CHARS: usize = 100;
/// A run of token characters this long is masked: a JWT, an opaque token, a code.
const TOKEN_RUN_CHARS: usize = 20;

impl NotJson {
    /// `None` when `body` is JSON.
    pub fn check(
        what: &'static str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Option<Self> {
        if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
            return None;
        }
        let head = String::from_utf8_lossy(&body[..body.len().min(4096)]);
        let head = head.trim_start_matches('\u{feff}').trim_start();
        let lower = head.get(..15).unwrap_or(head).to_ascii_lowercase();
        let kind = if head.is_empty() {
            BodyKind::Empty
        } else if content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("html"))
            || lower.starts_with("<!doctype html")
            || lower.starts_with("<html")
        {
            BodyKind::Html
        } else {
            BodyKind::Other
        };
        let first_line = head
            .split(['\n', '\r'])
            .next()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .map(masked_line);
        Some(Self {
            what,
            status,
            content_type: content_type.map(|ct| shorten(&escape_controls(ct))),
            kind,
            first_line,
        })
    }
}

impl std::fmt::Display for NotJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            BodyKind::Html => "an HTML page",
            BodyKind::Empty => "an empty body",
            BodyKind::Other => "a body",
        };
        let content_type = self.content_type.as_deref().unwrap_or("no content-type");
        write!(
            f,
            "{} answered HTTP {} with {kind} ({content_type}), not JSON",
            self.what, self.status
        )?;
        if let Some(line) = &self.first_line {
            write!(f, ": first line: {line}")?;
        }
        Ok(())
    }
}

/// One line of a body, safe to show and log: token-like runs masked, control characters
/// escaped, at most `FIRST_LINE_CHARS` characters.
fn masked_line(line: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let n = run.chars().count();
        if n >= TOKEN_RUN_CHARS {
            out.push_str(&format!("[{n} characters masked]"));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in line.chars() {
        if c.is_ascii_alphanumeric() || "-._~+/".contains(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push_str(&escape_controls(c.encode_utf8(&mut [0; 4])));
        }
    }
    flush(&mut run, &mut out);
    shorten(&out)
}

fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= FIRST_LINE_CHARS {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(FIRST_LINE_CHARS).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_html_page_is_named_by_its_status_type_and_first_line() {
        let page = b"\n<!DOCTYPE html>\n<html><body>Server Error (500)</body></html>";
        let nj = NotJson::check("the token endpoint", 500, Some("text/html"), page).unwrap();
        assert_eq!(
            nj.to_string(),
            "the token endpoint answered HTTP 500 with an HTML page (text/html), not JSON: \
             first line: <!DOCTYPE html>"
        );
        let empty = NotJson::check("the token endpoint", 502, None, b"  ").unwrap();
        assert_eq!(
            empty.to_string(),
            "the token endpoint answered HTTP 502 with an empty body (no content-type), not JSON"
        );
        assert!(NotJson::check("x", 400, Some("text/html"), br#"{"error":"x"}"#).is_none());
        assert!(
            NotJson::check("x", 200, None, b"[1, 2]").is_none(),
            "JSON, if not an object"
        );
    }

    #[test]
    fn the_first_line_never_carries_a_token_or_a_control_character_and_is_bounded() {
        let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
        let body = format!(
            "invalid_grant: code={token}\x1b[31m\tred {}",
            "x ".repeat(200)
        );
        let nj = NotJson::check(
            "the token endpoint",
            400,
            Some("text/plain"),
            body.as_bytes(),
        )
        .unwrap();
        let line = nj.first_line.clone().unwrap();
        assert!(!line.contains("eyJhbGciOiJSUzI1NiJ9"), "{line}");
        assert!(line.contains("code=[49 characters masked]"), "{line}");
        assert!(line.contains("\\u{1b}[31m\\tred"), "{line}");
        assert!(!line.chars().any(char::is_control), "{line}");
        assert_eq!(line.chars().count(), FIRST_LINE_CHARS + 1, "{line}");
        assert!(line.ends_with('…'));
        assert_eq!(nj.kind, BodyKind::Other);
        // A body without its content-type still counts as HTML when it is one.
        let nj = NotJson::check("the token endpoint", 500, None, b"<HTML><head>").unwrap();
        assert_eq!(nj.kind, BodyKind::Html);
    }
}
