//! One file per page or action. Routes never build URLs or HTML by hand.

mod actions;
mod assets;
mod callback;
mod health;
mod index;
mod login;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::state::AppState;

pub use assets::app_js_url;
pub use callback::{CallbackParams, MAX_QUERY_BYTES};

/// Registers every route; the callback is served at the redirect URI's path.
pub fn configure(cfg: &mut web::ServiceConfig, callback_path: &str) {
    cfg.route("/", web::get().to(index::index))
        .route("/login", web::get().to(login::login))
        .route("/healthz", web::get().to(health::healthz))
        .route("/assets/app.js", web::get().to(assets::app_js))
        .route("/refresh", web::get().to(actions::refresh))
        .route("/userinfo", web::get().to(actions::userinfo))
        .route("/tokeninfo", web::get().to(actions::tokeninfo))
        .route("/revoke", web::get().to(actions::revoke))
        .route("/api", web::get().to(actions::api))
        .route(callback_path, web::get().to(callback::callback));
}

/// Renders a page; a template failure is a bug, answered with a plain 500.
fn page(status: StatusCode, template: &impl Template) -> HttpResponse {
    match template.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type(ContentType::html())
            .body(html),
        Err(e) => {
            log::error!("template failed to render: {e}");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// True when the client asked for JSON rather than a page.
fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept
                .split(',')
                .map(|part| part.split(';').next().unwrap_or("").trim())
                .any(|mime| mime == "application/json")
        })
}

/// The follow-up actions that apply now: none before a sign-in.
fn action_links(state: &AppState) -> Vec<(&'static str, &'static str)> {
    let Some(session) = state.session_tokens() else {
        return Vec::new();
    };
    let e = &state.provider.endpoints;
    let mut links = Vec::new();
    if session.refresh_token.is_some() {
        links.push(("/refresh", "Refresh"));
    }
    if e.userinfo.is_some() && session.access_token.is_some() {
        links.push(("/userinfo", "Userinfo"));
    }
    if e.introspection.is_some() {
        if session.refresh_token.is_some() {
            links.push(("/tokeninfo", "Token info (refresh token)"));
        }
        if session.access_token.is_some() {
            links.push(("/tokeninfo?token=access", "Token info (access token)"));
        }
    }
    if e.revocation.is_some() {
        if session.refresh_token.is_some() {
            links.push(("/revoke", "Revoke refresh token"));
        }
        if session.access_token.is_some() {
            links.push(("/revoke?token=access", "Revoke access token"));
        }
    }
    if state.resource.is_some() && session.access_token.is_some() {
        links.push(("/api", "Call your API"));
    }
    links
}
