//! `--audit`: probes of what the provider must refuse (RFC 9700, RFC 6749, RFC 7636, RFC 7009),
//! each a check with its source, after the normal sign-in. Probes that use tokens up run in
//! stages, with a fresh sign-in before each, so the session ends with tokens from a sign-in
//! no probe touched. Every call goes through `provider`.
//!
//! One file per group: `metadata` (what the provider advertises and sent), `authorize` (the
//! authorization endpoint, followed without a browser), `client` (client authentication),
//! `code` (the code redeemed twice), `tokens` (revocation and refresh-token rotation),
//! `served` (what the MCP conformance suite's authorization-server scenarios check),
//! `own_code` (codes the callback keeps for a probe, and an unknown scope: sign-ins of their
//! own, through the sign-in driver).

mod authorize;
mod client;
mod code;
mod metadata;
mod own_code;
mod served;
mod tokens;

use oauth2::AccessToken;
use serde_json::Value;

use crate::oauth::{Check, TokenKind};
use crate::provider::Provider;
use crate::state::{AppState, Redeemed};

/// The probes that need a sign-in of their own, with the sign-in driver.
const NEEDS_SIGN_IN: [(&str, &str); 4] = [
    (own_code::WRONG_VERIFIER, own_code::VERIFIER_SOURCE),
    (own_code::NO_VERIFIER, own_code::VERIFIER_SOURCE),
    (own_code::REDIRECT_DIFFERS, own_code::REDIRECT_SOURCE),
    (own_code::UNKNOWN_SCOPE, own_code::SCOPE_SOURCE),
];

/// Every probe, in report order, with its source: what an audit cut short reports as not run.
const PROBES: [(&str, &str); 19] = [
    ("audit.metadata_document", "RFC 8414 §2, §3.2, §3.3"),
    (
        "audit.metadata_cimd",
        "MCP 2025-11-25 authorization; draft-ietf-oauth-client-id-metadata-document",
    ),
    ("audit.pkce_plain", "RFC 9700 §2.1.1"),
    ("audit.id_token_alg", "OIDC Core §10.1"),
    ("audit.token_no_store", "RFC 6749 §5.1"),
    ("audit.token_content_type", "RFC 6749 §5.1"),
    ("audit.wrong_client_secret", "RFC 6749 §5.2"),
    (
        "audit.redirect_uri_extra_path",
        "RFC 9700 §4.1.3; RFC 6749 §4.1.2.1",
    ),
    (
        "audit.redirect_uri_extra_query",
        "RFC 9700 §4.1.3; RFC 6749 §4.1.2.1",
    ),
    (
        "audit.redirect_uri_other_host",
        "RFC 9700 §4.1.3; RFC 6749 §4.1.2.1",
    ),
    (
        "audit.no_code_challenge",
        "RFC 9700 §2.1.1; OAuth 2.1 §4.1.1",
    ),
    ("audit.state_and_iss", "RFC 6749 §4.1.2; RFC 9207"),
    (code::NAME, code::SOURCE),
    ("audit.revoked_token", "RFC 7009 §2.2"),
    ("audit.refresh_rotation", "RFC 9700 §4.14.2"),
    (own_code::WRONG_VERIFIER, own_code::VERIFIER_SOURCE),
    (own_code::NO_VERIFIER, own_code::VERIFIER_SOURCE),
    (own_code::REDIRECT_DIFFERS, own_code::REDIRECT_SOURCE),
    (own_code::UNKNOWN_SCOPE, own_code::SCOPE_SOURCE),
];

/// Where the audit stands between sign-ins.
#[derive(Debug)]
pub struct Audit {
    stage: Stage,
    checks: Vec<Check>,
    /// The sign-in driver is configured: the probes that need sign-ins of their own run.
    headless: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// After the first sign-in: the probes that use nothing up, then the code redeemed twice.
    First,
    /// After a second sign-in: revocation (which may revoke the whole grant).
    Revocation,
    /// After a third: refresh-token rotation.
    Rotation,
    /// A kept code, redeemed with a wrong PKCE verifier.
    WrongVerifier,
    /// A kept code, redeemed without a verifier.
    NoVerifier,
    /// A kept code, redeemed with another redirect URI.
    RedirectDiffers,
    /// A sign-in asking for an unknown scope.
    UnknownScope,
    /// After the last sign-in: the session's tokens are fresh; done.
    Fresh,
}

/// What ended the latest sign-in, as the audit sees it.
#[derive(Debug)]
pub enum Event {
    SignedIn,
    /// The callback kept the code, as asked.
    CodeHeld(Redeemed),
    /// The sign-in was refused (the error JSON).
    Refused(Value),
}

/// What the audit needs next.
#[derive(Debug)]
pub enum Next {
    /// A new sign-in: why (said to the person, or to the log), the scope to ask for (the
    /// configured ones when `None`), and whether the callback keeps the code for a probe.
    SignInAgain {
        why: &'static str,
        scope: Option<String>,
        hold: bool,
    },
    /// Every probe has run: the checks, in order.
    Done(Vec<Check>),
}

impl Next {
    fn sign_in(why: &'static str) -> Self {
        Self::SignInAgain {
            why,
            scope: None,
            hold: false,
        }
    }

    fn keep_code(why: &'static str) -> Self {
        Self::SignInAgain {
            why,
            scope: None,
            hold: true,
        }
    }
}

impl Audit {
    /// `headless`: the sign-in driver is configured, so sign-ins of the audit's own can run.
    pub fn new(headless: bool) -> Self {
        Self {
            stage: Stage::First,
            checks: Vec::new(),
            headless,
        }
    }

    /// The checks so far.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// The audit cut short (a sign-in that timed out or failed): every probe that ran, and
    /// the others `not_run` with `reason`, in report order.
    pub fn cut_short(&self, reason: &str) -> Vec<Check> {
        PROBES
            .iter()
            .map(|(name, source)| {
                self.checks
                    .iter()
                    .find(|c| c.check == *name)
                    .cloned()
                    .unwrap_or_else(|| {
                        Check::not_run(name, format!("not run: {reason}")).source(source)
                    })
            })
            .collect()
    }

    /// Whether any probe has run (the first sign-in ended).
    pub fn started(&self) -> bool {
        self.stage != Stage::First
    }

    /// Whether a refused sign-in is what the current probe waits for (and not the end of the
    /// run).
    pub fn expects_refusal(&self) -> bool {
        self.stage == Stage::UnknownScope
    }

    /// Runs the probes due after a sign-in that has just ended, and says what comes next.
    pub async fn advance(&mut self, state: &AppState, event: Event) -> Next {
        match (self.stage, event) {
            (Stage::First, _) => {
                let redeemed = state.take_redeemed();
                self.checks.extend(served::metadata(state).await);
                self.checks.push(metadata::pkce_plain(state).await);
                self.checks.push(metadata::id_token_alg(state));
                self.checks.push(metadata::no_store(redeemed.as_ref()));
                self.checks
                    .push(served::token_content_type(redeemed.as_ref()));
                self.checks.push(client::wrong_secret(state).await);
                self.checks.extend(authorize::redirect_uris(state).await);
                self.checks.push(authorize::no_code_challenge(state).await);
                self.checks.push(
                    Check::pass(
                        "audit.state_and_iss",
                        format!(
                            "the callback compared state{} on every sign-in of this audit",
                            if state.provider.iss_parameter_supported {
                                " and iss (advertised)"
                            } else {
                                " (iss not advertised)"
                            }
                        ),
                    )
                    .source("RFC 6749 §4.1.2; RFC 9207"),
                );
                // Last: redeeming the code again may revoke the session's tokens (a pass).
                self.checks
                    .push(code::redeemed_twice(state, redeemed).await);
                self.stage = Stage::Revocation;
                Next::sign_in("audit: revocation needs fresh tokens")
            }
            (Stage::Revocation, _) => {
                self.checks.push(tokens::revoked(state).await);
                self.stage = Stage::Rotation;
                Next::sign_in("audit: refresh-token rotation needs fresh tokens")
            }
            (Stage::Rotation, _) => {
                self.checks.push(tokens::rotation(state).await);
                if self.headless {
                    self.stage = Stage::WrongVerifier;
                    return Next::keep_code("audit: a code to redeem with a wrong PKCE verifier");
                }
                for (name, source) in NEEDS_SIGN_IN {
                    self.checks.push(
                        Check::not_run(
                            name,
                            "needs a sign-in of its own: run with --sign-in (the sign-in driver)",
                        )
                        .source(source),
                    );
                }
                self.stage = Stage::Fresh;
                Next::sign_in("audit: the probes used the tokens up; fresh ones for the end")
            }
            (Stage::WrongVerifier, event) => {
                self.checks
                    .push(own_code::wrong_verifier(state, held(event)).await);
                self.stage = Stage::NoVerifier;
                Next::keep_code("audit: a code to redeem without a PKCE verifier")
            }
            (Stage::NoVerifier, event) => {
                self.checks
                    .push(own_code::no_verifier(state, held(event)).await);
                self.stage = Stage::RedirectDiffers;
                Next::keep_code("audit: a code to redeem with another redirect_uri")
            }
            (Stage::RedirectDiffers, event) => {
                self.checks
                    .push(own_code::redirect_differs(state, held(event)).await);
                self.stage = Stage::UnknownScope;
                Next::SignInAgain {
                    why: "audit: a sign-in asking for a scope the provider does not know",
                    scope: Some(own_code::with_unknown_scope(state)),
                    hold: false,
                }
            }
            (Stage::UnknownScope, event) => {
                self.checks.push(own_code::unknown_scope(state, event));
                self.stage = Stage::Fresh;
                Next::sign_in("audit: the probes used the tokens up; fresh ones for the end")
            }
            (Stage::Fresh, _) => Next::Done(std::mem::take(&mut self.checks)),
        }
    }
}

/// The kept code of an event, when the callback kept one.
fn held(event: Event) -> Option<Redeemed> {
    match event {
        Event::CodeHeld(redeemed) => Some(redeemed),
        _ => None,
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
