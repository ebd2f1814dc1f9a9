//! The authorization endpoint, followed without a browser: redirect URIs that are not
//! registered exactly, and a request without `code_challenge`. Each stops before the sign-in
//! (no cookies are sent), so none needs one.

use oauth2::{PkceCodeChallenge, RedirectUrl};
use url::Url;

use crate::oauth::{AuthMethod, Check};
use crate::provider::probe::AuthorizeAnswer;
use crate::redact::untrusted;
use crate::state::AppState;

/// What the authorization endpoint did with a request, from the client's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reaction {
    /// A redirect to the request's redirect URI, with the `error` it carried.
    ToRedirectUri { error: Option<String> },
    /// An error page (4xx or 5xx), no redirect.
    ErrorPage(u16),
    /// On to the sign-in: a redirect elsewhere (a login page), or a page that is not an error.
    GoesOn(String),
    /// No answer (connection refused, timeout, ...).
    Unreachable(String),
}

/// Follows `url` one step and says what the provider did, relative to `redirect_uri`.
pub async fn react(state: &AppState, url: &Url, redirect_uri: &Url) -> Reaction {
    match state.provider.follow_authorize(url).await {
        Err(e) => Reaction::Unreachable(e.to_string()),
        Ok(AuthorizeAnswer::Page { status }) if status >= 400 => Reaction::ErrorPage(status),
        Ok(AuthorizeAnswer::Page { status }) => Reaction::GoesOn(format!("HTTP {status}, a page")),
        Ok(AuthorizeAnswer::Redirect { location, status }) => match Url::parse(&location) {
            Ok(to) if same_endpoint(&to, redirect_uri) => Reaction::ToRedirectUri {
                error: to
                    .query_pairs()
                    .find(|(k, _)| k == "error")
                    .map(|(_, v)| v.into_owned()),
            },
            Ok(to) => Reaction::GoesOn(format!(
                "HTTP {status} to a page at {}",
                untrusted(to.origin().ascii_serialization())
            )),
            Err(_) => Reaction::GoesOn(format!("HTTP {status} to another page")),
        },
    }
}

/// Same scheme, host, port and path (the query may carry the response).
fn same_endpoint(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path() == b.path()
}

const REDIRECT_SOURCE: &str = "RFC 9700 §4.1.3; RFC 6749 §4.1.2.1";

/// The registered redirect URI with an extra path segment, an extra query parameter, and on
/// another host: each must get an error page, never a redirect to it.
pub async fn redirect_uris(state: &AppState) -> Vec<Check> {
    let registered = state.redirect.url();
    let mut extra_path = registered.clone();
    extra_path.set_path(&format!(
        "{}/extra",
        registered.path().trim_end_matches('/')
    ));
    let mut extra_query = registered.clone();
    extra_query.query_pairs_mut().append_pair("audit", "1");
    let mut other_host = registered.clone();
    let other = other_host.set_host(Some("oauth-test-client-audit.invalid"));
    let mut variants = vec![
        (
            "audit.redirect_uri_extra_path",
            "an extra path segment",
            Some(extra_path),
        ),
        (
            "audit.redirect_uri_extra_query",
            "an extra query parameter",
            Some(extra_query),
        ),
    ];
    variants.push((
        "audit.redirect_uri_other_host",
        "another host",
        other.ok().map(|()| other_host),
    ));
    let mut checks = Vec::new();
    for (name, what, uri) in variants {
        checks.push(
            redirect_uri(state, name, what, uri)
                .await
                .source(REDIRECT_SOURCE),
        );
    }
    checks
}

async fn redirect_uri(state: &AppState, name: &str, what: &str, uri: Option<Url>) -> Check {
    if state.provider.require_par {
        return Check::not_run(
            name,
            "the provider takes pushed authorization requests only, which this probe does not send",
        );
    }
    let Some(uri) = uri else {
        return Check::not_run(name, format!("the redirect URI cannot be given {what}"));
    };
    let redirect = RedirectUrl::from_url(uri.clone());
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let url = state
        .provider
        .probe_authorize_url(&redirect, &state.scopes, Some(challenge), &[]);
    match react(state, &url, &uri).await {
        Reaction::ErrorPage(status) => Check::pass(
            name,
            format!("the redirect URI with {what} gets an error page (HTTP {status}), no redirect"),
        ),
        Reaction::ToRedirectUri { error } => Check::fail(
            name,
            format!(
                "the provider redirects to the redirect URI with {what} (an open redirector{})",
                error
                    .map(|e| format!(", even with error={}", untrusted(&e)))
                    .unwrap_or_default()
            ),
        ),
        Reaction::GoesOn(how) => Check::fail(
            name,
            format!(
                "the redirect URI with {what} is accepted: the sign-in goes on ({how}) and would \
                 end there; register redirect URIs exactly"
            ),
        ),
        Reaction::Unreachable(e) => {
            Check::not_run(name, format!("the authorization request failed: {e}"))
        }
    }
}

const NO_CHALLENGE: &str = "audit.no_code_challenge";

/// An authorization request without `code_challenge`: a public client's must be refused; a
/// confidential client's accepted is a warning (OAuth 2.1 requires PKCE of every client).
pub async fn no_code_challenge(state: &AppState) -> Check {
    let provider = &state.provider;
    let public = provider.auth_method == AuthMethod::None || !provider.has_client_secret();
    let check = if provider.require_par {
        Check::not_run(
            NO_CHALLENGE,
            "the provider takes pushed authorization requests only, which this probe does not send",
        )
    } else {
        let url = provider.probe_authorize_url(&state.redirect, &state.scopes, None, &[]);
        let client = if public { "public" } else { "confidential" };
        match react(state, &url, state.redirect.url()).await {
            Reaction::ToRedirectUri { error: Some(error) } => Check::pass(
                NO_CHALLENGE,
                format!(
                    "refused for this {client} client (error={})",
                    untrusted(&error)
                ),
            ),
            Reaction::ErrorPage(status) => Check::pass(
                NO_CHALLENGE,
                format!("refused for this {client} client (an error page, HTTP {status})"),
            ),
            Reaction::ToRedirectUri { error: None } | Reaction::GoesOn(_) if public => Check::fail(
                NO_CHALLENGE,
                "accepted without PKCE for a public client: an intercepted code can be redeemed; \
                 require PKCE for this client",
            ),
            Reaction::ToRedirectUri { error: None } | Reaction::GoesOn(_) => Check::warn(
                NO_CHALLENGE,
                "accepted without PKCE for a confidential client (OAuth 2.1 requires PKCE of \
                 every client)",
            ),
            Reaction::Unreachable(e) => Check::not_run(
                NO_CHALLENGE,
                format!("the authorization request failed: {e}"),
            ),
        }
    };
    check.source("RFC 9700 §2.1.1; OAuth 2.1 §4.1.1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_uri_matches_on_scheme_host_port_and_path_only() {
        let registered = Url::parse("http://localhost:3000/oauth_callback").unwrap();
        for same in [
            "http://localhost:3000/oauth_callback?error=invalid_request&state=x",
            "http://localhost:3000/oauth_callback#frag",
        ] {
            assert!(
                same_endpoint(&Url::parse(same).unwrap(), &registered),
                "{same}"
            );
        }
        for other in [
            "http://localhost:3001/oauth_callback",
            "https://localhost:3000/oauth_callback",
            "http://127.0.0.1:3000/oauth_callback",
            "http://localhost:3000/oauth_callback/extra",
            "http://localhost:3000/interaction/abc",
        ] {
            assert!(
                !same_endpoint(&Url::parse(other).unwrap(), &registered),
                "{other}"
            );
        }
    }
}
