//! A resource server as a developer would write one: a few lines of actix-web that accept a
//! bearer token only when the provider's introspection says it is active.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use super::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET};

pub struct ResourceServer {
    pub base: String,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for ResourceServer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// Asks the provider whether a token is active (RFC 7662), as the test client's owner.
pub async fn introspect(issuer: &str, token: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{issuer}/oauth/token_info"))
        .form(&[
            ("token", token),
            ("client_id", CONFIDENTIAL_ID),
            ("client_secret", CONFIDENTIAL_SECRET),
        ])
        .send()
        .await
        .expect("introspection")
        .json()
        .await
        .expect("introspection JSON")
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header(("WWW-Authenticate", r#"Bearer error="invalid_token""#))
        .json(json!({ "error": "invalid_token" }))
}

async fn api(req: HttpRequest, issuer: web::Data<String>) -> HttpResponse {
    let Some(token) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return unauthorized();
    };
    let info = introspect(&issuer, token).await;
    if info["active"] == true {
        HttpResponse::Ok().json(json!({ "ok": true, "sub": info["sub"] }))
    } else {
        unauthorized()
    }
}

/// `/api` checks the token; `/deny` refuses every request.
pub async fn start(issuer: &str) -> ResourceServer {
    let issuer = web::Data::new(issuer.to_owned());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(issuer.clone())
            .route("/api", web::get().to(api))
            .route("/deny", web::get().to(|| async { unauthorized() }))
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .expect("bind");
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    ResourceServer {
        base: format!("http://127.0.0.1:{port}"),
        handle,
    }
}
