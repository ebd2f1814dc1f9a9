//! What every worker shares (the provider, pending flows, the session's tokens, the latest
//! result) and how a sign-in ended: created once, outside `HttpServer::new`, so a flow
//! started on one worker can finish on another.

use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::SystemTime;

use oauth2::{AccessToken, AuthorizationCode, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope};
use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;

use crate::config::Resource;
use crate::flow::FlowStore;
use crate::oauth::Report;
use crate::oauth::TokenKind;
use crate::output::Output;
use crate::provider::resource::Chain;
use crate::provider::{Provider, TokenSet};
use crate::sync::lock;

/// The outcome of the latest callback, for the index page.
pub enum LastResult {
    SignedIn {
        at: SystemTime,
        token: Map<String, Value>,
    },
    Failed {
        at: SystemTime,
        message: String,
    },
}

/// The tokens of the latest successful sign-in, as refreshed or revoked since.
#[derive(Clone)]
pub struct Session {
    pub access_token: Option<AccessToken>,
    pub refresh_token: Option<RefreshToken>,
    /// The `sub` of a verified ID token, for the userinfo check.
    pub id_token_sub: Option<String>,
    /// The latest token response, whole.
    pub token: Map<String, Value>,
}

impl Session {
    /// The token of `kind`, borrowed: no untyped copy of a secret is made.
    pub fn get(&self, kind: TokenKind) -> Option<&str> {
        match kind {
            TokenKind::Access => self.access_token.as_ref().map(|t| t.secret().as_str()),
            TokenKind::Refresh => self.refresh_token.as_ref().map(|t| t.secret().as_str()),
        }
    }
}

/// How a sign-in ended, for `--once` (which decides the exit status from it).
#[derive(Debug)]
pub enum Outcome {
    /// Tokens received: the token JSON as sent, and the checks made of it.
    SignedIn { token: Value, report: Report },
    /// The flow failed: why, for stderr, and the error JSON.
    Failed { reason: String, document: Value },
    /// `--audit` asked for the next code to be kept, not redeemed: here it is.
    CodeHeld(Redeemed),
}

pub struct AppState {
    pub provider: Provider,
    pub flows: FlowStore,
    pub redirect: RedirectUrl,
    pub scopes: Vec<Scope>,
    /// Extra authorization request parameters (`--param`).
    pub params: Vec<(String, String)>,
    /// Push authorization requests first (RFC 9126).
    pub par: bool,
    /// The authorization request URL's fixed parts, encoded once (`None`: built the slow way).
    pub authorize: Option<crate::provider::authorize_url::AuthorizeUrl>,
    pub resource: Option<Resource>,
    /// OAUTH_HTTP_TIMEOUT, for the MCP check the page's API action runs.
    pub http_timeout: std::time::Duration,
    /// The index page's Configuration rows: the settings in use, in words (no secret value).
    pub settings: Vec<crate::web::settings::Setting>,
    pub output: Output,
    /// In `--once` mode: where the first callback's outcome goes.
    pub once: Option<UnboundedSender<Outcome>>,
    pub last: Mutex<Option<LastResult>>,
    pub session: Mutex<Option<Session>>,
    /// The key of the browser that completed the latest sign-in (its session cookie): only
    /// it sees the tokens on `/` and uses them in the actions. `None` after a sign-in that
    /// had no browser of this app's (a grant without a callback).
    pub holder: Mutex<Option<String>>,
    /// The `Host` names the app answers to.
    pub allowed_hosts: Vec<String>,
    /// How the provider was found from RESOURCE_URL (RFC 9728), when it was.
    pub chain: OnceLock<Chain>,
    /// Checks made at start about the client itself (its Client ID Metadata Document).
    pub client_checks: OnceLock<Vec<crate::oauth::Check>>,
    /// `--audit`: the callback keeps what it redeemed, for the probes.
    pub audit: bool,
    /// The latest redeemed code, kept only with `--audit`.
    pub redeemed: Mutex<Option<Redeemed>>,
    /// `--audit`: the next callback keeps its code for a probe instead of redeeming it.
    pub hold_next_code: std::sync::atomic::AtomicBool,
    /// `--audit`: the probes' checks so far, for the result page of the last sign-in.
    pub audit_checks: Mutex<Vec<crate::oauth::Check>>,
}

/// What the latest callback redeemed, kept for `--audit` to redeem a second time (RFC 6749
/// section 10.5): the code, its PKCE verifier, and the token response's headers. `Debug`
/// prints no secret; nothing here is ever logged.
pub struct Redeemed {
    pub code: AuthorizationCode,
    pub verifier: PkceCodeVerifier,
    /// The headers the token response was recorded with (`Cache-Control`, ...).
    pub response_headers: Option<Vec<(String, String)>>,
}

impl std::fmt::Debug for Redeemed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redeemed([redacted])")
    }
}

impl AppState {
    /// `/login` on the redirect URI's host (where the flow's binding cookie must be set, so
    /// it comes back with the callback), asking for `scope` when given.
    pub fn login_url(&self, scope: Option<&str>) -> url::Url {
        let mut url = self.redirect.url().clone();
        url.set_path("/login");
        url.set_query(None);
        url.set_fragment(None);
        if let Some(scope) = scope {
            url.query_pairs_mut().append_pair("scope", scope);
        }
        url
    }

    pub fn signed_in(&self, tokens: &TokenSet, id_token_sub: Option<String>) {
        self.hold_secrets(tokens);
        *lock(&self.holder) = None;
        *lock(&self.session) = Some(Session {
            access_token: Some(tokens.access_token.clone()),
            refresh_token: tokens.refresh_token.clone(),
            id_token_sub,
            token: tokens.raw.clone(),
        });
        *lock(&self.last) = Some(LastResult::SignedIn {
            at: SystemTime::now(),
            token: tokens.raw.clone(),
        });
    }

    /// Every token of a response the session does not keep (an audit's probe), for
    /// `--redact` to mask all the same.
    pub fn hold_token_secrets(&self, tokens: &TokenSet) {
        self.hold_secrets(tokens);
    }

    /// Every token of a response, for `--redact` to mask wherever it is echoed.
    fn hold_secrets(&self, tokens: &TokenSet) {
        self.output.hold_secret(tokens.access_token.secret());
        if let Some(r) = &tokens.refresh_token {
            self.output.hold_secret(r.secret());
        }
        if let Some(Value::String(id)) = tokens.raw.get("id_token") {
            self.output.hold_secret(id);
        }
    }

    /// The browser holding `key` is now the one that sees and uses the session's tokens.
    pub fn hand_to(&self, key: String) {
        *lock(&self.holder) = Some(key);
    }

    /// True when `key` is the signed-in browser's (compared in constant time).
    pub fn is_holder(&self, key: &str) -> bool {
        lock(&self.holder)
            .as_deref()
            .is_some_and(|held| same_secret(held.as_bytes(), key.as_bytes()))
    }

    pub fn failed(&self, message: String) {
        *lock(&self.last) = Some(LastResult::Failed {
            at: SystemTime::now(),
            message,
        });
    }

    /// A copy of the session's tokens, so no lock is held across a call.
    pub fn session_tokens(&self) -> Option<Session> {
        lock(&self.session).clone()
    }

    /// Keeps the tokens of a refresh; a rotated refresh token replaces the old one.
    pub fn refreshed(&self, tokens: TokenSet) {
        self.hold_secrets(&tokens);
        if let Some(session) = lock(&self.session).as_mut() {
            session.access_token = Some(tokens.access_token);
            if tokens.refresh_token.is_some() {
                session.refresh_token = tokens.refresh_token;
            }
            session.token = tokens.raw;
        }
    }

    pub fn forget(&self, kind: TokenKind) {
        if let Some(session) = lock(&self.session).as_mut() {
            match kind {
                TokenKind::Access => session.access_token = None,
                TokenKind::Refresh => session.refresh_token = None,
            }
        }
    }

    /// Keeps what a callback redeemed, with `--audit` only.
    pub fn keep_redeemed(&self, redeemed: Redeemed) {
        if self.audit {
            *lock(&self.redeemed) = Some(redeemed);
        }
    }

    /// The audit's checks so far, for the result page.
    pub fn audit_checks(&self) -> Vec<crate::oauth::Check> {
        lock(&self.audit_checks).clone()
    }

    /// Whether this callback keeps its code for `--audit` (asked for once, used once).
    pub fn take_hold(&self) -> bool {
        self.hold_next_code
            .swap(false, std::sync::atomic::Ordering::SeqCst)
    }

    /// What the latest callback redeemed, once.
    pub fn take_redeemed(&self) -> Option<Redeemed> {
        lock(&self.redeemed).take()
    }

    pub fn last(&self) -> MutexGuard<'_, Option<LastResult>> {
        lock(&self.last)
    }

    /// Reports a callback's outcome to `--once` (a no-op when serving).
    pub fn finish(&self, outcome: Outcome) {
        if let Some(tx) = &self.once {
            // The receiver is gone only once the run is over.
            let _ = tx.send(outcome);
        }
    }
}

/// Equal byte strings, in a time that does not depend on where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"ab"));
        assert!(!same_secret(b"", b"a"));
    }
}
