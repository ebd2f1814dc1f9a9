//! Probes on codes of their own: the callback keeps the code (not redeemed) and the probe
//! redeems it the wrong way; and a sign-in asking for a scope the provider does not know.
//! Each takes a sign-in, through the sign-in driver.

use oauth2::{PkceCodeChallenge, RedirectUrl};
use serde_json::Value;

use super::Event;
use crate::oauth::Check;
use crate::provider::TokenError;
use crate::provider::token::TokenCall;
use crate::redact::untrusted;
use crate::state::{AppState, Redeemed};

pub const WRONG_VERIFIER: &str = "audit.pkce_wrong_verifier";
pub const NO_VERIFIER: &str = "audit.pkce_no_verifier";
pub const VERIFIER_SOURCE: &str = "RFC 7636 §4.6";
pub const REDIRECT_DIFFERS: &str = "audit.token_redirect_uri_differs";
pub const REDIRECT_SOURCE: &str = "RFC 6749 §4.1.3";
pub const UNKNOWN_SCOPE: &str = "audit.unknown_scope";
pub const SCOPE_SOURCE: &str = "RFC 6749 §3.3, §5.1";

/// The scope value no provider knows.
const UNKNOWN: &str = "oauth_test_client_audit_unknown";

/// The kept code redeemed with another verifier than the one its challenge was made from.
pub async fn wrong_verifier(state: &AppState, held: Option<Redeemed>) -> Check {
    let Some(held) = held else {
        return not_held(WRONG_VERIFIER).source(VERIFIER_SOURCE);
    };
    let (_, other) = PkceCodeChallenge::new_random_sha256();
    let call = state
        .provider
        .exchange_code_with(held.code, Some(other), &state.redirect)
        .await;
    refused(state, WRONG_VERIFIER, "a wrong PKCE verifier", call).source(VERIFIER_SOURCE)
}

/// The kept code redeemed without a verifier, though its request had a challenge.
pub async fn no_verifier(state: &AppState, held: Option<Redeemed>) -> Check {
    let Some(held) = held else {
        return not_held(NO_VERIFIER).source(VERIFIER_SOURCE);
    };
    let call = state
        .provider
        .exchange_code_with(held.code, None, &state.redirect)
        .await;
    refused(state, NO_VERIFIER, "no PKCE verifier", call).source(VERIFIER_SOURCE)
}

/// The kept code redeemed with the right verifier but another `redirect_uri` than its
/// authorization request's.
pub async fn redirect_differs(state: &AppState, held: Option<Redeemed>) -> Check {
    let Some(held) = held else {
        return not_held(REDIRECT_DIFFERS).source(REDIRECT_SOURCE);
    };
    let mut other = state.redirect.url().clone();
    other.set_path(&format!("{}/other", other.path().trim_end_matches('/')));
    let call = state
        .provider
        .exchange_code_with(
            held.code,
            Some(held.verifier),
            &RedirectUrl::from_url(other),
        )
        .await;
    refused(state, REDIRECT_DIFFERS, "another redirect_uri", call).source(REDIRECT_SOURCE)
}

fn not_held(name: &str) -> Check {
    Check::not_run(
        name,
        "the sign-in for this probe did not end at the callback with a code",
    )
}

/// A token request that must be refused: `invalid_grant` passes, another error warns, tokens
/// fail.
fn refused(state: &AppState, name: &str, what: &str, call: TokenCall) -> Check {
    match call.result {
        Ok(tokens) => {
            state.hold_token_secrets(&tokens);
            Check::fail(name, format!("a code redeemed with {what} got tokens"))
        }
        Err(TokenError::Provider { error, status, .. }) if error == "invalid_grant" => Check::pass(
            name,
            format!("refused with {what} (invalid_grant, HTTP {status})"),
        ),
        Err(TokenError::Provider { error, status, .. }) => Check::warn(
            name,
            format!(
                "refused with {what}, but as {} (HTTP {status}), not invalid_grant",
                untrusted(&error)
            ),
        ),
        Err(e) => Check::not_run(name, format!("the token request got no answer: {e}")),
    }
}

/// The configured scopes and one no provider knows.
pub fn with_unknown_scope(state: &AppState) -> String {
    let mut scopes: Vec<&str> = state.scopes.iter().map(|s| s.as_str()).collect();
    scopes.push(UNKNOWN);
    scopes.join(" ")
}

/// `invalid_scope`, or tokens whose `scope` leaves the unknown one out.
pub fn unknown_scope(state: &AppState, event: Event) -> Check {
    let check = match event {
        Event::Refused(document) => match document.get("error").and_then(Value::as_str) {
            Some("invalid_scope") => Check::pass(UNKNOWN_SCOPE, "refused: invalid_scope"),
            Some(other) => Check::warn(
                UNKNOWN_SCOPE,
                format!(
                    "the sign-in was refused, but as {}, not invalid_scope",
                    untrusted(other)
                ),
            ),
            None => Check::not_run(
                UNKNOWN_SCOPE,
                "the sign-in failed before the provider answered",
            ),
        },
        Event::CodeHeld(_) => not_held(UNKNOWN_SCOPE),
        Event::SignedIn => {
            let granted = state.session_tokens().and_then(|s| {
                s.token
                    .get("scope")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
            match granted {
                Some(scope) if scope.split_whitespace().any(|s| s == UNKNOWN) => Check::fail(
                    UNKNOWN_SCOPE,
                    format!("the unknown scope {UNKNOWN} was granted"),
                ),
                Some(scope) => Check::pass(
                    UNKNOWN_SCOPE,
                    format!(
                        "granted narrower, with scope in the token response: {}",
                        untrusted(&scope)
                    ),
                ),
                None => Check::fail(
                    UNKNOWN_SCOPE,
                    "granted without `scope` in the token response, though it differs from the \
                     request (RFC 6749 §5.1 requires it then)",
                ),
            }
        }
    };
    check.source(SCOPE_SOURCE)
}
