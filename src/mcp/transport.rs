//! The Streamable HTTP transport (MCP 2025-11-25 and 2026-07-28, basic/transports), client
//! side: each message is a POST of one JSON-RPC message; a request's answer is one JSON body or
//! an SSE stream in which the response with the request's id arrives, maybe after the server's
//! own requests and notifications. Every POST names its method in `Mcp-Method` (and a tool's,
//! prompt's or resource's name in `Mcp-Name`, SEP-2243). Handshake revisions: after
//! `initialize`, every request carries `MCP-Session-Id` (when the server issued one) and
//! `MCP-Protocol-Version`. 2026-07-28 (stateless): every request carries the version header
//! and `params._meta` with the protocol version, client info and capabilities (SEP-2575).
//! Redirects are never followed (the bearer token would go along), every call is bounded in
//! time, every body in size.

use std::error::Error as _;
use std::time::Duration;

use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, WWW_AUTHENTICATE,
};
use serde_json::Value;
use url::Url;

use super::error::{McpError, Refusal};
use super::jsonrpc::{self, Incoming};

mod stream;
use crate::provider::challenge::{self, Bearer};
use crate::provider::dpop::{self, Dpop};
use crate::redact::{mask_token, untrusted};

pub const SESSION_HEADER: &str = "mcp-session-id";
pub const VERSION_HEADER: &str = "mcp-protocol-version";
pub const METHOD_HEADER: &str = "mcp-method";
pub const NAME_HEADER: &str = "mcp-name";
const ACCEPT_BOTH: &str = "application/json, text/event-stream";

/// How a response arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    Json,
    Sse,
}

impl Delivery {
    pub fn label(self) -> &'static str {
        match self {
            Self::Json => "a JSON body",
            Self::Sse => "an SSE stream",
        }
    }
}

/// A JSON-RPC result and how it came.
pub struct Answer {
    pub result: Value,
    pub delivery: Delivery,
}

/// One conversation with one MCP endpoint.
pub struct Transport<'a> {
    pub(super) http: &'a reqwest::Client,
    pub(super) url: &'a Url,
    pub(super) token: Option<&'a str>,
    /// `--dpop`: the token is DPoP-bound; each request carries a proof (RFC 9449 section 7).
    pub(super) dpop: Option<&'a Dpop>,
    pub(super) timeout: Duration,
    pub(super) max_body: usize,
    pub(super) session: Option<HeaderValue>,
    pub(super) version: Option<HeaderValue>,
    /// 2026-07-28: this `_meta` goes in every request's params (SEP-2575).
    pub(super) meta: Option<Value>,
    pub(super) next_id: u64,
}

impl Transport<'_> {
    /// Sends a request and waits for its response.
    pub async fn request(&mut self, method: &str, params: Value) -> Result<Answer, McpError> {
        self.next_id += 1;
        let id = self.next_id;
        let params = match (&self.meta, params) {
            (Some(meta), Value::Object(mut params)) => {
                params.insert("_meta".into(), meta.clone());
                Value::Object(params)
            }
            (_, params) => params,
        };
        let mut response = self
            .post(method, &jsonrpc::request(id, method, params))
            .await?;
        let status = response.status().as_u16();
        if status == 202 {
            return Err(self.protocol(
                method,
                "HTTP 202 with no body, but a request needs a response",
            ));
        }
        if method == "initialize" {
            self.session = match response.headers().get(SESSION_HEADER) {
                // Visible ASCII only (0x21 to 0x7E), transports section "Session Management".
                Some(v)
                    if !v.is_empty() && v.as_bytes().iter().all(|b| (0x21..=0x7e).contains(b)) =>
                {
                    Some(v.clone())
                }
                Some(_) => {
                    return Err(
                        self.protocol(method, "an MCP-Session-Id header that is not visible ASCII")
                    );
                }
                None => None,
            };
        }
        let content_type = content_type(response.headers());
        let delivery = match content_type.as_deref() {
            Some("text/event-stream") => Delivery::Sse,
            Some("application/json") => Delivery::Json,
            _ => {
                let body = self
                    .read_all(method, &mut response)
                    .await
                    .unwrap_or_default();
                return Err(self.not_json(method, status, content_type, &body));
            }
        };
        let message = match delivery {
            Delivery::Json => {
                let body = self.read_all(method, &mut response).await?;
                let Ok(value) = serde_json::from_slice::<Value>(&body) else {
                    return Err(self.not_json(method, status, content_type, &body));
                };
                // A 2025-03-26 server may answer with a batch.
                let found = match value {
                    Value::Array(items) => items.into_iter().find(|m| is_response_to(m, id)),
                    single => Some(single),
                };
                found.ok_or_else(|| {
                    self.protocol(
                        method,
                        &format!("no response with id {id} in the JSON body"),
                    )
                })?
            }
            Delivery::Sse => self.read_stream(method, id, &mut response).await?,
        };
        match jsonrpc::classify(&message) {
            Ok(Incoming::Response { id: got, outcome }) if jsonrpc::same_id(&got, id) => {
                match outcome {
                    Ok(result) => Ok(Answer { result, delivery }),
                    Err(e) => Err(McpError::JsonRpc {
                        url: self.url.to_string(),
                        method: method.to_owned(),
                        code: e.code,
                        message: self.scrub(&e.message),
                        data: e.data.map(|d| self.scrub(&shorten(&d.to_string()))),
                    }),
                }
            }
            Ok(Incoming::Response { id: got, .. }) => Err(self.protocol(
                method,
                &format!(
                    "the response has id {}, the request had {id}",
                    shorten(&got.to_string())
                ),
            )),
            Ok(_) => Err(self.protocol(
                method,
                "a request or notification where the response was due",
            )),
            Err(problem) => {
                Err(self.protocol(method, &format!("not a JSON-RPC 2.0 response: {problem}")))
            }
        }
    }

    /// Sends a notification; the status it was accepted with (202 is the rule).
    pub async fn notify(&mut self, method: &str) -> Result<u16, McpError> {
        let response = self.post(method, &jsonrpc::notification(method)).await?;
        Ok(response.status().as_u16())
    }

    /// Ends the session (transports, "Session Management": a client that no longer needs it
    /// SHOULD send DELETE). Best effort: a server may answer 405.
    pub async fn close(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        let mut request = self
            .http
            .delete(self.url.clone())
            .timeout(self.timeout)
            .header(SESSION_HEADER, session);
        if let Some(version) = &self.version {
            request = request.header(VERSION_HEADER, version.clone());
        }
        if let Some(token) = self.token {
            request = self.authorize(request, "DELETE", token);
        }
        let _ = request.send().await;
    }

    /// The access token as `Bearer`, or as `DPoP` with a proof for this request.
    fn authorize(
        &self,
        request: reqwest::RequestBuilder,
        method: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        let Some(dpop) = self.dpop else {
            return request.header(AUTHORIZATION, format!("Bearer {token}"));
        };
        let request = request.header(AUTHORIZATION, format!("DPoP {token}"));
        match dpop.proof(method, self.url.as_str(), Some(token)) {
            Ok(proof) => request.header("dpop", proof),
            Err(e) => {
                log::warn!("{e}: the MCP request goes without a proof");
                request
            }
        }
    }

    /// POSTs one message; a non-2xx status becomes its error here. With DPoP, a
    /// `use_dpop_nonce` challenge is answered once with the nonce it gave (RFC 9449 section 9).
    async fn post(&self, method: &str, body: &Value) -> Result<reqwest::Response, McpError> {
        let mut response = self.send_once(method, body).await?;
        if let Some(dpop) = self.dpop
            && let Some(nonce) = response
                .headers()
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        {
            dpop.remember_nonce(self.url.as_str(), &nonce);
            if dpop::asks_for_nonce(response.status().as_u16(), response.headers(), b"") {
                log::info!(
                    "{} asked for a DPoP nonce (use_dpop_nonce): sending the request again with it",
                    untrusted(self.url.as_str())
                );
                response = self.send_once(method, body).await?;
            }
        }
        self.accepted(method, response).await
    }

    async fn send_once(&self, method: &str, body: &Value) -> Result<reqwest::Response, McpError> {
        let mut request = self
            .http
            .post(self.url.clone())
            .timeout(self.timeout)
            .header(ACCEPT, ACCEPT_BOTH)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if let Some(session) = &self.session {
            request = request.header(SESSION_HEADER, session.clone());
        }
        if let Some(version) = &self.version {
            request = request.header(VERSION_HEADER, version.clone());
        }
        // SEP-2243: the method of a request or notification (not of a reply to the server's
        // own request), and the name it is about; a value a header cannot carry is left out.
        if let Some(name) = body.get("method").and_then(Value::as_str)
            && let Ok(value) = HeaderValue::from_str(name)
        {
            request = request.header(METHOD_HEADER, value);
            if let Some(target) = named(name, body.get("params"))
                && let Ok(value) = HeaderValue::from_str(target)
            {
                request = request.header(NAME_HEADER, value);
            }
        }
        if let Some(token) = self.token {
            request = self.authorize(request, "POST", token);
        }
        request.send().await.map_err(|e| self.failed(method, e))
    }

    /// A 2xx response, or the error its status means.
    async fn accepted(
        &self,
        method: &str,
        mut response: reqwest::Response,
    ) -> Result<reqwest::Response, McpError> {
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Ok(response);
        }
        let url = self.url.to_string();
        let method = method.to_owned();
        Err(match status {
            300..=399 => McpError::Redirect {
                url,
                method,
                status,
                location: response
                    .headers()
                    .get(LOCATION)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .unwrap_or_else(|| "(no Location header)".to_owned()),
            },
            401 => McpError::Unauthorized {
                url,
                method,
                sent_token: self.token.is_some(),
                refusal: Box::new(refusal(response.headers())),
            },
            403 => McpError::Forbidden {
                url,
                method,
                refusal: Box::new(refusal(response.headers())),
            },
            406 => McpError::NotAcceptable { url, method },
            _ => {
                let body = self
                    .read_all(&method, &mut response)
                    .await
                    .unwrap_or_default();
                if let Some(e) = rpc_error(&body) {
                    return Err(McpError::Rejected {
                        url,
                        method,
                        status,
                        code: e.code,
                        message: shorten(&self.scrub(&e.message)),
                        supported: e
                            .data
                            .as_ref()
                            .and_then(|d| d.get("supported"))
                            .and_then(Value::as_array)
                            .map(|v| {
                                v.iter()
                                    .filter_map(Value::as_str)
                                    .take(10)
                                    .map(shorten)
                                    .collect()
                            })
                            .unwrap_or_default(),
                    });
                }
                McpError::Status {
                    url,
                    method,
                    status,
                    first_line: self.first_line(&body),
                }
            }
        })
    }

    async fn read_all(
        &self,
        method: &str,
        response: &mut reqwest::Response,
    ) -> Result<Vec<u8>, McpError> {
        if response
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(self.too_large(method));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.failed(method, e))? {
            if body.len() + chunk.len() > self.max_body {
                return Err(self.too_large(method));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn failed(&self, method: &str, e: reqwest::Error) -> McpError {
        let url = self.url.to_string();
        let method = method.to_owned();
        if e.is_timeout() {
            return McpError::Timeout {
                url,
                method,
                secs: self.timeout.as_secs(),
            };
        }
        let mut causes = Vec::new();
        let mut source = e.source();
        while let Some(s) = source {
            causes.push(s.to_string());
            source = s.source();
        }
        let detail = if causes.is_empty() {
            e.to_string()
        } else {
            causes.join(": ")
        };
        if e.is_connect() {
            McpError::Connect { url, detail }
        } else {
            McpError::Request {
                url,
                method,
                detail,
            }
        }
    }

    fn too_large(&self, method: &str) -> McpError {
        McpError::TooLarge {
            url: self.url.to_string(),
            method: method.to_owned(),
            limit: self.max_body,
        }
    }

    pub(super) fn protocol(&self, method: &str, problem: &str) -> McpError {
        McpError::Protocol {
            url: self.url.to_string(),
            method: method.to_owned(),
            problem: self.scrub(problem),
        }
    }

    fn not_json(
        &self,
        method: &str,
        status: u16,
        content_type: Option<String>,
        body: &[u8],
    ) -> McpError {
        McpError::NotJson {
            url: self.url.to_string(),
            method: method.to_owned(),
            status,
            content_type: content_type.map(|c| shorten(&untrusted(c).to_string())),
            first_line: self.first_line(body),
        }
    }

    /// The first non-empty line of a body, shortened, escaped, the token masked.
    fn first_line(&self, body: &[u8]) -> Option<String> {
        let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
        let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
        Some(shorten(&untrusted(self.scrub(line)).to_string()))
    }

    /// Server text with this run's access token masked (an error page may echo the request).
    fn scrub(&self, text: &str) -> String {
        match self.token {
            Some(token) if token.len() >= 8 && text.contains(token) => {
                text.replace(token, &mask_token(token))
            }
            _ => text.to_owned(),
        }
    }
}

/// The name header's value (SEP-2243): `params.name` of `tools/call` and `prompts/get`,
/// `params.uri` of `resources/read`.
fn named<'v>(method: &str, params: Option<&'v Value>) -> Option<&'v str> {
    let field = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        _ => return None,
    };
    params?.get(field)?.as_str()
}

/// The JSON-RPC error in a refusal's body, when it holds one.
fn rpc_error(body: &[u8]) -> Option<jsonrpc::RpcError> {
    let value: Value = serde_json::from_slice(body).ok()?;
    // The id may be null or missing: the server could not tell which request it refuses.
    jsonrpc::rpc_error(value.get("error")?).ok()
}

fn is_response_to(message: &Value, id: u64) -> bool {
    matches!(jsonrpc::classify(message), Ok(Incoming::Response { id: got, .. }) if jsonrpc::same_id(&got, id))
}

/// The media type, lowercased, without parameters.
fn content_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    Some(
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase(),
    )
}

fn refusal(headers: &HeaderMap) -> Refusal {
    let lines: Vec<String> = headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let (bearer, problem) = match challenge::parse(lines.iter().map(String::as_str)) {
        Ok(challenges) => (Bearer::find(&challenges), None),
        Err(e) => (None, Some(e)),
    };
    Refusal {
        header: lines
            .iter()
            .map(|l| shorten_to(&untrusted(l).to_string(), 500))
            .collect(),
        bearer,
        problem,
    }
}

fn shorten(text: &str) -> String {
    shorten_to(text, 200)
}

fn shorten_to(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max).collect();
    short.push('…');
    short
}
