//! Client authentication: a wrong client secret is refused as `invalid_client`.

use crate::oauth::{AuthMethod, Check};
use crate::redact::untrusted;
use crate::state::AppState;

const NAME: &str = "audit.wrong_client_secret";

/// A token request with the secret changed (for a code that does not exist): `invalid_client`,
/// HTTP 401 (RFC 6749 §5.2: 401 is a must when the client used the Authorization header;
/// with the secret in the body, 400 is allowed).
pub async fn wrong_secret(state: &AppState) -> Check {
    let provider = &state.provider;
    if provider.auth_method == AuthMethod::PrivateKeyJwt {
        return Check::not_run(
            NAME,
            "private_key_jwt: the client sends no secret (a key the provider does not know is \
             refused as invalid_client at the token step: try another OAUTH_CLIENT_KEY)",
        )
        .source("RFC 6749 §5.2");
    }
    let Some(answer) = provider.token_with_wrong_secret(&state.redirect).await else {
        return Check::not_run(NAME, "a public client: there is no secret to get wrong")
            .source("RFC 6749 §5.2");
    };
    let basic = provider.auth_method == AuthMethod::ClientSecretBasic;
    let check = match answer {
        Err(e) => Check::not_run(NAME, format!("the token request failed: {e}")),
        Ok(a) if (200..300).contains(&a.status) => Check::fail(
            NAME,
            format!(
                "HTTP {}: the token endpoint accepted a wrong client secret",
                a.status
            ),
        ),
        Ok(a) if a.error.as_deref() == Some("invalid_client") => {
            if a.status == 401 || (!basic && a.status == 400) {
                Check::pass(NAME, format!("refused: invalid_client, HTTP {}", a.status))
            } else {
                Check::fail(
                    NAME,
                    format!(
                        "refused with invalid_client but HTTP {} (401 is required for a client \
                         authenticating with the Authorization header)",
                        a.status
                    ),
                )
            }
        }
        Ok(a) => Check::fail(
            NAME,
            other_answer(
                a.status,
                a.error.as_deref(),
                a.description.as_deref(),
                basic,
            ),
        ),
    };
    check.source("RFC 6749 §5.2")
}

/// A refusal that is not `invalid_client`, as observed: its status and error, and what RFC
/// 6749 section 5.2 asks. Nothing about why: a server that answers `unauthorized_client` here
/// may well check the secret first (it only names the failure differently).
fn other_answer(
    status: u16,
    error: Option<&str>,
    description: Option<&str>,
    basic: bool,
) -> String {
    format!(
        "the wrong secret was refused with HTTP {status}, error {}{}; RFC 6749 §5.2 asks \
         `invalid_client` for a failed client authentication{}",
        error
            .map(|e| format!("`{}`", untrusted(e)))
            .unwrap_or_else(|| "(none)".into()),
        description
            .map(|d| format!(" ({})", untrusted(d)))
            .unwrap_or_default(),
        if basic {
            ", with HTTP 401 when the client authenticated with the Authorization header"
        } else {
            " (HTTP 400, or 401)"
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_refusal_says_what_was_seen_and_what_the_rfc_asks_and_nothing_more() {
        let detail = other_answer(403, Some("unauthorized_client"), None, true);
        assert_eq!(
            detail,
            "the wrong secret was refused with HTTP 403, error `unauthorized_client`; RFC 6749 \
             §5.2 asks `invalid_client` for a failed client authentication, with HTTP 401 when \
             the client authenticated with the Authorization header"
        );
        assert!(!detail.contains("not checked"), "{detail}");
    }
}
