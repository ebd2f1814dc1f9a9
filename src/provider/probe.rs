//! The calls `--audit` makes that a correct client never would: an authorization request
//! followed without a browser (to see where it would redirect), and a token request with a
//! wrong client secret. Each reports what the provider answered, for the audit to judge.

use oauth2::{ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use serde_json::Value;
use url::Url;

use super::Provider;
use super::client_auth::ClientAuth;
use super::http::HttpError;

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

impl Provider {
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
        let auth = ClientAuth::new(self.auth_method, &self.client_id, Some(&wrong));
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
