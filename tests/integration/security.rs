//! The holes a security review found, each driven over real HTTP against the running app (and
//! the real provider): CSRF through an encoded path, `/login` parameters from another site, a
//! stray callback ending `--once`, a callback from another browser, the Host check beyond
//! loopback, a failed PAR under `--once`, an error redirect without `iss`, a secret sent to a
//! server a resource names, and `--redact` against an API that echoes the token.

use std::time::Duration;

use serde_json::{Value, json};

use crate::binary::{callback_prefix, spawn};
use crate::support::app::{cli_for, confidential_app, public_app, spawn_app};
use crate::support::browser::{Browser, Choice};
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider, PUBLIC_ID};
use crate::support::resource;

fn without_param(url: &url::Url, name: &str) -> url::Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != name)
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

#[tokio::test]
async fn actions_refuse_other_sites_whatever_the_path_encoding() {
    let provider = LocalProvider::start();
    let app = confidential_app(&provider).await;
    let browser = Browser::new();
    let (status, _) = app.sign_in(&browser, "ivy").await;
    assert_eq!(status, 200);
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut request = browser
            .client()
            .get(format!("{}{path}", app.origin()))
            .header("Accept", "application/json");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // The router decodes %72 to r: each encoding reaches the action, and meets its guard.
    for path in [
        "/refresh",
        "/%72efresh",
        "/%72evoke",
        "/%61pi",
        "/userinf%6F",
        "/tokeninfo",
    ] {
        for site in ["cross-site", "same-site"] {
            assert_eq!(
                get(path, &[("Sec-Fetch-Site", site)]).await,
                403,
                "{path} with Sec-Fetch-Site: {site}"
            );
        }
        assert_eq!(
            get(path, &[("Origin", "http://evil.example")]).await,
            403,
            "{path} with a foreign Origin"
        );
    }
    let own_origin = app.origin();
    assert_eq!(
        get(
            "/%72efresh",
            &[("Sec-Fetch-Site", "same-origin"), ("Origin", &own_origin)]
        )
        .await,
        200,
        "this app's own page may refresh"
    );
    assert_eq!(
        get("/userinfo", &[]).await,
        200,
        "curl sends no Sec-Fetch-Site"
    );
}

#[tokio::test]
async fn login_parameters_come_only_from_this_apps_pages_or_a_tool() {
    let provider = LocalProvider::start();
    let app = public_app(&provider).await;
    let browser = Browser::new();
    // On the redirect URI's host already, so the answer is the provider redirect itself.
    let login = app
        .redirect_uri
        .replace("/oauth_callback", "/login?scope=profile&prompt=none");
    let send = |site: Option<&'static str>| {
        let mut request = browser.client().get(&login);
        if let Some(site) = site {
            request = request.header("Sec-Fetch-Site", site);
        }
        async move { request.send().await.unwrap() }
    };
    for site in ["cross-site", "same-site"] {
        let response = send(Some(site)).await;
        assert_eq!(response.status(), 403, "Sec-Fetch-Site: {site}");
        assert!(response.headers().get("location").is_none());
        let page = response.text().await.unwrap();
        assert!(page.contains("own pages"), "{page}");
    }
    for site in [None, Some("same-origin"), Some("none")] {
        let response = send(site).await;
        assert_eq!(response.status(), 302, "{site:?}");
        let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        let scope = location
            .query_pairs()
            .find(|(k, _)| k == "scope")
            .map(|(_, v)| v.into_owned());
        assert_eq!(scope.as_deref(), Some("profile"), "{site:?}");
    }
    // A plain /login from anywhere still starts the configured flow.
    let plain = browser
        .client()
        .get(app.redirect_uri.replace("/oauth_callback", "/login"))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 302);
    // What the client sets itself is never taken from /login: ignored, with a warning.
    let response = browser
        .client()
        .get(format!(
            "{}?request=x&response_mode=form_post&response_type=token&request_uri=urn:x&prompt=login",
            app.login_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let q: std::collections::HashMap<String, String> =
        location.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["prompt"], "login", "the other parameters still apply");
    for never in ["request", "response_mode", "request_uri"] {
        assert!(!q.contains_key(never), "{never} in {location}");
    }
}

#[tokio::test]
async fn a_callback_from_another_browser_is_refused_and_the_flow_waits_for_its_own() {
    let provider = LocalProvider::start();
    let app = public_app(&provider).await;
    let own = Browser::new();
    let callback = own
        .authorize(
            &app.login_url(),
            &app.redirect_uri,
            "mallory",
            Choice::Approve,
        )
        .await;
    // Login CSRF: the attacker's finished flow, delivered to someone else's browser.
    let (status, json) = Browser::new().callback_json(&callback).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (400, Some("other_browser")),
        "{json}"
    );
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("another browser"),
        "{json}"
    );
    let page = Browser::new()
        .client()
        .get(callback.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("sign-in URL printed"), "{page}");
    let (status, json) = own.callback_json(&callback).await;
    assert_eq!(
        status, 200,
        "the browser that started it finishes it: {json}"
    );
}

#[tokio::test]
async fn the_binding_cookie_is_http_only_and_same_site_lax() {
    let provider = LocalProvider::start();
    let app = public_app(&provider).await;
    let response = Browser::new()
        .client()
        .get(app.redirect_uri.replace("/oauth_callback", "/login"))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("oauth_test_client_browser="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    // The app's other name sends the browser to the redirect URI's host first, where the
    // cookie will come back with the callback.
    let response = Browser::new()
        .client()
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 307);
    assert_eq!(
        response.headers()["location"].to_str().unwrap(),
        app.redirect_uri.replace("/oauth_callback", "/login")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stray_callback_does_not_end_a_once_run() {
    let provider = LocalProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(
        &["--once", "--no-browser", "--port", "0"],
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", CONFIDENTIAL_ID),
            ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
        ],
        dir.path(),
    );
    let callback = callback_prefix(&running.sign_in_url());
    for stray in [
        "?state=forged&code=x",
        "?code=x",
        "?state=a&state=b",
        "?error=access_denied",
    ] {
        let status = reqwest::get(format!("{callback}{stray}"))
            .await
            .unwrap()
            .status();
        assert_eq!(status, 400, "{stray}");
    }
    // The run is still waiting: the real sign-in completes it with exit 0.
    let done = running.sign_in_and_finish("nia", 200).await;
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(done.stderr.contains("still waiting"), "{}", done.stderr);
    assert_eq!(done.documents().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_pushed_authorization_request_ends_a_once_run_with_1_and_answers_json() {
    let provider = LocalProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(
        &[
            "--once",
            "--no-browser",
            "--port",
            "0",
            "--par",
            "--timeout",
            "60",
        ],
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", CONFIDENTIAL_ID),
            ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
        ],
        dir.path(),
    );
    let login = format!("{}?prompt=bogus-prompt", running.sign_in_url());
    let response = reqwest::Client::new()
        .get(&login)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["step"], "par", "{json}");
    assert_eq!(
        json["error"], "invalid_request",
        "the provider's own error: {json}"
    );
    let done = tokio::task::spawn_blocking(move || running.finish(Duration::from_secs(20)))
        .await
        .unwrap();
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert_eq!(done.documents()[0]["step"], "par");
}

#[tokio::test]
async fn an_error_without_iss_is_refused_and_names_the_providers_error() {
    let provider = LocalProvider::start();
    let app = public_app(&provider).await;
    let browser = Browser::new();
    let callback = browser
        .authorize(&app.login_url(), &app.redirect_uri, "oli", Choice::Abort)
        .await;
    assert!(
        callback
            .query_pairs()
            .any(|(k, v)| k == "error" && v == "access_denied")
    );
    // As django-oauth-toolkit does: iss on success only.
    let (status, json) = browser
        .callback_json(&without_param(&callback, "iss"))
        .await;
    assert_eq!(
        (status, json["error"].as_str()),
        (400, Some("error_without_iss")),
        "{json}"
    );
    let message = json["message"].as_str().unwrap();
    assert!(message.contains("access_denied"), "{message}");
    assert!(
        !message.contains("redeem the code"),
        "there is no code: {message}"
    );
    assert!(json["error_description"].is_string(), "{json}");
    assert_eq!(json["step"], "authorization");
}

#[tokio::test]
async fn the_host_check_holds_beyond_loopback() {
    let provider = LocalProvider::start();
    let open_cli = || {
        let mut cli = cli_for(&provider.issuer, PUBLIC_ID, None);
        cli.host = Some("0.0.0.0".into());
        cli
    };
    let app = spawn_app(open_cli()).await;
    let status = |host: &'static str, port: u16| async move {
        reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .header("Host", format!("{host}:{port}"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(status("rebound.evil.example", app.port).await, 403);
    assert_eq!(status("localhost", app.port).await, 200);
    let mut cli = open_cli();
    cli.allowed_hosts = vec!["my-laptop.lan".into()];
    let app = spawn_app(cli).await;
    assert_eq!(status("my-laptop.lan", app.port).await, 200);
    assert_eq!(status("rebound.evil.example", app.port).await, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_secret_is_never_sent_to_a_server_the_resource_names() {
    let provider = LocalProvider::start_with(json!({ "registration": true }));
    let api = resource::start(&provider.issuer).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/mcp", api.base);
    let done = tokio::task::spawn_blocking({
        let dir = dir.path().to_owned();
        move || {
            spawn(
                &[
                    "--once",
                    "--no-browser",
                    "--port",
                    "0",
                    "--resource-url",
                    &url,
                ],
                &[
                    ("CLIENT_ID", CONFIDENTIAL_ID),
                    ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
                ],
                &dir,
            )
            .finish(Duration::from_secs(30))
        }
    })
    .await
    .unwrap();
    assert_eq!(done.code, Some(2), "{}", done.stderr);
    assert!(done.stderr.contains(&provider.issuer), "{}", done.stderr);
    assert!(done.stderr.contains("OAUTH_ISSUER"), "{}", done.stderr);
    assert!(!done.stderr.contains(CONFIDENTIAL_SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_named_over_plain_http_is_refused_and_another_origin_warned() {
    let provider = LocalProvider::start_with(json!({ "registration": true }));
    let api = resource::start(&provider.issuer).await;
    let dir = tempfile::tempdir().unwrap();
    let run = |path: &str| {
        let url = format!("{}{path}", api.base);
        let dir = dir.path().to_owned();
        tokio::task::spawn_blocking(move || {
            spawn(
                &[
                    "--once",
                    "--report",
                    "--no-browser",
                    "--port",
                    "0",
                    "--resource-url",
                    &url,
                ],
                &[],
                &dir,
            )
            .finish(Duration::from_secs(30))
        })
    };
    let done = run("/plainmeta").await.unwrap();
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    let doc = &done.documents()[0];
    let check = crate::verification::check(doc, "resource_metadata.url");
    assert_eq!(check["result"], "fail", "{doc}");
    assert!(done.stderr.contains("metadata.example"), "{}", done.stderr);

    let running = spawn(
        &[
            "--once",
            "--report",
            "--no-browser",
            "--port",
            "0",
            "--resource-url",
            &format!("{}/elsewhere", api.base),
        ],
        &[],
        dir.path(),
    );
    let done = running.sign_in_and_finish("pia", 200).await;
    let doc = &done.documents()[0];
    let check = crate::verification::check(doc, "resource_metadata.origin");
    assert_eq!(check["result"], "warn", "{doc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redact_masks_a_token_that_an_api_echoes() {
    let provider = LocalProvider::start();
    let api = resource::start(&provider.issuer).await;
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(
        &[
            "--once",
            "--no-browser",
            "--port",
            "0",
            "--redact",
            "--then",
            "api,userinfo",
        ],
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", CONFIDENTIAL_ID),
            ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
            ("RESOURCE_URL", &format!("{}/echo", api.base)),
        ],
        dir.path(),
    );
    let sign_in = running.sign_in_url();
    let browser = Browser::new();
    let callback = browser
        .authorize(
            &sign_in,
            &callback_prefix(&sign_in),
            "quinn",
            Choice::Approve,
        )
        .await;
    let page = browser.client().get(callback).send().await.unwrap();
    let html = page.text().await.unwrap();
    let done = tokio::task::spawn_blocking(move || running.finish(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let doc = &done.documents()[0];
    let api_step = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "api")
        .unwrap();
    let echoed = api_step.to_string();
    assert!(
        echoed.contains("Bearer "),
        "the API did echo the header: {echoed}"
    );
    // The page shows the real token (copy buttons); stdout must not.
    let marker = "data-copy=\"";
    let start = html.find(marker).expect("the access token's copy button") + marker.len();
    let access_token = &html[start..start + html[start..].find('"').unwrap()];
    assert!(access_token.len() > 12, "{access_token}");
    assert!(
        !done.stdout.contains(access_token),
        "a token in clear: {}",
        done.stdout
    );
    assert!(!done.stdout.contains(CONFIDENTIAL_SECRET));
    let note = api_step["response"]["note"].as_str().unwrap();
    assert!(
        note.starts_with("you sent Bearer ") && note.ends_with("chars)"),
        "{note}"
    );
}

#[test]
fn git_ignores_every_registration_file() {
    let ignore =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.gitignore")).unwrap();
    assert!(
        ignore
            .lines()
            .any(|l| l.trim() == "oauth-test-client.registered*.env"),
        ".gitignore must list the registration files: `git add -A` would commit a secret"
    );
}
