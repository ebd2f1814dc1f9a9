//! The provider's metadata documents (OpenID Connect Discovery 1.0, RFC 8414): fetched,
//! parsed, their `issuer` checked, and merged into what discovery found (`Found`), a second
//! document filling in what the first lacks.

use oauth2::{AuthUrl, IntrospectionUrl, RevocationUrl, TokenUrl};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::DiscoveryError;
use super::MetadataWarning;
use crate::oauth::{Endpoint, Issuer, require_https_unless_loopback};
use crate::provider::http::{HttpClient, HttpError};
use crate::provider::{EndpointOrigin, EndpointSource, Endpoints};
use crate::redact::untrusted;

/// The endpoints a provider may list in its RFC 8414 document only (django-oauth-toolkit
/// does, for these three): when the OpenID document lacks one, the other is read too.
pub(super) const SPLIT_ENDPOINTS: [&str; 3] = [
    Endpoint::Introspection.metadata_name(),
    Endpoint::Revocation.metadata_name(),
    Endpoint::Registration.metadata_name(),
];

/// The fields of RFC 8414 / OpenID Discovery metadata this client acts on.
#[derive(Debug, Deserialize)]
pub(super) struct Metadata {
    issuer: String,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    userinfo_endpoint: Option<String>,
    introspection_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    jwks_uri: Option<String>,
    device_authorization_endpoint: Option<String>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
    code_challenge_methods_supported: Option<Vec<String>>,
    id_token_signing_alg_values_supported: Option<Vec<String>>,
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    registration_endpoint: Option<String>,
    pushed_authorization_request_endpoint: Option<String>,
    #[serde(default)]
    require_pushed_authorization_requests: bool,
    /// draft-ietf-oauth-client-id-metadata-document section 5: URL client IDs accepted.
    #[serde(default)]
    client_id_metadata_document_supported: bool,
    introspection_endpoint_auth_methods_supported: Option<Vec<String>>,
    revocation_endpoint_auth_methods_supported: Option<Vec<String>>,
}

/// What discovery (or its fallbacks) established.
pub(super) struct Found {
    pub(super) issuer: String,
    pub(super) endpoints: Endpoints,
    pub(super) source: EndpointSource,
    pub(super) origins: Vec<(&'static str, EndpointOrigin)>,
    pub(super) warnings: Vec<MetadataWarning>,
    pub(super) iss_parameter_supported: bool,
    pub(super) id_token_signing_algs: Option<Vec<String>>,
    pub(super) code_challenge_methods: Option<Vec<String>>,
    pub(super) auth_methods: Option<Vec<String>>,
    /// `token_endpoint_auth_signing_alg_values_supported`.
    pub(super) assertion_algs: Option<Vec<String>>,
    pub(super) registration: Option<Url>,
    pub(super) par: Option<Url>,
    pub(super) require_par: bool,
    pub(super) client_id_metadata_document_supported: bool,
    /// `introspection_endpoint_auth_methods_supported` and
    /// `revocation_endpoint_auth_methods_supported`, by endpoint, where listed.
    pub(super) endpoint_auth_methods: Vec<(&'static str, Vec<String>)>,
}

/// Parses one endpoint of the metadata at `url`: an absolute URL, HTTPS unless loopback.
pub(super) fn parse_endpoint(
    url: &str,
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<Url>, DiscoveryError> {
    let Some(value) = value else { return Ok(None) };
    let bad = |problem: String| DiscoveryError::BadEndpoint {
        url: url.to_owned(),
        field,
        value: value.to_owned(),
        problem,
    };
    let parsed = Url::parse(value).map_err(|e| bad(e.to_string()))?;
    require_https_unless_loopback(&parsed).map_err(bad)?;
    Ok(Some(parsed))
}

pub(super) fn from_metadata(
    configured: &Issuer,
    url: String,
    meta: Metadata,
    legacy_mcp: bool,
) -> Result<Found, DiscoveryError> {
    match check_issuer(configured.as_str(), &url, &meta.issuer) {
        // MCP 2025-03-26: the server's origin only locates the metadata; its issuer is used.
        Err(DiscoveryError::IssuerMismatch { advertised, .. }) if legacy_mcp => log::warn!(
            "the metadata at {} names issuer {:?}, not the MCP server's origin: using it (MCP 2025-03-26)",
            untrusted(&url),
            advertised
        ),
        other => other?,
    }
    if let Some(methods) = &meta.code_challenge_methods_supported
        && !methods.iter().any(|m| m == "S256")
    {
        log::warn!(
            "the provider does not list S256 in code_challenge_methods_supported; sending S256 PKCE anyway"
        );
    }
    let endpoint =
        |field: &'static str, value: &Option<String>| parse_endpoint(&url, field, value.as_deref());
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
        device_authorization: endpoint(
            "device_authorization_endpoint",
            &meta.device_authorization_endpoint,
        )?,
    };
    let registration = endpoint("registration_endpoint", &meta.registration_endpoint)?;
    let par = endpoint(
        "pushed_authorization_request_endpoint",
        &meta.pushed_authorization_request_endpoint,
    )?;
    let present = [
        ("authorization_endpoint", true),
        ("token_endpoint", true),
        ("userinfo_endpoint", endpoints.userinfo.is_some()),
        ("introspection_endpoint", endpoints.introspection.is_some()),
        ("revocation_endpoint", endpoints.revocation.is_some()),
        ("jwks_uri", endpoints.jwks.is_some()),
        ("registration_endpoint", registration.is_some()),
        ("pushed_authorization_request_endpoint", par.is_some()),
        (
            "device_authorization_endpoint",
            endpoints.device_authorization.is_some(),
        ),
    ];
    let origins = present
        .into_iter()
        .filter(|(_, present)| *present)
        .map(|(name, _)| (name, EndpointOrigin::Document(url.clone())))
        .collect();
    let endpoint_auth_methods = endpoint_auth_methods(&meta);
    Ok(Found {
        issuer: meta.issuer,
        endpoints,
        source: EndpointSource::Discovery { url },
        origins,
        warnings: Vec::new(),
        iss_parameter_supported: meta.authorization_response_iss_parameter_supported,
        id_token_signing_algs: meta.id_token_signing_alg_values_supported,
        code_challenge_methods: meta.code_challenge_methods_supported,
        // RFC 8414 section 2: when omitted, the default is client_secret_basic.
        auth_methods: Some(
            meta.token_endpoint_auth_methods_supported
                .unwrap_or_else(|| vec!["client_secret_basic".into()]),
        ),
        assertion_algs: meta.token_endpoint_auth_signing_alg_values_supported,
        registration,
        par,
        require_par: meta.require_pushed_authorization_requests,
        client_id_metadata_document_supported: meta.client_id_metadata_document_supported,
        endpoint_auth_methods,
    })
}

/// OpenID Connect Discovery 1.0 section 4.3: the metadata's issuer is the configured one;
/// a difference of a trailing slash only is a quirk, logged, and the provider's form is used.
pub(super) fn check_issuer(
    configured: &str,
    url: &str,
    advertised: &str,
) -> Result<(), DiscoveryError> {
    if advertised == configured {
        return Ok(());
    }
    if advertised.trim_end_matches('/') != configured.trim_end_matches('/') {
        return Err(DiscoveryError::IssuerMismatch {
            url: url.to_owned(),
            configured: configured.to_owned(),
            advertised: advertised.to_owned(),
        });
    }
    log::warn!(
        "quirk: the metadata's issuer {advertised:?} differs from the configured {configured:?} only by a \
         trailing slash; using the provider's form for the `iss` checks"
    );
    Ok(())
}

impl Found {
    /// Endpoints known without a metadata document (Clerk's fixed paths, or by hand): no
    /// RFC 9207, registration or PAR is assumed, and client_secret_post is the method that
    /// works with the most such servers (Clerk's own client and GitHub use it).
    pub(super) fn without_metadata(
        issuer: String,
        endpoints: Endpoints,
        source: EndpointSource,
        origin: EndpointOrigin,
    ) -> Self {
        let e = &endpoints;
        let present = [
            ("authorization_endpoint", true),
            ("token_endpoint", true),
            ("userinfo_endpoint", e.userinfo.is_some()),
            ("introspection_endpoint", e.introspection.is_some()),
            ("revocation_endpoint", e.revocation.is_some()),
            ("jwks_uri", e.jwks.is_some()),
        ];
        let origins = present
            .into_iter()
            .filter(|(_, present)| *present)
            .map(|(name, _)| (name, origin.clone()))
            .collect();
        Self {
            issuer,
            endpoints,
            source,
            origins,
            warnings: Vec::new(),
            iss_parameter_supported: false,
            id_token_signing_algs: None,
            code_challenge_methods: None,
            auth_methods: Some(vec!["client_secret_post".into(), "none".into()]),
            assertion_algs: None,
            registration: None,
            par: None,
            require_par: false,
            client_id_metadata_document_supported: false,
            endpoint_auth_methods: Vec::new(),
        }
    }

    pub(super) fn has(&self, name: &str) -> bool {
        self.origins.iter().any(|(n, _)| *n == name)
    }

    pub(super) fn lacks_split_endpoints(&self) -> bool {
        SPLIT_ENDPOINTS.iter().any(|name| !self.has(name))
    }

    /// Fills the endpoints the OpenID document (`first`) lacks from the RFC 8414 document
    /// (`second`), when that one names the same issuer. Reading it is best effort: the
    /// first document was enough to run.
    pub(super) async fn complete_from(
        &mut self,
        http: &HttpClient,
        first: &str,
        second: String,
    ) -> Result<(), DiscoveryError> {
        let meta = match fetch_metadata(http, &second).await {
            Ok(meta) => meta,
            Err(Fetch::Unreachable(e)) => {
                log::debug!("discovery: {second} not read: {e}");
                return Ok(());
            }
            Err(Fetch::Unusable(problem)) => {
                log::debug!("discovery: {second} not read: {problem}");
                return Ok(());
            }
        };
        let offered = [
            ("userinfo_endpoint", &meta.userinfo_endpoint),
            ("introspection_endpoint", &meta.introspection_endpoint),
            ("revocation_endpoint", &meta.revocation_endpoint),
            ("jwks_uri", &meta.jwks_uri),
            ("registration_endpoint", &meta.registration_endpoint),
            (
                "pushed_authorization_request_endpoint",
                &meta.pushed_authorization_request_endpoint,
            ),
        ];
        let missing: Vec<(&'static str, &str)> = offered
            .into_iter()
            .filter(|(name, _)| !self.has(name))
            .filter_map(|(name, value)| Some((name, value.as_deref()?)))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        // RFC 8414 section 3.3: metadata naming another issuer must not be used.
        if meta.issuer != self.issuer {
            self.warnings.push(MetadataWarning::SecondIssuerMismatch {
                first: first.to_owned(),
                second,
                issuer: self.issuer.clone(),
                advertised: meta.issuer,
                missing: missing
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
            return Ok(());
        }
        for (name, methods) in endpoint_auth_methods(&meta) {
            if missing.iter().any(|(n, _)| *n == name) {
                self.endpoint_auth_methods.push((name, methods));
            }
        }
        let e = &mut self.endpoints;
        for (name, value) in &missing {
            let Some(url) = parse_endpoint(&second, name, Some(value))? else {
                continue;
            };
            match *name {
                "userinfo_endpoint" => e.userinfo = Some(url),
                "introspection_endpoint" => e.introspection = Some(IntrospectionUrl::from_url(url)),
                "revocation_endpoint" => e.revocation = Some(RevocationUrl::from_url(url)),
                "jwks_uri" => e.jwks = Some(url),
                "registration_endpoint" => self.registration = Some(url),
                _ => self.par = Some(url),
            }
            self.origins
                .push((name, EndpointOrigin::Document(second.clone())));
        }
        log::info!(
            "discovery: {} from {second} ({first} lacks them)",
            missing
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(())
    }
}

pub(super) enum Fetch {
    /// The host did not answer, or could not be trusted.
    Unreachable(HttpError),
    /// It answered, but not with metadata: a short reason for the message.
    Unusable(String),
}

/// Fetches and parses one metadata document.
pub(super) async fn fetch_metadata(http: &HttpClient, url: &str) -> Result<Metadata, Fetch> {
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
    serde_json::from_value(doc).map_err(|e| Fetch::Unusable(format!("not provider metadata: {e}")))
}

/// The client authentication methods a document lists for introspection and revocation
/// (RFC 8414 section 2), by endpoint.
fn endpoint_auth_methods(meta: &Metadata) -> Vec<(&'static str, Vec<String>)> {
    [
        (
            "introspection_endpoint",
            &meta.introspection_endpoint_auth_methods_supported,
        ),
        (
            "revocation_endpoint",
            &meta.revocation_endpoint_auth_methods_supported,
        ),
    ]
    .into_iter()
    .filter_map(|(name, methods)| Some((name, methods.clone()?)))
    .collect()
}
