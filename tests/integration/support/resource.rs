//! A resource server as a developer would write one: a few lines of actix-web that accept a
//! bearer token only when the provider's introspection says it is active. `/mcp` also
//! publishes protected-resource metadata (RFC 9728) naming the provider.

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

struct Site {
    issuer: String,
    base: String,
}

fn unauthorized(challenge: String) -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header(("WWW-Authenticate", challenge))
        .json(json!({ "error": "invalid_token" }))
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// Accepts an active token; otherwise 401 with `challenge`.
async fn guarded(req: &HttpRequest, site: &Site, challenge: String) -> HttpResponse {
    let Some(token) = bearer(req) else {
        return unauthorized(challenge);
    };
    let info = introspect(&site.issuer, token).await;
    if info["active"] == true {
        HttpResponse::Ok().json(json!({ "ok": true, "sub": info["sub"], "aud": info["aud"] }))
    } else {
        let sep = if challenge == "Bearer" { " " } else { ", " };
        unauthorized(format!(r#"{challenge}{sep}error="invalid_token""#))
    }
}

async fn api(req: HttpRequest, site: web::Data<Site>) -> HttpResponse {
    guarded(&req, &site, "Bearer".into()).await
}

async fn mcp(req: HttpRequest, site: web::Data<Site>) -> HttpResponse {
    let metadata = format!("{}/.well-known/oauth-protected-resource/mcp", site.base);
    guarded(
        &req,
        &site,
        format!(r#"Bearer resource_metadata="{metadata}""#),
    )
    .await
}

/// Names its metadata on another origin of the same server (`localhost` for `127.0.0.1`).
async fn elsewhere(req: HttpRequest, site: web::Data<Site>) -> HttpResponse {
    let metadata = format!(
        "{}/.well-known/oauth-protected-resource/elsewhere",
        site.base.replace("127.0.0.1", "localhost")
    );
    guarded(
        &req,
        &site,
        format!(r#"Bearer resource_metadata="{metadata}""#),
    )
    .await
}

/// Echoes the request's headers back, as httpbin-style debugging APIs do: an API that shows a
/// client's token in its answer.
async fn echo(req: HttpRequest) -> HttpResponse {
    let headers: serde_json::Map<String, Value> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                Value::String(v.to_str().unwrap_or("").to_owned()),
            )
        })
        .collect();
    let sent = headers.get("authorization").cloned().unwrap_or_default();
    let note = format!("you sent {}", sent.as_str().unwrap_or_default());
    HttpResponse::Ok().json(json!({ "headers": headers, "note": note }))
}

/// Two challenges on two field lines, the first quoting the word "bearer"; only the second
/// (a real Bearer challenge) names the metadata, at a URL that is not the well-known one.
async fn several(req: HttpRequest, site: web::Data<Site>) -> HttpResponse {
    let Some(token) = bearer(&req) else {
        let metadata = format!("{}/.well-known/oauth-protected-resource/several", site.base);
        return HttpResponse::Unauthorized()
            .append_header((
                "WWW-Authenticate",
                r#"Basic realm="bearer", charset="UTF-8""#,
            ))
            .append_header((
                "WWW-Authenticate",
                format!(r#"Bearer resource_metadata="{metadata}", scope="api:read""#),
            ))
            .finish();
    };
    let info = introspect(&site.issuer, token).await;
    if info["active"] == true {
        HttpResponse::Ok().json(json!({ "ok": true, "sub": info["sub"], "aud": info["aud"] }))
    } else {
        unauthorized(r#"Bearer error="invalid_token""#.into())
    }
}

/// RFC 9728 section 2; `/wrong` names another resource than the one it describes.
async fn metadata(req: HttpRequest, site: web::Data<Site>) -> HttpResponse {
    let path = req.match_info().get("path").unwrap_or_default();
    let resource = match path {
        "mcp" => format!("{}/mcp", site.base),
        "several" => format!("{}/several", site.base),
        "wrong" => "https://other.example/api".to_owned(),
        "elsewhere" => format!("{}/elsewhere", site.base),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok().json(json!({
        "resource": resource,
        "authorization_servers": [site.issuer],
        "scopes_supported": ["openid", "api:read"],
        "bearer_methods_supported": ["header"],
    }))
}

/// `/api` checks the token; `/deny` refuses every request; `/echo` shows the request headers;
/// `/elsewhere` names metadata on another origin; `/plainmeta` names plain-http metadata; `/mcp`
/// and `/wrong` start from a `WWW-Authenticate` challenge / the well-known metadata; `/nometa`
/// has no metadata; `/several` sends two challenge lines.
pub async fn start(issuer: &str) -> ResourceServer {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let site = web::Data::new(Site {
        issuer: issuer.to_owned(),
        base: base.clone(),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(site.clone())
            .route("/api", web::get().to(api))
            .route("/mcp", web::get().to(mcp))
            .route("/wrong", web::get().to(api))
            .route("/nometa", web::get().to(api))
            .route("/echo", web::get().to(echo))
            .route("/elsewhere", web::get().to(elsewhere))
            .route(
                "/plainmeta",
                web::get().to(|| async {
                    unauthorized(
                        r#"Bearer resource_metadata="http://metadata.example/.well-known/oauth-protected-resource/mcp""#
                            .into(),
                    )
                }),
            )
            .route("/several", web::get().to(several))
            .route(
                "/.well-known/oauth-protected-resource/{path}",
                web::get().to(metadata),
            )
            .route(
                "/deny",
                web::get().to(|| async { unauthorized(r#"Bearer error="invalid_token""#.into()) }),
            )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .expect("listen");
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    ResourceServer { base, handle }
}
