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
    /// `/dpop`: the nonce it gave, once it has challenged.
    dpop_nonce: std::sync::Mutex<Option<String>>,
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

fn b64(data: impl AsRef<[u8]>) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

fn unb64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}

fn sha256(data: &[u8]) -> String {
    b64(ring::digest::digest(&ring::digest::SHA256, data))
}

fn dpop_refused(error: &str, description: &str) -> HttpResponse {
    unauthorized(format!(
        r#"DPoP algs="ES256", error="{error}", error_description="{description}""#
    ))
}

/// A proof's checks (RFC 9449 section 4.3) for `token`, on a GET of `url`: its claims, and
/// the thumbprint of the key it was signed with.
fn check_proof(proof: &str, url: &str, token: &str) -> Result<(Value, String), &'static str> {
    let parts: Vec<&str> = proof.split('.').collect();
    let [h, c, sig] = parts[..] else {
        return Err("not a JWS");
    };
    let header: Value = serde_json::from_slice(&unb64(h).ok_or("header")?).map_err(|_| "header")?;
    let claims: Value = serde_json::from_slice(&unb64(c).ok_or("claims")?).map_err(|_| "claims")?;
    if header["typ"] != "dpop+jwt" || header["alg"] != "ES256" {
        return Err("typ or alg");
    }
    let jwk = &header["jwk"];
    if jwk["kty"] != "EC" || jwk["crv"] != "P-256" || jwk.get("d").is_some() {
        return Err("jwk");
    }
    let (x, y) = (
        jwk["x"].as_str().unwrap_or(""),
        jwk["y"].as_str().unwrap_or(""),
    );
    let mut point = vec![4u8];
    point.extend(unb64(x).ok_or("x")?);
    point.extend(unb64(y).ok_or("y")?);
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, point)
        .verify(
            format!("{h}.{c}").as_bytes(),
            &unb64(sig).ok_or("signature")?,
        )
        .map_err(|_| "signature")?;
    if claims["htm"] != "GET" || claims["htu"] != url {
        return Err("htm or htu");
    }
    if claims["ath"] != sha256(token.as_bytes()) {
        return Err("ath");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    if claims["iat"]
        .as_i64()
        .is_none_or(|iat| (now - iat).abs() > 60)
        || claims["jti"].as_str().is_none()
    {
        return Err("iat or jti");
    }
    let jkt = sha256(format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#).as_bytes());
    Ok((claims, jkt))
}

/// A resource server that takes DPoP-bound tokens only (RFC 9449 section 7): `DPoP` scheme,
/// a valid proof for this request with `ath`, the nonce it gave (it asks for one first), and
/// a token whose `cnf.jkt` (from introspection) is the proof's key. A Bearer token is refused.
async fn dpop(req: HttpRequest, site: web::Data<Site>) -> HttpResponse {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let Some(token) = header("authorization").and_then(|v| v.strip_prefix("DPoP ")) else {
        return unauthorized(r#"DPoP algs="ES256""#.into());
    };
    let Some(proof) = header("dpop") else {
        return dpop_refused("invalid_dpop_proof", "no proof");
    };
    let url = format!("{}/dpop", site.base);
    let (claims, jkt) = match check_proof(proof, &url, token) {
        Ok(checked) => checked,
        Err(what) => return dpop_refused("invalid_dpop_proof", what),
    };
    let given = site.dpop_nonce.lock().unwrap().clone();
    let Some(nonce) = given.filter(|n| claims["nonce"] == n.as_str()) else {
        // Section 9: a fresh nonce, once.
        let nonce = sha256(proof.as_bytes());
        *site.dpop_nonce.lock().unwrap() = Some(nonce.clone());
        return HttpResponse::Unauthorized()
            .insert_header((
                "WWW-Authenticate",
                r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#,
            ))
            .insert_header(("DPoP-Nonce", nonce))
            .json(json!({ "error": "use_dpop_nonce" }));
    };
    let info = introspect(&site.issuer, token).await;
    if info["active"] != true || info["cnf"]["jkt"] != jkt.as_str() {
        return dpop_refused(
            "invalid_token",
            "not active or not bound to the proof's key",
        );
    }
    HttpResponse::Ok().json(json!({ "ok": true, "sub": info["sub"], "nonce": nonce, "jkt": jkt }))
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
/// has no metadata; `/several` sends two challenge lines; `/dpop` takes DPoP-bound tokens only.
pub async fn start(issuer: &str) -> ResourceServer {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let site = web::Data::new(Site {
        issuer: issuer.to_owned(),
        base: base.clone(),
        dpop_nonce: std::sync::Mutex::new(None),
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
            .route("/dpop", web::get().to(dpop))
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
