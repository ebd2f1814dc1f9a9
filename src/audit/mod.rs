//! `--audit`: probes of what the provider must refuse (RFC 9700, RFC 6749, RFC 7636, RFC 7009),
//! each a check with its source, after the normal sign-in. Probes that use tokens up run in
//! stages, with a fresh sign-in before each, so the session ends with tokens from a sign-in
//! no probe touched. Every call goes through `provider`.
//!
//! One file per group: `metadata` (what the provider advertises and sent), `authorize` (the
//! authorization endpoint, followed without a browser), `client` (client authentication),
//! `code` (the code redeemed twice), `tokens` (revocation and refresh-token rotation).

mod authorize;
mod client;
mod code;
mod metadata;
mod tokens;

use oauth2::AccessToken;
use serde_json::Value;

use crate::oauth::{Check, TokenKind};
use crate::provider::Provider;
use crate::state::AppState;

/// The probes that need an authorization code of their own, not redeemed by the callback;
/// reported "not run" until they can be driven.
const NEEDS_OWN_CODE: [(&str, &str, &str); 3] = [
    (
        "audit.pkce_wrong_verifier",
        "RFC 7636 §4.6",
        "a code redeemed with a wrong PKCE verifier, and with none",
    ),
    (
        "audit.token_redirect_uri_differs",
        "RFC 6749 §4.1.3",
        "a code redeemed with another redirect_uri than its authorization request's",
    ),
    (
        "audit.unknown_scope",
        "RFC 6749 §3.3, §5.1",
        "a sign-in asking for a scope the provider does not know",
    ),
];

/// Where the audit stands between sign-ins.
#[derive(Debug, Default)]
pub struct Audit {
    stage: Stage,
    checks: Vec<Check>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// After the first sign-in: the probes that use nothing up, then the code redeemed twice.
    #[default]
    First,
    /// After a second sign-in: revocation (which may revoke the whole grant).
    Revocation,
    /// After a third: refresh-token rotation.
    Rotation,
    /// After the last sign-in: the session's tokens are fresh; done.
    Fresh,
}

/// What the audit needs next.
#[derive(Debug)]
pub enum Next {
    /// A new sign-in, for this reason (said to the person, or to the log).
    SignInAgain(&'static str),
    /// Every probe has run: the checks, in order.
    Done(Vec<Check>),
}

impl Audit {
    /// Runs the probes due after a sign-in that has just completed.
    pub async fn after_sign_in(&mut self, state: &AppState) -> Next {
        match self.stage {
            Stage::First => {
                let redeemed = state.take_redeemed();
                let provider = &state.provider;
                self.checks.push(metadata::pkce_plain(state).await);
                self.checks.push(metadata::id_token_alg(state));
                self.checks.push(metadata::no_store(redeemed.as_ref()));
                self.checks.push(client::wrong_secret(state).await);
                self.checks.extend(authorize::redirect_uris(state).await);
                self.checks.push(authorize::no_code_challenge(state).await);
                self.checks.push(
                    Check::pass(
                        "audit.state_and_iss",
                        format!(
                            "the callback compared state{} on every sign-in of this audit",
                            if provider.iss_parameter_supported {
                                " and iss (advertised)"
                            } else {
                                " (iss not advertised)"
                            }
                        ),
                    )
                    .source("RFC 6749 §4.1.2; RFC 9207"),
                );
                for (name, source, what) in NEEDS_OWN_CODE {
                    self.checks.push(
                        Check::not_run(
                            name,
                            format!("needs {what}: not built yet (only probes that reuse the normal sign-in's code, or stop before the sign-in, run)"),
                        )
                        .source(source),
                    );
                }
                // Last: redeeming the code again may revoke the session's tokens (a pass).
                self.checks
                    .push(code::redeemed_twice(state, redeemed).await);
                self.stage = Stage::Revocation;
                Next::SignInAgain("audit: revocation needs fresh tokens")
            }
            Stage::Revocation => {
                self.checks.push(tokens::revoked(state).await);
                self.stage = Stage::Rotation;
                Next::SignInAgain("audit: refresh-token rotation needs fresh tokens")
            }
            Stage::Rotation => {
                self.checks.push(tokens::rotation(state).await);
                self.stage = Stage::Fresh;
                Next::SignInAgain("audit: the probes used the tokens up; fresh ones for the end")
            }
            Stage::Fresh => Next::Done(std::mem::take(&mut self.checks)),
        }
    }
}

/// Whether a token still works, as far as the provider lets the client tell.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Liveness {
    Active(&'static str),
    Inactive(&'static str),
    Unknown(String),
}

/// Introspection when offered (RFC 7662 `active`), else userinfo for an access token (401 is
/// inactive).
async fn liveness(provider: &Provider, token: &str, kind: TokenKind) -> Liveness {
    if provider.endpoints.introspection.is_some() {
        let call = provider.introspect(token, kind).await;
        return match call.result {
            Ok(answer) => match answer.body.get("active").and_then(Value::as_bool) {
                Some(true) => Liveness::Active("introspection says active:true"),
                Some(false) => Liveness::Inactive("introspection says active:false"),
                None => Liveness::Unknown("introspection answered without `active`".into()),
            },
            Err(e) => Liveness::Unknown(format!("introspection failed: {e}")),
        };
    }
    if kind == TokenKind::Access && provider.endpoints.userinfo.is_some() {
        let call = provider.userinfo(&AccessToken::new(token.to_owned())).await;
        let status = call
            .exchange
            .as_ref()
            .and_then(|e| e.response.as_ref())
            .map(|r| r.status);
        return match (call.result, status) {
            (Ok(_), _) => Liveness::Active("userinfo answers with it"),
            (Err(_), Some(401)) => Liveness::Inactive("userinfo answers 401"),
            (Err(e), _) => Liveness::Unknown(format!("userinfo failed: {e}")),
        };
    }
    Liveness::Unknown(
        "the provider has no introspection endpoint (and no userinfo endpoint for an access token)"
            .into(),
    )
}
