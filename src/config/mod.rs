//! Raw options -> a checked `Config`. The only module that turns user strings into URLs,
//! secrets and addresses; every error names the setting, what is wrong, and the fix.
//! This file owns `Config` itself: `Config::from_cli`, which asks each concern's file in
//! turn, the settings too small for a file of their own (client, steps, timeouts, output),
//! and `summary()`.

mod ca;
mod client_key;
mod client_metadata;
mod cross_app;
mod defaults;
mod endpoints;
mod error;
mod listen;
mod params;
mod provider;
pub mod registered;
mod resource;
mod sign_in;
mod steps;
mod workload;

use std::path::PathBuf;
use std::time::Duration;

use oauth2::{ClientId, ClientSecret, RedirectUrl, Scope};
use serde_json::{Value, json};

pub use ca::CaBundle;
pub use client_key::{AssertionAudience, ClientKey, KeyType, SignError};
pub use client_metadata::ClientMetadataUrl;
pub use cross_app::{CrossApp, IdpEndpoint, SubjectToken};
pub use defaults::{DEFAULT_CALLBACK_PATH, DEFAULT_PORT, DEFAULT_SCOPES};
use defaults::{DEFAULT_HTTP_TIMEOUT_SECS, DEFAULT_TIMEOUT_SECS, given};
pub use endpoints::{EndpointOverrides, by_hand};
pub use error::{ConfigError, CrossAppProblem};
pub use listen::Listen;
pub use params::{RESERVED_PARAMS, scope_string};
pub use provider::ProviderSetting;
pub use resource::Resource;
pub use sign_in::SignIn;
use steps::{grant, then_steps};
pub use workload::{Secret, WorkloadAssertion};

use crate::cli::Cli;
use crate::oauth::{AuthMethod, Grant, Issuer, McpRevision, Step};

/// Everything the app needs, checked.
#[derive(Debug)]
pub struct Config {
    pub provider: ProviderSetting,
    pub endpoints: EndpointOverrides,
    /// `None`: register one dynamically (RFC 7591).
    pub client_id: Option<ClientId>,
    /// Register a new client even when CLIENT_ID is set.
    pub register: bool,
    /// Register a confidential client (with a secret) rather than a public one.
    pub register_confidential: bool,
    pub client_secret: Option<ClientSecret>,
    /// OAUTH_CLIENT_METADATA_URL: the `client_id` at an authorization server that supports
    /// Client ID Metadata Documents, in preference to registering one.
    pub client_metadata_url: Option<ClientMetadataUrl>,
    /// `--print-client-metadata`: print the document to host at that URL and exit.
    pub print_client_metadata: bool,
    /// As set; `None` lets the provider's metadata and the secret decide (private_key_jwt
    /// when OAUTH_CLIENT_KEY is set).
    pub auth_method: Option<AuthMethod>,
    /// OAUTH_CLIENT_KEY, checked: the private key for private_key_jwt.
    pub client_key: Option<ClientKey>,
    /// The `aud` of client assertions.
    pub assertion_audience: AssertionAudience,
    pub scopes: Vec<Scope>,
    /// OAUTH_SCOPES was set (else a resource's scopes_supported may replace the default).
    pub scopes_given: bool,
    /// Extra authorization request parameters.
    pub params: Vec<(String, String)>,
    /// Push the authorization request first (RFC 9126).
    pub par: bool,
    pub listen: Listen,
    /// `None`: `http://localhost:<bound port>/oauth_callback`, known once the port is bound.
    pub redirect: Option<RedirectUrl>,
    pub ca: Option<CaBundle>,
    pub resource: Option<Resource>,
    /// `--mcp-revision`: the MCP revision whose authorization rules apply.
    pub mcp_revision: McpRevision,
    /// OAUTH_MCP_REVISION was set: the MCP protocol is not detected but this revision spoken.
    pub mcp_revision_given: bool,
    /// An MCP server of the 2025-03-26 revision (no protected-resource metadata): its origin
    /// locates the authorization server metadata, whose issuer is then taken as it is.
    pub legacy_mcp: bool,
    /// Steps `--once` runs after the code exchange.
    pub then: Vec<Step>,
    pub once: bool,
    /// `--report` (with `--once`): print the token, the claims and the checks, not the bare
    /// token JSON.
    pub report: bool,
    /// `--dpop` (OAUTH_DPOP): DPoP-bound tokens (RFC 9449).
    pub dpop: bool,
    /// `--audit` (OAUTH_AUDIT, with `--once`): probe what the provider must refuse.
    pub audit: bool,
    /// `--redact` (OAUTH_REDACT): mask token values in what is printed on stdout.
    pub redact: bool,
    /// `--print-config`: print `summary()` and exit.
    pub print_config: bool,
    pub timeout: Duration,
    pub http_timeout: Duration,
    pub open_browser: bool,
    /// `--sign-in`: the app signs in by itself (with `--once`).
    pub sign_in: Option<SignIn>,
    /// How the tokens are obtained (OAUTH_GRANT); all but `code` are one command, as `--once`.
    pub grant: Grant,
    /// Cross-app access (OAUTH_IDP_ID_TOKEN): the token from the IdP's ID-JAG, no browser.
    pub cross_app: Option<CrossApp>,
    /// `--grant jwt_bearer`: the workload's JWT, or where to fetch it.
    pub workload: Option<WorkloadAssertion>,
}

impl Config {
    /// The test user's credentials come from the environment (and so `.env`) only.
    pub fn from_cli(cli: &Cli) -> Result<Self, ConfigError> {
        Self::from_cli_and_env(cli, &|name| std::env::var(name).ok())
    }

    /// Each setting checked in turn; the first mistake is the error.
    pub fn from_cli_and_env(
        cli: &Cli,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let grant = grant(cli)?;
        let endpoints = EndpointOverrides::from_cli(cli)?;
        let provider = ProviderSetting::from_cli(cli, &endpoints)?;
        // Without one, the app registers a client when the provider allows it (RFC 7591).
        let client_id = given(&cli.client_id).map(|s| ClientId::new(s.to_owned()));
        let (client_secret, auth_method, client_key) = client_authentication(cli)?;
        // Client credentials: no user, so no `openid` by default; the scopes asked for are the
        // ones given.
        let scopes = match (grant, given(&cli.scopes)) {
            (g, None) if g.without_user() => Vec::new(),
            (_, scopes) => params::scopes(scopes),
        };
        let params = params::parse_params(&cli.params)?;
        let (listen, redirect) = Listen::from_cli(cli)?;
        let ca = given(&cli.ca_cert)
            .map(|p| CaBundle::load(&PathBuf::from(p)))
            .transpose()?;
        let resource = given(&cli.resource_url)
            .map(|u| {
                Resource::parse(
                    u,
                    given(&cli.resource_method),
                    cli.mcp,
                    given(&cli.mcp_call),
                )
            })
            .transpose()?;
        let then = then_steps(cli, grant)?;
        let mcp_revision = given(&cli.mcp_revision)
            .map(|r| McpRevision::parse(r).ok_or_else(|| ConfigError::McpRevision(r.to_owned())))
            .transpose()?
            .unwrap_or_default();
        let client_metadata_url = given(&cli.client_metadata_url)
            .map(ClientMetadataUrl::parse)
            .transpose()?;
        if cli.print_client_metadata {
            if client_metadata_url.is_none() {
                return Err(ConfigError::PrintClientMetadataNeedsUrl);
            }
            if redirect.is_none() && listen.port == 0 {
                return Err(ConfigError::PrintClientMetadataNeedsPort);
            }
        }
        let sign_in = SignIn::from_cli(
            cli,
            env,
            cli.once || !grant.needs_callback(),
            provider.clerk(),
        )?;
        let cross_app = CrossApp::from_cli(cli, env)?;
        if cross_app.is_some() && grant != Grant::Code {
            return Err(ConfigError::NotForGrant {
                option: "OAUTH_IDP_ID_TOKEN (cross-app access)",
                grant: grant.name(),
                why: "cross-app access is a grant of its own: the IdP's ID-JAG for a token",
            });
        }
        if cli.audit && cli.dpop {
            return Err(ConfigError::AuditWithDpop);
        }
        if cli.audit && grant != Grant::Code {
            return Err(ConfigError::NotForGrant {
                option: "--audit (OAUTH_AUDIT)",
                grant: grant.name(),
                why: "the probes replay the code flow's authorization codes and redirects",
            });
        }
        let workload = match grant {
            Grant::JwtBearer => Some(WorkloadAssertion::from_cli(cli, env)?),
            _ => None,
        };
        if grant.without_user() && sign_in.is_some() {
            return Err(ConfigError::NotForGrant {
                option: "--sign-in (OAUTH_SIGN_IN)",
                grant: grant.name(),
                why: "the client authenticates as itself, no user signs in",
            });
        }
        Ok(Self {
            provider,
            legacy_mcp: false,
            endpoints,
            client_id,
            register: cli.register || cli.register_confidential,
            register_confidential: cli.register_confidential,
            client_secret,
            client_metadata_url,
            print_client_metadata: cli.print_client_metadata,
            auth_method,
            client_key,
            assertion_audience: AssertionAudience::parse(given(&cli.assertion_audience))?,
            scopes,
            scopes_given: given(&cli.scopes).is_some(),
            params,
            par: cli.par,
            listen,
            redirect,
            ca,
            resource,
            mcp_revision,
            mcp_revision_given: given(&cli.mcp_revision).is_some(),
            then,
            once: cli.once || !grant.needs_callback(),
            report: cli.report,
            dpop: cli.dpop,
            audit: cli.audit,
            redact: cli.redact,
            print_config: cli.print_config,
            timeout: seconds("OAUTH_TIMEOUT", &cli.timeout, DEFAULT_TIMEOUT_SECS)?,
            http_timeout: seconds(
                "OAUTH_HTTP_TIMEOUT",
                &cli.http_timeout,
                DEFAULT_HTTP_TIMEOUT_SECS,
            )?,
            // --sign-in drives the sign-in itself: no browser to open.
            open_browser: !cli.no_browser && sign_in.is_none() && grant.needs_callback(),
            sign_in,
            grant,
            cross_app,
            workload,
        })
    }

    /// RESOURCE_URL alone named the provider, and the resource's metadata (RFC 9728) has
    /// named its authorization server: from here on, that is the issuer discovery starts
    /// from, as if OAUTH_ISSUER had named it.
    pub fn use_issuer_from_resource(&mut self, issuer: Issuer) {
        self.provider = ProviderSetting::Issuer(issuer);
    }

    /// No discovery: the endpoints given by hand (set on `endpoints`) are the provider, its
    /// authorization endpoint's origin standing for the issuer (MCP 2025-03-26 fallback).
    pub fn use_endpoints_by_hand(&mut self) {
        if let Some(issuer) = self
            .endpoints
            .authorization
            .as_ref()
            .and_then(|a| Issuer::parse(&a.origin().ascii_serialization()).ok())
        {
            self.provider = ProviderSetting::ByHand { issuer };
        }
    }

    /// A client is registered at start (RFC 7591): none is configured, or --register.
    pub fn will_register(&self) -> bool {
        self.client_id.is_none() || self.register
    }

    /// The Client ID Metadata Document to host (`--print-client-metadata`), for the
    /// configured redirect URI.
    pub fn client_metadata_document(&self) -> Option<Value> {
        self.client_metadata_url
            .as_ref()
            .map(|url| url.document(&self.redirect_for_port(self.listen.port)))
    }

    /// The redirect URI for a bound port: the configured one, or the loopback default.
    pub fn redirect_for_port(&self, port: u16) -> RedirectUrl {
        self.redirect
            .clone()
            .unwrap_or_else(|| listen::default_redirect(port))
    }

    pub fn scope_string(&self) -> String {
        scope_string(&self.scopes)
    }

    /// What the index page and `--print-config` show: never the secret itself.
    pub fn summary(&self) -> Value {
        json!({
            "issuer": self.issuer_shown(),
            "clerk_frontend_api": self.provider.clerk().map(|k| k.frontend_api.clone()),
            "client_id": self.client_id.as_ref().map_or("(registered at start)", |c| c.as_str()),
            "client_secret": if self.client_secret.is_some() { "set" } else { "not set (public client)" },
            "client_metadata_url": self.client_metadata_url.as_ref().map(ClientMetadataUrl::as_str),
            "auth_method": self.auth_method.map_or("from the provider's metadata", AuthMethod::name),
            "client_key": self.client_key.as_ref().map(|k| json!({
                "path": k.path.display().to_string(),
                "type": k.key_type().name(),
                "kid": k.kid(),
                "algs": k.key_type().algs(),
            })),
            "assertion_audience": self.assertion_audience.name(),
            "scopes": self.scope_string(),
            "params": self.params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
            "par": self.par,
            "dpop": self.dpop,
            "listen": self.listen.addrs.iter().map(|a| std::net::SocketAddr::new(*a, self.listen.port).to_string()).collect::<Vec<_>>(),
            "redirect_uri": self.redirect_for_port(self.listen.port).as_str(),
            "endpoints_by_hand": self.endpoints.listed(),
            "ca_cert": self.ca.as_ref().map(|c| c.path.display().to_string()),
            "resource_url": self.resource.as_ref().map(|r| format!("{} {}", r.method, r.url)),
            "mcp_revision": if self.mcp_revision_given {
                self.mcp_revision.as_str()
            } else {
                "detected (server/discover, else initialize)"
            },
            "once": self.once,
            "audit": self.audit,
            "then": self.then.iter().map(Step::name).collect::<Vec<_>>(),
            "timeout_secs": self.timeout.as_secs(),
            "http_timeout_secs": self.http_timeout.as_secs(),
            "open_browser": self.open_browser,
            "sign_in": self.sign_in.as_ref().map(SignIn::summary),
            "grant": self.grant.name(),
            "cross_app": self.cross_app.as_ref().map(|c| json!({
                "idp": match &c.idp {
                    IdpEndpoint::Issuer(i) => i.as_str().to_owned(),
                    IdpEndpoint::TokenUrl(u) => u.to_string(),
                },
                "idp_client_id": c.idp_client_id,
                "idp_id_token": "set",
            })),
        })
    }

    /// The issuer for `summary()`; before the resource's metadata is read, the resource's
    /// origin (as `--print-config` has always shown it).
    fn issuer_shown(&self) -> String {
        match (self.provider.issuer(), &self.resource) {
            (Some(issuer), _) => issuer.as_str().to_owned(),
            (None, Some(resource)) => resource.url.origin().ascii_serialization(),
            (None, None) => String::new(),
        }
    }
}

/// CLIENT_SECRET, OAUTH_CLIENT_KEY, and OAUTH_AUTH_METHOD checked against them.
type ClientAuthentication = (Option<ClientSecret>, Option<AuthMethod>, Option<ClientKey>);

fn client_authentication(cli: &Cli) -> Result<ClientAuthentication, ConfigError> {
    let client_secret = given(&cli.client_secret).map(|s| ClientSecret::new(s.to_owned()));
    let auth_method = given(&cli.auth_method)
        .map(|m| AuthMethod::parse(m).ok_or_else(|| ConfigError::AuthMethod(m.to_owned())))
        .transpose()?;
    let client_key = given(&cli.client_key)
        .map(|p| ClientKey::load(&PathBuf::from(p)))
        .transpose()?;
    if let Some(
        m @ (AuthMethod::ClientSecretPost
        | AuthMethod::ClientSecretBasic
        | AuthMethod::ClientSecretJwt),
    ) = auth_method
        && client_secret.is_none()
    {
        return Err(ConfigError::AuthMethodNeedsSecret(m.name()));
    }
    if client_key.is_none() && auth_method == Some(AuthMethod::PrivateKeyJwt) {
        return Err(ConfigError::NeedsClientKey(
            "OAUTH_AUTH_METHOD=private_key_jwt",
        ));
    }
    Ok((client_secret, auth_method, client_key))
}

/// `--print-jwks`: OAUTH_CLIENT_KEY alone, checked; no provider is needed to print it.
pub fn client_key_for_jwks(cli: &Cli) -> Result<ClientKey, ConfigError> {
    let path = given(&cli.client_key).ok_or(ConfigError::NeedsClientKey("--print-jwks"))?;
    ClientKey::load(&PathBuf::from(path))
}

/// OAUTH_TIMEOUT and OAUTH_HTTP_TIMEOUT: whole seconds above 0.
fn seconds(
    name: &'static str,
    raw: &Option<String>,
    default: u64,
) -> Result<Duration, ConfigError> {
    match given(raw) {
        None => Ok(Duration::from_secs(default)),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n > 0 => Ok(Duration::from_secs(n)),
            _ => Err(ConfigError::Seconds {
                name,
                value: v.to_owned(),
            }),
        },
    }
}

#[cfg(test)]
pub(crate) mod tests;
