//! The follow-up actions: one handler shape, five routes. Each page shows the exchange.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::{action_links, page, wants_json};
use crate::actions::{NotSignedIn, perform};
use crate::oauth::{Step, TokenKind};
use crate::redact::untrusted;
use crate::state::AppState;
use crate::web::templates::{ActionPage, ErrorPage, SignInFirstPage};

#[derive(Deserialize)]
pub struct Which {
    /// `access` or `refresh`.
    token: Option<String>,
}

impl Which {
    fn kind(&self, default: TokenKind) -> TokenKind {
        match self.token.as_deref() {
            Some("access") | Some("access_token") => TokenKind::Access,
            Some("refresh") | Some("refresh_token") => TokenKind::Refresh,
            _ => default,
        }
    }
}

pub async fn refresh(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    run(&req, &state, Step::Refresh).await
}

pub async fn userinfo(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    run(&req, &state, Step::Userinfo).await
}

pub async fn tokeninfo(
    req: HttpRequest,
    which: web::Query<Which>,
    state: web::Data<AppState>,
) -> HttpResponse {
    run(
        &req,
        &state,
        Step::Tokeninfo(which.kind(TokenKind::Refresh)),
    )
    .await
}

pub async fn revoke(
    req: HttpRequest,
    which: web::Query<Which>,
    state: web::Data<AppState>,
) -> HttpResponse {
    run(&req, &state, Step::Revoke(which.kind(TokenKind::Refresh))).await
}

pub async fn api(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    run(&req, &state, Step::Api).await
}

async fn run(req: &HttpRequest, state: &AppState, step: Step) -> HttpResponse {
    if state.session_tokens().is_some() && !super::holder::holds_tokens(req, state) {
        return not_the_holder(req, &step);
    }
    let report = match perform(state, &step).await {
        Ok(report) => report,
        Err(NotSignedIn) => {
            return if wants_json(req) {
                HttpResponse::Conflict().json(json!({
                    "error": "not_signed_in",
                    "message": "sign in first: /login",
                }))
            } else {
                page(StatusCode::CONFLICT, &SignInFirstPage { step: step.name() })
            };
        }
    };
    if !report.ok {
        // The error can quote the provider or the API (error_description, WWW-Authenticate).
        log::warn!(
            "{} failed: {}",
            report.step,
            untrusted(report.error.as_deref().unwrap_or("?"))
        );
    } else {
        log::info!("{}: ok", report.step);
    }
    // The step ran; whether it succeeded is in the report (and the banner).
    if wants_json(req) {
        return HttpResponse::Ok().json(&report);
    }
    page(
        StatusCode::OK,
        &ActionPage::new(&report, action_links(state)),
    )
}

/// 403: tokens exist, but this request is not from the browser that signed in (another
/// local process or user, or another browser): it may not use them.
fn not_the_holder(req: &HttpRequest, step: &Step) -> HttpResponse {
    const CODE: &str = "not_the_signed_in_browser";
    let message = format!(
        "{} refused: only the browser that completed the sign-in may use its tokens, and this \
         request does not carry its session cookie.",
        step.name()
    );
    const HINT: &str = "Use the buttons in the browser that signed in, or sign in again here: \
                        /login. Scripts read the tokens from --once (stdout) or --report.";
    log::warn!(
        "{} refused: no session cookie of the signed-in browser",
        step.name()
    );
    if wants_json(req) {
        return HttpResponse::Forbidden().json(json!({
            "error": CODE,
            "message": message,
            "hint": HINT,
        }));
    }
    page(
        StatusCode::FORBIDDEN,
        &ErrorPage {
            message,
            step: step.name(),
            code: CODE.into(),
            description: None,
            uri: None,
            hint: Some(HINT.into()),
        },
    )
}
