//! `/login`: starts a flow (state, PKCE S256, nonce, the browser binding cookie) and sends
//! the browser to the provider, after a pushed authorization request when asked.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{LOCATION, SET_COOKIE};
use actix_web::{HttpRequest, HttpResponse, web};
use oauth2::{CsrfToken, PkceCodeChallenge, Scope};

use super::error::{Failure, FlowError};
use super::flow_failure;
use crate::config::RESERVED_PARAMS;
use crate::flow::PendingFlow;
use crate::redact::untrusted;
use crate::state::AppState;
use crate::web::templates::ErrorPage;

/// The cookie that binds each flow to the browser that started it.
pub const BROWSER_COOKIE: &str = "oauth_test_client_browser";

/// Starts a flow: fresh state, PKCE S256 pair and nonce, remembered with this browser's
/// binding cookie; then 302 to the provider (after pushing the request first, with PAR).
/// `?scope=` replaces the scopes for this one sign-in; any other `?key=value` (prompt,
/// login_hint, audience, ...) is added to the authorization request, over `--param`. Those
/// overrides are taken only from this app's own pages or a tool such as curl.
pub async fn login(
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Failure> {
    // The binding cookie must reach the callback: start on the redirect URI's host.
    if let Some(canonical) = canonical_login_url(&req, &state) {
        return Ok(HttpResponse::TemporaryRedirect()
            .insert_header((LOCATION, canonical))
            .finish());
    }
    let overrides: Vec<(&String, &String)> = query.iter().filter(|(_, v)| !v.is_empty()).collect();
    if !overrides.is_empty()
        && let Some(why) = crate::web::guard::foreign_origin(req.headers())
    {
        log::warn!("/login with parameters refused: {}", untrusted(&why));
        return Ok(super::page(
            StatusCode::FORBIDDEN,
            &ErrorPage {
                message: format!(
                    "/login with parameters is accepted only from this app's own pages or a tool such as curl: {why}"
                ),
                step: "login".into(),
                code: "foreign_login_parameters".into(),
                description: None,
                uri: None,
                hint: Some(
                    "Another site cannot choose how this app signs in (scopes, prompt, resource). \
                     Open /login without parameters, or type the URL with them yourself."
                        .into(),
                ),
            },
        ));
    }
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
    for (k, v) in overrides.iter().filter(|(k, _)| k.as_str() != "scope") {
        if RESERVED_PARAMS.contains(&k.as_str()) {
            let k = untrusted(k);
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
    let pushed = state.par || state.provider.require_par;
    let (location, csrf) = match &state.authorize {
        // The common case: the fixed parts were encoded at start.
        Some(fast) if !pushed => fast.build(&scopes, &challenge, nonce.as_deref(), &extra),
        _ => {
            let (url, csrf) = state.provider.authorize_url(
                &state.redirect,
                &scopes,
                challenge,
                nonce.as_deref(),
                &extra,
            );
            if !pushed {
                (url.into(), csrf)
            } else {
                match state.provider.push_authorization_request(&url).await {
                    Ok(short) => {
                        log::info!(
                            "pushed the authorization request (RFC 9126): the browser gets its request_uri"
                        );
                        (short.into(), csrf)
                    }
                    Err(e) => return Err(flow_failure(&req, &state, FlowError::Par(e))),
                }
            }
        }
    };
    let browser = browser_binding(&req);
    let set_cookie = binding_cookie(&browser);
    let flow = PendingFlow::new(verifier, nonce, scopes, browser);
    log::info!(
        "flow {}: sending the browser to the authorization endpoint",
        flow.id
    );
    if let Some(evicted) = state.flows.insert(&csrf, flow) {
        log::warn!(
            "flow {evicted}: dropped, too many sign-ins pending at once (the oldest goes first)"
        );
    }
    Ok(HttpResponse::Found()
        .insert_header((LOCATION, location))
        .insert_header((SET_COOKIE, set_cookie))
        .finish())
}

/// This browser's binding: the cookie it already has (so two tabs can sign in at once), or
/// a fresh random one.
fn browser_binding(req: &HttpRequest) -> String {
    req.cookie(BROWSER_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| {
            (16..=64).contains(&v.len())
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .unwrap_or_else(|| CsrfToken::new_random_len(24).into_secret())
}

/// `/login` on the redirect URI's host, when this request came to the same server under
/// another of its names (127.0.0.1 for localhost): cookies are kept per host name. Allocates
/// nothing when the request is already there.
fn canonical_login_url(req: &HttpRequest, state: &AppState) -> Option<String> {
    let redirect = state.redirect.url();
    let want_host = redirect.host_str()?;
    let want_port = redirect.port_or_known_default()?;
    let header = req.headers().get("host")?.to_str().ok()?;
    let (name, port) = crate::web::guard::host_and_port(header)?;
    let same_server = port.unwrap_or(80) == want_port;
    if !same_server
        || name.eq_ignore_ascii_case(want_host)
        || !state
            .allowed_hosts
            .iter()
            .any(|a| a.eq_ignore_ascii_case(want_host))
    {
        return None;
    }
    let mut url = redirect.clone();
    url.set_path("/login");
    url.set_query(Some(req.query_string()).filter(|q| !q.is_empty()));
    url.set_fragment(None);
    Some(url.to_string())
}

/// The binding cookie's `Set-Cookie` value: what `Cookie::build` writes for it (checked in
/// the tests), without building a cookie for every `/login`.
fn binding_cookie(value: &str) -> String {
    const ATTRIBUTES: &str = "; HttpOnly; SameSite=Lax; Path=/; Max-Age=";
    let max_age = crate::flow::DEFAULT_TTL.as_secs();
    format!("{BROWSER_COOKIE}={value}{ATTRIBUTES}{max_age}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::cookie::{Cookie, SameSite};

    #[test]
    fn the_binding_cookie_is_what_the_cookie_builder_writes() {
        let value = "abcDEF123-_abcDEF123-_ab";
        let built = Cookie::build(BROWSER_COOKIE, value)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .max_age(actix_web::cookie::time::Duration::seconds(
                crate::flow::DEFAULT_TTL.as_secs() as i64,
            ))
            .finish();
        assert_eq!(binding_cookie(value), built.to_string());
    }
}
