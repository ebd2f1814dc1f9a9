use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use oauth2::{CsrfToken, PkceCodeChallenge, Scope};
use serde::Deserialize;

use crate::flow::PendingFlow;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LoginParams {
    /// Other scopes for this one sign-in, space-separated.
    scope: Option<String>,
    /// OpenID Connect `prompt` (login, consent, none, select_account).
    prompt: Option<String>,
}

/// Starts a flow: fresh state, PKCE S256 pair and nonce, remembered; then 302 to the provider.
pub async fn login(params: web::Query<LoginParams>, state: web::Data<AppState>) -> HttpResponse {
    let scopes: Vec<Scope> = params
        .scope
        .as_deref()
        .map(|s| {
            s.split_whitespace()
                .map(|w| Scope::new(w.to_owned()))
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| state.scopes.clone());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    // OpenID Connect Core 3.1.2.1: a nonce binds the ID token to this flow.
    let nonce = scopes
        .iter()
        .any(|s| s.as_str() == "openid")
        .then(|| CsrfToken::new_random_len(32).into_secret());
    let mut extra = Vec::new();
    if let Some(prompt) = params.prompt.as_deref().filter(|p| !p.is_empty()) {
        extra.push(("prompt", prompt));
    }
    let (url, csrf) = state.provider.authorize_url(
        &state.redirect,
        &scopes,
        challenge,
        nonce.as_deref(),
        &extra,
    );
    let flow = PendingFlow::new(verifier, nonce, scopes);
    log::info!(
        "flow {}: sending the browser to the authorization endpoint",
        flow.id
    );
    if let Some(evicted) = state.flows.insert(&csrf, flow) {
        log::warn!(
            "flow {evicted}: dropped, too many sign-ins pending at once (the oldest goes first)"
        );
    }
    HttpResponse::Found()
        .insert_header((LOCATION, url.as_str()))
        .finish()
}
