//! The one outbound HTTP client: rustls, no redirects followed (a back-channel redirect is an
//! SSRF vector, RFC 9700 section 4.11), a connect and a total timeout on every call, and
//! response bodies capped in size. Its adapter for the oauth2 crate that records the exchange
//! is in `http/recording.rs`; an answer that should have been JSON, described, in
//! `http/not_json.rs`.

mod not_json;
mod recording;

pub use not_json::{BodyKind, NotJson};
pub use recording::{FreshAssertion, Recording};

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
