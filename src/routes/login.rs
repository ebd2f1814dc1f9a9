use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use oauth2::{CsrfToken, PkceCodeChallenge, Scope};

use super::page;
use crate::config::RESERVED_PARAMS;
use crate::flow::PendingFlow;
use crate::state::AppState;
use crate::templates::ErrorPage;

/// Starts a flow: fresh state, PKCE S256 pair and nonce, remembered; then 302 to the provider
/// (after pushing the request first, with PAR). `?scope=` replaces the scopes for this one
/// sign-in; any other `?key=value` (prompt, login_hint, audience, ...) is added to the
/// authorization request, over `--param`.
pub async fn login(
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let scopes: Vec<Scope> = query
        .get("scope")
        .map(|s| {
            s.split_whitespace()
                .map(|w| Scope::new(w.to_owned()))
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| state.scopes.clone());
    let mut extra: Vec<(&str, &str)> = state
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for (k, v) in query
        .iter()
        .filter(|(k, v)| k.as_str() != "scope" && !v.is_empty())
    {
        if RESERVED_PARAMS.contains(&k.as_str()) {
            log::warn!("/login?{k}=... ignored: the client sets {k} itself");
            continue;
        }
        extra.retain(|(key, _)| key != k);
        extra.push((k.as_str(), v.as_str()));
    }
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    // OpenID Connect Core 3.1.2.1: a nonce binds the ID token to this flow.
    let nonce = scopes
        .iter()
        .any(|s| s.as_str() == "openid")
        .then(|| CsrfToken::new_random_len(32).into_secret());
    let (url, csrf) = state.provider.authorize_url(
        &state.redirect,
        &scopes,
        challenge,
        nonce.as_deref(),
        &extra,
    );
    let url = if state.par || state.provider.require_par {
        match state.provider.push_authorization_request(&url).await {
            Ok(short) => short,
            Err(e) => {
                log::warn!("pushed authorization request failed: {e}");
                return page(
                    StatusCode::BAD_GATEWAY,
                    &ErrorPage {
                        message: format!("the pushed authorization request failed: {e}"),
                        step: "par".into(),
                        code: "par_failed".into(),
                        description: None,
                        uri: None,
                        hint: Some("Check that the client may use PAR at the provider, or drop --par (OAUTH_PAR).".into()),
                    },
                );
            }
        }
    } else {
        url
    };
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
