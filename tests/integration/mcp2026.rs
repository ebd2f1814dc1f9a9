//! MCP 2026-07-28 next to the handshake revisions, against real servers: the SDK v2 server
//! (tests/mcp-server/server-v2.mjs, stateless) and the SDK v1 one (server.mjs), both behind
//! the real provider; a v2 server that needs no token; and the GitHub Actions OIDC token a
//! workload presents with `--grant jwt_bearer`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::binary::spawn;
use crate::support::mcp_server::McpServer;
use crate::support::provider::LocalProvider;

fn check<'a>(doc: &'a Value, name: &str) -> Option<&'a str> {
    doc["checks"]
        .as_array()?
        .iter()
        .find(|c| c["check"] == name)?["result"]
        .as_str()
}

/// `--once --report --resource-url <server>` as a new user runs it (a client registered, the
/// sign-in, the MCP check): the report's `mcp.revision`.
async fn report_for(url: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let done = spawn(
        &[
            "--once",
            "--report",
            "--no-browser",
            "--port",
            "0",
            "--resource-url",
            url,
            "--mcp-call",
            "whoami",
        ],
        &[],
        dir.path(),
    )
    .sign_in_and_finish("mia", 200)
    .await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    done.documents().remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_v2_server_is_spoken_to_as_2026_07_28_and_the_v1_server_as_2025_11_25() {
    let provider = LocalProvider::start_with(json!({ "registration": true }));
    let v2 = McpServer::start_v2(&provider.issuer);
    let doc = report_for(&v2.url).await;
    let mcp = &doc["mcp"];
    assert_eq!(mcp["revision"], "2026-07-28", "{mcp}");
    assert_eq!(mcp["lifecycle"], "stateless", "{mcp}");
    assert_eq!(mcp["session"], false, "{mcp}");
    assert_eq!(
        mcp["server"]["name"], "oauth-test-client-test-mcp-v2",
        "{mcp}"
    );
    assert!(mcp["call"].to_string().contains("mia"), "whoami: {mcp}");
    for name in [
        "resource.rejects_without_token",
        "mcp.discover",
        "mcp.protocol_version",
        "mcp.tools_list",
        "mcp.tools_call",
        "resource.accepts_token",
    ] {
        assert_eq!(check(&doc, name), Some("pass"), "{name}: {doc}");
    }
    assert_eq!(check(&doc, "mcp.initialize"), None, "no handshake: {doc}");

    let v1 = McpServer::start(&provider.issuer);
    let doc = report_for(&v1.url).await;
    let mcp = &doc["mcp"];
    assert_eq!(mcp["revision"], "2025-11-25", "{mcp}");
    assert_eq!(mcp["lifecycle"], "handshake", "{mcp}");
    assert_eq!(mcp["session"], true, "{mcp}");
    for name in ["mcp.initialize", "mcp.initialized", "mcp.tools_call"] {
        assert_eq!(check(&doc, name), Some("pass"), "{name}: {doc}");
    }
}

/// A server with no authorization: no OAuth at all (no provider is even configured), the
/// server checked as it is, the warning `resource.requires_token`, exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_server_that_needs_no_token_is_checked_without_oauth_and_warned_about() {
    let open = McpServer::start_v2_open();
    let dir = tempfile::tempdir().unwrap();
    let done = tokio::task::spawn_blocking({
        let url = open.url.clone();
        let dir = dir.path().to_owned();
        move || {
            spawn(
                &[
                    "--once",
                    "--report",
                    "--no-browser",
                    "--mcp",
                    "--mcp-call",
                    "*",
                    "--resource-url",
                    &url,
                ],
                &[],
                &dir,
            )
            .finish(Duration::from_secs(60))
        }
    })
    .await
    .unwrap();
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let doc = &done.documents()[0];
    assert_eq!(doc["mcp"]["revision"], "2026-07-28", "{doc}");
    assert_eq!(check(doc, "resource.requires_token"), Some("warn"), "{doc}");
    assert_eq!(check(doc, "mcp.tools_call"), Some("pass"), "{doc}");
    assert!(doc.get("token").is_none(), "no OAuth: {doc}");
    assert!(
        !done.stderr.contains("register") && !done.stderr.contains("Sign in at"),
        "{}",
        done.stderr
    );
}

/// GitHub Actions' OIDC token endpoint, as the runner serves it: the request token as a
/// bearer token, the audience as a query parameter, the JWT in `value`.
#[tokio::test]
async fn the_github_actions_oidc_token_is_asked_for_the_audience_with_the_request_token() {
    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm8vciJ9.c2lnbmF0dXJl";
    // Each request's Authorization header and query.
    type Seen = Arc<Mutex<Vec<(Option<String>, String)>>>;
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let server = HttpServer::new(move || {
        let log = log.clone();
        App::new().route(
            "/token",
            web::get().to(move |req: HttpRequest| {
                let log = log.clone();
                async move {
                    let auth = req
                        .headers()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    log.lock()
                        .unwrap()
                        .push((auth.clone(), req.query_string().to_owned()));
                    match auth.as_deref() {
                        Some("Bearer runner-request-token") => {
                            HttpResponse::Ok().json(json!({ "count": 1, "value": JWT }))
                        }
                        _ => HttpResponse::Forbidden().body("bad request token"),
                    }
                }
            }),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    let running = server.run();
    let handle = running.handle();
    tokio::spawn(running);

    let http =
        oauth_test_client::provider::http::HttpClient::new(Duration::from_secs(10), None).unwrap();
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}/token?api-version=2.0")).unwrap();
    let got = oauth_test_client::provider::workload::github_actions_token(
        &http,
        &url,
        "runner-request-token",
        "https://as.example.com",
    )
    .await
    .unwrap();
    assert_eq!(got, JWT);
    let wrong = oauth_test_client::provider::workload::github_actions_token(
        &http,
        &url,
        "another-token",
        "https://as.example.com",
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        wrong.contains("HTTP 403") && wrong.contains("id-token: write"),
        "{wrong}"
    );
    assert!(!wrong.contains("another-token"), "{wrong}");
    let first = seen.lock().unwrap()[0].clone();
    assert_eq!(
        first,
        (
            Some("Bearer runner-request-token".to_owned()),
            "api-version=2.0&audience=https%3A%2F%2Fas.example.com".to_owned()
        )
    );
    handle.stop(false).await;
}

/// The page's API action with an MCP server as RESOURCE_URL (desk mode): the MCP check with
/// the session's token, its revision named on the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_api_action_checks_an_mcp_server_and_names_its_revision() {
    use crate::support::app::{cli_for, spawn_app};
    use crate::support::browser::{Browser, Choice};
    use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET};

    let provider = LocalProvider::start();
    let v2 = McpServer::start_v2(&provider.issuer);
    let mut cli = cli_for(&provider.issuer, CONFIDENTIAL_ID, Some(CONFIDENTIAL_SECRET));
    cli.resource_url = Some(v2.url.clone());
    cli.mcp = true;
    cli.params = vec![format!("resource={}", v2.url)];
    cli.scopes = Some("openid api:read".into());
    let app = spawn_app(cli).await;
    let browser = Browser::new();
    let callback = browser
        .authorize(
            &app.login_url(),
            &app.redirect_uri,
            "alice",
            Choice::Approve,
        )
        .await;
    let (status, token) = browser.callback_json(&callback).await;
    assert_eq!(status, 200, "{token}");

    let report = app.json(&browser, "/api").await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["response"]["revision"], "2026-07-28", "{report}");
    let html = app.page(&browser, "/api").await;
    assert!(html.contains("MCP revision 2026-07-28"), "{html}");
    assert!(html.contains("mcp.discover"), "{html}");
}
