//! The calls `--audit` makes that a correct client never would: an authorization request
//! followed without a browser (to see where it would redirect), and a token request with a
//! wrong client secret. Each reports what the provider answered, for the audit to judge.

use oauth2::{ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use serde_json::Value;
use url::Url;

use super::Provider;
use super::client_auth::{ClientAuth, Signer};
use super::http::HttpError;
use crate::oauth::AuthMethod;

/// What an authorization endpoint did with a request, before any sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeAnswer {
    /// It redirected: where to (absolute, or as sent when it cannot be resolved).
    Redirect { status: u16, location: String },
    /// It answered with a page (a sign-in form, or an error page).
    Page { status: u16 },
}

/// A token endpoint's refusal (or acceptance), read loosely: the status and the `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAnswer {
    pub status: u16,
    pub error: Option<String>,
    pub description: Option<String>,
}

/// A metadata document as served: where, its status and `content-type`, its JSON (`None`
/// when not JSON).
#[derive(Debug, Clone)]
pub struct MetadataAnswer {
    pub url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Option<Value>,
}

impl Provider {
    /// The authorization server metadata the way the MCP conformance suite reads it: the
    /// RFC 8414 document first (section 3.1, the issuer's path after the well-known part),
    /// then the OpenID Connect one in both placements; the first that answers 200, else the
    /// last answer.
    pub async fn metadata_as_served(&self) -> Result<MetadataAnswer, HttpError> {
        let issuer = Url::parse(&self.configured_issuer)
            .map_err(|e| HttpError::invalid_request(&self.configured_issuer, e))?;
        let origin = issuer.origin().ascii_serialization();
        let path = issuer.path().trim_end_matches('/');
        let urls = [
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{origin}/.well-known/openid-configuration{path}"),
            format!("{origin}{path}/.well-known/openid-configuration"),
        ];
        let mut last = None;
        for url in urls {
            let answer = match self.http().get(&url).await {
                Ok(response) => MetadataAnswer {
                    status: response.status,
                    content_type: response
                        .headers
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                    body: serde_json::from_slice(&response.body).ok(),
                    url,
                },
                Err(e) => {
                    last.get_or_insert(Err(e));
                    continue;
                }
            };
            if answer.status == 200 {
                return Ok(answer);
            }
            last = Some(Ok(answer));
        }
        last.unwrap_or_else(|| Err(HttpError::invalid_request(&origin, "no metadata URL")))
    }

    /// An authorization request like the sign-in's, with `redirect`, an S256 challenge or
    /// none (`challenge: None`), and `extra` parameters.
    pub fn probe_authorize_url(
        &self,
        redirect: &RedirectUrl,
        scopes: &[Scope],
        challenge: Option<PkceCodeChallenge>,
        extra: &[(&str, &str)],
    ) -> Url {
        let client = self.oauth_client().set_redirect_uri(redirect.clone());
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes.iter().cloned());
        if let Some(challenge) = challenge {
            request = request.set_pkce_challenge(challenge);
        }
        for (k, v) in extra {
            request = request.add_extra_param(*k, *v);
        }
        request.url().0
    }

    /// GETs an authorization URL without following a redirect: where the provider would
    /// send the browser, or that it answered with a page.
    pub async fn follow_authorize(&self, url: &Url) -> Result<AuthorizeAnswer, HttpError> {
        match self.http().get(url.as_str()).await {
            Ok(response) => Ok(AuthorizeAnswer::Page {
                status: response.status,
            }),
            Err(HttpError::Redirect {
                status, location, ..
            }) => Ok(AuthorizeAnswer::Redirect {
                status,
                location: url
                    .join(&location)
                    .map_or(location, |absolute| absolute.to_string()),
            }),
            Err(e) => Err(e),
        }
    }

    /// A code grant for a code that does not exist, the client authenticated as configured
    /// but with a wrong secret: a provider that checks the client first answers
    /// `invalid_client` (RFC 6749 section 5.2). `None` for a client without a secret.
    pub async fn token_with_wrong_secret(
        &self,
        redirect: &RedirectUrl,
    ) -> Option<Result<TokenAnswer, HttpError>> {
        let real = self.client_secret()?;
        // Same length and alphabet as the real one, one character changed.
        let mut wrong: Vec<char> = real.chars().collect();
        if let Some(first) = wrong.first_mut() {
            *first = if *first == 'x' { 'y' } else { 'x' };
        } else {
            wrong.push('x');
        }
        let wrong = ClientSecret::new(wrong.into_iter().collect());
        // client_secret_jwt: an assertion keyed with the wrong secret; the others as usual.
        let auth = match (self.auth_method, self.assertion_alg) {
            (AuthMethod::ClientSecretJwt, Some(alg)) => ClientAuth::Jwt {
                id: &self.client_id,
                signer: Signer::Secret {
                    secret: &wrong,
                    alg,
                },
                audience: self.assertion_audience(),
            },
            (method, _) => ClientAuth::new(method, &self.client_id, Some(&wrong)),
        };
        let bogus = CsrfToken::new_random();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", bogus.secret().as_str()),
            ("redirect_uri", redirect.as_str()),
        ];
        let request = match auth.form_post(self.endpoints.token.url(), &form) {
            Ok(r) => r,
            Err(e) => return Some(Err(e)),
        };
        Some(self.http().execute(request).await.map(|response| {
            let body: Value = serde_json::from_slice(response.body()).unwrap_or_default();
            let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
            TokenAnswer {
                status: response.status().as_u16(),
                error: text("error"),
                description: text("error_description"),
            }
        }))
    }
}
