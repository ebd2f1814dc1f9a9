//! One file per page or action. Routes never build URLs or HTML by hand.

mod callback;
mod health;
mod index;
mod login;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

pub use callback::CallbackParams;

/// Registers every route; the callback is served at the redirect URI's path.
pub fn configure(cfg: &mut web::ServiceConfig, callback_path: &str) {
    cfg.route("/", web::get().to(index::index))
        .route("/login", web::get().to(login::login))
        .route("/healthz", web::get().to(health::healthz))
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
