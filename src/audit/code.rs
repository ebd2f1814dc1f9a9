//! The authorization code redeemed a second time: refused with `invalid_grant`, and the
//! tokens of the first redemption revoked (RFC 6749 §4.1.2, §10.5; RFC 9700 §4.5).

use super::{Liveness, liveness};
use crate::oauth::{Check, TokenKind};
use crate::provider::TokenError;
use crate::redact::untrusted;
use crate::state::{AppState, Redeemed};

pub(super) const NAME: &str = "audit.code_redeemed_twice";
pub(super) const SOURCE: &str = "RFC 6749 §4.1.2, §10.5; RFC 9700 §4.5";

pub async fn redeemed_twice(state: &AppState, redeemed: Option<Redeemed>) -> Check {
    let Some(redeemed) = redeemed else {
        return Check::not_run(NAME, "the callback kept no code to redeem again").source(SOURCE);
    };
    let provider = &state.provider;
    let first = state
        .session_tokens()
        .and_then(|s| s.get(TokenKind::Access).map(str::to_owned));
    let call = provider
        .exchange_code(redeemed.code, redeemed.verifier, &state.redirect)
        .await;
    let check = match call.result {
        Ok(tokens) => {
            state.hold_token_secrets(&tokens);
            Check::fail(
                NAME,
                "the code was redeemed a second time: a stolen code stays usable; codes must \
                 be single-use",
            )
        }
        Err(TokenError::Provider { error, status, .. }) => {
            let refused = format!("refused ({}, HTTP {status})", untrusted(&error));
            let after = match &first {
                Some(token) => liveness(provider, token, TokenKind::Access).await,
                None => Liveness::Unknown("the first sign-in kept no access token".into()),
            };
            match (error == "invalid_grant", after) {
                (true, Liveness::Inactive(how)) => Check::pass(
                    NAME,
                    format!("{refused}, and the first redemption's access token revoked ({how})"),
                ),
                (true, Liveness::Active(how)) => Check::warn(
                    NAME,
                    format!(
                        "{refused}, but the first redemption's access token is still active \
                         ({how}); RFC 6749 §10.5 says to revoke the tokens of a reused code"
                    ),
                ),
                (true, Liveness::Unknown(why)) => Check::pass(
                    NAME,
                    format!("{refused}; whether the first tokens were revoked is unknown: {why}"),
                ),
                (false, _) => Check::warn(
                    NAME,
                    format!("{refused}: refused, but with another error than invalid_grant"),
                ),
            }
        }
        Err(e) => Check::not_run(NAME, format!("the second redemption got no answer: {e}")),
    };
    check.source(SOURCE)
}
