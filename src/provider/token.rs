//! The token endpoint: the code exchange (RFC 6749 section 4.1.3) and the refresh grant
//! (section 6), through the oauth2 crate, keeping the provider's JSON whole; the client
//! credentials grant (section 4.4) and the device grant's token request (RFC 8628 section
//! 3.4), built here with `ClientAuth::form_post`.

use oauth2::basic::{BasicErrorResponse, BasicTokenResponse};
use oauth2::{
    AuthorizationCode, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    TokenResponse,
};
use serde_json::{Map, Value};

use super::Provider;
use super::exchange::Exchange;
use super::http::{HttpError, NotJson, Recording};
use crate::redact::untrusted;

/// RFC 7523 section 2.1: the JWT-bearer grant type (workload identity, cross-app access).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Why a token request produced no tokens.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "the provider refused the request: {}{}",
        untrusted(.error),
        .description.as_deref().map(|d| format!(" ({})", untrusted(d))).unwrap_or_default()
    )]
    Provider {
        status: u16,
        error: String,
        description: Option<String>,
        uri: Option<String>,
    },
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(
        "the token endpoint answered HTTP {status} with a body that is not a valid token response \
         (problem at `{}`: {kind})",
        untrusted(.path)
    )]
    Parse {
        status: u16,
        path: String,
        kind: String,
    },
    #[error("{answer}. {advice}", answer = .0, advice = not_json_advice(.0))]
    NotJson(NotJson),
    #[error("unexpected answer from the token endpoint (HTTP {status}): {}", untrusted(.detail))]
    Other { status: u16, detail: String },
}

/// What a token endpoint answer that is not JSON says: a bare 401 or 403 is a refusal (the
/// hint says what to check), anything else a failure or the wrong URL.
fn not_json_advice(answer: &NotJson) -> &'static str {
    if super::refusal::is_refusal(answer.status) {
        "The provider refused the request without an OAuth error (RFC 6749 section 5.2 asks \
         for one, such as invalid_client)"
    } else {
        "The provider failed on its side (its logs say why), or this is not its token \
         endpoint: check OAUTH_ISSUER, or OAUTH_TOKEN_URL when it is given by hand"
    }
}

impl TokenError {
    /// A bare 401 or 403: refused, without an OAuth error to say why.
    pub fn refused_without_error(&self) -> bool {
        matches!(self, Self::NotJson(answer) if super::refusal::is_refusal(answer.status))
    }
}

/// Tokens from a successful token response.
pub struct TokenSet {
    /// Exactly the JSON object the provider sent, unknown fields included.
    pub raw: Map<String, Value>,
    pub access_token: oauth2::AccessToken,
    pub refresh_token: Option<RefreshToken>,
    pub id_token: Option<IdToken>,
}

impl TokenSet {
    /// The names of the fields the provider sent, for a log line (never their values).
    pub fn field_names(&self) -> String {
        self.raw
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// An ID token as sent (a compact JWS), like the oauth2 crate's token types: `Debug` never
/// prints it.
#[derive(Clone)]
pub struct IdToken(String);

impl IdToken {
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for IdToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdToken([redacted])")
    }
}

/// A token request's outcome and the exchange behind it.
pub struct TokenCall {
    pub result: Result<TokenSet, TokenError>,
    pub exchange: Option<Exchange>,
    /// How the response bent the spec (see `quirks`).
    pub quirks: Vec<String>,
}

type Raw = Result<BasicTokenResponse, RequestTokenError<HttpError, BasicErrorResponse>>;

impl Provider {
    /// Redeems an authorization code with the PKCE verifier and the same redirect URI as
    /// the authorization request (RFC 7636 section 4.5, RFC 6749 section 4.1.3).
    pub async fn exchange_code(
        &self,
        code: AuthorizationCode,
        verifier: PkceCodeVerifier,
        redirect: &RedirectUrl,
    ) -> TokenCall {
        self.exchange_code_with(code, Some(verifier), redirect)
            .await
    }

    /// The code exchange with a PKCE verifier or none, as `--audit` probes it (a correct
    /// client always sends one).
    pub async fn exchange_code_with(
        &self,
        code: AuthorizationCode,
        verifier: Option<PkceCodeVerifier>,
        redirect: &RedirectUrl,
    ) -> TokenCall {
        let client = self.oauth_client().set_redirect_uri(redirect.clone());
        let fresh = || self.client_auth().fresh_assertion();
        let http = Recording::for_tokens(self.http())
            .with_dpop(self.dpop(), None)
            .with_fresh_assertion(&fresh);
        let mut request = client.exchange_code(code);
        if let Some(verifier) = verifier {
            request = request.set_pkce_verifier(verifier);
        }
        if let Some(resource) = &self.resource_indicator {
            request = request.add_extra_param("resource", resource.clone());
        }
        let assertion = match self.client_auth().assertion_params() {
            Ok(fields) => fields,
            Err(e) => return self.unsigned(e),
        };
        for (name, value) in assertion {
            request = request.add_extra_param(name, value);
        }
        let raw = request.request_async(&http).await;
        finish(&http, raw)
    }

    /// The refresh-token grant (RFC 6749 section 6), client authentication as configured.
    pub async fn refresh(&self, refresh_token: &RefreshToken) -> TokenCall {
        let client = self.oauth_client();
        let fresh = || self.client_auth().fresh_assertion();
        let http = Recording::for_tokens(self.http())
            .with_dpop(self.dpop(), None)
            .with_fresh_assertion(&fresh);
        let mut request = client.exchange_refresh_token(refresh_token);
        if let Some(resource) = &self.resource_indicator {
            request = request.add_extra_param("resource", resource.clone());
        }
        let assertion = match self.client_auth().assertion_params() {
            Ok(fields) => fields,
            Err(e) => return self.unsigned(e),
        };
        for (name, value) in assertion {
            request = request.add_extra_param(name, value);
        }
        let raw = request.request_async(&http).await;
        finish(&http, raw)
    }

    /// No request: the client assertion could not be signed.
    fn unsigned(&self, e: crate::config::SignError) -> TokenCall {
        TokenCall {
            result: Err(TokenError::Http(HttpError::invalid_request(
                self.endpoints.token.url().as_str(),
                e,
            ))),
            exchange: None,
            quirks: Vec::new(),
        }
    }
}

impl Provider {
    /// The client credentials grant (RFC 6749 section 4.4.2): `scope` when some are asked
    /// for, `resource` (RFC 8707) when set, and `extra` (`audience`, ...).
    pub async fn client_credentials(&self, scope: &str, extra: &[(&str, &str)]) -> TokenCall {
        let mut form = vec![("grant_type", "client_credentials")];
        if !scope.is_empty() {
            form.push(("scope", scope));
        }
        if let Some(resource) = &self.resource_indicator {
            form.push(("resource", resource.as_str()));
        }
        form.extend_from_slice(extra);
        self.token_request(&form).await
    }

    /// The JWT-bearer grant (RFC 7523 section 2.1): `assertion` as the grant, `scope` when
    /// some are asked for, `resource` (RFC 8707) when set, and `extra`. Workload identity
    /// (`--grant jwt_bearer`) and cross-app access's ID-JAG both come here.
    pub async fn jwt_bearer(
        &self,
        assertion: &str,
        scope: &str,
        resource: Option<&str>,
        extra: &[(&str, &str)],
    ) -> TokenCall {
        let mut form = vec![("grant_type", JWT_BEARER), ("assertion", assertion)];
        if !scope.is_empty() {
            form.push(("scope", scope));
        }
        if let Some(resource) = resource {
            form.push(("resource", resource));
        }
        form.extend_from_slice(extra);
        self.token_request(&form).await
    }

    /// The device access token request (RFC 8628 section 3.4), one poll.
    pub async fn device_token(&self, device_code: &DeviceCode) -> TokenCall {
        let mut form = vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code.secret()),
        ];
        if let Some(resource) = &self.resource_indicator {
            form.push(("resource", resource.as_str()));
        }
        self.token_request(&form).await
    }

    /// A token request built here, the client authenticated by `ClientAuth` (so every
    /// method it knows applies), read as the oauth2 crate reads its own.
    pub(super) async fn token_request(&self, form: &[(&str, &str)]) -> TokenCall {
        // As for the code exchange: a DPoP proof with --dpop, a fresh assertion on its retry.
        let fresh = || self.client_auth().fresh_assertion();
        let http = Recording::for_tokens(self.http())
            .with_dpop(self.dpop(), None)
            .with_fresh_assertion(&fresh);
        let raw = match self
            .client_auth()
            .form_post(self.endpoints.token.url(), form)
        {
            Ok(request) => match http.send(request).await {
                Ok(response) => read_token_response(&response),
                Err(e) => Err(RequestTokenError::Request(e)),
            },
            Err(e) => Err(RequestTokenError::Request(e)),
        };
        finish(&http, raw)
    }
}

/// A device code (RFC 8628 section 3.2): `Debug` never prints it.
#[derive(Clone)]
pub struct DeviceCode(String);

impl DeviceCode {
    pub fn new(code: String) -> Self {
        Self(code)
    }

    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceCode([redacted])")
    }
}

/// A token endpoint's answer (already normalised by `Recording::for_tokens`) read like the
/// oauth2 crate reads it: a success on 2xx, else the RFC 6749 section 5.2 error.
fn read_token_response(response: &oauth2::HttpResponse) -> Raw {
    let body = response.body();
    if response.status().is_success() {
        return serde_json::from_slice::<BasicTokenResponse>(body).map_err(|e| {
            RequestTokenError::Other(format!(
                "not a token response ({:?} at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ))
        });
    }
    match serde_json::from_slice::<BasicErrorResponse>(body) {
        Ok(error) => Err(RequestTokenError::ServerResponse(error)),
        Err(_) => Err(RequestTokenError::Other(format!(
            "HTTP {} without an OAuth error body",
            response.status().as_u16()
        ))),
    }
}

fn finish(http: &Recording<'_>, raw: Raw) -> TokenCall {
    let (status, body) = http.last_response();
    let result = match raw {
        Ok(typed) => serde_json::from_slice::<Map<String, Value>>(&body)
            .map_err(|e| TokenError::Parse {
                status,
                path: ".".into(),
                kind: format!("{:?}", e.classify()),
            })
            .map(|raw| TokenSet {
                access_token: typed.access_token().clone(),
                refresh_token: typed.refresh_token().cloned(),
                id_token: raw
                    .get("id_token")
                    .and_then(Value::as_str)
                    .map(|t| IdToken(t.to_owned())),
                raw,
            }),
        // An HTML error page (django-oauth-toolkit's 500) is named, not parsed at `.`.
        Err(e @ (RequestTokenError::Parse(..) | RequestTokenError::Other(_))) => Err(http
            .last_not_json("the token endpoint")
            .map_or_else(|| token_error(status, e), TokenError::NotJson)),
        Err(e) => Err(token_error(status, e)),
    };
    TokenCall {
        result,
        exchange: http.exchange(),
        quirks: http.quirks(),
    }
}

fn token_error(status: u16, e: RequestTokenError<HttpError, BasicErrorResponse>) -> TokenError {
    match e {
        RequestTokenError::ServerResponse(r) => TokenError::Provider {
            status,
            error: r.error().as_ref().to_owned(),
            description: r.error_description().cloned(),
            uri: r.error_uri().cloned(),
        },
        RequestTokenError::Request(e) => TokenError::Http(e),
        // Only the path and kind: serde's message could quote a token from the body.
        RequestTokenError::Parse(e, _) => TokenError::Parse {
            status,
            path: e.path().to_string(),
            kind: format!("{:?}", e.inner().classify()),
        },
        RequestTokenError::Other(detail) => TokenError::Other { status, detail },
    }
}
