//! A stand-in authorization server, only for what the real provider cannot be made to do:
//! token responses that bend RFC 6749 the ways GitHub and others do. Its authorize endpoint
//! redirects straight back with a code; its token endpoint answers in the chosen way.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;

#[derive(Clone, Copy)]
pub enum Quirk {
    /// `application/x-www-form-urlencoded` with a comma-separated scope (GitHub without
    /// `Accept: application/json`).
    FormEncoded,
    /// An error with HTTP 200 (GitHub's `bad_verification_code`).
    ErrorWith200,
    /// `expires_in` as a string, `scope` as an array, `token_type` in capitals.
    Strings,
    /// A 2 MiB token response.
    Huge,
    /// No answer for a minute.
    Hang,
    /// HTTP 500 with an HTML page (django-oauth-toolkit's).
    Html500,
    /// Tokens for the code, HTTP 500 with an HTML page for a refresh.
    Html500OnRefresh,
    /// HTTP 200 with JSON cut short.
    BrokenJson,
}

pub struct StandIn {
    pub base: String,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn authorize(req: HttpRequest) -> HttpResponse {
    let q: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .collect();
    let mut target = url::Url::parse(&q["redirect_uri"]).expect("redirect_uri");
    target
        .query_pairs_mut()
        .append_pair("code", "standin-code")
        .append_pair("state", &q["state"]);
    HttpResponse::Found()
        .insert_header(("Location", target.as_str()))
        .finish()
}

const SERVER_ERROR_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head><title>Server Error (500)</title></head>\n\
    <body><h1>Server Error (500)</h1></body>\n</html>\n";

async fn token(quirk: web::Data<Quirk>, form: web::Bytes) -> HttpResponse {
    let refresh =
        url::form_urlencoded::parse(&form).any(|(k, v)| k == "grant_type" && v == "refresh_token");
    match **quirk {
        Quirk::Html500OnRefresh if refresh => HttpResponse::InternalServerError()
            .content_type("text/html; charset=utf-8")
            .body(SERVER_ERROR_PAGE),
        Quirk::Html500OnRefresh => HttpResponse::Ok().json(json!({
            "access_token": "standin-access-token-0123456789",
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": "standin-refresh-token-0123456789"
        })),
        Quirk::FormEncoded => HttpResponse::Ok()
            .content_type("application/x-www-form-urlencoded; charset=utf-8")
            .body("access_token=gho_standin0123456789&scope=repo%2Cuser&token_type=bearer"),
        Quirk::ErrorWith200 => HttpResponse::Ok().json(json!({
            "error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired.",
            "error_uri": "https://docs.github.com/apps/oauth-apps"
        })),
        Quirk::Strings => HttpResponse::Ok().json(json!({
            "access_token": "standin-access-token-0123456789",
            "token_type": "BEARER",
            "expires_in": "3600",
            "scope": ["repo", "user"],
            "refresh_token": "standin-refresh-token-0123456789"
        })),
        Quirk::Huge => HttpResponse::Ok()
            .content_type("application/json")
            .body(format!(
                r#"{{"access_token":"{}","token_type":"Bearer"}}"#,
                "a".repeat(2 << 20)
            )),
        Quirk::Hang => {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            HttpResponse::Ok().finish()
        }
        Quirk::Html500 => HttpResponse::InternalServerError()
            .content_type("text/html")
            .body(SERVER_ERROR_PAGE),
        Quirk::BrokenJson => HttpResponse::Ok()
            .content_type("application/json")
            .body(r#"{"access_token":"abc","token_ty"#),
    }
}

pub async fn start(quirk: Quirk) -> StandIn {
    let quirk = web::Data::new(quirk);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(quirk.clone())
            .route("/login/oauth/authorize", web::get().to(authorize))
            .route("/login/oauth/access_token", web::post().to(token))
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .expect("bind");
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    StandIn {
        base: format!("http://127.0.0.1:{port}"),
        handle,
    }
}
