//! The one outbound HTTP client: rustls, no redirects followed (a back-channel redirect is an
//! SSRF vector, RFC 9700 section 4.11), a connect and a total timeout on every call, and
//! response bodies capped in size. Also `Recording`, its adapter for the oauth2 crate that
//! records the exchange, and `NotJson`, an answer that should have been JSON, described.

use std::error::Error as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use oauth2::http;
use reqwest::redirect::Policy;

use super::dpop::{self, Dpop};
use super::exchange::{Exchange, RecordedRequest, RecordedResponse};
use super::quirks::normalize;
use crate::config::{CaBundle, SignError};
use crate::redact::untrusted;
use crate::sync::lock;

/// The largest response body read from a provider.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an outbound call produced no usable response. Messages carry URLs and statuses,
/// never request bodies or headers (those hold secrets); what the server sent is escaped.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{} did not answer within {secs} s (OAUTH_HTTP_TIMEOUT)", untrusted(.url))]
    Timeout { url: String, secs: u64 },
    #[error("could not connect to {}: {}", untrusted(.url), untrusted(.detail))]
    Connect { url: String, detail: String },
    #[error(
        "{} answered with more than {limit} bytes; refusing to read further",
        untrusted(.url)
    )]
    TooLarge { url: String, limit: usize },
    #[error(
        "{} answered HTTP {status} redirecting to {}: redirects are not followed on \
         calls to the provider; configure the final URL instead",
        untrusted(.url),
        untrusted(.location)
    )]
    Redirect {
        url: String,
        status: u16,
        location: String,
    },
    #[error("request to {} failed: {}", untrusted(.url), untrusted(.detail))]
    Other { url: String, detail: String },
    /// The request cannot even be built (a URL too long for HTTP, say): hostile or broken
    /// metadata must end in this error, never in a panic. `url` is shortened.
    #[error("cannot make a request to {}: {}", untrusted(.url), untrusted(.detail))]
    InvalidRequest { url: String, detail: String },
}

impl HttpError {
    pub fn invalid_request(url: &str, detail: impl std::fmt::Display) -> Self {
        Self::InvalidRequest {
            url: shortened(url),
            detail: detail.to_string(),
        }
    }
}

/// A URL for a message: whole up to 200 characters, else its start and its length.
pub fn shortened(url: &str) -> String {
    const SHOWN: usize = 120;
    let count = url.chars().count();
    if count <= 200 {
        return url.to_owned();
    }
    let head: String = url.chars().take(SHOWN).collect();
    format!("{head}…({count} characters)")
}

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

/// A bounded response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    timeout: Duration,
}

impl HttpClient {
    pub fn new(timeout: Duration, ca: Option<&CaBundle>) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(Policy::none())
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .user_agent(concat!("oauth-test-client/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = ca {
            for cert in reqwest::Certificate::from_pem_bundle(&ca.pem)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        Ok(Self {
            client: builder.build()?,
            timeout,
        })
    }

    /// GET a URL, accepting JSON.
    pub async fn get(&self, url: &str) -> Result<Response, HttpError> {
        let request = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        self.send(url, request).await
    }

    /// A request to a protected resource without a token: its status and each
    /// `WWW-Authenticate` field line (RFC 9110 section 11.6.1 allows several).
    pub async fn request_without_token(
        &self,
        method: &str,
        url: &str,
    ) -> Result<(u16, Vec<String>), HttpError> {
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| HttpError::Other {
                url: url.to_owned(),
                detail: e.to_string(),
            })?;
        let request = self.client.request(method, url);
        let response = self.send(url, request).await?;
        let challenges = response
            .headers
            .get_all(reqwest::header::WWW_AUTHENTICATE)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        Ok((response.status, challenges))
    }

    /// Runs a request built by the oauth2 crate; used as its `AsyncHttpClient`.
    pub async fn execute(
        &self,
        request: oauth2::HttpRequest,
    ) -> Result<oauth2::HttpResponse, HttpError> {
        let url = request.uri().to_string();
        let (parts, body) = request.into_parts();
        let method =
            reqwest::Method::from_bytes(parts.method.as_str().as_bytes()).map_err(|e| {
                HttpError::Other {
                    url: url.clone(),
                    detail: e.to_string(),
                }
            })?;
        let mut builder = self.client.request(method, &url).body(body);
        for (name, value) in &parts.headers {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
        let response = self.send(&url, builder).await?;
        let mut out = http::Response::builder().status(response.status);
        for (name, value) in &response.headers {
            out = out.header(name.as_str(), value.as_bytes());
        }
        out.body(response.body).map_err(|e| HttpError::Other {
            url,
            detail: e.to_string(),
        })
    }

    async fn send(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Response, HttpError> {
        let mut response = request.send().await.map_err(|e| self.classify(url, e))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("(no Location header)")
                .to_owned();
            return Err(HttpError::Redirect {
                url: url.to_owned(),
                status: status.as_u16(),
                location,
            });
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err(HttpError::TooLarge {
                url: url.to_owned(),
                limit: MAX_BODY_BYTES,
            });
        }
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(url, e))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(HttpError::TooLarge {
                    url: url.to_owned(),
                    limit: MAX_BODY_BYTES,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status: status.as_u16(),
            headers,
            body,
        })
    }

    fn classify(&self, url: &str, e: reqwest::Error) -> HttpError {
        let url = url.to_owned();
        if e.is_timeout() {
            return HttpError::Timeout {
                url,
                secs: self.timeout.as_secs(),
            };
        }
        // The innermost causes say what went wrong (refused, DNS, certificate).
        let mut detail = Vec::new();
        let mut source = e.source();
        while let Some(s) = source {
            detail.push(s.to_string());
            source = s.source();
        }
        let detail = if detail.is_empty() {
            e.to_string()
        } else {
            detail.join(": ")
        };
        if e.is_connect() {
            let hint = if detail.contains("certificate") || detail.contains("UnknownIssuer") {
                " (if the provider uses a private CA, point OAUTH_CA_CERT at its PEM file)"
            } else {
                ""
            };
            HttpError::Connect {
                url,
                detail: format!("{detail}{hint}"),
            }
        } else {
            HttpError::Other { url, detail }
        }
    }
}

/// A form body with its `client_assertion` replaced.
fn with_assertion(body: &[u8], assertion: &str) -> Vec<u8> {
    let pairs = url::form_urlencoded::parse(body).map(|(k, v)| {
        let v = if k == "client_assertion" {
            assertion.to_owned()
        } else {
            v.into_owned()
        };
        (k.into_owned(), v)
    });
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

/// The status, body and `content-type` of the last response.
type Last = (u16, Vec<u8>, Option<String>);

/// Signs a new client assertion (RFC 7523), for a request sent again: the provider may have
/// seen the first one's `jti` already.
pub type FreshAssertion<'a> = &'a (dyn Fn() -> Result<Option<String>, SignError> + Send + Sync);

/// An `AsyncHttpClient` for the oauth2 crate that records the exchange it carries (masked)
/// and keeps the raw response, so the provider's JSON can be shown whole. One per call: each
/// call makes one request, so only the last one is kept.
pub struct Recording<'a> {
    http: &'a HttpClient,
    /// DPoP (RFC 9449): the key that signs a proof for each request, and the access token
    /// the request carries (for `ath`).
    dpop: Option<(&'a Dpop, Option<&'a str>)>,
    /// Token and introspection responses: read through `quirks::normalize`.
    normalize: bool,
    /// Client assertion requests: a retry carries a new `client_assertion`.
    fresh_assertion: Option<FreshAssertion<'a>>,
    exchange: Mutex<Option<Exchange>>,
    last: Mutex<Option<Last>>,
    quirks: Mutex<Vec<String>>,
}

impl<'a> Recording<'a> {
    pub fn new(http: &'a HttpClient) -> Self {
        Self {
            http,
            dpop: None,
            normalize: false,
            fresh_assertion: None,
            exchange: Mutex::new(None),
            last: Mutex::new(None),
            quirks: Mutex::new(Vec::new()),
        }
    }

    /// For the token endpoint: answers are normalised (form-encoded bodies, errors with
    /// HTTP 200, string lifetimes) before the oauth2 crate reads them.
    pub fn for_tokens(http: &'a HttpClient) -> Self {
        Self {
            normalize: true,
            ..Self::new(http)
        }
    }

    /// Each request carries a DPoP proof by `dpop` (when given), with `ath` for
    /// `access_token`; a nonce challenge is answered once.
    pub fn with_dpop(mut self, dpop: Option<&'a Dpop>, access_token: Option<&'a str>) -> Self {
        self.dpop = dpop.map(|d| (d, access_token));
        self
    }

    /// A request sent again (a DPoP nonce challenge) signs a new client assertion with
    /// `fresh`, when the client authenticates with one.
    pub fn with_fresh_assertion(mut self, fresh: FreshAssertion<'a>) -> Self {
        self.fresh_assertion = Some(fresh);
        self
    }

    /// Sends a request and records it (the response as the provider sent it).
    pub async fn send(
        &self,
        request: oauth2::HttpRequest,
    ) -> Result<oauth2::HttpResponse, HttpError> {
        let (recorded, result) = self.execute(request).await;
        let url = recorded.url.clone();
        *lock(&self.exchange) = Some(Exchange {
            request: recorded,
            response: result
                .as_ref()
                .ok()
                .map(|r| RecordedResponse::of(r.status().as_u16(), r.headers(), r.body())),
        });
        let response = result?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if !self.normalize {
            *lock(&self.last) = Some((
                status,
                response.body().clone(),
                content_type.map(str::to_owned),
            ));
            return Ok(response);
        }
        let n = normalize(status, content_type, response.body());
        for quirk in &n.quirks {
            log::warn!("quirk: {}", untrusted(quirk));
        }
        lock(&self.quirks).extend(n.quirks);
        let raw = match &n.raw {
            Some(map) => serde_json::to_vec(map).unwrap_or_default(),
            None => response.body().clone(),
        };
        *lock(&self.last) = Some((status, raw, content_type.map(str::to_owned)));
        let content_type = if n.raw.is_some() {
            "application/json"
        } else {
            content_type.unwrap_or("")
        };
        http::Response::builder()
            .status(n.status)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(n.body)
            .map_err(|e| HttpError::Other {
                url,
                detail: e.to_string(),
            })
    }

    /// Runs the request, with a DPoP proof when this client has a key: a `use_dpop_nonce`
    /// answer (RFC 9449 sections 8 and 9) is retried once with the nonce it gave. Returns
    /// the last request sent, masked.
    async fn execute(
        &self,
        request: oauth2::HttpRequest,
    ) -> (RecordedRequest, Result<oauth2::HttpResponse, HttpError>) {
        let Some((dpop, access_token)) = self.dpop else {
            return (
                RecordedRequest::of(&request),
                self.http.execute(request).await,
            );
        };
        let url = request.uri().to_string();
        let (parts, mut body) = request.into_parts();
        let mut retried = false;
        loop {
            let mut attempt = http::Request::new(body.clone());
            *attempt.method_mut() = parts.method.clone();
            *attempt.uri_mut() = parts.uri.clone();
            *attempt.headers_mut() = parts.headers.clone();
            let proof = dpop
                .proof(parts.method.as_str(), &url, access_token)
                .map_err(|e| HttpError::Other {
                    url: url.clone(),
                    detail: e.to_string(),
                })
                .and_then(|p| {
                    http::HeaderValue::from_str(&p).map_err(|e| HttpError::invalid_request(&url, e))
                });
            let proof = match proof {
                Ok(p) => p,
                Err(e) => return (RecordedRequest::of(&attempt), Err(e)),
            };
            attempt.headers_mut().insert("dpop", proof);
            let recorded = RecordedRequest::of(&attempt);
            let result = self.http.execute(attempt).await;
            let Ok(response) = &result else {
                return (recorded, result);
            };
            let nonce = response
                .headers()
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok());
            if let Some(nonce) = nonce {
                dpop.remember_nonce(&url, nonce);
            }
            let challenge = dpop::asks_for_nonce(
                response.status().as_u16(),
                response.headers(),
                response.body(),
            );
            if retried || nonce.is_none() || !challenge {
                return (recorded, result);
            }
            log::info!(
                "{} asked for a DPoP nonce (use_dpop_nonce): sending the request again with it",
                untrusted(&url)
            );
            if let Some(fresh) = self.fresh_assertion {
                match fresh() {
                    Ok(Some(assertion)) => body = with_assertion(&body, &assertion),
                    Ok(None) => {}
                    Err(e) => return (recorded, Err(HttpError::invalid_request(&url, e))),
                }
            }
            retried = true;
        }
    }

    /// The quirks met so far.
    pub fn quirks(&self) -> Vec<String> {
        lock(&self.quirks).clone()
    }

    /// The status and body of the last response received.
    pub fn last_response(&self) -> (u16, Vec<u8>) {
        lock(&self.last)
            .as_ref()
            .map_or((0, Vec::new()), |(status, body, _)| (*status, body.clone()))
    }

    /// The last response, described, when it was not JSON (nor a form-encoded token
    /// response, which was read as JSON).
    pub fn last_not_json(&self, what: &'static str) -> Option<NotJson> {
        let last = lock(&self.last);
        let (status, body, content_type) = last.as_ref()?;
        NotJson::check(what, *status, content_type.as_deref(), body)
    }

    /// The exchange made, if any.
    pub fn exchange(&self) -> Option<Exchange> {
        lock(&self.exchange).clone()
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for Recording<'_> {
    type Error = HttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers every request with `use_dpop_nonce` and a fresh nonce; counts the requests
    /// and keeps the `DPoP` header of each.
    async fn always_asks_for_a_nonce() -> (String, std::sync::Arc<Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token?x=1", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            for n in 0.. {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = vec![0u8; 16 * 1024];
                let len = socket.read(&mut buf).await.unwrap();
                let request = String::from_utf8_lossy(&buf[..len]).into_owned();
                let proof = request
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .find(|(name, _)| name.eq_ignore_ascii_case("dpop"))
                    .map(|(_, v)| v.trim().to_owned())
                    .unwrap_or_default();
                lock(&log).push(proof);
                let body = r#"{"error":"use_dpop_nonce"}"#;
                let head = format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\
                     dpop-nonce: nonce-{n}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                socket.write_all(head.as_bytes()).await.unwrap();
                socket.write_all(body.as_bytes()).await.unwrap();
            }
        });
        (url, seen)
    }

    #[tokio::test]
    async fn a_nonce_challenge_is_answered_once_with_the_nonce_given() {
        use base64::Engine as _;
        let (url, seen) = always_asks_for_a_nonce().await;
        let client = HttpClient::new(Duration::from_secs(5), None).unwrap();
        let key = Dpop::generate().unwrap();
        let recording = Recording::for_tokens(&client).with_dpop(Some(&key), None);
        let request = http::Request::builder()
            .method("POST")
            .uri(&url)
            .body(b"grant_type=refresh_token".to_vec())
            .unwrap();
        let response = recording.send(request).await.unwrap();
        assert_eq!(
            response.status().as_u16(),
            400,
            "the second refusal is the answer"
        );
        let proofs = lock(&seen).clone();
        assert_eq!(proofs.len(), 2, "one retry, no more");
        let claims = |proof: &str| -> serde_json::Value {
            let part = proof.split('.').nth(1).unwrap();
            serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(part)
                    .unwrap(),
            )
            .unwrap()
        };
        assert!(
            claims(&proofs[0]).get("nonce").is_none(),
            "none known at first"
        );
        assert_eq!(
            claims(&proofs[1])["nonce"],
            "nonce-0",
            "the nonce the server gave"
        );
        assert_eq!(claims(&proofs[1])["htu"], url.replace("?x=1", ""));
        let recorded = recording.exchange().unwrap().request;
        assert!(
            recorded
                .headers
                .iter()
                .any(|(n, v)| n == "dpop" && v == "[DPoP proof masked]"),
            "{:?}",
            recorded.headers
        );
        // The nonce the last answer gave is kept for the next proof to that server.
        let next = key.proof("POST", &url, None).unwrap();
        assert_eq!(claims(&next)["nonce"], "nonce-1");
    }

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
