//! The MCP check after a sign-in: the server spoken to with the access token (its revision
//! detected, `tools/list`, `--mcp-call`), and what a refusal means for the run: more scopes
//! (step-up), or a new authorization server (SEP-2352: the resource's metadata names another
//! one than the token came from, so the client registers and signs in there anew).

use serde_json::{Value, json};

use crate::config::Config;
use crate::mcp;
use crate::oauth::{Check, Verdict};
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
    /// The server refused the access token (401) after the sign-in: maybe its
    /// authorization server changed (SEP-2352).
    pub(super) token_refused: bool,
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
        // OAUTH_MCP_REVISION overrides; otherwise the server's revision is detected.
        Ok(client) if config.mcp_revision_given => client.asking_for(config.mcp_revision.as_str()),
        Ok(client) => client,
        Err(e) => {
            return Some(McpResult {
                checks: vec![Check::fail("mcp.initialize", e.to_string())],
                document: e.to_json(),
                step_up: None,
                token_refused: false,
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
                token_refused: false,
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
                token_refused: matches!(
                    failure.error,
                    mcp::McpError::Unauthorized {
                        sent_token: true,
                        ..
                    }
                ),
            }
        }
    })
}

/// SEP-2352: the server refused the token it took a moment ago, and its metadata now names
/// another authorization server than the one that issued it: that one, to register and sign
/// in at anew. Never with a CLIENT_ID the user set (it belongs to the first server; only a
/// client registered by this run, or a Client ID Metadata Document URL, moves along).
pub(super) async fn moved_authorization_server(
    state: &AppState,
    config: &Config,
    mcp: &McpResult,
) -> Option<String> {
    if !mcp.token_refused || state.chain.get().is_none_or(|c| c.legacy) {
        return None;
    }
    let now = crate::startup::authorization_server_now(config).await?;
    let base = |s: &str| s.trim_end_matches('/').to_owned();
    if base(&now) == base(&state.provider.issuer) {
        return None;
    }
    if !config.will_register() && config.client_metadata_url.is_none() {
        log::warn!(
            "the resource's metadata now names the authorization server {}, not {}: CLIENT_ID \
             belongs to the first one and is not sent to the other",
            crate::redact::untrusted(&now),
            crate::redact::untrusted(&state.provider.issuer)
        );
        return None;
    }
    Some(now)
}

/// A chain check made before the server's revision was known: the 2025-03-26 fallbacks (no
/// protected-resource metadata, the server's origin as its authorization server, default
/// endpoints) warn, unless the server then answered with 2025-03-26, whose rules they are.
pub(super) fn by_the_rules_of(check: &Check, revision: Option<&str>) -> Check {
    let fallback = matches!(
        check.check.as_str(),
        "resource_metadata.found" | "authorization_server.metadata"
    );
    if fallback && check.result == Verdict::Warn && revision == Some("2025-03-26") {
        return Check::pass(
            &check.check,
            format!(
                "{}; the server speaks 2025-03-26, whose rules these are",
                check.detail
            ),
        );
    }
    check.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_2025_03_26_fallbacks_pass_once_the_server_speaks_that_revision() {
        let warned = Check::warn("resource_metadata.found", "no metadata");
        assert_eq!(
            by_the_rules_of(&warned, Some("2025-03-26")).result,
            Verdict::Pass
        );
        assert_eq!(
            by_the_rules_of(&warned, Some("2025-11-25")).result,
            Verdict::Warn
        );
        assert_eq!(by_the_rules_of(&warned, None).result, Verdict::Warn);
        let other = Check::warn("discovery.issuer", "x");
        assert_eq!(
            by_the_rules_of(&other, Some("2025-03-26")).result,
            Verdict::Warn
        );
    }
}
