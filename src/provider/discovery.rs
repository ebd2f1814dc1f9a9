//! Finding the provider's endpoints: OpenID discovery, then RFC 8414 metadata, then the
//! endpoints given by hand, then (for a Clerk key only) Clerk's fixed paths; the metadata's
//! `issuer` checked, each endpoint given by hand laid over what was found, and the client
//! authentication method chosen.

use oauth2::{AuthUrl, ClientId, IntrospectionUrl, RevocationUrl, TokenUrl};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::http::{HttpClient, HttpError};
use super::{EndpointSource, Endpoints, Provider};
use crate::clerk;
use crate::config::{
    AuthMethod, Config, EndpointOverrides, Issuer, by_hand, require_https_unless_loopback,
};
use crate::redact::untrusted;

/// Why the provider's endpoints could not be established. Exit status 1.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error(
        "could not read the provider's metadata at {}. Check that OAUTH_ISSUER (or \
         CLERK_PUBLISHABLE_KEY) names the issuer exactly as the provider documents it; for a \
         provider without discovery, set OAUTH_AUTHORIZE_URL and OAUTH_TOKEN_URL",
        untrusted(.tried)
    )]
    NotFound { tried: String },
    #[error(
        "the metadata at {url} names issuer {advertised:?}, but the configured issuer is {configured:?}. \
         Set OAUTH_ISSUER to exactly {advertised:?} if that is the provider you mean (OpenID Connect \
         Discovery 1.0 section 4.3: the two must be identical)"
    )]
    IssuerMismatch {
        url: String,
        configured: String,
        advertised: String,
    },
    #[error(
        "the metadata at {url} has no {field}: this client needs it for the authorization code \
         flow{}",
        by_hand(field)
    )]
    MissingEndpoint { url: String, field: &'static str },
    #[error(
        "the metadata at {url} gives {field} = {value:?}, which is not usable: {problem}{}",
        by_hand(field)
    )]
    BadEndpoint {
        url: String,
        field: &'static str,
        value: String,
        problem: String,
    },
    #[error(
        "the provider at {issuer} cannot be reached: {source}. Check OAUTH_ISSUER (or \
         CLERK_PUBLISHABLE_KEY) and that this machine can reach it (network, HTTPS_PROXY)"
    )]
    Unreachable {
        issuer: String,
        #[source]
        source: HttpError,
    },
    #[error("could not set up the HTTP client: {0} (check OAUTH_CA_CERT)")]
    Client(String),
}

/// The fields of RFC 8414 / OpenID Discovery metadata this client acts on; the whole
/// document is kept as `Provider::metadata`.
#[derive(Debug, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    userinfo_endpoint: Option<String>,
    introspection_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    jwks_uri: Option<String>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
    code_challenge_methods_supported: Option<Vec<String>>,
    id_token_signing_alg_values_supported: Option<Vec<String>>,
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    registration_endpoint: Option<String>,
    pushed_authorization_request_endpoint: Option<String>,
    #[serde(default)]
    require_pushed_authorization_requests: bool,
}

impl Provider {
    /// Finds the endpoints: OpenID discovery, then RFC 8414 metadata, then (for a Clerk key
    /// only) Clerk's fixed paths.
    pub async fn discover(config: &Config) -> Result<Self, DiscoveryError> {
        let http = HttpClient::new(config.http_timeout, config.ca.as_ref())
            .map_err(|e| DiscoveryError::Client(e.to_string()))?;
        let mut found = Self::find(config, &http).await?;
        apply_overrides(&mut found.endpoints, &config.endpoints);
        let auth_method = choose_auth_method(config, found.auth_methods.as_deref());
        Ok(Self {
            auth_method,
            registration_endpoint: found.registration,
            par_endpoint: found.par,
            require_par: found.require_par,
            issuer: found.issuer,
            configured_issuer: config.provider.issuer.as_str().to_owned(),
            endpoints: found.endpoints,
            source: found.source,
            metadata: found.metadata,
            iss_parameter_supported: found.iss_parameter_supported,
            id_token_signing_algs: found.id_token_signing_algs,
            jwks: Default::default(),
            // Empty until `register` fills it in.
            client_id: config
                .client_id
                .clone()
                .unwrap_or_else(|| ClientId::new(String::new())),
            client_secret: config.client_secret.clone(),
            http,
        })
    }

    async fn find(config: &Config, http: &HttpClient) -> Result<Found, DiscoveryError> {
        let issuer = &config.provider.issuer;
        if !config.provider.discover {
            log::info!("no issuer given: using the endpoints given by hand, without discovery");
            return manual(config);
        }
        let mut tried = Vec::new();
        for url in [
            issuer.openid_configuration_url(),
            issuer.oauth_metadata_url(),
        ] {
            match fetch_metadata(http, &url).await {
                Ok((doc, meta)) => {
                    log::info!("discovery: read provider metadata from {}", untrusted(&url));
                    return from_metadata(config, url, doc, meta);
                }
                // No fallback can help when the host itself cannot be reached (or trusted).
                Err(Fetch::Unreachable(source)) if !config.endpoints.complete() => {
                    return Err(DiscoveryError::Unreachable {
                        issuer: issuer.as_str().to_owned(),
                        source,
                    });
                }
                Err(Fetch::Unreachable(source)) => tried.push(format!("{url} ({source})")),
                Err(Fetch::Unusable(problem)) => {
                    // The problem can quote what the server sent.
                    log::debug!("discovery: {}: {}", untrusted(&url), untrusted(&problem));
                    tried.push(format!("{url} ({problem})"));
                }
            }
        }
        if config.endpoints.complete() {
            log::warn!(
                "discovery failed ({}); using the endpoints given by hand",
                untrusted(tried.join("; "))
            );
            return manual(config);
        }
        if config.provider.clerk.is_some() {
            log::warn!(
                "discovery failed ({}); using Clerk's fixed paths on {}",
                untrusted(tried.join("; ")),
                issuer.as_str()
            );
            return clerk_fixed_paths(issuer);
        }
        Err(DiscoveryError::NotFound {
            tried: tried.join(" nor "),
        })
    }
}

/// What discovery (or its fallbacks) established.
struct Found {
    issuer: String,
    endpoints: Endpoints,
    source: EndpointSource,
    metadata: Option<Value>,
    iss_parameter_supported: bool,
    id_token_signing_algs: Option<Vec<String>>,
    auth_methods: Option<Vec<String>>,
    registration: Option<Url>,
    par: Option<Url>,
    require_par: bool,
}

fn from_metadata(
    config: &Config,
    url: String,
    doc: Value,
    meta: Metadata,
) -> Result<Found, DiscoveryError> {
    let configured = config.provider.issuer.as_str();
    if meta.issuer != configured {
        if meta.issuer.trim_end_matches('/') == configured.trim_end_matches('/') {
            log::warn!(
                "quirk: the metadata's issuer {:?} differs from the configured {:?} only by a trailing slash; \
                 using the provider's form for the `iss` checks",
                meta.issuer,
                configured
            );
        } else {
            return Err(DiscoveryError::IssuerMismatch {
                url,
                configured: configured.to_owned(),
                advertised: meta.issuer,
            });
        }
    }
    if let Some(methods) = &meta.code_challenge_methods_supported
        && !methods.iter().any(|m| m == "S256")
    {
        log::warn!(
            "the provider does not list S256 in code_challenge_methods_supported; sending S256 PKCE anyway"
        );
    }
    let endpoint =
        |field: &'static str, value: &Option<String>| -> Result<Option<Url>, DiscoveryError> {
            let Some(value) = value else { return Ok(None) };
            let bad = |problem: String| DiscoveryError::BadEndpoint {
                url: url.clone(),
                field,
                value: value.clone(),
                problem,
            };
            let parsed = Url::parse(value).map_err(|e| bad(e.to_string()))?;
            require_https_unless_loopback(&parsed).map_err(bad)?;
            Ok(Some(parsed))
        };
    let required = |field: &'static str, value: &Option<String>| {
        endpoint(field, value)?.ok_or(DiscoveryError::MissingEndpoint {
            url: url.clone(),
            field,
        })
    };
    let authorization = required("authorization_endpoint", &meta.authorization_endpoint)?;
    let token = required("token_endpoint", &meta.token_endpoint)?;
    let endpoints = Endpoints {
        authorization: AuthUrl::from_url(authorization),
        token: TokenUrl::from_url(token),
        userinfo: endpoint("userinfo_endpoint", &meta.userinfo_endpoint)?,
        introspection: endpoint("introspection_endpoint", &meta.introspection_endpoint)?
            .map(IntrospectionUrl::from_url),
        revocation: endpoint("revocation_endpoint", &meta.revocation_endpoint)?
            .map(RevocationUrl::from_url),
        jwks: endpoint("jwks_uri", &meta.jwks_uri)?,
    };
    let registration = endpoint("registration_endpoint", &meta.registration_endpoint)?;
    let par = endpoint(
        "pushed_authorization_request_endpoint",
        &meta.pushed_authorization_request_endpoint,
    )?;
    Ok(Found {
        issuer: meta.issuer,
        endpoints,
        source: EndpointSource::Discovery { url },
        metadata: Some(doc),
        iss_parameter_supported: meta.authorization_response_iss_parameter_supported,
        id_token_signing_algs: meta.id_token_signing_alg_values_supported,
        // RFC 8414 section 2: when omitted, the default is client_secret_basic.
        auth_methods: Some(
            meta.token_endpoint_auth_methods_supported
                .unwrap_or_else(|| vec!["client_secret_basic".into()]),
        ),
        registration,
        par,
        require_par: meta.require_pushed_authorization_requests,
    })
}

impl Found {
    /// Endpoints known without a metadata document (Clerk's fixed paths, or by hand): no
    /// RFC 9207, registration or PAR is assumed, and client_secret_post is the method that
    /// works with the most such servers (Clerk's own client and GitHub use it).
    fn without_metadata(issuer: String, endpoints: Endpoints, source: EndpointSource) -> Self {
        Self {
            issuer,
            endpoints,
            source,
            metadata: None,
            iss_parameter_supported: false,
            id_token_signing_algs: None,
            auth_methods: Some(vec!["client_secret_post".into(), "none".into()]),
            registration: None,
            par: None,
            require_par: false,
        }
    }
}

/// Clerk's fixed paths on the Frontend API host, for a key whose discovery is unreachable.
fn clerk_fixed_paths(issuer: &Issuer) -> Result<Found, DiscoveryError> {
    let at = |path: &str| issuer.endpoint(path);
    let url = |field: &'static str, path: &str| {
        Url::parse(&at(path)).map_err(|e| DiscoveryError::BadEndpoint {
            url: issuer.as_str().to_owned(),
            field,
            value: at(path),
            problem: e.to_string(),
        })
    };
    Ok(Found::without_metadata(
        issuer.as_str().to_owned(),
        Endpoints {
            authorization: AuthUrl::from_url(url("authorization_endpoint", clerk::AUTHORIZE_PATH)?),
            token: TokenUrl::from_url(url("token_endpoint", clerk::TOKEN_PATH)?),
            userinfo: Some(url("userinfo_endpoint", clerk::USERINFO_PATH)?),
            introspection: Some(IntrospectionUrl::from_url(url(
                "introspection_endpoint",
                clerk::INTROSPECTION_PATH,
            )?)),
            revocation: None,
            jwks: Some(url("jwks_uri", clerk::JWKS_PATH)?),
        },
        EndpointSource::ClerkFixedPaths,
    ))
}

/// Endpoints given by hand (OAUTH_AUTHORIZE_URL and OAUTH_TOKEN_URL at least).
fn manual(config: &Config) -> Result<Found, DiscoveryError> {
    let given = &config.endpoints;
    let (Some(authorization), Some(token)) = (given.authorization.clone(), given.token.clone())
    else {
        return Err(DiscoveryError::NotFound {
            tried: "no issuer, and not both OAUTH_AUTHORIZE_URL and OAUTH_TOKEN_URL".into(),
        });
    };
    Ok(Found::without_metadata(
        config.provider.issuer.as_str().to_owned(),
        Endpoints {
            authorization: AuthUrl::from_url(authorization),
            token: TokenUrl::from_url(token),
            userinfo: None,
            introspection: None,
            revocation: None,
            jwks: None,
        },
        EndpointSource::Manual,
    ))
}

/// OAUTH_AUTH_METHOD when set; else `none` without a secret; with one: client_secret_post
/// for a Clerk key (as Clerk's own client does), or when the provider lists it; else
/// client_secret_basic when listed; else post.
fn choose_auth_method(config: &Config, supported: Option<&[String]>) -> AuthMethod {
    let lists = |m: AuthMethod| supported.is_some_and(|s| s.iter().any(|x| x == m.name()));
    let chosen = match (config.auth_method, &config.client_secret) {
        (Some(m), _) => m,
        (None, None) => AuthMethod::None,
        // Clerk's discovery lists basic and none, but its own test client posts the secret,
        // and Clerk accepts that: keep to what Clerk's client does.
        (None, Some(_)) if config.provider.clerk.is_some() => AuthMethod::ClientSecretPost,
        (None, Some(_)) if lists(AuthMethod::ClientSecretPost) => AuthMethod::ClientSecretPost,
        (None, Some(_)) if lists(AuthMethod::ClientSecretBasic) => AuthMethod::ClientSecretBasic,
        (None, Some(_)) => AuthMethod::ClientSecretPost,
    };
    if let Some(s) = supported
        && !lists(chosen)
    {
        log::warn!(
            "client authentication {} is not in the provider's token_endpoint_auth_methods_supported {s:?}",
            chosen.name()
        );
    }
    log::info!("client authentication: {}", chosen.name());
    chosen
}

/// Each endpoint given by hand replaces what discovery said.
fn apply_overrides(endpoints: &mut Endpoints, given: &EndpointOverrides) {
    if let Some(u) = &given.authorization {
        endpoints.authorization = AuthUrl::from_url(u.clone());
    }
    if let Some(u) = &given.token {
        endpoints.token = TokenUrl::from_url(u.clone());
    }
    if let Some(u) = &given.userinfo {
        endpoints.userinfo = Some(u.clone());
    }
    if let Some(u) = &given.introspection {
        endpoints.introspection = Some(IntrospectionUrl::from_url(u.clone()));
    }
    if let Some(u) = &given.revocation {
        endpoints.revocation = Some(RevocationUrl::from_url(u.clone()));
    }
    if let Some(u) = &given.jwks {
        endpoints.jwks = Some(u.clone());
    }
}

enum Fetch {
    /// The host did not answer, or could not be trusted.
    Unreachable(HttpError),
    /// It answered, but not with metadata: a short reason for the message.
    Unusable(String),
}

/// Fetches and parses one metadata document.
async fn fetch_metadata(http: &HttpClient, url: &str) -> Result<(Value, Metadata), Fetch> {
    let response = match http.get(url).await {
        Ok(r) => r,
        Err(e @ (HttpError::Connect { .. } | HttpError::Timeout { .. })) => {
            return Err(Fetch::Unreachable(e));
        }
        Err(e) => return Err(Fetch::Unusable(e.to_string())),
    };
    if response.status != 200 {
        return Err(Fetch::Unusable(format!("HTTP {}", response.status)));
    }
    let doc: Value = serde_json::from_slice(&response.body)
        .map_err(|e| Fetch::Unusable(format!("not JSON: {e}")))?;
    let meta: Metadata = serde_json::from_value(doc.clone())
        .map_err(|e| Fetch::Unusable(format!("not provider metadata: {e}")))?;
    Ok((doc, meta))
}
