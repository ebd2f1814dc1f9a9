//! The sign-ins of a `--once` run after the first page is served: by the sign-in driver
//! when it is configured, else by the person at the browser; again for more scopes
//! (step-up), and between `--audit`'s probes.

use crate::audit::{Audit, Next};
use crate::config::{Config, SignIn};
use crate::oauth::Check;
use crate::signin;
use crate::state::{AppState, Outcome};

/// Step-up authorization (MCP authorization, "Step-Up Authorization Flow"): a new sign-in
/// asking for `scope`, by the sign-in driver when it is configured, else by the person at the
/// browser.
pub(super) fn sign_in_again(state: &actix_web::web::Data<AppState>, config: &Config, scope: &str) {
    let url = state.login_url(Some(scope));
    log::warn!(
        "the MCP server wants more scopes (insufficient_scope): signing in again for {}",
        crate::redact::untrusted(scope)
    );
    match &config.sign_in {
        Some(sign_in) => start_sign_in(sign_in, config, state.clone(), Some(scope)),
        None => {
            eprintln!("Sign in again at {url}");
            if config.open_browser {
                let _ = open::that_detached(url.as_str());
            }
        }
    }
}

/// `--audit`'s next step: a new sign-in (true: wait for it), or the checks, kept in
/// `audited` once the audit is over.
pub(super) fn audit_next(
    state: &actix_web::web::Data<AppState>,
    config: &Config,
    next: Next,
    audit: &mut Option<Audit>,
    audited: &mut Vec<Check>,
) -> bool {
    if let Some(pending) = audit.as_ref() {
        *crate::sync::lock(&state.audit_checks) = pending.checks().to_vec();
    }
    match next {
        Next::SignInAgain { why, scope, hold } => {
            state
                .hold_next_code
                .store(hold, std::sync::atomic::Ordering::SeqCst);
            sign_in_for_audit(state, config, why, scope.as_deref());
            true
        }
        Next::Done(checks) => {
            *audit = None;
            *audited = checks;
            false
        }
    }
}

/// `--audit`: a new sign-in between probes that use tokens up, by the sign-in driver when it
/// is configured, else by the person at the browser, told what it is for.
pub(super) fn sign_in_for_audit(
    state: &actix_web::web::Data<AppState>,
    config: &Config,
    why: &str,
    scope: Option<&str>,
) {
    log::info!("{why}: signing in again");
    match &config.sign_in {
        Some(sign_in) => start_sign_in(sign_in, config, state.clone(), scope),
        None => {
            let url = state.login_url(scope);
            eprintln!("{why}: sign in again at {url}");
            if config.open_browser {
                let _ = open::that_detached(url.as_str());
            }
        }
    }
}

/// `--sign-in`: the driver plays the browser, from `/login` on the redirect URI's host (the
/// app's cookies must come back with the callback, which arrives there). The callback reports
/// its own outcome; a sign-in that never reaches it is reported here, as step `sign_in`.
pub(super) fn start_sign_in(
    sign_in: &SignIn,
    config: &Config,
    state: actix_web::web::Data<AppState>,
    scope: Option<&str>,
) {
    let callback = state.redirect.url().clone();
    let start = state.login_url(scope);
    let target = signin::Target {
        origins: crate::grants::credential_origins(&state, sign_in, None),
        start,
        callback,
        root_certificates: config.ca.as_ref().map(|c| c.pem.clone()),
        artifacts: sign_in.artifacts.clone(),
        ends_on_provider_page: false,
    };
    let limits = signin::Limits::within(config.timeout, config.http_timeout);
    let (credentials, consent) = (sign_in.credentials.clone(), sign_in.consent);
    tokio::spawn(async move {
        if let Err(e) = signin::sign_in(target, &credentials, consent, &limits).await {
            state.finish(Outcome::Failed {
                reason: e.to_string(),
                document: e.to_json(),
            });
        }
    });
}
