//! The provider as found: its endpoints and where each came from, the client, the
//! authorization URL and the RFC 9207 check. This module and its children make every
//! outbound call: `discovery`, `token` (code and refresh), `calls` (userinfo, introspection,
//! revocation, PAR, registration, the API), `jwks`, `resource` (RFC 9728), over `http`, each
//! authenticating the client through `client_auth`; `quirks` reads token responses that bend
//! RFC 6749, `exchange` records requests masked, `challenge` parses `WWW-Authenticate`.

pub mod authorize_url;
pub mod calls;
pub mod challenge;
pub mod client_auth;
pub mod device;
pub mod discovery;
pub mod dpop;
pub mod exchange;
pub mod http;
pub mod jwks;
pub mod probe;
pub mod quirks;
pub mod refusal;
pub mod registration;
pub mod resource;
pub mod token;
pub mod token_exchange;
pub mod workload;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IntrospectionUrl, PkceCodeChallenge, RedirectUrl, RevocationUrl, Scope, TokenUrl,
};
use serde_json::Value;
use url::Url;

use crate::config::{AssertionAudience, ClientKey};
use crate::oauth::{AuthMethod, Endpoint};
use client_auth::{ClientAuth, Signer};
pub use discovery::DiscoveryError;
pub use http::{HttpClient, HttpError};
pub use token::{DeviceCode, TokenError, TokenSet};

type OAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet, EndpointSet>;

/// How the endpoints were found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointSource {
    Discovery {
        url: String,
    },
    ClerkFixedPaths,
    /// OAUTH_AUTHORIZE_URL and OAUTH_TOKEN_URL, no discovery (GitHub and the like).
    Manual,
}

/// Where one endpoint came from, for the index page and the report: with metadata split
/// across two documents (django-oauth-toolkit), a person needs to see which said what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointOrigin {
    /// A metadata document, by its URL.
    Document(String),
    /// Given by hand, by its setting.
    ByHand(&'static str),
    /// Clerk's fixed paths (discovery was unreachable).
    ClerkFixedPath,
}

impl std::fmt::Display for EndpointOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Document(url) => f.write_str(url),
            Self::ByHand(setting) => write!(f, "{setting} (by hand)"),
            Self::ClerkFixedPath => f.write_str("Clerk's fixed path"),
        }
    }
}

/// One endpoint in use, with where it came from.
#[derive(Debug, Clone)]
pub struct EndpointRow {
    /// The metadata field name (RFC 8414 section 2).
    pub name: &'static str,
    pub url: String,
    pub origin: Option<EndpointOrigin>,
}

#[derive(Debug, Clone)]
pub struct Endpoints {
    pub authorization: AuthUrl,
    pub token: TokenUrl,
    pub userinfo: Option<Url>,
    pub introspection: Option<IntrospectionUrl>,
    pub revocation: Option<RevocationUrl>,
    pub jwks: Option<Url>,
    /// RFC 8628 section 3.1, for `--grant device`.
    pub device_authorization: Option<Url>,
}

/// A provider with known endpoints.
pub struct Provider {
    /// The issuer as the provider states it (equal to the configured one).
    pub issuer: String,
    /// The issuer as configured.
    pub configured_issuer: String,
    pub endpoints: Endpoints,
    pub source: EndpointSource,
    /// Where each endpoint in use came from, by metadata field name.
    pub origins: Vec<(&'static str, EndpointOrigin)>,
    /// What discovery found wrong without failing (a second document not used, ...).
    pub metadata_warnings: Vec<discovery::MetadataWarning>,
    /// `token_endpoint_auth_methods_supported` (RFC 8414 section 2: basic when omitted);
    /// `None` without metadata.
    pub auth_methods_supported: Option<Vec<String>>,
    /// RFC 9207: the provider promises `iss` on every authorization response.
    pub iss_parameter_supported: bool,
    /// `id_token_signing_alg_values_supported`, when discovery gave it.
    pub id_token_signing_algs: Option<Vec<String>>,
    /// `code_challenge_methods_supported`, when discovery gave it.
    pub code_challenge_methods: Option<Vec<String>>,
    /// How the client authenticates, chosen once at start.
    pub auth_method: AuthMethod,
    /// The JWS algorithm of client assertions (private_key_jwt, client_secret_jwt).
    pub assertion_alg: Option<&'static str>,
    /// OAUTH_CLIENT_KEY, for private_key_jwt.
    pub client_key: Option<ClientKey>,
    pub assertion_audience: AssertionAudience,
    /// RFC 7591 dynamic client registration, when offered.
    pub registration_endpoint: Option<Url>,
    /// RFC 9126 pushed authorization requests, when offered.
    pub par_endpoint: Option<Url>,
    /// The provider accepts only pushed authorization requests.
    pub require_par: bool,
    /// The metadata's `client_id_metadata_document_supported`: a URL may be the client ID
    /// (draft-ietf-oauth-client-id-metadata-document).
    pub client_id_metadata_document_supported: bool,
    /// `introspection_endpoint_auth_methods_supported` and
    /// `revocation_endpoint_auth_methods_supported` (RFC 8414 section 2), by endpoint's
    /// metadata name, where the metadata lists them.
    pub endpoint_auth_methods: Vec<(&'static str, Vec<String>)>,
    /// The client was registered (RFC 7591) by this run or an earlier one: what was asked
    /// for and what the provider answered, for the hints of a refused client.
    pub registration: Option<crate::config::registered::Registration>,
    /// The RFC 8707 `resource` the tokens are for: sent on the token and refresh requests too
    /// (section 2.2), not only on the authorization request.
    pub resource_indicator: Option<String>,
    /// `--dpop`: this run's key; tokens are bound to it (RFC 9449).
    dpop: Option<dpop::Dpop>,
    jwks: tokio::sync::Mutex<Option<Vec<jsonwebtoken::jwk::Jwk>>>,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    http: HttpClient,
}

impl Provider {
    /// How this client authenticates: the one source for every call that does.
    pub(crate) fn client_auth(&self) -> ClientAuth<'_> {
        let id = &self.client_id;
        let signer = match (self.auth_method, self.assertion_alg) {
            (AuthMethod::PrivateKeyJwt, Some(alg)) => {
                self.client_key.as_ref().map(|key| Signer::Key { key, alg })
            }
            (AuthMethod::ClientSecretJwt, Some(alg)) => self
                .client_secret
                .as_ref()
                .map(|secret| Signer::Secret { secret, alg }),
            _ => None,
        };
        match signer {
            Some(signer) => ClientAuth::Jwt {
                id,
                signer,
                audience: self.assertion_audience(),
            },
            None => ClientAuth::new(self.auth_method, id, self.client_secret.as_ref()),
        }
    }

    /// The `aud` of client assertions (OAUTH_ASSERTION_AUDIENCE).
    pub fn assertion_audience(&self) -> &str {
        match self.assertion_audience {
            AssertionAudience::Issuer => &self.issuer,
            AssertionAudience::TokenEndpoint => self.endpoints.token.url().as_str(),
        }
    }

    /// How the client authenticated, for the report: the method, and for a signed
    /// assertion its algorithm, `kid` and audience.
    pub fn client_auth_json(&self) -> Value {
        let auth = self.client_auth();
        let mut doc = serde_json::json!({ "method": auth.method().name() });
        if let ClientAuth::Jwt {
            signer, audience, ..
        } = auth
        {
            doc["alg"] = signer.alg().into();
            doc["aud"] = audience.into();
            if let Signer::Key { key, .. } = signer {
                doc["kid"] = key.kid().into();
            }
        }
        doc
    }

    /// The oauth2 crate's client for this provider's endpoints, authenticating as
    /// `client_auth` says.
    pub(crate) fn oauth_client(&self) -> OAuthClient {
        self.client_auth()
            .oauth2_client()
            .set_auth_uri(self.endpoints.authorization.clone())
            .set_token_uri(self.endpoints.token.clone())
            .set_introspection_url_option(self.endpoints.introspection.clone())
            .set_revocation_url_option(self.endpoints.revocation.clone())
    }

    /// Every endpoint in use, in metadata order, with where it came from.
    pub fn endpoint_rows(&self) -> Vec<EndpointRow> {
        Endpoint::ALL
            .into_iter()
            .filter_map(|endpoint| {
                let name = endpoint.metadata_name();
                Some(EndpointRow {
                    name,
                    url: self.endpoint_url(endpoint)?,
                    origin: self.origin(name).cloned(),
                })
            })
            .collect()
    }

    /// The URL in use for an endpoint, when there is one.
    pub fn endpoint_url(&self, endpoint: Endpoint) -> Option<String> {
        let e = &self.endpoints;
        match endpoint {
            Endpoint::Authorization => Some(e.authorization.to_string()),
            Endpoint::Token => Some(e.token.to_string()),
            Endpoint::Userinfo => e.userinfo.as_ref().map(Url::to_string),
            Endpoint::Introspection => e.introspection.as_ref().map(|u| u.to_string()),
            Endpoint::Revocation => e.revocation.as_ref().map(|u| u.to_string()),
            Endpoint::Jwks => e.jwks.as_ref().map(Url::to_string),
            Endpoint::Registration => self.registration_endpoint.as_ref().map(Url::to_string),
            Endpoint::Par => self.par_endpoint.as_ref().map(Url::to_string),
            Endpoint::DeviceAuthorization => e.device_authorization.as_ref().map(Url::to_string),
        }
    }

    /// Where the endpoint named by its metadata field came from.
    pub fn origin(&self, name: &str) -> Option<&EndpointOrigin> {
        self.origins
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, o)| o)
    }

    /// The endpoints for the `--report` document: `{name: {url, from}}`.
    pub fn endpoints_json(&self) -> Value {
        let map: serde_json::Map<String, Value> = self
            .endpoint_rows()
            .into_iter()
            .map(|row| {
                let from = row.origin.map(|o| o.to_string());
                (
                    row.name.to_owned(),
                    serde_json::json!({ "url": row.url, "from": from }),
                )
            })
            .collect();
        Value::Object(map)
    }

    pub fn client_id(&self) -> &str {
        self.client_id.as_str()
    }

    pub fn has_client_secret(&self) -> bool {
        self.client_secret.is_some()
    }

    pub(crate) fn client_secret(&self) -> Option<&str> {
        self.client_secret.as_ref().map(|s| s.secret().as_str())
    }

    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The DPoP key, with `--dpop`.
    pub fn dpop(&self) -> Option<&dpop::Dpop> {
        self.dpop.as_ref()
    }

    /// The authorization request (RFC 6749 section 4.1.1) with a fresh state, the PKCE S256
    /// challenge (RFC 7636) and, for OpenID requests, the nonce.
    pub fn authorize_url(
        &self,
        redirect: &RedirectUrl,
        scopes: &[Scope],
        challenge: PkceCodeChallenge,
        nonce: Option<&str>,
        extra: &[(&str, &str)],
    ) -> (Url, CsrfToken) {
        let client = self.oauth_client().set_redirect_uri(redirect.clone());
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes.iter().cloned())
            .set_pkce_challenge(challenge);
        if let Some(nonce) = nonce {
            request = request.add_extra_param("nonce", nonce);
        }
        // RFC 9449 section 10: the code is bound to this run's key.
        if let Some(dpop) = &self.dpop {
            request = request.add_extra_param("dpop_jkt", dpop.thumbprint());
        }
        for (k, v) in extra {
            request = request.add_extra_param(*k, *v);
        }
        request.url()
    }
}

/// Why an authorization response's `iss` parameter was refused (RFC 9207).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssError {
    #[error(
        "the provider advertises authorization_response_iss_parameter_supported but the callback has no \
         `iss` (RFC 9207 section 2.4, mix-up defence)"
    )]
    Missing,
    #[error("the callback's `iss` is {got:?} but the provider is {expected:?} (RFC 9207)")]
    Mismatch { expected: String, got: String },
}

impl Provider {
    /// RFC 9207 section 2.4: a present `iss` must equal the issuer (simple string
    /// comparison); a missing one is refused when the provider promised it.
    pub fn check_response_iss(&self, iss: Option<&str>) -> Result<(), IssError> {
        match iss {
            Some(got) if got == self.issuer => Ok(()),
            Some(got) => Err(IssError::Mismatch {
                expected: self.issuer.clone(),
                got: got.to_owned(),
            }),
            None if self.iss_parameter_supported => Err(IssError::Missing),
            None => Ok(()),
        }
    }
}
