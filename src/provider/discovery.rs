//! Finding the provider's endpoints: OpenID discovery, then RFC 8414 metadata, then the
//! endpoints given by hand, then (for a Clerk key only) Clerk's fixed paths; the metadata's
//! `issuer` checked, each endpoint given by hand laid over what was found, and the client
//! authentication method chosen.

use oauth2::{AuthUrl, ClientId, IntrospectionUrl, RevocationUrl, TokenUrl};
use url::Url;

use super::http::{HttpClient, HttpError};
use super::{EndpointOrigin, EndpointSource, Endpoints, Provider};
use crate::clerk;
use crate::config::{Config, EndpointOverrides, by_hand};
use crate::oauth::{AuthMethod, Endpoint, Issuer};
use crate::redact::untrusted;
use document::{Fetch, Found, fetch_metadata, from_metadata};

mod document;

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
        "{what} can sign with {can}, but the provider's \
         token_endpoint_auth_signing_alg_values_supported lists only {listed:?}: use a key of a \
         type it accepts in OAUTH_CLIENT_KEY, or another OAUTH_AUTH_METHOD"
    )]
    NoAssertionAlg {
        what: String,
        can: String,
        listed: Vec<String>,
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
    #[error("{0} (OAUTH_DPOP)")]
    Dpop(#[from] super::dpop::DpopError),
}

/// What discovery found wrong without failing: logged, and a warning in the report.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MetadataWarning {
    #[error(
        "{second} names issuer {advertised:?}, but {first} names {issuer:?}: its {missing} are not \
         used (RFC 8414 section 3.3: the issuer must be identical). Ask the provider to fix its \
         metadata, or give the endpoints by hand (OAUTH_INTROSPECTION_URL, OAUTH_REVOCATION_URL)"
    )]
    SecondIssuerMismatch {
        first: String,
        second: String,
        issuer: String,
        advertised: String,
        missing: String,
    },
}

impl Provider {
    /// Finds the endpoints: OpenID discovery, then RFC 8414 metadata, then (for a Clerk key
    /// only) Clerk's fixed paths.
    pub async fn discover(config: &Config) -> Result<Self, DiscoveryError> {
        let http = HttpClient::new(config.http_timeout, config.ca.as_ref())
            .map_err(|e| DiscoveryError::Client(e.to_string()))?;
        let configured = configured_issuer(config)?;
        let mut found = Self::find(config, configured, &http).await?;
        apply_overrides(&mut found.endpoints, &mut found.origins, &config.endpoints);
        for warning in &found.warnings {
            log::warn!("discovery: {warning}");
        }
        let auth_method = choose_auth_method(config, found.auth_methods.as_deref());
        let assertion_alg = choose_assertion_alg(config, auth_method, found.assertion_algs)?;
        let provider = Self {
            auth_method,
            assertion_alg,
            client_key: config.client_key.clone(),
            assertion_audience: config.assertion_audience,
            registration_endpoint: found.registration,
            par_endpoint: found.par,
            require_par: found.require_par,
            client_id_metadata_document_supported: found.client_id_metadata_document_supported,
            endpoint_auth_methods: found.endpoint_auth_methods,
            registration: None,
            resource_indicator: config
                .params
                .iter()
                .find(|(k, _)| k == "resource")
                .map(|(_, v)| v.clone()),
            issuer: found.issuer,
            configured_issuer: configured.as_str().to_owned(),
            endpoints: found.endpoints,
            source: found.source,
            origins: found.origins,
            metadata_warnings: found.warnings,
            auth_methods_supported: found.auth_methods,
            iss_parameter_supported: found.iss_parameter_supported,
            id_token_signing_algs: found.id_token_signing_algs,
            dpop: if config.dpop {
                Some(super::dpop::Dpop::generate()?)
            } else {
                None
            },
            code_challenge_methods: found.code_challenge_methods,
            jwks: Default::default(),
            // Empty until `register` fills it in.
            client_id: config
                .client_id
                .clone()
                .unwrap_or_else(|| ClientId::new(String::new())),
            client_secret: config.client_secret.clone(),
            http,
        };
        if config.will_register() && config.client_key.is_some() {
            log::warn!(
                "OAUTH_CLIENT_KEY is set, but a client is registered at start (no CLIENT_ID, or \
                 --register): the registered client authenticates as registered, without the key; \
                 set CLIENT_ID to the client whose key set holds it"
            );
        }
        // A client about to be registered has no method yet: registration decides it.
        if !config.will_register() {
            provider.warn_if_auth_method_unlisted();
        }
        Ok(provider)
    }

    /// Warns when the client's authentication method is not among those the provider's
    /// metadata lists (RFC 8414 section 2).
    pub(crate) fn warn_if_auth_method_unlisted(&self) {
        if let Some(listed) = &self.auth_methods_supported
            && !listed.iter().any(|m| m == self.auth_method.name())
        {
            log::warn!(
                "client authentication {} is not in the provider's token_endpoint_auth_methods_supported {listed:?}",
                self.auth_method.name()
            );
        }
    }

    async fn find(
        config: &Config,
        issuer: &Issuer,
        http: &HttpClient,
    ) -> Result<Found, DiscoveryError> {
        if !config.provider.discovers() {
            log::info!("no issuer given: using the endpoints given by hand, without discovery");
            return manual(config, issuer);
        }
        let mut tried = Vec::new();
        let (openid, oauth) = (
            issuer.openid_configuration_url(),
            issuer.oauth_metadata_url(),
        );
        for url in [openid.clone(), oauth.clone()] {
            match fetch_metadata(http, &url).await {
                Ok(meta) => {
                    log::info!("discovery: read provider metadata from {}", untrusted(&url));
                    let mut found = from_metadata(issuer, url.clone(), meta, config.legacy_mcp)?;
                    if url == openid && found.lacks_split_endpoints() {
                        found.complete_from(http, &url, oauth).await?;
                    }
                    return Ok(found);
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
            return manual(config, issuer);
        }
        if config.provider.clerk().is_some() {
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
            device_authorization: None,
        },
        EndpointSource::ClerkFixedPaths,
        EndpointOrigin::ClerkFixedPath,
    ))
}

/// The issuer discovery starts from; none yet when only RESOURCE_URL named the provider and
/// its metadata has not been read (`Config::use_issuer_from_resource` comes first).
fn configured_issuer(config: &Config) -> Result<&Issuer, DiscoveryError> {
    config
        .provider
        .issuer()
        .ok_or_else(|| DiscoveryError::NotFound {
            tried: "no issuer yet: RESOURCE_URL's metadata (RFC 9728) names it, and is read first"
                .into(),
        })
}

/// Endpoints given by hand (OAUTH_AUTHORIZE_URL and OAUTH_TOKEN_URL at least).
fn manual(config: &Config, issuer: &Issuer) -> Result<Found, DiscoveryError> {
    let given = &config.endpoints;
    let (Some(authorization), Some(token)) = (given.authorization.clone(), given.token.clone())
    else {
        return Err(DiscoveryError::NotFound {
            tried: "no issuer, and not both OAUTH_AUTHORIZE_URL and OAUTH_TOKEN_URL".into(),
        });
    };
    Ok(Found::without_metadata(
        issuer.as_str().to_owned(),
        Endpoints {
            authorization: AuthUrl::from_url(authorization),
            token: TokenUrl::from_url(token),
            userinfo: None,
            introspection: None,
            revocation: None,
            jwks: None,
            device_authorization: None,
        },
        EndpointSource::Manual,
        EndpointOrigin::ByHand("OAUTH_AUTHORIZE_URL, OAUTH_TOKEN_URL"),
    ))
}

/// OAUTH_AUTH_METHOD when set; else private_key_jwt when OAUTH_CLIENT_KEY is set (a key is
/// given only to be used); else `none` without a secret; with one: client_secret_post
/// for a Clerk key (as Clerk's own client does), or when the provider lists it; else
/// client_secret_basic when listed; else post.
fn choose_auth_method(config: &Config, supported: Option<&[String]>) -> AuthMethod {
    let lists = |m: AuthMethod| supported.is_some_and(|s| s.iter().any(|x| x == m.name()));
    let chosen = match (config.auth_method, &config.client_secret) {
        (Some(m), _) => m,
        (None, _) if config.client_key.is_some() => AuthMethod::PrivateKeyJwt,
        (None, None) => AuthMethod::None,
        // Clerk's discovery lists basic and none, but its own test client posts the secret,
        // and Clerk accepts that: keep to what Clerk's client does.
        (None, Some(_)) if config.provider.clerk().is_some() => AuthMethod::ClientSecretPost,
        (None, Some(_)) if lists(AuthMethod::ClientSecretPost) => AuthMethod::ClientSecretPost,
        (None, Some(_)) if lists(AuthMethod::ClientSecretBasic) => AuthMethod::ClientSecretBasic,
        (None, Some(_)) => AuthMethod::ClientSecretPost,
    };
    log::info!("client authentication: {}", chosen.name());
    chosen
}

/// The JWS algorithm of client assertions: the first the key (or, for client_secret_jwt,
/// HMAC) can sign with that the provider's `token_endpoint_auth_signing_alg_values_supported`
/// lists; without the list, the first the key can sign with.
fn choose_assertion_alg(
    config: &Config,
    method: AuthMethod,
    listed: Option<Vec<String>>,
) -> Result<Option<&'static str>, DiscoveryError> {
    let (can, what): (&'static [&'static str], String) = match (method, &config.client_key) {
        (AuthMethod::PrivateKeyJwt, Some(key)) => (
            key.key_type().algs(),
            format!("OAUTH_CLIENT_KEY (an {} key)", key.key_type().name()),
        ),
        (AuthMethod::ClientSecretJwt, _) => (
            &["HS256", "HS384", "HS512"],
            "client_secret_jwt (HMAC with CLIENT_SECRET)".to_owned(),
        ),
        _ => return Ok(None),
    };
    match first_listed(can, listed.as_deref()) {
        Some(alg) => {
            log::info!("client assertions signed with {alg}");
            Ok(Some(alg))
        }
        None => Err(DiscoveryError::NoAssertionAlg {
            what,
            can: can.join(", "),
            listed: listed.unwrap_or_default(),
        }),
    }
}

/// The first of `can` that `listed` holds; without a list, the first of `can`.
fn first_listed(can: &[&'static str], listed: Option<&[String]>) -> Option<&'static str> {
    match listed {
        None => can.first().copied(),
        Some(listed) => can.iter().find(|a| listed.iter().any(|l| l == *a)).copied(),
    }
}

/// Each endpoint given by hand replaces what discovery said.
fn apply_overrides(
    endpoints: &mut Endpoints,
    origins: &mut Vec<(&'static str, EndpointOrigin)>,
    given: &EndpointOverrides,
) {
    for (endpoint, url) in given.iter() {
        let u = url.clone();
        match endpoint {
            Endpoint::Authorization => endpoints.authorization = AuthUrl::from_url(u),
            Endpoint::Token => endpoints.token = TokenUrl::from_url(u),
            Endpoint::Userinfo => endpoints.userinfo = Some(u),
            Endpoint::Introspection => {
                endpoints.introspection = Some(IntrospectionUrl::from_url(u));
            }
            Endpoint::Revocation => endpoints.revocation = Some(RevocationUrl::from_url(u)),
            Endpoint::Jwks => endpoints.jwks = Some(u),
            Endpoint::DeviceAuthorization => endpoints.device_authorization = Some(u),
            // Not settings: only metadata names these.
            Endpoint::Registration | Endpoint::Par => continue,
        }
        let name = endpoint.metadata_name();
        origins.retain(|(n, _)| *n != name);
        origins.push((
            name,
            EndpointOrigin::ByHand(endpoint.env_var().unwrap_or_default()),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assertion_alg_is_the_keys_first_that_the_provider_lists() {
        let listed = |algs: &[&str]| algs.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        let rsa: &[&'static str] = &["RS256", "PS256"];
        assert_eq!(first_listed(rsa, None), Some("RS256"));
        let ps_only = listed(&["PS256", "ES256"]);
        assert_eq!(first_listed(rsa, Some(&ps_only)), Some("PS256"));
        let ed: &[&'static str] = &["EdDSA", "Ed25519"];
        assert_eq!(
            first_listed(ed, Some(&listed(&["Ed25519"]))),
            Some("Ed25519")
        );
        assert_eq!(first_listed(&["ES256"], Some(&listed(&["RS256"]))), None);
        let e = DiscoveryError::NoAssertionAlg {
            what: "OAUTH_CLIENT_KEY (an EC P-256 key)".into(),
            can: "ES256".into(),
            listed: listed(&["RS256"]),
        };
        let text = e.to_string();
        assert!(
            text.contains("OAUTH_CLIENT_KEY")
                && text.contains("token_endpoint_auth_signing_alg_values_supported")
                && text.contains("RS256"),
            "{text}"
        );
    }
}
