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
            format!(
                "HTTP {}, error {}{}: not invalid_client, so the secret was not checked before \
                 the request itself",
                a.status,
                a.error
                    .as_deref()
                    .map(|e| untrusted(e).to_string())
                    .unwrap_or_else(|| "(none)".into()),
                a.description
                    .as_deref()
                    .map(|d| format!(" ({})", untrusted(d)))
                    .unwrap_or_default()
            ),
        ),
    };
    check.source("RFC 6749 §5.2")
}
