//! An MCP-aware check of a protected MCP server: the real handshake over Streamable HTTP
//! (MCP revision 2025-11-25; servers on 2025-06-18 and 2025-03-26 are accepted), with the
//! access token the sign-in produced.
//!
//! `initialize` (JSON-RPC 2.0, `Accept: application/json, text/event-stream`, the reply read
//! as JSON or as an SSE stream), `notifications/initialized`, `tools/list` (every page), and
//! optionally one `tools/call`; each a named check (`mcp.initialize`, `mcp.protocol_version`,
//! `mcp.initialized`, `mcp.tools_list`, `mcp.tools_call`). A 401 or 403 comes back with its
//! `WWW-Authenticate` challenge parsed, so a caller can step up on `insufficient_scope`.
//!
//! A layer beside `provider`: it makes outbound HTTP and takes plain inputs (the server's URL,
//! a bearer token, a timeout, optionally a `reqwest::Client`); it knows nothing of the app's
//! configuration or state. `rmcp`, the official Rust SDK, was measured for this and left out:
//! its client with reqwest and rustls adds 42 crates (a second reqwest, aws-lc-sys) and 190 s
//! to a clean build.

mod error;
mod jsonrpc;
mod sse;
mod transport;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use reqwest::header::HeaderValue;
use serde::Serialize;
use serde_json::{Map, Value, json};
use url::Url;

use crate::oauth::Check;
use crate::provider::dpop::Dpop;
use crate::redact::untrusted;
pub use error::{McpError, Refusal};
pub use transport::Delivery;
use transport::Transport;

/// The revision this client speaks first.
pub const PROTOCOL_VERSION: &str = "2025-11-25";
/// Every revision whose answer this client accepts, newest first.
pub const SUPPORTED_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
/// The largest response read from an MCP server (a long tool list with schemas fits).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// `tools/list` pages followed at most.
const MAX_PAGES: usize = 20;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `--mcp-call '*'`: the first tool the server lists.
pub const FIRST_TOOL: &str = "*";

/// A tool to call after the handshake: `NAME` or `NAME:{"json":"arguments"}` (`*` for the
/// first tool the server lists).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub name: String,
    pub arguments: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolCallError {
    #[error("the tool call {spec:?} has no tool name: write NAME or NAME:{{\"arg\":\"value\"}}")]
    NoName { spec: String },
    #[error(
        "the arguments of the tool call {name:?} are not JSON ({detail}): write them as a JSON \
         object after the colon, e.g. {name}:{{\"text\":\"hi\"}}"
    )]
    NotJson { name: String, detail: String },
    #[error(
        "the arguments of the tool call {name:?} are a JSON {kind}, not an object: write them \
         as {name}:{{\"arg\":\"value\"}}"
    )]
    NotObject { name: String, kind: &'static str },
}

impl FromStr for ToolCall {
    type Err = ToolCallError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        // Tool names have no colon (2025-11-25: A-Z, a-z, 0-9, `_`, `-`, `.`).
        let (name, args) = match spec.split_once(':') {
            Some((name, args)) => (name.trim(), Some(args.trim())),
            None => (spec.trim(), None),
        };
        if name.is_empty() {
            return Err(ToolCallError::NoName {
                spec: spec.to_owned(),
            });
        }
        let arguments = match args.filter(|a| !a.is_empty()) {
            None => Map::new(),
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => map,
                Ok(other) => {
                    return Err(ToolCallError::NotObject {
                        name: name.to_owned(),
                        kind: jsonrpc::kind(&other),
                    });
                }
                Err(e) => {
                    return Err(ToolCallError::NotJson {
                        name: name.to_owned(),
                        detail: e.to_string(),
                    });
                }
            },
        };
        Ok(Self {
            name: name.to_owned(),
            arguments,
        })
    }
}

/// `serverInfo` of the `initialize` result.
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

/// A completed handshake.
#[derive(Debug, Clone, Serialize)]
pub struct Handshake {
    pub url: String,
    pub server: ServerInfo,
    pub protocol_version: String,
    /// The server's `capabilities`, whole.
    pub capabilities: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Whether the server issued an `MCP-Session-Id` (its value is a credential: not kept).
    pub session: bool,
    /// How `initialize` was answered.
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
    /// The protocol version `initialize` asks for.
    revision: &'static str,
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
            revision: PROTOCOL_VERSION,
        }
    }

    /// Asks `initialize` for this protocol version (`--mcp-revision`) instead of the newest.
    pub fn asking_for(mut self, revision: &'static str) -> Self {
        self.revision = revision;
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
            next_id: 0,
        };
        let mut checks = Vec::new();
        let outcome = handshake(&mut transport, url, call, self.revision, &mut checks).await;
        transport.close().await;
        outcome.map_err(|error| {
            checks.push(Check::fail(failed_step(&checks), error.to_string()));
            Failure { error, checks }
        })
    }
}

/// The check a failure belongs to: the step after the last one recorded.
fn failed_step(checks: &[Check]) -> &'static str {
    const STEPS: [&str; 5] = [
        "mcp.initialize",
        "mcp.protocol_version",
        "mcp.initialized",
        "mcp.tools_list",
        "mcp.tools_call",
    ];
    let done = checks
        .last()
        .and_then(|c| STEPS.iter().position(|s| *s == c.check))
        .map_or(0, |i| i + 1);
    STEPS.get(done).copied().unwrap_or("mcp.tools_call")
}

async fn handshake(
    transport: &mut Transport<'_>,
    url: &Url,
    call: Option<&ToolCall>,
    asked: &'static str,
    checks: &mut Vec<Check>,
) -> Result<Handshake, McpError> {
    // Lifecycle, "Initialization": the revision asked for (the newest unless --mcp-revision),
    // no client features.
    let answer = transport
        .request(
            "initialize",
            json!({
                "protocolVersion": asked,
                "capabilities": {},
                "clientInfo": {
                    "name": "oauth-test-client",
                    "version": env!("CARGO_PKG_VERSION"),
                },
            }),
        )
        .await?;
    let delivery = answer.delivery;
    let init = Initialized::read(&answer.result)
        .map_err(|problem| transport.protocol("initialize", &problem))?;
    checks.push(Check::pass(
        "mcp.initialize",
        format!(
            "{} {} answered initialize with {}{}",
            untrusted(&init.server.name),
            untrusted(&init.server.version),
            delivery.label(),
            if transport.session.is_some() {
                "; it issued a session (MCP-Session-Id), sent on every later request"
            } else {
                "; no session (MCP-Session-Id) issued"
            }
        ),
    ));
    if !SUPPORTED_VERSIONS.contains(&init.protocol_version.as_str()) {
        return Err(McpError::UnsupportedVersion {
            url: url.to_string(),
            offered: init.protocol_version,
        });
    }
    checks.push(Check::pass(
        "mcp.protocol_version",
        if init.protocol_version == asked {
            format!("{asked}, the revision asked for")
        } else {
            format!(
                "{}, another revision than the {asked} asked for; accepted",
                init.protocol_version
            )
        },
    ));
    // Transports, "Protocol Version Header": on every request after initialization.
    transport.version = HeaderValue::from_str(&init.protocol_version).ok();

    // Any 2xx is taken; 202 is the rule for a notification (transports, "Sending Messages").
    let status = transport.notify("notifications/initialized").await?;
    checks.push(if status == 202 {
        Check::pass(
            "mcp.initialized",
            "notifications/initialized: HTTP 202 Accepted",
        )
    } else {
        Check::warn(
            "mcp.initialized",
            format!(
                "notifications/initialized answered HTTP {status}; a notification is answered \
                 with 202 Accepted and no body (Streamable HTTP, sending messages)"
            ),
        )
    });

    let tools = if init.capabilities.get("tools").is_some() {
        let tools = list_tools(transport).await?;
        let names: Vec<String> = tools
            .iter()
            .map(|t| untrusted(&t.name).to_string())
            .collect();
        checks.push(Check::pass(
            "mcp.tools_list",
            format!("{} tools: {}", tools.len(), names.join(", ")),
        ));
        tools
    } else {
        checks.push(Check::warn(
            "mcp.tools_list",
            "the server declares no `tools` capability, so tools/list was not sent",
        ));
        Vec::new()
    };

    // `*`: the first tool the server lists, without arguments (a client that just uses it).
    let first;
    let call = match call {
        Some(c) if c.name == FIRST_TOOL => match tools.first() {
            Some(tool) => {
                first = ToolCall {
                    name: tool.name.clone(),
                    arguments: c.arguments.clone(),
                };
                Some(&first)
            }
            None => None,
        },
        other => other,
    };
    let call = match call {
        Some(call) => Some(call_tool(transport, call, &tools, checks).await),
        None => None,
    };
    Ok(Handshake {
        url: url.to_string(),
        server: init.server,
        protocol_version: init.protocol_version,
        capabilities: init.capabilities,
        instructions: init.instructions,
        session: transport.session.is_some(),
        delivery,
        tools,
        call,
        checks: std::mem::take(checks),
    })
}

struct Initialized {
    server: ServerInfo,
    protocol_version: String,
    capabilities: Value,
    instructions: Option<String>,
}

impl Initialized {
    /// The `InitializeResult` fields this client acts on; `Err` names the one that is wrong.
    fn read(result: &Value) -> Result<Self, String> {
        let text = |value: &Value, name: &str| -> Result<String, String> {
            value
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("the initialize result has no string {name:?}"))
        };
        let info = result
            .get("serverInfo")
            .filter(|v| v.is_object())
            .ok_or("the initialize result has no \"serverInfo\" object")?;
        let capabilities = result
            .get("capabilities")
            .filter(|v| v.is_object())
            .cloned()
            .ok_or("the initialize result has no \"capabilities\" object")?;
        Ok(Self {
            server: ServerInfo {
                name: text(info, "name").map_err(|e| format!("{e} in serverInfo"))?,
                version: text(info, "version").map_err(|e| format!("{e} in serverInfo"))?,
                title: info.get("title").and_then(Value::as_str).map(str::to_owned),
            },
            protocol_version: text(result, "protocolVersion")?,
            capabilities,
            instructions: result
                .get("instructions")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

async fn list_tools(transport: &mut Transport<'_>) -> Result<Vec<Tool>, McpError> {
    let mut tools = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let params = match &cursor {
            Some(c) => json!({ "cursor": c }),
            None => json!({}),
        };
        let result = transport.request("tools/list", params).await?.result;
        let Some(page) = result.get("tools").and_then(Value::as_array) else {
            return Err(transport.protocol("tools/list", "the result has no \"tools\" array"));
        };
        for tool in page {
            let Some(name) = tool.get("name").and_then(Value::as_str) else {
                return Err(transport.protocol("tools/list", "a tool without a string \"name\""));
            };
            tools.push(Tool {
                name: name.to_owned(),
                description: tool
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
        }
        cursor = result
            .get("nextCursor")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if cursor.is_none() {
            return Ok(tools);
        }
    }
    Err(transport.protocol(
        "tools/list",
        &format!("more than {MAX_PAGES} pages (nextCursor); stopped reading"),
    ))
}

async fn call_tool(
    transport: &mut Transport<'_>,
    call: &ToolCall,
    tools: &[Tool],
    checks: &mut Vec<Check>,
) -> CallOutcome {
    let name = untrusted(&call.name).to_string();
    let listed = if tools.iter().any(|t| t.name == call.name) {
        ""
    } else {
        " (it is not in tools/list)"
    };
    let result = transport
        .request(
            "tools/call",
            json!({ "name": call.name, "arguments": call.arguments }),
        )
        .await
        .map(|a| a.result);
    let outcome = CallOutcome {
        tool: call.name.clone(),
        result,
    };
    checks.push(match &outcome.result {
        Ok(_) if outcome.tool_error() => Check::fail(
            "mcp.tools_call",
            format!(
                "{name}{listed} answered with isError: true: {}",
                first_text(outcome.result.as_ref().ok()).unwrap_or_default()
            ),
        ),
        Ok(result) => Check::pass(
            "mcp.tools_call",
            format!(
                "{name} answered with {} content item(s){}",
                result
                    .get("content")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len),
                first_text(Some(result))
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default()
            ),
        ),
        Err(e) => Check::fail("mcp.tools_call", format!("{name}{listed}: {e}")),
    });
    outcome
}

/// The first text content item, escaped and shortened, for a check's detail.
fn first_text(result: Option<&Value>) -> Option<String> {
    let text = result?
        .get("content")?
        .as_array()?
        .iter()
        .find_map(|c| c.get("text").and_then(Value::as_str))?;
    let short: String = text.chars().take(120).collect();
    let more = if short.len() < text.len() { "…" } else { "" };
    Some(format!("{}{more}", untrusted(short)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_calls_parse_from_name_and_json_arguments() {
        let call: ToolCall = "whoami".parse().unwrap();
        assert_eq!((call.name.as_str(), call.arguments.len()), ("whoami", 0));
        let call: ToolCall = r#"echo:{"text":"a:b"}"#.parse().unwrap();
        assert_eq!(call.name, "echo");
        assert_eq!(call.arguments["text"], "a:b", "only the first colon splits");
        assert_eq!("echo:".parse::<ToolCall>().unwrap().arguments.len(), 0);
        assert!(matches!(
            ":{}".parse::<ToolCall>(),
            Err(ToolCallError::NoName { .. })
        ));
        assert!(matches!(
            "echo:{text}".parse::<ToolCall>(),
            Err(ToolCallError::NotJson { .. })
        ));
        let e = "echo:[1]".parse::<ToolCall>().unwrap_err();
        assert!(e.to_string().contains("array"), "{e}");
    }

    #[test]
    fn the_initialize_result_is_read_or_its_fault_named() {
        let ok = Initialized::read(&json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {"tools": {"listChanged": true}},
            "serverInfo": {"name": "s", "version": "1", "title": "S"},
            "instructions": "be nice"
        }))
        .unwrap();
        assert_eq!(ok.server.title.as_deref(), Some("S"));
        assert_eq!(ok.protocol_version, "2025-06-18");
        assert_eq!(ok.instructions.as_deref(), Some("be nice"));
        for (result, problem) in [
            (
                json!({"capabilities": {}, "serverInfo": {"name": "s", "version": "1"}}),
                "protocolVersion",
            ),
            (
                json!({"protocolVersion": "x", "serverInfo": {"name": "s", "version": "1"}}),
                "capabilities",
            ),
            (
                json!({"protocolVersion": "x", "capabilities": {}}),
                "serverInfo",
            ),
            (
                json!({"protocolVersion": "x", "capabilities": {}, "serverInfo": {"name": "s"}}),
                "version",
            ),
        ] {
            let e = Initialized::read(&result).err().unwrap();
            assert!(e.contains(problem), "{e}");
        }
    }

    #[test]
    fn a_failure_is_filed_under_the_step_that_failed() {
        assert_eq!(failed_step(&[]), "mcp.initialize");
        let passed =
            |names: &[&str]| -> Vec<Check> { names.iter().map(|n| Check::pass(n, "")).collect() };
        assert_eq!(
            failed_step(&passed(&["mcp.initialize"])),
            "mcp.protocol_version"
        );
        assert_eq!(
            failed_step(&passed(&[
                "mcp.initialize",
                "mcp.protocol_version",
                "mcp.initialized"
            ])),
            "mcp.tools_list"
        );
    }
}
