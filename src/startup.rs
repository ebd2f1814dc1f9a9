//! Builds the app: binds first (port 0 works), so the port and redirect URI are known before
//! it serves; shared state is made once, outside the per-worker factory.

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::Mutex;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{DefaultHeaders, Logger};
use actix_web::{App, HttpServer, web};
use tokio::sync::mpsc::UnboundedSender;

use crate::config::{Config, Listen};
use crate::error::RunError;
use crate::flow::FlowStore;
use crate::output::Output;
use crate::provider::Provider;
use crate::state::{AppState, Outcome};

/// Sockets bound before anything else, so the port (and so the redirect URI) is known
/// before a client is registered or a flow starts.
pub struct Listeners(Vec<TcpListener>);

impl Listeners {
    /// Binds the first address (port 0 picks one), then the others on the same port. Only
    /// the first is required: a machine without IPv6 still serves on 127.0.0.1.
    pub fn bind(listen: &Listen) -> Result<Self, RunError> {
        let mut listeners: Vec<TcpListener> = Vec::new();
        let mut port = listen.port;
        for (i, ip) in listen.addrs.iter().enumerate() {
            let addr = SocketAddr::new(*ip, port);
            match TcpListener::bind(addr) {
                Ok(l) => {
                    if i == 0 {
                        port = l.local_addr().map_err(RunError::Server)?.port();
                    }
                    listeners.push(l);
                }
                Err(source) if i == 0 => return Err(RunError::Bind { addr, source }),
                Err(e) => log::warn!("not listening on {addr}: {e}"),
            }
        }
        Ok(Self(listeners))
    }

    pub fn port(&self) -> u16 {
        self.0
            .first()
            .and_then(|l| l.local_addr().ok())
            .map_or(0, |a| a.port())
    }
}

pub struct Application {
    server: Server,
    addrs: Vec<SocketAddr>,
    state: web::Data<AppState>,
}

impl Application {
    /// Binds every listen address and prepares the server; nothing is served until
    /// `run_until_stopped`. With `once`, each callback's outcome is sent there.
    pub fn build(
        config: &Config,
        provider: Provider,
        output: Output,
        once: Option<UnboundedSender<Outcome>>,
        listeners: Listeners,
    ) -> Result<Self, RunError> {
        let listeners = listeners.0;
        let addrs: Vec<SocketAddr> = listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect();
        let port = addrs.first().map_or(config.listen.port, SocketAddr::port);
        let redirect = config.redirect_for_port(port);
        let callback_path = redirect.url().path().to_owned();
        let redirect_host = redirect.url().host_str().map(str::to_owned);
        let mut summary = config.summary();
        summary["redirect_uri"] = redirect.as_str().into();
        summary["client_id"] = provider.client_id().into();
        summary["client_secret"] = if provider.has_client_secret() {
            "set"
        } else {
            "not set (public client)"
        }
        .into();
        summary["auth_method"] = provider.auth_method.name().into();
        summary["listen"] = addrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .into();

        let state = web::Data::new(AppState {
            provider,
            flows: FlowStore::default(),
            redirect,
            scopes: config.scopes.clone(),
            params: config.params.clone(),
            par: config.par,
            resource: config.resource.clone(),
            summary,
            output,
            once,
            last: Mutex::new(None),
            session: Mutex::new(None),
            chain: Default::default(),
            allowed_hosts: crate::web::guard::allowed_hosts(
                &config.listen.addrs,
                redirect_host.as_deref(),
                &config.listen.allowed_hosts,
            ),
        });
        let data = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .wrap(actix_web::middleware::from_fn(crate::web::guard::hosts))
                .wrap(security_headers())
                // Path only: the callback's query holds the code and state.
                .wrap(
                    Logger::new(r#"%{method}xi %U %s %Dms"#)
                        .custom_request_replace("method", |req| req.method().to_string()),
                )
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
        Ok(Self {
            server: server.run(),
            addrs,
            state,
        })
    }

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
