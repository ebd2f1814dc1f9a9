//! The MCP handshake a run ends with when RESOURCE_URL is an MCP server: initialize,
//! tools/list and `--mcp-call` with the access token, as checks for the report.

use serde_json::{Value, json};

use crate::config::Config;
use crate::mcp;
use crate::oauth::Check;
use crate::state::AppState;

/// An MCP server as RESOURCE_URL (`--mcp`, or found to answer like one): the MCP handshake
/// with the access token (initialize, tools/list, `--mcp-call`). Its checks, and what the
/// server said (or why it refused), for the report; `resource.accepts_token` says whether the
/// server took the token.
pub(super) struct McpResult {
    pub(super) checks: Vec<Check>,
    /// What the server said, or why it refused, for `--report`.
    pub(super) document: Value,
    /// The scope an `insufficient_scope` refusal asked for.
    pub(super) step_up: Option<String>,
}

pub(super) async fn mcp_check(state: &AppState, config: &Config) -> Option<McpResult> {
    let token = state
        .session_tokens()
        .and_then(|s| s.access_token.map(|t| t.secret().clone()));
    mcp_check_with(state, config, token.as_deref()).await
}

/// The MCP handshake with `token` (the session's, or cross-app access's).
pub(super) async fn mcp_check_with(
    state: &AppState,
    config: &Config,
    token: Option<&str>,
) -> Option<McpResult> {
    let resource = config.resource.as_ref()?;
    let call = resource
        .mcp_call
        .as_deref()
        .and_then(|spec| spec.parse::<mcp::ToolCall>().ok());
    let client = match mcp::Client::new(config.http_timeout) {
        Ok(client) => client.asking_for(config.mcp_revision.as_str()),
        Err(e) => {
            return Some(McpResult {
                checks: vec![Check::fail("mcp.initialize", e.to_string())],
                document: e.to_json(),
                step_up: None,
            });
        }
    };
    let answer = client
        .check_with_dpop(&resource.url, token, call.as_ref(), state.provider.dpop())
        .await;
    Some(match answer {
        Ok(handshake) => {
            let mut checks = handshake.checks.clone();
            checks.push(Check::pass(
                "resource.accepts_token",
                format!(
                    "the MCP server {} took the access token (initialize, tools/list)",
                    handshake.server.name
                ),
            ));
            let step_up = handshake.call.as_ref().and_then(|c| {
                c.result
                    .as_ref()
                    .err()
                    .and_then(|e| e.insufficient_scope())
                    .map(str::to_owned)
            });
            McpResult {
                checks,
                document: json!(handshake),
                step_up,
            }
        }
        Err(failure) => {
            log::warn!("MCP check failed: {}", failure.error);
            let mut checks = failure.checks;
            checks.push(Check::fail(
                "resource.accepts_token",
                failure.error.to_string(),
            ));
            McpResult {
                checks,
                document: failure.error.to_json(),
                step_up: failure.error.insufficient_scope().map(str::to_owned),
            }
        }
    })
}
