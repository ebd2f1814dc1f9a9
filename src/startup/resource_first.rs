//! Starting from the API (RFC 9728): the authorization server, scopes and `resource` learned
//! from RESOURCE_URL's protected-resource metadata, before the provider is discovered.

use crate::config::Resource;
use crate::config::{Config, ConfigError};
use crate::error::{ChainFailure, RunError};
use crate::oauth::Check;
use crate::oauth::{Issuer, McpRevision, Step};
use crate::provider::resource::{self, Chain, ChainError, Hop};
use crate::provider::{DiscoveryError, HttpClient};
use crate::redact::untrusted;

/// The scopes to ask for, starting from a resource: its challenge's `scope`, else its
/// metadata's `scopes_supported`, else none; no `openid profile email` default, which a
/// resource server did not ask for (MCP authorization, "Scope Selection Strategy").
pub fn resource_scopes(chain: &Chain) -> Vec<String> {
    if let Some(scope) = chain
        .challenge_scope
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        return scope.split_whitespace().map(str::to_owned).collect();
    }
    chain.scopes_supported.clone().unwrap_or_default()
}

/// The chain for an MCP server of the 2025-03-26 revision, which has no protected-resource
/// metadata: the server's origin stands for its authorization server, with a warning.
/// Under `--mcp-revision 2025-03-26` that is the rule, and the check passes.
fn legacy_chain(
    resource: &Resource,
    hops: Vec<Hop>,
    mut checks: Vec<Check>,
    problem: &str,
    revision: McpRevision,
) -> Chain {
    let mut origin = resource.url.clone();
    origin.set_path("");
    origin.set_query(None);
    origin.set_fragment(None);
    let origin = origin.as_str().trim_end_matches('/').to_owned();
    checks.retain(|c| c.check != "resource_metadata.found");
    let verdict = match revision.without_resource_metadata() {
        true => Check::pass,
        false => Check::warn,
    };
    checks.push(verdict(
        "resource_metadata.found",
        &format!(
            "{problem}: taking the MCP server's origin {origin} as its authorization server, as the \
             MCP 2025-03-26 revision did; newer revisions require protected-resource metadata \
             (RFC 9728)"
        ),
    ));
    log::warn!(
        "no protected-resource metadata: using {} as the authorization server (MCP 2025-03-26)",
        untrusted(&origin)
    );
    Chain {
        hops,
        checks,
        resource: resource.url.as_str().to_owned(),
        authorization_servers: vec![origin.clone()],
        authorization_server: origin,
        scopes_supported: None,
        challenge_scope: None,
        answers_like_mcp: true,
        legacy: true,
        dpop: false,
    }
}

/// RFC 9728: learn the authorization server from RESOURCE_URL, then set up the sign-in for
/// that resource: its scopes (unless OAUTH_SCOPES), the RFC 8707 `resource` parameter, and,
/// with --once, a final call to the API.
pub async fn discover(config: &mut Config) -> Result<Chain, RunError> {
    let resource = config
        .resource
        .clone()
        .ok_or_else(|| RunError::Unsupported("RESOURCE_URL is not set".into()))?;
    let http = HttpClient::new(config.http_timeout, config.ca.as_ref())
        .map_err(|e| DiscoveryError::Client(e.to_string()))?;
    let (mut hops, mut checks) = (Vec::new(), Vec::new());
    let chain = match resource::discover(&http, &resource, &mut hops, &mut checks).await {
        Ok(chain) => chain,
        // MCP 2025-03-26: a server without protected-resource metadata is its own
        // authorization server (metadata at its origin, else /authorize, /token, /register).
        Err(ChainError::NoMetadata { problem, .. }) if resource.mcp => {
            config.legacy_mcp = true;
            let mut chain = legacy_chain(&resource, hops, checks, &problem, config.mcp_revision);
            // The user named the authorization server: it, not the server's origin.
            if let Some(pinned) = config.provider.pinned() {
                chain.authorization_server = pinned.as_str().to_owned();
                chain.authorization_servers = vec![chain.authorization_server.clone()];
                config.legacy_mcp = false;
            }
            chain
        }
        Err(error) => {
            return Err(RunError::Chain(Box::new(ChainFailure {
                error,
                hops,
                checks,
            })));
        }
    };
    for hop in &chain.hops {
        log::info!(
            "discovery: {} -> {}",
            untrusted(&hop.url),
            untrusted(&hop.learned)
        );
    }
    if let Some(pinned) = config.provider.pinned() {
        let issuer = pinned_server(pinned, &chain)?;
        log::info!(
            "RESOURCE_URL's metadata names OAUTH_ISSUER {}: continuing with it",
            issuer.as_str()
        );
        config.use_issuer_from_resource(issuer);
        return Ok(follow(config, chain));
    }
    let issuer = Issuer::parse(&chain.authorization_server).map_err(|problem| {
        RunError::Unsupported(format!(
            "the authorization server {:?} is unusable: {problem}",
            chain.authorization_server
        ))
    })?;
    // A client secret, a client key's assertions and the test user's password are bound to
    // the issuer they belong to: never sent to whatever server a resource names. An
    // authorization server on RESOURCE_URL's own origin is the party the user named (a
    // 2025-03-26 MCP server is its own authorization server).
    let named_by_the_user = config.resource.as_ref().is_some_and(|resource| {
        url::Url::parse(issuer.as_str()).is_ok_and(|at| at.origin() == resource.url.origin())
    });
    if !named_by_the_user && let Some((setting, what)) = unpinned_secret(config) {
        let register = if setting == "CLIENT_SECRET" {
            format!(
                ", and a client is registered at {} when it offers registration",
                issuer.as_str()
            )
        } else {
            String::new()
        };
        return Err(RunError::Unsupported(format!(
            "{setting} is set, but it is bound to no issuer here: RESOURCE_URL's metadata names the \
             authorization server {server}, and {what} is only ever sent to OAUTH_ISSUER \
             (none is set). If {server} is where it belongs, set OAUTH_ISSUER={server} (with --mcp for an MCP \
             server: its metadata is still followed, and must name that issuer); otherwise unset \
             {setting}{register}",
            server = issuer.as_str()
        )));
    }
    config.use_issuer_from_resource(issuer);
    Ok(follow(config, chain))
}

/// The authorization server RESOURCE_URL's metadata names now (SEP-2352: it may change
/// during a run); `None` when the chain does not lead to one.
pub async fn authorization_server_now(config: &Config) -> Option<String> {
    let resource = config.resource.as_ref()?;
    let http = HttpClient::new(config.http_timeout, config.ca.as_ref()).ok()?;
    let (mut hops, mut checks) = (Vec::new(), Vec::new());
    resource::discover(&http, resource, &mut hops, &mut checks)
        .await
        .ok()
        .map(|chain| chain.authorization_server)
}

/// The first setting that holds a secret for one issuer only, and what it sends.
fn unpinned_secret(config: &Config) -> Option<(&'static str, &'static str)> {
    if config.client_secret.is_some() {
        Some(("CLIENT_SECRET", "a client secret"))
    } else if config.client_key.is_some() {
        Some(("OAUTH_CLIENT_KEY", "a client assertion signed with it"))
    } else if config.sign_in.is_some() {
        Some((
            "--sign-in (OAUTH_TEST_USERNAME, OAUTH_TEST_PASSWORD)",
            "the test user's password (and one-time code)",
        ))
    } else {
        None
    }
}

/// OAUTH_ISSUER pins the authorization server: it must be among those the metadata lists
/// (a trailing slash aside), else nothing is sent anywhere. A CLIENT_SECRET is then only
/// ever sent to it.
fn pinned_server(pinned: &Issuer, chain: &Chain) -> Result<Issuer, RunError> {
    let base = |s: &str| s.trim_end_matches('/').to_owned();
    if chain
        .authorization_servers
        .iter()
        .any(|s| base(s) == base(pinned.as_str()))
    {
        return Ok(pinned.clone());
    }
    Err(RunError::Config(ConfigError::PinnedIssuerNotNamed {
        issuer: pinned.as_str().to_owned(),
        named: untrusted(&chain.authorization_servers.join(", ")).to_string(),
    }))
}

/// The sign-in set up for the resource: its scopes (unless OAUTH_SCOPES), the RFC 8707
/// `resource` parameter, and with --once a final call to the API or the MCP handshake.
fn follow(config: &mut Config, mut chain: Chain) -> Chain {
    if !config.scopes_given {
        config.scopes = resource_scopes(&chain)
            .into_iter()
            .map(oauth2::Scope::new)
            .collect();
        if config.scopes.is_empty() {
            log::info!(
                "the resource names no scopes (neither its challenge nor its metadata): the \
                 authorization request carries none (set OAUTH_SCOPES to ask for some)"
            );
        }
    }
    // RFC 9449: the resource decides. A DPoP challenge or `dpop_bound_access_tokens_required`
    // turns DPoP on as --dpop would (proofs at the token endpoint and on every call).
    if chain.dpop && !config.dpop {
        log::info!(
            "the resource asks for DPoP-bound tokens (a DPoP challenge or \
             dpop_bound_access_tokens_required): using DPoP"
        );
        config.dpop = true;
        chain.checks.push(Check::pass(
            "resource.dpop",
            "the resource asks for DPoP-bound tokens (a DPoP challenge, or its metadata's \
             dpop_bound_access_tokens_required): proofs at the token endpoint and on every call \
             (RFC 9449)",
        ));
    }
    if !config.params.iter().any(|(k, _)| k == "resource") {
        config
            .params
            .push(("resource".into(), chain.resource.clone()));
    }
    // An MCP server is checked by the MCP handshake after the sign-in, not a plain call.
    if chain.answers_like_mcp
        && let Some(resource) = config.resource.as_mut()
    {
        log::info!("the resource answers like an MCP server (Streamable HTTP): checking it as one");
        resource.mcp = true;
        resource.method = "POST".into();
    }
    let mcp = config.resource.as_ref().is_some_and(|r| r.mcp);
    // Cross-app access has no sign-in session for the steps: it calls the API itself.
    if config.once && !mcp && config.cross_app.is_none() && !config.then.contains(&Step::Api) {
        config.then.push(Step::Api);
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(servers: &[&str]) -> Chain {
        Chain {
            hops: Vec::new(),
            checks: Vec::new(),
            resource: "https://api.example.com/mcp".into(),
            authorization_server: servers[0].into(),
            authorization_servers: servers.iter().map(|s| (*s).to_owned()).collect(),
            scopes_supported: None,
            challenge_scope: None,
            answers_like_mcp: true,
            legacy: false,
            dpop: false,
        }
    }

    #[test]
    fn a_pinned_issuer_must_be_among_the_servers_the_metadata_lists() {
        let pinned = Issuer::parse("https://as2.example.com").unwrap();
        let listed = chain(&["https://as1.example.com", "https://as2.example.com/"]);
        assert_eq!(
            pinned_server(&pinned, &listed).unwrap().as_str(),
            "https://as2.example.com",
            "any listed one, a trailing slash aside; the pinned spelling is kept"
        );
        let other = chain(&["https://evil.example.com"]);
        let err = pinned_server(&pinned, &other).unwrap_err();
        assert!(matches!(err.exit_status(), crate::oauth::ExitStatus::Usage));
        let msg = err.to_string();
        assert!(
            msg.contains("https://as2.example.com") && msg.contains("https://evil.example.com"),
            "{msg}"
        );
    }
}
