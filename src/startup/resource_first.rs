//! Starting from the API (RFC 9728): the authorization server, scopes and `resource` learned
//! from RESOURCE_URL's protected-resource metadata, before the provider is discovered.

use crate::config::Config;
use crate::error::{ChainFailure, RunError};
use crate::oauth::{Issuer, Step};
use crate::provider::resource::{self, Chain};
use crate::provider::{DiscoveryError, HttpClient};
use crate::redact::untrusted;

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
    let issuer = Issuer::parse(&chain.authorization_server).map_err(|problem| {
        RunError::Unsupported(format!(
            "the authorization server {:?} is unusable: {problem}",
            chain.authorization_server
        ))
    })?;
    // A client secret is bound to the issuer it was issued by: never sent to whatever server
    // a resource names.
    if config.client_secret.is_some() {
        return Err(RunError::Unsupported(format!(
            "CLIENT_SECRET is set, but it is bound to no issuer here: RESOURCE_URL's metadata names the \
             authorization server {server}, and a client secret is only ever sent to OAUTH_ISSUER \
             (none is set). If {server} issued this secret, set OAUTH_ISSUER={server}; otherwise unset \
             CLIENT_SECRET, and a client is registered at {server} when it offers registration",
            server = issuer.as_str()
        )));
    }
    config.use_issuer_from_resource(issuer);
    if !config.scopes_given
        && let Some(scopes) = chain.scopes_supported.as_ref().filter(|s| !s.is_empty())
    {
        config.scopes = scopes
            .iter()
            .map(|s| oauth2::Scope::new(s.clone()))
            .collect();
    }
    if !config.params.iter().any(|(k, _)| k == "resource") {
        config
            .params
            .push(("resource".into(), chain.resource.clone()));
    }
    if config.once && !config.then.contains(&Step::Api) {
        config.then.push(Step::Api);
    }
    Ok(chain)
}
