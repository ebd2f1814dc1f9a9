//! A record of one HTTP exchange with the provider or the resource server, for the pages:
//! seeing the exchange is what a test tool is for. Secrets and tokens in the request are
//! masked before they are recorded; nothing here is ever logged.

use serde::Serialize;

use crate::redact::{mask_field, mask_token};

/// The longest response body kept for display.
pub const MAX_SHOWN_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub request: RecordedRequest,
    pub response: Option<RecordedResponse>,
}

impl RecordedRequest {
    pub fn of(request: &oauth2::HttpRequest) -> Self {
        let headers = request
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = value.to_str().unwrap_or("(binary)");
                (name.as_str().to_owned(), mask_header(name.as_str(), value))
            })
            .collect();
        let body = request.body();
        Self {
            method: request.method().to_string(),
            url: request.uri().to_string(),
            headers,
            body: (!body.is_empty()).then(|| mask_form(body)),
        }
    }
}

impl RecordedResponse {
    pub fn of(status: u16, headers: &oauth2::http::HeaderMap, body: &[u8]) -> Self {
        // The headers a person checks first; the rest are noise for this purpose.
        let shown = [
            "content-type",
            "www-authenticate",
            "cache-control",
            "location",
        ];
        let headers = headers
            .iter()
            .filter(|(n, _)| shown.contains(&n.as_str()))
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or("(binary)").to_owned(),
                )
            })
            .collect();
        let truncated = body.len() > MAX_SHOWN_BYTES;
        let body = String::from_utf8_lossy(&body[..body.len().min(MAX_SHOWN_BYTES)]).into_owned();
        Self {
            status,
            headers,
            body,
            truncated,
        }
    }
}

fn mask_header(name: &str, value: &str) -> String {
    // A DPoP proof is a credential for its minute (RFC 9449 section 11.1).
    if name.eq_ignore_ascii_case("dpop") {
        return "[DPoP proof masked]".to_owned();
    }
    if !name.eq_ignore_ascii_case("authorization") {
        return value.to_owned();
    }
    match value.split_once(' ') {
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("basic") => {
            format!("{scheme} [client credentials masked]")
        }
        Some((scheme, token)) => format!("{scheme} {}", mask_token(token)),
        None => "[masked]".to_owned(),
    }
}

fn mask_form(body: &[u8]) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(body) {
        let shown = mask_field(&name, &value).unwrap_or_else(|| value.into_owned());
        out.append_pair(&name, &shown);
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_forms_and_headers_are_masked() {
        let form = b"grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&client_id=app\
                     &client_secret=s3cr3t%2Bvalue&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let masked = mask_form(form);
        assert!(masked.contains("client_id=app"));
        assert!(masked.contains("grant_type=authorization_code"));
        for secret in ["SplxlOBeZQQYbYS6WxSbIA", "s3cr3t", "dBjftJeZ4CVP"] {
            assert!(!masked.contains(secret), "{secret} in {masked}");
        }
        assert_eq!(
            mask_header("Authorization", "Basic YWJjOmRlZg=="),
            "Basic [client credentials masked]"
        );
        let bearer = mask_header("authorization", "Bearer abcdefghijklmnopqrstuvwxyz");
        assert!(
            bearer.starts_with("Bearer abcdef") && !bearer.contains("xyz"),
            "{bearer}"
        );
        assert_eq!(
            mask_header("accept", "application/json"),
            "application/json"
        );
        assert_eq!(mask_token("short"), "****");
    }
}
