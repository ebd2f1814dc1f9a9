//! Raw options -> a checked `Config`. The only module that turns user strings into URLs,
//! secrets and addresses; every error names the setting, what is wrong, and the fix.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use oauth2::{ClientId, ClientSecret, RedirectUrl, Scope};
use serde_json::{Value, json};
use url::Url;

use crate::clerk::{KeyError, PublishableKey};
use crate::cli::Cli;
use crate::oauth::{AuthMethod, Issuer, Step, is_loopback_host, require_https_unless_loopback};
use crate::signin::{
    Consent, Credentials, Driver, DriverError, OneTimeCode, Secret, TotpKey, TotpKeyError,
};

pub const DEFAULT_SCOPES: &str = "openid profile email";
pub const DEFAULT_PORT: u16 = 3000;
pub const DEFAULT_CALLBACK_PATH: &str = "/oauth_callback";
const DEFAULT_TIMEOUT_SECS: u64 = 300;
const DEFAULT_HTTP_TIMEOUT_SECS: u64 = 30;

/// A configuration mistake: exit status 2, one message, nothing secret in it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no provider configured: set CLERK_PUBLISHABLE_KEY (Clerk dashboard > API keys) or \
         OAUTH_ISSUER (any provider's issuer URL), or RESOURCE_URL to start from your API's \
         protected-resource metadata. To start, copy .env.sample to .env and fill it in"
    )]
    NoProvider,
    #[error(
        "CLERK_PUBLISHABLE_KEY is not a publishable key: {0}. A key looks like pk_test_ or \
         pk_live_ followed by base64 text; copy it from the Clerk dashboard > API keys"
    )]
    PublishableKey(KeyError),
    #[error("OAUTH_ISSUER {value:?} is not a usable issuer URL: {problem}")]
    Issuer { value: String, problem: String },
    #[error(
        "CLIENT_ID is not set, and the provider offers no dynamic client registration: copy the \
         client ID of your OAuth application from the provider's dashboard into .env \
         (CLIENT_ID=...) or pass --client-id; or turn on dynamic client registration at the \
         provider (its metadata then lists a registration_endpoint)"
    )]
    NoClientId,
    #[error(
        "PORT {0:?} is not a port number: use a number from 0 to 65535 (default {DEFAULT_PORT})"
    )]
    Port(String),
    #[error(
        "HOST {0:?} is not an IP address: use 127.0.0.1, ::1 or localhost (loopback, the default), \
         or 0.0.0.0 to listen on every interface"
    )]
    Host(String),
    #[error(
        "ALLOWED_HOSTS entry {0:?} is not a host name: list names or addresses without scheme or \
         port, comma-separated, e.g. ALLOWED_HOSTS=my-laptop.lan,192.168.1.20"
    )]
    AllowedHost(String),
    #[error("REDIRECT_URI {value:?} is not usable: {problem}")]
    Redirect { value: String, problem: String },
    #[error("OAUTH_CA_CERT {path:?} cannot be used: {problem}")]
    CaCert { path: PathBuf, problem: String },
    #[error("{name} {value:?} is not usable: {problem}")]
    Endpoint {
        name: &'static str,
        value: String,
        problem: String,
    },
    #[error(
        "OAUTH_AUTHORIZE_URL and OAUTH_TOKEN_URL go together: a provider without discovery needs both"
    )]
    HalfManual,
    #[error(
        "OAUTH_AUTH_METHOD {0:?} is not one this client supports: use client_secret_post, \
         client_secret_basic or none"
    )]
    AuthMethod(String),
    #[error("OAUTH_AUTH_METHOD={0} needs CLIENT_SECRET: set it, or use none for a public client")]
    AuthMethodNeedsSecret(&'static str),
    #[error("--param {0:?} is not key=value: e.g. --param audience=https://api.example.com")]
    Param(String),
    #[error(
        "--param {0}=... is set by the client itself (state, PKCE, nonce, redirect, response type and \
         mode, request objects): it cannot be overridden"
    )]
    ReservedParam(String),
    #[error("--param scope=... : set the scopes with OAUTH_SCOPES (--scopes) instead")]
    ScopeParam,
    #[error("RESOURCE_URL {value:?} is not usable: {problem}")]
    Resource { value: String, problem: String },
    #[error("RESOURCE_METHOD {0:?} is not an HTTP method: use GET, POST, PUT, PATCH or DELETE")]
    ResourceMethod(String),
    #[error("--then {0:?} is not a step: use a comma-separated list of {names}", names = Step::NAMES)]
    Then(String),
    #[error("{0} works with the one-shot sign-in of --once: add --once")]
    NeedsOnce(&'static str),
    #[error("{name} {value:?} is not a number of seconds: use a whole number above 0")]
    Seconds { name: &'static str, value: String },
    #[error(
        "--sign-in (OAUTH_SIGN_IN) signs in as a test user: set {0} in the environment or .env \
         (never as flags, which other users of the machine can read)"
    )]
    SignInCredentials(String),
    #[error("--consent (OAUTH_CONSENT) {0:?} is not an answer: use approve or deny")]
    Consent(String),
    #[error(transparent)]
    SignInDriver(#[from] DriverError),
    #[error("OAUTH_TEST_TOTP_SECRET is not a base32 authenticator secret: {0}")]
    TotpSecret(TotpKeyError),
    #[error(
        "OAUTH_TEST_TOTP_SECRET and OAUTH_TEST_CODE are both set: set one (the authenticator's \
         secret, or a fixed code)"
    )]
    TwoCodes,
}

/// Where the provider is, and how we learned it.
#[derive(Debug, Clone)]
pub struct ProviderSetting {
    pub issuer: Issuer,
    /// Set when the issuer came from a Clerk publishable key (enables Clerk's fixed paths).
    pub clerk: Option<PublishableKey>,
    /// False when no issuer was given and the endpoints were (GitHub and the like).
    pub discover: bool,
    /// True when nothing names the provider but RESOURCE_URL: the issuer is learned from
    /// the resource's metadata (RFC 9728) at start; until then `issuer` is a placeholder.
    pub from_resource: bool,
}

/// Endpoints given by hand: each replaces what discovery said; authorization and token
/// together make discovery unnecessary.
#[derive(Debug, Clone, Default)]
pub struct EndpointOverrides {
    pub authorization: Option<Url>,
    pub token: Option<Url>,
    pub userinfo: Option<Url>,
    pub introspection: Option<Url>,
    pub revocation: Option<Url>,
    pub jwks: Option<Url>,
}

/// The setting that gives a metadata endpoint by hand, as a fix to offer in a message.
pub fn by_hand(field: &str) -> String {
    let setting = match field {
        "authorization_endpoint" => "OAUTH_AUTHORIZE_URL",
        "token_endpoint" => "OAUTH_TOKEN_URL",
        "userinfo_endpoint" => "OAUTH_USERINFO_URL",
        "introspection_endpoint" => "OAUTH_INTROSPECTION_URL",
        "revocation_endpoint" => "OAUTH_REVOCATION_URL",
        "jwks_uri" => "OAUTH_JWKS_URL",
        _ => return String::new(),
    };
    format!(" (set {setting} to give it by hand)")
}

impl EndpointOverrides {
    fn from_cli(cli: &Cli) -> Result<Self, ConfigError> {
        let parse =
            |name: &'static str, raw: &Option<String>| -> Result<Option<Url>, ConfigError> {
                let Some(raw) = given(raw) else {
                    return Ok(None);
                };
                let err = |problem: String| ConfigError::Endpoint {
                    name,
                    value: raw.to_owned(),
                    problem,
                };
                let url = Url::parse(raw).map_err(|e| err(format!("{e}; give the full URL")))?;
                require_https_unless_loopback(&url).map_err(err)?;
                Ok(Some(url))
            };
        let overrides = Self {
            authorization: parse("OAUTH_AUTHORIZE_URL", &cli.authorize_url)?,
            token: parse("OAUTH_TOKEN_URL", &cli.token_url)?,
            userinfo: parse("OAUTH_USERINFO_URL", &cli.userinfo_url)?,
            introspection: parse("OAUTH_INTROSPECTION_URL", &cli.introspection_url)?,
            revocation: parse("OAUTH_REVOCATION_URL", &cli.revocation_url)?,
            jwks: parse("OAUTH_JWKS_URL", &cli.jwks_url)?,
        };
        Ok(overrides)
    }

    /// `name=url` for each endpoint given by hand.
    pub fn listed(&self) -> Vec<String> {
        [
            ("authorization_endpoint", &self.authorization),
            ("token_endpoint", &self.token),
            ("userinfo_endpoint", &self.userinfo),
            ("introspection_endpoint", &self.introspection),
            ("revocation_endpoint", &self.revocation),
            ("jwks_uri", &self.jwks),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|u| format!("{k}={u}")))
        .collect()
    }

    /// Enough to run the flow without discovery.
    pub fn complete(&self) -> bool {
        self.authorization.is_some() && self.token.is_some()
    }
}

/// The addresses to listen on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub addrs: Vec<IpAddr>,
    pub port: u16,
    /// Host names given in ALLOWED_HOSTS, lowercase: answered to beside loopback names, the
    /// redirect URI's host and the listen address.
    pub allowed_hosts: Vec<String>,
}

/// A PEM bundle of extra trusted roots, already checked to parse.
#[derive(Debug, Clone)]
pub struct CaBundle {
    pub path: PathBuf,
    pub pem: Vec<u8>,
    pub count: usize,
}

/// The user's own API, called with the access token.
#[derive(Debug, Clone)]
pub struct Resource {
    pub url: Url,
    pub method: String,
}

/// `--sign-in`: the test user, and how to answer the provider's pages.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub credentials: Credentials,
    pub consent: Consent,
    /// `--artifacts`; `None`: a new temp folder when there is something to save.
    pub artifacts: Option<PathBuf>,
}

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
    /// As set; `None` lets the provider's metadata and the secret decide.
    pub auth_method: Option<AuthMethod>,
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
    /// Steps `--once` runs after the code exchange.
    pub then: Vec<Step>,
    pub once: bool,
    pub timeout: Duration,
    pub http_timeout: Duration,
    pub open_browser: bool,
    /// `--sign-in`: the app signs in by itself (with `--once`).
    pub sign_in: Option<SignIn>,
}

/// Empty values (`CLIENT_SECRET=` in .env) count as unset.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Config {
    /// The test user's credentials come from the environment (and so `.env`) only.
    pub fn from_cli(cli: &Cli) -> Result<Self, ConfigError> {
        Self::from_cli_and_env(cli, &|name| std::env::var(name).ok())
    }

    pub fn from_cli_and_env(
        cli: &Cli,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let endpoints = EndpointOverrides::from_cli(cli)?;
        if endpoints.authorization.is_some() != endpoints.token.is_some()
            && given(&cli.issuer).is_none()
            && given(&cli.publishable_key).is_none()
        {
            return Err(ConfigError::HalfManual);
        }
        let provider = provider_setting(cli, &endpoints)?;
        // Without one, the app registers a client when the provider allows it (RFC 7591).
        let client_id = given(&cli.client_id).map(|s| ClientId::new(s.to_owned()));
        let client_secret = given(&cli.client_secret).map(|s| ClientSecret::new(s.to_owned()));
        let auth_method = given(&cli.auth_method)
            .map(|m| AuthMethod::parse(m).ok_or_else(|| ConfigError::AuthMethod(m.to_owned())))
            .transpose()?;
        if let Some(m @ (AuthMethod::ClientSecretPost | AuthMethod::ClientSecretBasic)) =
            auth_method
            && client_secret.is_none()
        {
            return Err(ConfigError::AuthMethodNeedsSecret(m.name()));
        }
        let scopes: Vec<Scope> = given(&cli.scopes)
            .unwrap_or(DEFAULT_SCOPES)
            .split_whitespace()
            .map(|s| Scope::new(s.to_owned()))
            .collect();
        let params = parse_params(&cli.params)?;
        let port = match given(&cli.port) {
            None => DEFAULT_PORT,
            Some(p) => p.parse().map_err(|_| ConfigError::Port(p.to_owned()))?,
        };
        let redirect = given(&cli.redirect_uri).map(parse_redirect).transpose()?;
        let listen = Listen {
            addrs: listen_addrs(given(&cli.host), redirect.as_ref())?,
            port,
            allowed_hosts: parse_allowed_hosts(&cli.allowed_hosts)?,
        };
        let ca = given(&cli.ca_cert)
            .map(|p| load_ca(&PathBuf::from(p)))
            .transpose()?;
        let resource = given(&cli.resource_url)
            .map(|u| parse_resource(u, given(&cli.resource_method)))
            .transpose()?;
        let then = cli
            .then
            .iter()
            .filter(|w| !w.trim().is_empty())
            .map(|w| Step::parse(w).ok_or_else(|| ConfigError::Then(w.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        if !then.is_empty() && !cli.once {
            return Err(ConfigError::NeedsOnce("--then"));
        }
        if cli.report && !cli.once {
            return Err(ConfigError::NeedsOnce("--report"));
        }
        let sign_in = sign_in(cli, env)?;
        Ok(Self {
            provider,
            endpoints,
            client_id,
            register: cli.register || cli.register_confidential,
            register_confidential: cli.register_confidential,
            client_secret,
            auth_method,
            scopes,
            scopes_given: given(&cli.scopes).is_some(),
            params,
            par: cli.par,
            listen,
            redirect,
            ca,
            resource,
            then,
            once: cli.once,
            timeout: seconds("OAUTH_TIMEOUT", &cli.timeout, DEFAULT_TIMEOUT_SECS)?,
            http_timeout: seconds(
                "OAUTH_HTTP_TIMEOUT",
                &cli.http_timeout,
                DEFAULT_HTTP_TIMEOUT_SECS,
            )?,
            // --sign-in drives the sign-in itself: no browser to open.
            open_browser: !cli.no_browser && sign_in.is_none(),
            sign_in,
        })
    }

    /// A client is registered at start (RFC 7591): none is configured, or --register.
    pub fn will_register(&self) -> bool {
        self.client_id.is_none() || self.register
    }

    /// The redirect URI for a bound port: the configured one, or the loopback default.
    pub fn redirect_for_port(&self, port: u16) -> RedirectUrl {
        self.redirect.clone().unwrap_or_else(|| {
            RedirectUrl::new(format!("http://localhost:{port}{DEFAULT_CALLBACK_PATH}"))
                .expect("the default redirect URI is a valid URL")
        })
    }

    pub fn scope_string(&self) -> String {
        scope_string(&self.scopes)
    }

    /// What the index page and `--print-config` show: never the secret itself.
    pub fn summary(&self) -> Value {
        json!({
            "issuer": self.provider.issuer.as_str(),
            "clerk_frontend_api": self.provider.clerk.as_ref().map(|k| k.frontend_api.clone()),
            "client_id": self.client_id.as_ref().map_or("(registered at start)", |c| c.as_str()),
            "client_secret": if self.client_secret.is_some() { "set" } else { "not set (public client)" },
            "auth_method": self.auth_method.map_or("from the provider's metadata", AuthMethod::name),
            "scopes": self.scope_string(),
            "params": self.params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
            "par": self.par,
            "listen": self.listen.addrs.iter().map(|a| std::net::SocketAddr::new(*a, self.listen.port).to_string()).collect::<Vec<_>>(),
            "redirect_uri": self.redirect_for_port(self.listen.port).as_str(),
            "endpoints_by_hand": self.endpoints.listed(),
            "ca_cert": self.ca.as_ref().map(|c| c.path.display().to_string()),
            "resource_url": self.resource.as_ref().map(|r| format!("{} {}", r.method, r.url)),
            "once": self.once,
            "then": self.then.iter().map(Step::name).collect::<Vec<_>>(),
            "timeout_secs": self.timeout.as_secs(),
            "http_timeout_secs": self.http_timeout.as_secs(),
            "open_browser": self.open_browser,
            "sign_in": self.sign_in.as_ref().map(|s| json!({
                "driver": s.credentials.driver.name(),
                "username": s.credentials.username,
                "password": "set",
                "one_time_code": match &s.credentials.one_time_code {
                    Some(OneTimeCode::Totp(_)) => "OAUTH_TEST_TOTP_SECRET",
                    Some(OneTimeCode::Fixed(_)) => "OAUTH_TEST_CODE",
                    None => "not set",
                },
                "consent": s.consent.name(),
                "artifacts": s.artifacts.as_ref().map(|p| p.display().to_string()),
            })),
        })
    }
}

pub fn scope_string(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn provider_setting(
    cli: &Cli,
    endpoints: &EndpointOverrides,
) -> Result<ProviderSetting, ConfigError> {
    let key = given(&cli.publishable_key)
        .map(|k| PublishableKey::parse(k).map_err(ConfigError::PublishableKey))
        .transpose()?;
    if let Some(raw) = given(&cli.issuer) {
        let issuer = Issuer::parse(raw).map_err(|problem| ConfigError::Issuer {
            value: raw.to_owned(),
            problem,
        })?;
        if key.is_some() {
            log::info!("both OAUTH_ISSUER and CLERK_PUBLISHABLE_KEY are set: using OAUTH_ISSUER");
        }
        return Ok(ProviderSetting {
            issuer,
            clerk: None,
            discover: true,
            from_resource: false,
        });
    }
    if key.is_none()
        && let Some(authorization) = endpoints
            .authorization
            .as_ref()
            .filter(|_| endpoints.complete())
    {
        // No issuer: the authorization server's origin names it, for display only.
        let origin = authorization.origin().ascii_serialization();
        let issuer = Issuer::parse(&origin).map_err(|problem| ConfigError::Endpoint {
            name: "OAUTH_AUTHORIZE_URL",
            value: authorization.to_string(),
            problem,
        })?;
        return Ok(ProviderSetting {
            issuer,
            clerk: None,
            discover: false,
            from_resource: false,
        });
    }
    if key.is_none()
        && let Some(resource) = given(&cli.resource_url)
        && let Ok(url) = Url::parse(resource)
    {
        // Start from the API: its metadata will name the authorization server.
        let issuer = Issuer::parse(&url.origin().ascii_serialization()).map_err(|problem| {
            ConfigError::Resource {
                value: resource.to_owned(),
                problem,
            }
        })?;
        return Ok(ProviderSetting {
            issuer,
            clerk: None,
            discover: true,
            from_resource: true,
        });
    }
    let key = key.ok_or(ConfigError::NoProvider)?;
    let issuer =
        Issuer::parse(&key.issuer()).map_err(|_| ConfigError::PublishableKey(KeyError::BadHost))?;
    Ok(ProviderSetting {
        issuer,
        clerk: Some(key),
        discover: true,
        from_resource: false,
    })
}

/// `--sign-in` and its settings; the test user's secrets from the environment only.
fn sign_in(cli: &Cli, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<SignIn>, ConfigError> {
    if !cli.sign_in {
        for (set, name) in [
            (&cli.consent, "--consent"),
            (&cli.sign_in_driver, "--sign-in-driver"),
            (&cli.artifacts, "--artifacts"),
        ] {
            if given(set).is_some() {
                log::warn!("{name} is ignored without --sign-in");
            }
        }
        return Ok(None);
    }
    if !cli.once {
        return Err(ConfigError::NeedsOnce("--sign-in (OAUTH_SIGN_IN)"));
    }
    let driver = Driver::from_setting(given(&cli.sign_in_driver), env)?;
    let consent = match given(&cli.consent) {
        None => Consent::Approve,
        Some(word) => Consent::parse(word).ok_or_else(|| ConfigError::Consent(word.to_owned()))?,
    };
    // Leading and trailing spaces count in a password: only an empty one is unset.
    let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let username = var("OAUTH_TEST_USERNAME");
    let password = var("OAUTH_TEST_PASSWORD");
    let missing: Vec<&str> = [
        ("OAUTH_TEST_USERNAME", username.is_none()),
        ("OAUTH_TEST_PASSWORD", password.is_none()),
    ]
    .iter()
    .filter(|(_, absent)| *absent)
    .map(|(name, _)| *name)
    .collect();
    let (Some(username), Some(password)) = (username, password) else {
        return Err(ConfigError::SignInCredentials(missing.join(" and ")));
    };
    let one_time_code = match (var("OAUTH_TEST_TOTP_SECRET"), var("OAUTH_TEST_CODE")) {
        (Some(_), Some(_)) => return Err(ConfigError::TwoCodes),
        (Some(secret), None) => Some(OneTimeCode::Totp(
            TotpKey::from_base32(&Secret::new(secret)).map_err(ConfigError::TotpSecret)?,
        )),
        (None, Some(code)) => Some(OneTimeCode::Fixed(Secret::new(code.trim().to_owned()))),
        (None, None) => None,
    };
    Ok(Some(SignIn {
        credentials: Credentials {
            username: username.trim().to_owned(),
            password: Secret::new(password),
            one_time_code,
            driver,
        },
        consent,
        artifacts: given(&cli.artifacts).map(PathBuf::from),
    }))
}

fn parse_redirect(raw: &str) -> Result<RedirectUrl, ConfigError> {
    let err = |problem: String| ConfigError::Redirect {
        value: raw.to_owned(),
        problem,
    };
    let url = Url::parse(raw).map_err(|e| {
        err(format!(
            "{e}; it must be the full URL registered at the provider, e.g. http://localhost:{DEFAULT_PORT}{DEFAULT_CALLBACK_PATH}"
        ))
    })?;
    if url.fragment().is_some() {
        return Err(err(
            "a redirect URI has no #fragment (RFC 6749 section 3.1.2)".into(),
        ));
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(err("this app can only receive http(s) callbacks".into()));
    }
    if matches!(url.path(), "/" | "/login" | "/healthz") {
        return Err(err(format!(
            "its path {} is one of this app's own pages; use a path of its own, e.g. {DEFAULT_CALLBACK_PATH}",
            url.path()
        )));
    }
    if !is_loopback_host(&url) {
        log::warn!(
            "REDIRECT_URI {raw} is not a loopback address: the provider will send the browser there, \
             so something at that address must forward to this app"
        );
    }
    RedirectUrl::new(raw.to_owned()).map_err(|e| err(e.to_string()))
}

/// Loopback only unless HOST says otherwise; `localhost` means both 127.0.0.1 and ::1,
/// since a browser may resolve it to either (RFC 8252 section 8.3).
/// ALLOWED_HOSTS: host names (or IP addresses) without scheme or port.
fn parse_allowed_hosts(raw: &[String]) -> Result<Vec<String>, ConfigError> {
    raw.iter()
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
        .map(|h| match url::Host::parse(h) {
            Ok(host) if !h.contains([':', '/']) || h.starts_with('[') => {
                Ok(host.to_string().to_ascii_lowercase())
            }
            _ => Err(ConfigError::AllowedHost(h.to_owned())),
        })
        .collect()
}

fn listen_addrs(
    host: Option<&str>,
    redirect: Option<&RedirectUrl>,
) -> Result<Vec<IpAddr>, ConfigError> {
    let both = vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    match host {
        Some(h) if h.eq_ignore_ascii_case("localhost") => Ok(both),
        Some(h) => {
            let ip: IpAddr = h
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .map_err(|_| ConfigError::Host(h.to_owned()))?;
            if !ip.is_loopback() {
                log::warn!(
                    "HOST={h}: listening beyond loopback, as asked; anyone who can reach it can use this app"
                );
            }
            Ok(vec![ip])
        }
        None => Ok(match redirect.and_then(|r| r.url().host()) {
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => vec![IpAddr::V4(ip)],
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => vec![IpAddr::V6(ip)],
            _ => both,
        }),
    }
}

fn load_ca(path: &PathBuf) -> Result<CaBundle, ConfigError> {
    let err = |problem: String| ConfigError::CaCert {
        path: path.clone(),
        problem,
    };
    let pem = std::fs::read(path).map_err(|e| err(format!("{e}; give the path of a PEM file")))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| err(format!("not a PEM certificate bundle ({e})")))?;
    if certs.is_empty() {
        return Err(err(
            "the file holds no -----BEGIN CERTIFICATE----- block".into()
        ));
    }
    Ok(CaBundle {
        path: path.clone(),
        count: certs.len(),
        pem,
    })
}

/// Parameters the client sets itself, which `--param` and `/login?...` may not override.
pub const RESERVED_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "request_uri",
    // JAR and JARM change what the callback receives and how: not what this client tests.
    "request",
    "response_mode",
];

fn parse_params(raw: &[String]) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for item in raw.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| ConfigError::Param(item.to_owned()))?;
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let (k, v) = (decode(k), decode(v));
        if k.is_empty() {
            return Err(ConfigError::Param(item.to_owned()));
        }
        if k == "scope" {
            return Err(ConfigError::ScopeParam);
        }
        if RESERVED_PARAMS.contains(&k.as_str()) {
            return Err(ConfigError::ReservedParam(k));
        }
        out.push((k, v));
    }
    Ok(out)
}

fn parse_resource(raw: &str, method: Option<&str>) -> Result<Resource, ConfigError> {
    let err = |problem: String| ConfigError::Resource {
        value: raw.to_owned(),
        problem,
    };
    let url = Url::parse(raw).map_err(|e| {
        err(format!(
            "{e}; give the full URL, e.g. https://api.example.com/me"
        ))
    })?;
    // A bearer token must not cross the network in clear text.
    require_https_unless_loopback(&url).map_err(err)?;
    let method = method.unwrap_or("GET").to_ascii_uppercase();
    if !matches!(
        method.as_str(),
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS"
    ) {
        return Err(ConfigError::ResourceMethod(method));
    }
    Ok(Resource { url, method })
}

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
mod tests {
    use super::*;

    fn cli() -> Cli {
        Cli {
            issuer: Some("https://idp.example.com".into()),
            client_id: Some("client".into()),
            ..Cli::default()
        }
    }

    #[test]
    fn defaults() {
        let c = Config::from_cli(&cli()).unwrap();
        assert_eq!(c.scope_string(), "openid profile email");
        assert_eq!(c.listen.port, 3000);
        assert!(c.listen.addrs.iter().all(|a| a.is_loopback()));
        assert_eq!(
            c.listen.addrs.len(),
            2,
            "localhost means both 127.0.0.1 and ::1"
        );
        assert_eq!(
            c.redirect_for_port(3000).as_str(),
            "http://localhost:3000/oauth_callback"
        );
        assert!(c.client_secret.is_none());
        assert_eq!(c.timeout, Duration::from_secs(300));
    }

    #[test]
    fn issuer_wins_over_publishable_key() {
        let mut raw = cli();
        raw.publishable_key = Some("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k".into());
        let c = Config::from_cli(&raw).unwrap();
        assert_eq!(c.provider.issuer.as_str(), "https://idp.example.com");
        assert!(c.provider.clerk.is_none());
        raw.issuer = None;
        let c = Config::from_cli(&raw).unwrap();
        assert_eq!(c.provider.issuer.as_str(), "https://clerk.example.com");
        assert!(c.provider.clerk.is_some());
    }

    #[test]
    fn empty_values_count_as_unset() {
        let mut raw = cli();
        raw.client_secret = Some(String::new());
        raw.port = Some(" ".into());
        raw.scopes = Some(String::new());
        let c = Config::from_cli(&raw).unwrap();
        assert_eq!(c.scope_string(), DEFAULT_SCOPES);
        assert!(c.client_secret.is_none());
        assert_eq!(c.listen.port, DEFAULT_PORT);
        raw.client_id = Some(String::new());
        assert!(Config::from_cli(&raw).unwrap().client_id.is_none());
    }

    #[test]
    fn errors_name_the_setting() {
        let mut raw = Cli::default();
        let msg = Config::from_cli(&raw).unwrap_err().to_string();
        assert!(
            msg.contains("CLERK_PUBLISHABLE_KEY")
                && msg.contains("OAUTH_ISSUER")
                && msg.contains(".env.sample")
        );
        raw.publishable_key = Some("pk_test_bm90LWEta2V5".into());
        let msg = Config::from_cli(&raw).unwrap_err().to_string();
        assert!(
            msg.starts_with("CLERK_PUBLISHABLE_KEY") && msg.contains("'$'"),
            "{msg}"
        );
        let mut raw = cli();
        raw.port = Some("http".into());
        assert!(
            Config::from_cli(&raw)
                .unwrap_err()
                .to_string()
                .starts_with("PORT")
        );
        let mut raw = cli();
        raw.host = Some("example.com".into());
        assert!(
            Config::from_cli(&raw)
                .unwrap_err()
                .to_string()
                .starts_with("HOST")
        );
        let mut raw = cli();
        raw.timeout = Some("0".into());
        assert!(
            Config::from_cli(&raw)
                .unwrap_err()
                .to_string()
                .starts_with("OAUTH_TIMEOUT")
        );
        let mut raw = cli();
        raw.ca_cert = Some("/nonexistent/ca.pem".into());
        assert!(
            Config::from_cli(&raw)
                .unwrap_err()
                .to_string()
                .starts_with("OAUTH_CA_CERT")
        );
    }

    #[test]
    fn a_resource_url_alone_starts_from_the_api() {
        let raw = Cli {
            resource_url: Some("https://api.example.com/mcp".into()),
            ..Cli::default()
        };
        let c = Config::from_cli(&raw).unwrap();
        assert!(c.provider.from_resource);
        assert!(
            c.client_id.is_none(),
            "registered at start when the server allows"
        );
        let mut raw = cli();
        raw.resource_url = Some("https://api.example.com/mcp".into());
        assert!(
            !Config::from_cli(&raw).unwrap().provider.from_resource,
            "an issuer wins"
        );
    }

    #[test]
    fn then_steps_and_the_resource() {
        let mut raw = cli();
        raw.then = vec![
            "refresh".into(),
            "userinfo".into(),
            "tokeninfo:access".into(),
        ];
        assert!(matches!(
            Config::from_cli(&raw),
            Err(ConfigError::NeedsOnce("--then"))
        ));
        raw.once = true;
        let c = Config::from_cli(&raw).unwrap();
        assert_eq!(c.then.len(), 3);
        raw.then.push("dance".into());
        let msg = Config::from_cli(&raw).unwrap_err().to_string();
        assert!(msg.contains("dance") && msg.contains("userinfo"), "{msg}");
        raw.then.clear();
        raw.resource_url = Some("http://api.example.com/me".into());
        assert!(
            Config::from_cli(&raw)
                .unwrap_err()
                .to_string()
                .starts_with("RESOURCE_URL")
        );
        raw.resource_url = Some("http://127.0.0.1:8080/me".into());
        raw.resource_method = Some("post".into());
        let r = Config::from_cli(&raw).unwrap().resource.unwrap();
        assert_eq!(
            (r.method.as_str(), r.url.as_str()),
            ("POST", "http://127.0.0.1:8080/me")
        );
        raw.resource_method = Some("FETCH".into());
        assert!(
            Config::from_cli(&raw)
                .unwrap_err()
                .to_string()
                .starts_with("RESOURCE_METHOD")
        );
    }

    #[test]
    fn extra_parameters() {
        let mut raw = cli();
        raw.params = vec![
            "audience=https%3A%2F%2Fapi.example".into(),
            "prompt=consent".into(),
            "acr_values=a b".into(),
        ];
        let c = Config::from_cli(&raw).unwrap();
        assert_eq!(
            c.params[0],
            ("audience".into(), "https://api.example".into())
        );
        assert_eq!(c.params[2], ("acr_values".into(), "a b".into()));
        raw.params = vec!["state=x".into()];
        assert!(matches!(
            Config::from_cli(&raw),
            Err(ConfigError::ReservedParam(_))
        ));
        raw.params = vec!["scope=x".into()];
        assert!(matches!(
            Config::from_cli(&raw),
            Err(ConfigError::ScopeParam)
        ));
        raw.params = vec!["novalue".into()];
        assert!(matches!(Config::from_cli(&raw), Err(ConfigError::Param(_))));
    }

    #[test]
    fn auth_methods() {
        let mut raw = cli();
        raw.auth_method = Some("client_secret_basic".into());
        assert!(matches!(
            Config::from_cli(&raw),
            Err(ConfigError::AuthMethodNeedsSecret("client_secret_basic"))
        ));
        raw.client_secret = Some("s".into());
        assert_eq!(
            Config::from_cli(&raw).unwrap().auth_method,
            Some(AuthMethod::ClientSecretBasic)
        );
        raw.auth_method = Some("private_key_jwt".into());
        assert!(
            Config::from_cli(&raw)
                .unwrap_err()
                .to_string()
                .starts_with("OAUTH_AUTH_METHOD")
        );
    }

    #[test]
    fn endpoints_by_hand() {
        let mut raw = cli();
        raw.issuer = None;
        raw.authorize_url = Some("https://github.com/login/oauth/authorize".into());
        assert!(matches!(
            Config::from_cli(&raw),
            Err(ConfigError::HalfManual)
        ));
        raw.token_url = Some("https://github.com/login/oauth/access_token".into());
        let c = Config::from_cli(&raw).unwrap();
        assert!(!c.provider.discover);
        assert_eq!(c.provider.issuer.as_str(), "https://github.com");
        raw.jwks_url = Some("http://jwks.example.com/keys".into());
        assert!(
            Config::from_cli(&raw)
                .unwrap_err()
                .to_string()
                .starts_with("OAUTH_JWKS_URL")
        );
        raw.jwks_url = None;
        raw.issuer = Some("https://idp.example".into());
        let c = Config::from_cli(&raw).unwrap();
        assert!(
            c.provider.discover,
            "with an issuer, discovery still runs; the URLs override it"
        );
    }

    #[test]
    fn plain_http_only_on_loopback() {
        for ok in [
            "http://localhost:8080",
            "http://127.0.0.1:9000/tenant",
            "http://[::1]:1",
            "https://idp.example",
        ] {
            assert!(Issuer::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://idp.example.com",
            "ftp://idp.example",
            "https://idp.example/?x=1",
            "not a url",
        ] {
            assert!(Issuer::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn well_known_urls() {
        let plain = Issuer::parse("https://idp.example.com/").unwrap();
        assert_eq!(
            plain.as_str(),
            "https://idp.example.com/",
            "kept exactly as configured"
        );
        assert_eq!(
            plain.openid_configuration_url(),
            "https://idp.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            plain.oauth_metadata_url(),
            "https://idp.example.com/.well-known/oauth-authorization-server"
        );
        let tenant = Issuer::parse("https://idp.example.com/realms/demo").unwrap();
        assert_eq!(
            tenant.openid_configuration_url(),
            "https://idp.example.com/realms/demo/.well-known/openid-configuration"
        );
        assert_eq!(
            tenant.oauth_metadata_url(),
            "https://idp.example.com/.well-known/oauth-authorization-server/realms/demo"
        );
        assert_eq!(
            tenant.endpoint("/oauth/token"),
            "https://idp.example.com/realms/demo/oauth/token"
        );
    }

    #[test]
    fn sign_in_needs_once_and_the_test_user_from_the_environment() {
        fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        }
        let user = env(&[
            ("OAUTH_TEST_USERNAME", "ci@example.com"),
            ("OAUTH_TEST_PASSWORD", "pa55 word"),
        ]);
        let mut raw = cli();
        raw.sign_in = true;
        let msg = Config::from_cli_and_env(&raw, &user)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("--sign-in") && msg.contains("--once"), "{msg}");
        raw.once = true;
        let msg = Config::from_cli_and_env(&raw, &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("OAUTH_TEST_USERNAME and OAUTH_TEST_PASSWORD"),
            "{msg}"
        );
        let msg = Config::from_cli_and_env(&raw, &env(&[("OAUTH_TEST_USERNAME", "a")]))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("OAUTH_TEST_PASSWORD") && !msg.contains("OAUTH_TEST_USERNAME"),
            "{msg}"
        );

        let c = Config::from_cli_and_env(&raw, &user).unwrap();
        let s = c.sign_in.as_ref().unwrap();
        assert_eq!(s.credentials.username, "ci@example.com");
        assert_eq!(s.credentials.password.expose(), "pa55 word");
        assert_eq!(s.consent, Consent::Approve);
        assert!(!c.open_browser, "the driver signs in: no browser");
        assert!(
            !format!("{c:?}").contains("pa55"),
            "Debug hides the password"
        );
        assert!(!c.summary().to_string().contains("pa55"));
        assert_eq!(c.summary()["sign_in"]["consent"], "approve");

        raw.consent = Some("Deny".into());
        let c = Config::from_cli_and_env(&raw, &user).unwrap();
        assert_eq!(c.sign_in.unwrap().consent, Consent::Deny);
        raw.consent = Some("maybe".into());
        assert!(matches!(
            Config::from_cli_and_env(&raw, &user),
            Err(ConfigError::Consent(_))
        ));
        raw.consent = None;

        raw.sign_in_driver = Some("auto".into());
        assert!(Config::from_cli_and_env(&raw, &user).is_ok());
        raw.sign_in_driver = Some("selenium".into());
        assert!(matches!(
            Config::from_cli_and_env(&raw, &user),
            Err(ConfigError::SignInDriver(_))
        ));
        raw.sign_in_driver = None;

        let with = |extra: &[(&str, &str)]| {
            let mut vars = vec![
                ("OAUTH_TEST_USERNAME", "ci@example.com"),
                ("OAUTH_TEST_PASSWORD", "pw"),
            ];
            vars.extend_from_slice(extra);
            Config::from_cli_and_env(&raw, &env(&vars))
        };
        let c = with(&[("OAUTH_TEST_TOTP_SECRET", "JBSW Y3DP EHPK 3PXP")]).unwrap();
        assert!(matches!(
            c.sign_in.unwrap().credentials.one_time_code,
            Some(OneTimeCode::Totp(_))
        ));
        let msg = with(&[("OAUTH_TEST_TOTP_SECRET", "not!base32")])
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("OAUTH_TEST_TOTP_SECRET") && !msg.contains("not!base32"),
            "{msg}"
        );
        assert!(matches!(
            with(&[
                ("OAUTH_TEST_CODE", "123456"),
                ("OAUTH_TEST_TOTP_SECRET", "JBSWY3DP")
            ]),
            Err(ConfigError::TwoCodes)
        ));
        let c = with(&[("OAUTH_TEST_CODE", "424242")]).unwrap();
        assert!(!format!("{c:?}").contains("424242"));
    }

    #[test]
    fn listen_addresses_follow_host_and_redirect() {
        let mut raw = cli();
        raw.redirect_uri = Some("http://127.0.0.1:4000/cb".into());
        let c = Config::from_cli(&raw).unwrap();
        assert_eq!(c.listen.addrs, vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
        assert_eq!(c.redirect_for_port(1).as_str(), "http://127.0.0.1:4000/cb");
        raw.host = Some("0.0.0.0".into());
        let c = Config::from_cli(&raw).unwrap();
        assert_eq!(c.listen.addrs, vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED)]);
        raw.host = Some("[::1]".into());
        assert_eq!(
            Config::from_cli(&raw).unwrap().listen.addrs,
            vec![IpAddr::V6(Ipv6Addr::LOCALHOST)]
        );
        raw.redirect_uri = Some("http://localhost:3000/cb#frag".into());
        assert!(
            Config::from_cli(&raw)
                .unwrap_err()
                .to_string()
                .starts_with("REDIRECT_URI")
        );
        raw.redirect_uri = Some("http://localhost:3000/".into());
        assert!(
            Config::from_cli(&raw)
                .unwrap_err()
                .to_string()
                .contains("own pages")
        );
    }
}
