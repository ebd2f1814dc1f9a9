//! Tokens used up on purpose: a revoked access token stops working (RFC 7009 §2.2), and a
//! refresh token rotates, its reuse refused and revoking the new one (RFC 9700 §4.14.2).

use oauth2::{AccessToken, RefreshToken};

use super::{Liveness, liveness};
use crate::oauth::{AuthMethod, Check, TokenKind};
use crate::provider::TokenError;
use crate::provider::calls::CallError;
use crate::redact::untrusted;
use crate::state::AppState;

const REVOKED: &str = "audit.revoked_token";
const REVOKED_SOURCE: &str = "RFC 7009 §2.2";

/// Revokes the session's access token, then asks introspection and userinfo about it.
pub async fn revoked(state: &AppState) -> Check {
    let provider = &state.provider;
    let Some(token) = state
        .session_tokens()
        .and_then(|s| s.get(TokenKind::Access).map(str::to_owned))
    else {
        return Check::not_run(REVOKED, "no access token").source(REVOKED_SOURCE);
    };
    let call = provider.revoke(&token, TokenKind::Access).await;
    let check = match call.result {
        Err(CallError::NotAdvertised(_)) => {
            Check::not_run(REVOKED, "the provider has no revocation endpoint")
        }
        Err(e) => Check::fail(REVOKED, format!("the revocation request failed: {e}")),
        Ok(_) => {
            let mut seen = Vec::new();
            let mut still = Vec::new();
            if provider.endpoints.introspection.is_some() {
                match liveness(provider, &token, TokenKind::Access).await {
                    Liveness::Inactive(how) => seen.push(how.to_owned()),
                    Liveness::Active(how) => still.push(how.to_owned()),
                    Liveness::Unknown(why) => seen.push(format!("({why})")),
                }
            }
            if provider.endpoints.userinfo.is_some() {
                let call = provider.userinfo(&AccessToken::new(token.clone())).await;
                let status = call
                    .exchange
                    .as_ref()
                    .and_then(|e| e.response.as_ref())
                    .map(|r| r.status);
                match (call.result, status) {
                    (Ok(_), _) => still.push("userinfo still answers with it".to_owned()),
                    (Err(_), Some(401)) => seen.push("userinfo answers 401".to_owned()),
                    (Err(e), _) => seen.push(format!("(userinfo: {e})")),
                }
            }
            state.forget(TokenKind::Access);
            if !still.is_empty() {
                Check::fail(
                    REVOKED,
                    format!("revoked (HTTP 200), but {}", still.join("; ")),
                )
            } else if seen.iter().all(|s| s.starts_with('(')) {
                Check::not_run(
                    REVOKED,
                    format!(
                        "revoked, but nothing could tell whether it still works{}",
                        if seen.is_empty() {
                            " (no introspection or userinfo endpoint)".to_owned()
                        } else {
                            format!(": {}", seen.join("; "))
                        }
                    ),
                )
            } else {
                Check::pass(REVOKED, format!("revoked, then {}", seen.join("; ")))
            }
        }
    };
    check.source(REVOKED_SOURCE)
}

const ROTATION: &str = "audit.refresh_rotation";
const ROTATION_SOURCE: &str = "RFC 9700 §4.14.2";

/// Refreshes once, then uses the old refresh token again: it must be refused, and (reuse
/// detection) the new one revoked too.
pub async fn rotation(state: &AppState) -> Check {
    let provider = &state.provider;
    let Some(old) = state
        .session_tokens()
        .and_then(|s| s.refresh_token.map(|t| t.secret().clone()))
    else {
        return Check::not_run(ROTATION, "the provider issued no refresh token")
            .source(ROTATION_SOURCE);
    };
    let first = provider.refresh(&RefreshToken::new(old.clone())).await;
    let check = match first.result {
        Err(e) => Check::not_run(ROTATION, format!("the refresh request failed: {e}")),
        Ok(tokens) => {
            let new = tokens.refresh_token.as_ref().map(|t| t.secret().clone());
            state.refreshed(tokens);
            match new {
                None => not_rotated(
                    provider,
                    "the refresh response has no new refresh token: the old one is not rotated",
                ),
                Some(new) if new == old => not_rotated(
                    provider,
                    "the refresh response returns the same refresh token: not rotated",
                ),
                Some(new) => reuse(state, &old, &new).await,
            }
        }
    };
    check.source(ROTATION_SOURCE)
}

/// A refresh token that does not rotate: RFC 9700 §4.14.2 asks rotation or sender-constraining
/// of a public client's refresh tokens only (a confidential client authenticates each refresh).
fn not_rotated(provider: &crate::provider::Provider, seen: &str) -> Check {
    match provider.auth_method {
        AuthMethod::None if provider.dpop().is_some() => Check::pass(
            ROTATION,
            format!(
                "{seen}; this public client uses DPoP, and RFC 9449 §5 binds a public client's \
                 refresh tokens to its DPoP key: sender-constrained, which RFC 9700 §4.14.2 \
                 accepts instead of rotation"
            ),
        ),
        AuthMethod::None => Check::warn(
            ROTATION,
            format!(
                "{seen}; this is a public client, whose refresh tokens must rotate or be \
                 sender-constrained"
            ),
        ),
        method => Check::pass(
            ROTATION,
            format!(
                "{seen}, which RFC 9700 §4.14.2 allows for a confidential client (this one \
                 authenticates with {}): rotation or sender-constraining is asked of public \
                 clients only",
                method.name()
            ),
        ),
    }
}

async fn reuse(state: &AppState, old: &str, new: &str) -> Check {
    let provider = &state.provider;
    let again = provider.refresh(&RefreshToken::new(old.to_owned())).await;
    match again.result {
        Ok(tokens) => {
            state.refreshed(tokens);
            Check::fail(
                ROTATION,
                "rotated, but the old refresh token still works after use",
            )
        }
        Err(TokenError::Provider { error, status, .. }) => {
            let refused = format!(
                "rotated; the old refresh token refused after use ({}, HTTP {status})",
                untrusted(&error)
            );
            match liveness(provider, new, TokenKind::Refresh).await {
                Liveness::Inactive(how) => Check::pass(
                    ROTATION,
                    format!("{refused}, and its reuse revoked the new one ({how})"),
                ),
                Liveness::Active(how) => Check::warn(
                    ROTATION,
                    format!(
                        "{refused}, but the new one is still active after the reuse ({how}): \
                         reuse detection would revoke it"
                    ),
                ),
                Liveness::Unknown(why) => Check::pass(
                    ROTATION,
                    format!("{refused}; the new one's state is unknown: {why}"),
                ),
            }
        }
        Err(e) => Check::not_run(
            ROTATION,
            format!("the second use of the old refresh token got no answer: {e}"),
        ),
    }
}
