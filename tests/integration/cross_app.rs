//! Cross-app access (SEP-990) with the built binary. Its happy path runs against the MCP
//! conformance suite (auth/cross-app-access-complete-flow, tests/conformance/), the one peer
//! that speaks it: the local oidc-provider has no ID-JAG support. Here, a stand-in IdP for
//! what an IdP may answer, in front of the real oidc-provider as the authorization server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::binary::spawn;
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider};

/// The ID token the stand-in IdP "issued": a credential, never to be printed.
const ID_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.secret-id-token-payload.signature";

/// How the stand-in IdP answers the token exchange.
#[derive(Clone, Copy)]
enum Idp {
    /// `invalid_grant`, as for an expired ID token.
    Refuses,
    /// An ID-JAG for another audience than the authorization server.
    WrongAudience,
}

struct StandInIdp {
    token_url: String,
    seen: Arc<Mutex<Vec<(String, String)>>>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for StandInIdp {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn start_idp(mode: Idp) -> StandInIdp {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let server = HttpServer::new(move || {
        let record = record.clone();
        App::new().route(
            "/token",
            web::post().to(move |form: web::Bytes| {
                let record = record.clone();
                async move {
                    *record.lock().unwrap() =
                        url::form_urlencoded::parse(&form).into_owned().collect();
                    match mode {
                        Idp::Refuses => HttpResponse::BadRequest().json(json!({
                            "error": "invalid_grant",
                            "error_description": "The ID token has expired"
                        })),
                        Idp::WrongAudience => {
                            let enc = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
                            let jag = format!(
                                "{}.{}.c2ln",
                                enc(json!({"alg": "ES256", "typ": "oauth-id-jag+jwt"})),
                                enc(json!({"aud": "https://elsewhere.example.com",
                                    "client_id": CONFIDENTIAL_ID, "exp": 4_000_000_000u64,
                                    "resource": "http://127.0.0.1:9/api", "sub": "u1"}))
                            );
                            HttpResponse::Ok().json(json!({
                                "access_token": jag,
                                "issued_token_type": "urn:ietf:params:oauth:token-type:id-jag",
                                "token_type": "N_A"
                            }))
                        }
                    }
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .expect("bind");
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    StandInIdp {
        token_url: format!("http://127.0.0.1:{port}/token"),
        seen,
        handle,
    }
}

fn run_cross_app(provider: &LocalProvider, idp: &StandInIdp) -> crate::binary::Finished {
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(
        &[
            "--once",
            "--report",
            "--no-browser",
            "--port",
            "0",
            "--issuer",
            &provider.issuer,
            "--client-id",
            CONFIDENTIAL_ID,
            "--resource-url",
            "http://127.0.0.1:9/api",
            "--idp-token-url",
            &idp.token_url,
            "--idp-client-id",
            "idp-client",
        ],
        &[
            ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
            ("OAUTH_IDP_ID_TOKEN", ID_TOKEN),
            ("RUST_LOG", "trace"),
        ],
        dir.path(),
    );
    running.finish(Duration::from_secs(30))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idp_refusing_the_token_exchange_exits_1_with_its_error_and_step() {
    let provider = LocalProvider::start();
    let idp = start_idp(Idp::Refuses).await;
    // Blocking is fine: both servers answer from threads of their own.
    let done = run_cross_app(&provider, &idp);
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    let docs = done.documents();
    assert_eq!(docs.len(), 1, "{}", done.stdout);
    assert_eq!(docs[0]["step"], "token_exchange");
    assert_eq!(docs[0]["error"], "invalid_grant");
    assert_eq!(docs[0]["error_description"], "The ID token has expired");
    assert!(
        done.stderr.contains("invalid_grant") && done.stderr.contains("The ID token has expired"),
        "the IdP's words on stderr: {}",
        done.stderr
    );
    let seen = idp.seen.lock().unwrap().clone();
    let field = |k: &str| {
        seen.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{k} not sent: {seen:?}"))
    };
    assert_eq!(
        field("grant_type"),
        "urn:ietf:params:oauth:grant-type:token-exchange"
    );
    assert_eq!(field("subject_token"), ID_TOKEN);
    assert_eq!(
        field("subject_token_type"),
        "urn:ietf:params:oauth:token-type:id_token"
    );
    assert_eq!(
        field("requested_token_type"),
        "urn:ietf:params:oauth:token-type:id-jag"
    );
    assert_eq!(
        field("audience"),
        provider.issuer,
        "the authorization server"
    );
    assert_eq!(field("resource"), "http://127.0.0.1:9/api");
    assert_eq!(field("client_id"), "idp-client");
    assert!(
        !seen.iter().any(|(_, v)| v == CONFIDENTIAL_SECRET),
        "the client secret never goes to the IdP"
    );
    for text in [&done.stdout, &done.stderr] {
        assert!(!text.contains("secret-id-token-payload"), "{text}");
        assert!(!text.contains(CONFIDENTIAL_SECRET), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_jag_for_another_audience_fails_its_check_and_the_servers_refusal_is_shown() {
    let provider = LocalProvider::start();
    let idp = start_idp(Idp::WrongAudience).await;
    let done = run_cross_app(&provider, &idp);
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    let doc = &done.documents()[0];
    assert_eq!(doc["step"], "jwt_bearer", "{doc:#}");
    // oidc-provider has no JWT-bearer grant: its own refusal, as it said it.
    assert_eq!(doc["error"], "unsupported_grant_type", "{doc:#}");
    let checks = doc["checks"].as_array().expect("checks with --report");
    let row = |name: &str| {
        checks
            .iter()
            .find(|c| c["check"] == name)
            .unwrap_or_else(|| panic!("no {name}: {doc:#}"))
    };
    assert_eq!(row("id_jag.aud")["result"], "fail");
    assert!(
        row("id_jag.aud")["detail"]
            .as_str()
            .unwrap()
            .contains("unverified")
    );
    for name in [
        "id_jag.typ",
        "id_jag.client_id",
        "id_jag.resource",
        "id_jag.exp",
    ] {
        assert_eq!(row(name)["result"], "pass", "{name}: {doc:#}");
    }
}
