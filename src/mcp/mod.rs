//! An MCP-aware check of an MCP server over Streamable HTTP, with the access token the sign-in
//! produced (or none, for a server that needs none). Both protocol generations: 2026-07-28
//! (stateless: `server/discover`, `_meta` and headers on every request) and the handshake
//! revisions 2025-11-25, 2025-06-18 and 2025-03-26 (`initialize`, `notifications/initialized`).
//! Which one a server speaks is detected (`lifecycle`): `server/discover` first, then
//! `initialize`; `--mcp-revision` only overrides.
//!
//! Then `tools/list` (every page) and optionally one `tools/call`; each a named check
//! (`mcp.discover` or `mcp.initialize`, `mcp.protocol_version`, `mcp.initialized`,
//! `mcp.tools_list`, `mcp.tools_call`). A 401 or 403 comes back with its `WWW-Authenticate`
//! challenge parsed, so a caller can step up on `insufficient_scope`.
//!
//! A layer beside `provider`: it makes outbound HTTP and takes plain inputs (the server's URL,
//! a bearer token, a timeout, optionally a `reqwest::Client`); it knows nothing of the app's
//! configuration or state. `rmcp`, the official Rust SDK, was measured for this and left out:
//! its client with reqwest and rustls adds 42 crates (a second reqwest, aws-lc-sys) and 190 s
//! to a clean build.

mod error;
mod jsonrpc;
mod lifecycle;
mod progress;
mod sse;
mod tool_call;
mod tools;
mod transport;

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use url::Url;

use crate::oauth::Check;
use crate::provider::dpop::Dpop;
pub use error::{McpError, Refusal};
pub use tool_call::{FIRST_TOOL, ToolCall, ToolCallError};
pub use transport::Delivery;
use transport::Transport;

/// The stateless revision (SEP-2575): no handshake, asked for with `server/discover`.
pub const STATELESS_VERSION: &str = "2026-07-28";
/// The newest handshake revision, which `initialize` asks for.
pub const PROTOCOL_VERSION: &str = "2025-11-25";
/// Every handshake revision whose `initialize` answer this client accepts, newest first.
pub const SUPPORTED_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
/// The largest response read from an MCP server (a long tool list with schemas fits).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `serverInfo` of the `initialize` result (2026-07-28: of `server/discover`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerInfo {
    pub name: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// One entry of `tools/list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tool {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its `inputSchema`, whole (JSON Schema keywords kept as sent).
    #[serde(rename = "inputSchema", skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
}

/// The outcome of the optional `tools/call`.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    pub tool: String,
    /// The `CallToolResult` as the server sent it (`isError: true` included), or why there is
    /// none (a 403 `insufficient_scope`, a JSON-RPC error).
    pub result: Result<Value, McpError>,
}

impl CallOutcome {
    /// The result's `isError` flag: the tool itself reported a failure.
    pub fn tool_error(&self) -> bool {
        self.result
            .as_ref()
            .is_ok_and(|r| r.get("isError") == Some(&Value::Bool(true)))
    }
}

impl Serialize for CallOutcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.result {
            Ok(result) => json!({ "tool": self.tool, "result": result }),
            Err(e) => json!({ "tool": self.tool, "error": e.to_json() }),
        }
        .serialize(s)
    }
}

/// How a server was spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lifecycle {
    /// 2026-07-28: `server/discover`, then `_meta` on every request, no session.
    Stateless,
    /// 2025-11-25 and before: `initialize`, `notifications/initialized`, maybe a session.
    Handshake,
}

/// A completed check of a server (its handshake, or `server/discover`).
#[derive(Debug, Clone, Serialize)]
pub struct Handshake {
    pub url: String,
    pub server: ServerInfo,
    /// The MCP revision spoken (`mcp.revision` in the report).
    pub revision: String,
    pub lifecycle: Lifecycle,
    /// The revision the server answered with (its `protocolVersion`, or for 2026-07-28
    /// the revision spoken).
    pub protocol_version: String,
    /// 2026-07-28: the versions `server/discover` listed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supported_versions: Vec<String>,
    /// The server's `capabilities`, whole.
    pub capabilities: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Whether the server issued an `MCP-Session-Id` (its value is a credential: not kept).
    pub session: bool,
    /// How `initialize` (or `server/discover`) was answered.
    pub delivery: Delivery,
    pub tools: Vec<Tool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<CallOutcome>,
    pub checks: Vec<Check>,
}

/// A handshake that stopped: the error, and the checks up to it (the last one failed).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{error}")]
pub struct Failure {
    pub error: McpError,
    pub checks: Vec<Check>,
}

/// Talks MCP to one server after another.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    timeout: Duration,
    max_body: usize,
    /// `--mcp-revision`: speak this revision, not the detected one.
    revision: Option<&'static str>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mcp::Client")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Its own HTTP client: rustls, no redirects followed, connect and total timeouts.
    pub fn new(timeout: Duration) -> Result<Self, McpError> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .user_agent(concat!("oauth-test-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| McpError::Client(e.to_string()))?;
        Ok(Self::with_http(http, timeout))
    }

    /// A client the caller built (a private CA, say); it must not follow redirects. Each
    /// request is still bounded by `timeout`, each body by [`MAX_BODY_BYTES`].
    pub fn with_http(http: reqwest::Client, timeout: Duration) -> Self {
        Self {
            http,
            timeout,
            max_body: MAX_BODY_BYTES,
            revision: None,
        }
    }

    /// Speaks this revision (`--mcp-revision`) instead of detecting one: 2026-07-28 goes
    /// straight to `server/discover`, an older one straight to `initialize` asking for it.
    pub fn asking_for(mut self, revision: &'static str) -> Self {
        self.revision = Some(revision);
        self
    }

    /// The handshake with the MCP endpoint at `url`, then `call` when given. `access_token`
    /// goes in `Authorization: Bearer`; without one, expect [`McpError::Unauthorized`].
    pub async fn check(
        &self,
        url: &Url,
        access_token: Option<&str>,
        call: Option<&ToolCall>,
    ) -> Result<Handshake, Failure> {
        self.check_with_dpop(url, access_token, call, None).await
    }

    /// The same, with a DPoP-bound `access_token` sent as `DPoP` with a proof signed by
    /// `dpop` on each request (RFC 9449 section 7).
    pub async fn check_with_dpop(
        &self,
        url: &Url,
        access_token: Option<&str>,
        call: Option<&ToolCall>,
        dpop: Option<&Dpop>,
    ) -> Result<Handshake, Failure> {
        let mut transport = Transport {
            http: &self.http,
            url,
            token: access_token,
            dpop,
            timeout: self.timeout,
            max_body: self.max_body,
            session: None,
            version: None,
            meta: None,
            next_id: 0,
        };
        let mut progress = progress::Progress::default();
        let outcome = lifecycle::run(&mut transport, url, call, self.revision, &mut progress).await;
        transport.close().await;
        outcome.map_err(|error| Failure {
            checks: progress.failed(error.to_string()),
            error,
        })
    }
}
