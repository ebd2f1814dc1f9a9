//! `Application::build(Config)`: everything before serving, one path for `run` and the tests:
//! resource-first discovery (RFC 9728), provider discovery, the PAR check, binding (first, so
//! port 0 works and the redirect URI is known), dynamic registration (RFC 7591), the shared
//! state (made once, outside the per-worker factory) and the server.

mod listeners;
mod registration;
mod resource_first;

pub use listeners::Listeners;
pub use registration::{REGISTERED_FILE, save_private};
pub use resource_first::authorization_server_now;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Condition, DefaultHeaders, Logger};
use actix_web::{App, HttpServer, web};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::config::Config;
use crate::error::RunError;
use crate::flow::FlowStore;
use crate::oauth::Check;
use crate::output::Output;
use crate::provider::resource::{Chain, Hop};
use crate::provider::{DiscoveryError, EndpointSource, Provider};
use crate::state::{AppState, Outcome};

pub struct Application {
    server: Server,
    addrs: Vec<SocketAddr>,
    state: web::Data<AppState>,
    config: Arc<Config>,
    /// With `--once`: where each sign-in's outcome arrives.
    outcomes: Option<UnboundedReceiver<Outcome>>,
}

impl Application {
    /// Everything before serving; nothing is served until `run_until_stopped`.
    pub async fn build(config: Config, output: Output) -> Result<Self, RunError> {
        let (config, mut provider, mut chain) = discover(config, &output).await?;
        let listeners = Listeners::bind(&config.listen)?;
        let client_checks =
            registration::client_metadata(&mut provider, &config, listeners.port()).await;
        if let (Some(chain), Some(url)) = (chain.as_mut(), &client_checks.url) {
            chain.hops.push(Hop {
                url: url.clone(),
                status: None,
                learned: "client_id is this URL (Client ID Metadata Document)".into(),
            });
        }
        if client_checks.url.is_none() && config.will_register() {
            registration::register(&mut provider, &config, listeners.port(), &output).await?;
            if let (Some(chain), Some(endpoint)) = (chain.as_mut(), &provider.registration_endpoint)
            {
                chain.hops.push(Hop {
                    url: endpoint.to_string(),
                    status: Some(201),
                    learned: format!("registered client_id {}", provider.client_id()),
                });
            }
        }
        let (once, outcomes) = match config.once {
            true => {
                let (tx, rx) = unbounded_channel();
                (Some(tx), Some(rx))
            }
            false => (None, None),
        };
        let (server, addrs, state) = serve(&config, provider, output, once, listeners)?;
        if let Some(chain) = chain.take() {
            let _ = state.chain.set(chain);
        }
        let _ = state.client_checks.set(client_checks.checks);
        Ok(Self {
            server,
            addrs,
            state,
            config: Arc::new(config),
            outcomes,
        })
    }
}

/// The grants without a callback (device, client credentials): discovery and the shared
/// state, nothing bound or served.
pub struct Headless {
    pub state: web::Data<AppState>,
    pub config: Arc<Config>,
}

impl Headless {
    pub async fn build(config: Config, output: Output) -> Result<Self, RunError> {
        let (config, mut provider, chain) = discover(config, &output).await?;
        // RFC 8707: the tokens are for RESOURCE_URL unless --param resource= names another.
        if provider.resource_indicator.is_none()
            && let Some(resource) = &config.resource
        {
            provider.resource_indicator = Some(resource.url.to_string());
        }
        if config.will_register() {
            return Err(RunError::Unsupported(format!(
                "--grant {} needs CLIENT_ID (and CLIENT_SECRET for a confidential client): \
                 register the client at the provider for this grant and set them; dynamic \
                 registration here registers a client for the code flow's redirect URI",
                config.grant.name()
            )));
        }
        let state = web::Data::new(shared_state(&config, provider, output, None, &[]));
        if let Some(chain) = chain {
            let _ = state.chain.set(chain);
        }
        Ok(Self {
            state,
            config: Arc::new(config),
        })
    }
}

/// Everything before binding: resource-first discovery (RFC 9728), provider discovery, the
/// PAR check.
async fn discover(
    mut config: Config,
    output: &Output,
) -> Result<(Config, Provider, Option<Chain>), RunError> {
    if let Some(secret) = &config.client_secret {
        output.hold_secret(secret.secret());
    }
    if let Some(spec) = config.resource.as_ref().and_then(|r| r.mcp_call.as_deref()) {
        spec.parse::<crate::mcp::ToolCall>()
            .map_err(|e| RunError::Unsupported(format!("--mcp-call (OAUTH_MCP_CALL): {e}")))?;
    }
    let mut chain = match config.provider.is_from_resource() {
        true => Some(resource_first::discover(&mut config).await?),
        false => None,
    };
    let legacy = chain.as_ref().is_some_and(|c| c.legacy);
    let provider = match Provider::discover(&config).await {
        Err(DiscoveryError::NotFound { .. }) if legacy => {
            default_endpoints(&mut config, chain.as_mut()).await?
        }
        other => other?,
    };
    if let Some(chain) = chain.as_mut() {
        record_provider(chain, &provider);
    }
    if config.par && provider.par_endpoint.is_none() {
        return Err(RunError::Unsupported(
            "--par (OAUTH_PAR): the provider advertises no pushed_authorization_request_endpoint; drop --par".into(),
        ));
    }
    Ok((config, provider, chain))
}

impl Application {
    pub fn port(&self) -> u16 {
        self.addrs.first().map_or(0, SocketAddr::port)
    }

    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The page that starts a sign-in: on the redirect URI's host when this app serves it
    /// (the flow's binding cookie must come back with the callback), else on a host the
    /// browser can reach.
    pub fn sign_in_url(&self) -> String {
        let redirect = self.state.redirect.url();
        if redirect.port_or_known_default() == Some(self.port()) {
            let mut url = redirect.clone();
            url.set_path("/login");
            url.set_query(None);
            url.set_fragment(None);
            return url.to_string();
        }
        let host = match self.addrs.as_slice() {
            [one] if !one.ip().is_unspecified() => match one.ip() {
                IpAddr::V4(ip) => ip.to_string(),
                IpAddr::V6(ip) => format!("[{ip}]"),
            },
            _ => "localhost".to_owned(),
        };
        format!("http://{host}:{}/login", self.port())
    }

    pub fn redirect_uri(&self) -> &str {
        self.state.redirect.as_str()
    }

    /// The configuration as it ended up (resource-first discovery fills in the provider).
    pub fn config(&self) -> Arc<Config> {
        self.config.clone()
    }

    /// With `--once`: where each sign-in's outcome arrives (taken once).
    pub fn take_outcomes(&mut self) -> Option<UnboundedReceiver<Outcome>> {
        self.outcomes.take()
    }

    /// The shared state, for `--once --then` to act on the session.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The shared state and the server over the bound sockets.
fn serve(
    config: &Config,
    provider: Provider,
    output: Output,
    once: Option<UnboundedSender<Outcome>>,
    listeners: Listeners,
) -> Result<(Server, Vec<SocketAddr>, web::Data<AppState>), RunError> {
    let listeners = listeners.into_inner();
    let addrs: Vec<SocketAddr> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect();
    let state = web::Data::new(shared_state(config, provider, output, once, &addrs));
    let callback_path = state.redirect.url().path().to_owned();
    let data = state.clone();
    let access_log = log::log_enabled!(target: "actix_web::middleware::logger", log::Level::Info);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(actix_web::middleware::from_fn(crate::web::guard::hosts))
            .wrap(security_headers())
            // Path only: the callback's query holds the code and state. Only when its lines
            // can be written: the logger formats each request whatever the log level.
            .wrap(Condition::new(access_log, access_logger()))
            .configure(|cfg| crate::web::configure(cfg, &callback_path))
    })
    .workers(2)
    .shutdown_timeout(2)
    // run() owns signals, so --once can exit 130 on Ctrl-C.
    .disable_signals();
    for listener in listeners {
        let addr = listener.local_addr().map_err(RunError::Server)?;
        server = server
            .listen(listener)
            .map_err(|source| RunError::Bind { addr, source })?;
    }
    Ok((server.run(), addrs, state))
}

/// One line per request: method, path (never the query), status, time.
fn access_logger() -> Logger {
    Logger::new(r#"%{method}xi %U %s %Dms"#)
        .custom_request_replace("method", |req| req.method().to_string())
}

/// The state every worker shares (made once, outside the per-worker factory).
fn shared_state(
    config: &Config,
    provider: Provider,
    output: Output,
    once: Option<UnboundedSender<Outcome>>,
    addrs: &[SocketAddr],
) -> AppState {
    let port = addrs.first().map_or(config.listen.port, SocketAddr::port);
    let redirect = config.redirect_for_port(port);
    let redirect_host = redirect.url().host_str().map(str::to_owned);
    let settings = crate::web::settings::rows(config, &provider, addrs);
    let authorize =
        crate::provider::authorize_url::AuthorizeUrl::new(&provider, &redirect, &config.scopes);

    AppState {
        provider,
        flows: FlowStore::default(),
        redirect,
        scopes: config.scopes.clone(),
        params: config.params.clone(),
        par: config.par,
        authorize,
        resource: config.resource.clone(),
        http_timeout: config.http_timeout,
        settings,
        output,
        once,
        last: Mutex::new(None),
        session: Mutex::new(None),
        holder: Mutex::new(None),
        audit: config.audit,
        redeemed: Mutex::new(None),
        hold_next_code: Default::default(),
        audit_checks: Mutex::new(Vec::new()),
        chain: Default::default(),
        client_checks: Default::default(),
        allowed_hosts: crate::web::guard::allowed_hosts(
            &config.listen.addrs,
            redirect_host.as_deref(),
            &config.listen.allowed_hosts,
        ),
    }
}

/// MCP 2025-03-26, a server with no metadata at all: `/authorize`, `/token` and `/register`
/// at its origin, with a warning in the report.
async fn default_endpoints(
    config: &mut Config,
    chain: Option<&mut Chain>,
) -> Result<Provider, RunError> {
    let Some(chain) = chain else {
        return Err(RunError::Unsupported(
            "the MCP server has no protected-resource metadata and RESOURCE_URL named no \
             authorization server: set OAUTH_ISSUER to its authorization server"
                .into(),
        ));
    };
    let origin = chain.authorization_server.clone();
    let url = |path: &str| {
        url::Url::parse(&format!("{origin}{path}")).map_err(|e| {
            RunError::Unsupported(format!(
                "the MCP server's origin {origin:?} is unusable: {e}"
            ))
        })
    };
    config.endpoints.authorization = Some(url("/authorize")?);
    config.endpoints.token = Some(url("/token")?);
    config.use_endpoints_by_hand();
    let mut provider = Provider::discover(config).await?;
    provider.registration_endpoint = Some(url("/register")?);
    // Under --mcp-revision 2025-03-26 these defaults are the rule, not a fallback.
    let verdict = match config.mcp_revision.without_resource_metadata() {
        true => Check::pass,
        false => Check::warn,
    };
    chain.checks.push(verdict(
        "authorization_server.metadata",
        format!(
            "{origin} serves no authorization server metadata: using {origin}/authorize, /token and \
             /register, as the MCP 2025-03-26 revision did"
        ),
    ));
    log::warn!(
        "no authorization server metadata at {}: using /authorize, /token and /register there (MCP 2025-03-26)",
        crate::redact::untrusted(&origin)
    );
    Ok(provider)
}

/// The discovery chain's hop for the provider's metadata (starting from RESOURCE_URL).
fn record_provider(chain: &mut Chain, provider: &Provider) {
    let EndpointSource::Discovery { url } = &provider.source else {
        return;
    };
    let registration = match (
        &provider.registration_endpoint,
        provider.origin("registration_endpoint"),
    ) {
        (Some(u), Some(from)) if from.to_string() != *url => format!("{u} (from {from})"),
        (Some(u), _) => u.to_string(),
        (None, _) => "none".into(),
    };
    chain.hops.push(Hop {
        url: url.clone(),
        status: Some(200),
        learned: format!(
            "issuer {}; registration_endpoint {registration}",
            provider.issuer
        ),
    });
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        // Pages carry tokens: never cache them, never leak the callback URL (with its code)
        // in a Referer. (Only /assets/app.js sets its own Cache-Control.) Scripts: only
        // /assets/app.js, never inline.
        .add(("Cache-Control", "no-store"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add((
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; \
             base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ))
}
