//! An MCP server that answers without an access token (`--mcp`, `--once`): checked as it is
//! (its handshake or `server/discover`, `tools/list`, `--mcp-call`) with no OAuth at all, and
//! a warning, `resource.requires_token`, that anyone who reaches it can use it. A server that
//! refuses the tokenless request with 401 goes on to the sign-in as before.

use serde_json::json;

use crate::config::Config;
use crate::error::RunError;
use crate::mcp::{self, McpError};
use crate::oauth::{Check, ExitStatus, Verdict};
use crate::output::Output;

/// `None`: the server wants a token (or could not be checked without one): OAuth goes on.
pub(super) async fn check(
    config: &Config,
    output: &Output,
) -> Option<Result<ExitStatus, RunError>> {
    let resource = config.resource.as_ref().filter(|r| r.mcp)?;
    if !config.once || config.cross_app.is_some() {
        return None;
    }
    let call = resource
        .mcp_call
        .as_deref()
        .and_then(|spec| spec.parse::<mcp::ToolCall>().ok());
    let client = mcp::Client::new(config.http_timeout).ok()?;
    let client = match config.mcp_revision_given {
        true => client.asking_for(config.mcp_revision.as_str()),
        false => client,
    };
    let (handshake, mut checks) = match client.check(&resource.url, None, call.as_ref()).await {
        // The tool called wants a token, though the rest did not: sign in for it.
        Ok(handshake)
            if handshake.call.as_ref().is_some_and(|c| {
                matches!(
                    c.result,
                    Err(McpError::Unauthorized { .. } | McpError::Forbidden { .. })
                )
            }) =>
        {
            return None;
        }
        Ok(handshake) => {
            let checks = handshake.checks.clone();
            (json!(handshake), checks)
        }
        // A 401 or 403 at any step (some servers let `initialize` through and guard the
        // rest): it wants a token.
        Err(failure)
            if matches!(
                failure.error,
                McpError::Unauthorized { .. } | McpError::Forbidden { .. }
            ) =>
        {
            return None;
        }
        // It answered the opening request without a token, and failed later: a server that
        // needs no token, and is broken.
        Err(failure) if opened(&failure.checks) => (failure.error.to_json(), failure.checks),
        Err(failure) => {
            log::info!(
                "the MCP server did not answer without a token ({}): signing in",
                failure.error.kind()
            );
            return None;
        }
    };
    log::warn!("the MCP server answered without an access token: no sign-in needed");
    checks.push(Check::warn(
        "resource.requires_token",
        "the MCP server answered without an access token: anyone who can reach it can use \
         it (MCP authorization is optional; if this server should be protected, it must answer \
         401 with a WWW-Authenticate challenge, RFC 9728 section 5.1). No OAuth was done.",
    ));
    output.json(&json!({ "mcp": handshake, "checks": checks }));
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| c.result == Verdict::Fail)
        .map(|c| format!("{} ({})", c.check, c.detail))
        .collect();
    Some(match failed.is_empty() {
        true => Ok(ExitStatus::Success),
        false => Err(RunError::OpenServerChecks(failed.join("; "))),
    })
}

/// Whether the server answered the opening request (`server/discover` or `initialize`).
fn opened(checks: &[Check]) -> bool {
    checks.iter().any(|c| {
        c.result == Verdict::Pass && matches!(c.check.as_str(), "mcp.discover" | "mcp.initialize")
    })
}
