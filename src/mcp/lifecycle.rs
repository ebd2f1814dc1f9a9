//! The MCP lifecycle this client drives, in either generation: which one a server speaks
//! (`server/discover` first, the stateless 2026-07-28; else `initialize`, a handshake
//! revision), then `tools/list` and the optional `tools/call`, each recorded as a check.

use reqwest::header::HeaderValue;
use serde_json::{Value, json};
use url::Url;

use super::progress::Progress;
use super::tools::{call_tool, list_tools, required_arguments};
use super::transport::{Delivery, Transport};
use super::{
    FIRST_TOOL, Handshake, Lifecycle, McpError, PROTOCOL_VERSION, STATELESS_VERSION,
    SUPPORTED_VERSIONS, ServerInfo, ToolCall,
};
use crate::oauth::Check;
use crate::redact::untrusted;

/// JSON-RPC error of a 2026-07-28 server for a protocol version it does not support.
const UNSUPPORTED_VERSION: i64 = -32022;

/// What opening a conversation learned, in either generation.
struct Opened {
    server: ServerInfo,
    protocol_version: String,
    capabilities: Value,
    instructions: Option<String>,
    supported_versions: Vec<String>,
    delivery: Delivery,
    lifecycle: Lifecycle,
}

/// The whole check: open (detected, or `asked`), list the tools, call one when asked.
pub async fn run(
    transport: &mut Transport<'_>,
    url: &Url,
    call: Option<&ToolCall>,
    asked: Option<&'static str>,
    progress: &mut Progress,
) -> Result<Handshake, McpError> {
    let opened = match asked {
        Some(STATELESS_VERSION) => discover(transport, progress).await?,
        Some(revision) => initialize(transport, revision, None, progress).await?,
        None => match discover(transport, progress).await {
            Ok(opened) => opened,
            Err(e) if decisive(&e) => return Err(e),
            // Not a 2026-07-28 server: a handshake revision, without the stateless headers.
            Err(e) => {
                transport.meta = None;
                transport.version = None;
                initialize(transport, PROTOCOL_VERSION, Some(&e), progress).await?
            }
        },
    };

    progress.expect("mcp.tools_list");
    let tools = if opened.capabilities.get("tools").is_some() {
        let tools = list_tools(transport).await?;
        let names: Vec<String> = tools
            .iter()
            .map(|t| untrusted(&t.name).to_string())
            .collect();
        progress.push(Check::pass(
            "mcp.tools_list",
            format!("{} tools: {}", tools.len(), names.join(", ")),
        ));
        tools
    } else {
        progress.push(Check::warn(
            "mcp.tools_list",
            "the server declares no `tools` capability, so tools/list was not sent",
        ));
        Vec::new()
    };

    // `*`: the first tool the server lists (a client that just uses it), with the arguments
    // given, else with a value for each argument its input schema requires.
    let first;
    let call = match call {
        Some(c) if c.name == FIRST_TOOL => match tools.first() {
            Some(tool) => {
                first = ToolCall {
                    name: tool.name.clone(),
                    arguments: match c.arguments.is_empty() {
                        true => required_arguments(tool.input_schema.as_ref()),
                        false => c.arguments.clone(),
                    },
                };
                Some(&first)
            }
            None => None,
        },
        other => other,
    };
    progress.expect("mcp.tools_call");
    let call = match call {
        Some(call) => Some(call_tool(transport, call, &tools, progress).await),
        None => None,
    };
    Ok(Handshake {
        url: url.to_string(),
        server: opened.server,
        revision: opened.protocol_version.clone(),
        lifecycle: opened.lifecycle,
        protocol_version: opened.protocol_version,
        supported_versions: opened.supported_versions,
        capabilities: opened.capabilities,
        instructions: opened.instructions,
        session: transport.session.is_some(),
        delivery: opened.delivery,
        tools,
        call,
        checks: std::mem::take(&mut progress.checks),
    })
}

/// An error that says nothing about the revision (the server refused the token, or could
/// not be reached): no point asking again with `initialize`.
fn decisive(e: &McpError) -> bool {
    matches!(
        e,
        McpError::Client(_)
            | McpError::Timeout { .. }
            | McpError::Connect { .. }
            | McpError::TooLarge { .. }
            | McpError::Redirect { .. }
            | McpError::Request { .. }
            | McpError::Unauthorized { .. }
            | McpError::Forbidden { .. }
    )
}

/// The `_meta` every 2026-07-28 request carries (SEP-2575): no client features.
fn stateless_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
        "io.modelcontextprotocol/clientInfo": {
            "name": "oauth-test-client",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "io.modelcontextprotocol/clientCapabilities": {},
    })
}

/// 2026-07-28: `server/discover`, with the version header and `_meta` from here on.
async fn discover(
    transport: &mut Transport<'_>,
    progress: &mut Progress,
) -> Result<Opened, McpError> {
    progress.expect("mcp.discover");
    transport.version = Some(HeaderValue::from_static(STATELESS_VERSION));
    transport.meta = Some(stateless_meta());
    let answer = match transport.request("server/discover", json!({})).await {
        // Refused, yet listed as supported: version negotiation says ask again with a listed
        // version, and this is the one this client speaks. Once.
        Err(McpError::Rejected {
            code: UNSUPPORTED_VERSION,
            supported,
            ..
        }) if supported.iter().any(|v| v == STATELESS_VERSION) => {
            log::info!(
                "the MCP server refused {STATELESS_VERSION} but lists it as supported: asking again"
            );
            transport.request("server/discover", json!({})).await?
        }
        other => other?,
    };
    let found = Discovered::read(&answer.result)
        .map_err(|problem| transport.protocol("server/discover", &problem))?;
    if !found.supported.iter().any(|v| v == STATELESS_VERSION) {
        return Err(transport.protocol(
            "server/discover",
            &format!(
                "it lists the versions {}, not {STATELESS_VERSION}",
                found.supported.join(", ")
            ),
        ));
    }
    progress.push(Check::pass(
        "mcp.discover",
        format!(
            "{} {} answered server/discover with {}; it supports {}",
            untrusted(&found.server.name),
            untrusted(&found.server.version),
            answer.delivery.label(),
            untrusted(&found.supported.join(", "))
        ),
    ));
    progress.push(Check::pass(
        "mcp.protocol_version",
        format!(
            "{STATELESS_VERSION} (stateless: no handshake, no session; the version header and \
             `_meta` on every request)"
        ),
    ));
    Ok(Opened {
        server: found.server,
        protocol_version: STATELESS_VERSION.to_owned(),
        capabilities: found.capabilities,
        instructions: found.instructions,
        supported_versions: found.supported,
        delivery: answer.delivery,
        lifecycle: Lifecycle::Stateless,
    })
}

/// A handshake revision: `initialize` asking for `asked`, then `notifications/initialized`.
/// `after`: why `server/discover` did not open a stateless conversation.
async fn initialize(
    transport: &mut Transport<'_>,
    asked: &'static str,
    after: Option<&McpError>,
    progress: &mut Progress,
) -> Result<Opened, McpError> {
    progress.expect("mcp.initialize");
    // Lifecycle, "Initialization": the revision asked for, no client features.
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
    progress.push(Check::pass(
        "mcp.initialize",
        format!(
            "{} {} answered initialize with {}{}{}",
            untrusted(&init.server.name),
            untrusted(&init.server.version),
            delivery.label(),
            if transport.session.is_some() {
                "; it issued a session (MCP-Session-Id), sent on every later request"
            } else {
                "; no session (MCP-Session-Id) issued"
            },
            match after {
                Some(e) => format!(
                    " (server/discover was not answered, so not {STATELESS_VERSION}: {})",
                    e.kind()
                ),
                None => String::new(),
            }
        ),
    ));
    progress.expect("mcp.protocol_version");
    if !SUPPORTED_VERSIONS.contains(&init.protocol_version.as_str()) {
        return Err(McpError::UnsupportedVersion {
            url: transport.url.to_string(),
            offered: init.protocol_version,
        });
    }
    progress.push(Check::pass(
        "mcp.protocol_version",
        if init.protocol_version == asked {
            format!("{asked}, the revision asked for (a handshake revision)")
        } else {
            format!(
                "{}, another revision than the {asked} asked for; accepted",
                init.protocol_version
            )
        },
    ));
    // Transports, "Protocol Version Header": on every request after initialization.
    transport.version = HeaderValue::from_str(&init.protocol_version).ok();

    progress.expect("mcp.initialized");
    // Any 2xx is taken; 202 is the rule for a notification (transports, "Sending Messages").
    let status = transport.notify("notifications/initialized").await?;
    progress.push(if status == 202 {
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
    Ok(Opened {
        server: init.server,
        protocol_version: init.protocol_version,
        capabilities: init.capabilities,
        instructions: init.instructions,
        supported_versions: Vec::new(),
        delivery,
        lifecycle: Lifecycle::Handshake,
    })
}

/// The `DiscoverResult` fields this client acts on (2026-07-28).
struct Discovered {
    server: ServerInfo,
    supported: Vec<String>,
    capabilities: Value,
    instructions: Option<String>,
}

impl Discovered {
    fn read(result: &Value) -> Result<Self, String> {
        let supported = result
            .get("supportedVersions")
            .and_then(Value::as_array)
            .ok_or("the server/discover result has no \"supportedVersions\" array")?
            .iter()
            .filter_map(Value::as_str)
            .take(20)
            .map(str::to_owned)
            .collect();
        let capabilities = result
            .get("capabilities")
            .filter(|v| v.is_object())
            .cloned()
            .ok_or("the server/discover result has no \"capabilities\" object")?;
        // The server's identity sits in the result's `_meta` (spec PR #3002); earlier drafts
        // had `serverInfo` in the result.
        let info = result
            .get("_meta")
            .and_then(|m| m.get("io.modelcontextprotocol/serverInfo"))
            .or_else(|| result.get("serverInfo"));
        let text = |name: &str| {
            info.and_then(|i| i.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Ok(Self {
            server: ServerInfo {
                name: text("name").unwrap_or_else(|| "(a server without serverInfo)".into()),
                version: text("version").unwrap_or_default(),
                title: text("title"),
            },
            supported,
            capabilities,
            instructions: result
                .get("instructions")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_discover_result_is_read_with_the_server_in_meta_or_in_the_body() {
        let found = Discovered::read(&json!({
            "supportedVersions": ["2026-07-28"],
            "capabilities": {"tools": {}},
            "resultType": "complete",
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "2"}}
        }))
        .unwrap();
        assert_eq!(
            (found.server.name.as_str(), found.server.version.as_str()),
            ("s", "2")
        );
        assert_eq!(found.supported, ["2026-07-28"]);
        let old = Discovered::read(&json!({
            "supportedVersions": ["2026-07-28"],
            "capabilities": {},
            "serverInfo": {"name": "t", "version": "1"}
        }))
        .unwrap();
        assert_eq!(old.server.name, "t");
        let e = Discovered::read(&json!({"capabilities": {}}))
            .err()
            .unwrap();
        assert!(e.contains("supportedVersions"), "{e}");
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
}
