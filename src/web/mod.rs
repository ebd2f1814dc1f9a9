//! The web layer: one file per page or action, the page structs (templates), the guard and
//! the page script. Decides HTML or JSON in one place. Routes never build URLs or HTML by hand.

mod actions;
pub mod assets;
mod callback;
pub mod error;
pub mod guard;
mod health;
pub mod holder;
mod index;
mod login;
pub mod settings;
pub mod templates;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::config::registered::Registration;
use crate::state::{AppState, Outcome};
use error::{Failure, FlowError};

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

/// A sign-in that did not end in tokens: a line on stderr, and, when the failure belongs to a
/// flow this app started, the end of a `--once` run (a stray or forged callback leaves the
/// run waiting for the real one); the page or JSON is the returned `Failure`'s answer.
fn flow_failure(req: &HttpRequest, state: &AppState, e: FlowError) -> Failure {
    let redirect = state.redirect.as_str().to_owned();
    log::warn!(
        "sign-in failed at the {} step: {}",
        e.step(),
        crate::redact::untrusted(&e.to_string())
    );
    let registration = state.provider.registration.clone();
    if e.ends_run() {
        state.failed(e.to_string());
        state.finish(Outcome::Failed {
            reason: e.to_string(),
            document: e.to_json_with(&redirect, registration.as_ref()),
        });
    } else if state.once.is_some() {
        log::warn!("still waiting for the sign-in this run started");
    }
    // A saved registration the provider refuses: the next run registers anew.
    if e.refuses_client()
        && let Some(Registration {
            saved: Some(path),
            reused: true,
            ..
        }) = &registration
    {
        match crate::config::registered::set_aside(path) {
            Ok(to) => log::warn!(
                "the saved registration was refused: moved to {}, the next run registers anew",
                to.display()
            ),
            Err(e) => log::warn!("could not set aside {}: {e}", path.display()),
        }
    }
    Failure {
        error: e,
        format: Format::of(req),
        redirect,
        registration,
    }
}

/// What a request gets back: a page, or JSON. Decided here only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
}

impl Format {
    /// JSON when `Accept` ranks `application/json` above `text/html` (q-values weighed by
    /// actix's parser); a page otherwise, for browsers and for `*/*`.
    pub fn of(req: &HttpRequest) -> Self {
        use actix_web::http::header::Header;
        let Ok(accept) = header::Accept::parse(req) else {
            return Self::Html;
        };
        for mime in accept.ranked() {
            match (mime.type_().as_str(), mime.subtype().as_str()) {
                ("application", "json") => return Self::Json,
                ("text", "html") | ("*", "*") => return Self::Html,
                _ => {}
            }
        }
        Self::Html
    }
}

/// True when the client asked for JSON rather than a page.
fn wants_json(req: &HttpRequest) -> bool {
    Format::of(req) == Format::Json
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

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn format(accept: Option<&str>) -> Format {
        let mut req = TestRequest::default();
        if let Some(a) = accept {
            req = req.insert_header(("Accept", a));
        }
        Format::of(&req.to_http_request())
    }

    #[test]
    fn json_or_a_page_by_the_accept_header_and_its_q_values() {
        assert_eq!(format(Some("application/json")), Format::Json);
        assert_eq!(
            format(Some("application/json, text/html;q=0.5")),
            Format::Json
        );
        assert_eq!(
            format(Some("text/html;q=0.4, application/json;q=0.9")),
            Format::Json
        );
        assert_eq!(
            format(Some("application/json;q=0.5, text/html")),
            Format::Html
        );
        // A browser's own header, and curl's default.
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(format(Some(browser)), Format::Html);
        assert_eq!(format(Some("*/*")), Format::Html);
        assert_eq!(format(None), Format::Html);
        assert_eq!(format(Some("not a media type")), Format::Html);
    }
}
