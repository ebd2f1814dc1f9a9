//! The web layer: one file per page or action, the page structs (templates), the guard and
//! the page script. Decides HTML or JSON in one place. Routes never build URLs or HTML by hand.

mod actions;
pub mod assets;
mod callback;
pub mod guard;
mod health;
mod index;
mod login;
pub mod templates;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::error::FlowError;
use crate::state::{AppState, Outcome};
use templates::ErrorPage;

pub use assets::app_js_url;
pub use callback::{CallbackParams, MAX_QUERY_BYTES};

/// Registers every route; the callback is served at the redirect URI's path.
pub fn configure(cfg: &mut web::ServiceConfig, callback_path: &str) {
    cfg.route("/", web::get().to(index::index))
        .route("/login", web::get().to(login::login))
        .route("/healthz", web::get().to(health::healthz))
        .route("/assets/app.js", web::get().to(assets::app_js))
        .service(action("/refresh").route(web::get().to(actions::refresh)))
        .service(action("/userinfo").route(web::get().to(actions::userinfo)))
        .service(action("/tokeninfo").route(web::get().to(actions::tokeninfo)))
        .service(action("/revoke").route(web::get().to(actions::revoke)))
        .service(action("/api").route(web::get().to(actions::api)))
        .route(callback_path, web::get().to(callback::callback));
}

/// A route with effects: the CSRF check runs on the matched resource, whatever encoding of
/// the path the router decoded to reach it.
fn action(
    path: &str,
) -> actix_web::Resource<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::resource(path).wrap(actix_web::middleware::from_fn(
        crate::web::guard::same_origin,
    ))
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

/// A sign-in that did not end in tokens: its page (or JSON), a line on stderr, and, when the
/// failure belongs to a flow this app started, the end of a `--once` run. A stray or forged
/// callback leaves the run waiting for the real one.
fn flow_failure(req: &HttpRequest, state: &AppState, e: FlowError) -> HttpResponse {
    let redirect = state.redirect.as_str();
    let json = e.to_json(redirect);
    log::warn!(
        "sign-in failed at the {} step: {}",
        e.step(),
        crate::redact::untrusted(&e.to_string())
    );
    let (description, uri) = e.provider_detail();
    let response = if wants_json(req) {
        HttpResponse::build(e.status()).json(&json)
    } else {
        page(
            e.status(),
            &ErrorPage {
                message: e.to_string(),
                step: e.step().to_owned(),
                code: e.code(),
                description: description.map(str::to_owned),
                uri: uri.map(str::to_owned),
                hint: e.hint(redirect),
            },
        )
    };
    if e.ends_run() {
        state.failed(e.to_string());
        state.finish(Outcome::Failed {
            reason: e.to_string(),
            document: json,
        });
    } else if state.once.is_some() {
        log::warn!("still waiting for the sign-in this run started");
    }
    response
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
