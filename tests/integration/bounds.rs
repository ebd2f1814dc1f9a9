//! Bounds: a provider that hangs, answers 500, sends broken or huge JSON produces a clear
//! error (never a hang or a panic); oversized callbacks are refused; signals end `--once`.

use std::time::Duration;

use serde_json::Value;

use crate::binary::{callback_prefix, spawn};
use crate::support::app::{TestApp, cli_for, spawn_app};
use crate::support::browser::Browser;
use crate::support::provider::LocalProvider;
use crate::support::standin::{self, Quirk, StandIn};

async fn standin_app(quirk: Quirk) -> (StandIn, TestApp) {
    let standin = standin::start(quirk).await;
    let mut cli = cli_for("", "standin-client", Some("standin-secret"));
    cli.issuer = None;
    cli.authorize_url = Some(format!("{}/login/oauth/authorize", standin.base));
    cli.token_url = Some(format!("{}/login/oauth/access_token", standin.base));
    cli.scopes = Some("repo".into());
    cli.http_timeout = Some("2".into());
    let app = spawn_app(cli).await;
    (standin, app)
}

async fn callback_through(browser: &Browser, app: &TestApp) -> (u16, Value) {
    let login = browser.client().get(app.login_url()).send().await.unwrap();
    let to_provider = login.headers()["location"].to_str().unwrap().to_owned();
    let back = browser.client().get(&to_provider).send().await.unwrap();
    let callback = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    browser.callback_json(&callback).await
}

macro_rules! provider_failure {
    ($($test:ident: $quirk:expr => $code:literal, $words:literal;)*) => {$(
        #[tokio::test]
        async fn $test() {
            let (_standin, app) = standin_app($quirk).await;
            let browser = Browser::new();
            let (status, json) = callback_through(&browser, &app).await;
            assert_eq!(status, 502, "{json}");
            assert_eq!(json["error"], $code, "{json}");
            assert_eq!(json["step"], "token");
            assert!(json["message"].as_str().unwrap().contains($words), "{json}");
            // The app is still there for the next person.
            let health = browser.client().get(format!("{}/healthz", app.base)).send().await.unwrap();
            assert_eq!(health.status(), 200);
        }
    )*};
}

provider_failure! {
    a_provider_that_hangs_times_out: Quirk::Hang => "provider_timeout", "OAUTH_HTTP_TIMEOUT";
    a_huge_token_response_is_cut_off: Quirk::Huge => "response_too_large", "refusing to read further";
    an_html_500_is_named: Quirk::Html500 => "bad_token_response",
        "the token endpoint answered HTTP 500 with an HTML page (text/html), not JSON: first line: <!DOCTYPE html>";
    broken_json_is_named: Quirk::BrokenJson => "bad_token_response", "HTTP 200";
}

#[tokio::test]
async fn a_refresh_answered_with_an_html_500_says_what_came_back() {
    let (_standin, app) = standin_app(Quirk::Html500OnRefresh).await;
    let browser = Browser::new();
    let (status, json) = callback_through(&browser, &app).await;
    assert_eq!(status, 200, "{json}");
    let report = app.json(&browser, "/refresh").await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["status"], 500, "{report}");
    let error = report["error"].as_str().unwrap();
    assert!(
        error.contains(
            "the token endpoint answered HTTP 500 with an HTML page (text/html; charset=utf-8), \
             not JSON: first line: <!DOCTYPE html>"
        ),
        "{error}"
    );
    assert!(error.contains("OAUTH_TOKEN_URL"), "{error}");
}

#[tokio::test]
async fn an_oversized_callback_query_is_refused() {
    let (_standin, app) = standin_app(Quirk::Strings).await;
    let browser = Browser::new();
    let url = format!(
        "{}/oauth_callback?state=x&code={}",
        app.base,
        "c".repeat(9000)
    );
    let response = browser
        .client()
        .get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["error"], "bad_callback", "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_exits_1_within_the_timeout_when_the_provider_hangs() {
    let standin = standin::start(Quirk::Hang).await;
    let dir = tempfile::tempdir().unwrap();
    let authorize = format!("{}/login/oauth/authorize", standin.base);
    let token = format!("{}/login/oauth/access_token", standin.base);
    let running = spawn(
        &[
            "--once",
            "--no-browser",
            "--port",
            "0",
            "--http-timeout",
            "2",
        ],
        &[
            ("OAUTH_AUTHORIZE_URL", &authorize),
            ("OAUTH_TOKEN_URL", &token),
            ("CLIENT_ID", "standin-client"),
            ("OAUTH_SCOPES", "repo"),
        ],
        dir.path(),
    );
    let sign_in = running.sign_in_url();
    let browser = Browser::new();
    let login = browser.client().get(&sign_in).send().await.unwrap();
    let to_provider = login.headers()["location"].to_str().unwrap().to_owned();
    let back = browser.client().get(&to_provider).send().await.unwrap();
    let callback = back.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(&callback_prefix(&sign_in)));
    let page = browser.client().get(&callback).send().await.unwrap();
    assert_eq!(page.status(), 502);
    let done = tokio::task::spawn_blocking(move || running.finish(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert_eq!(done.documents()[0]["error"], "provider_timeout");
}

#[tokio::test]
async fn sigterm_ends_once_with_130() {
    crate::binary::once_is_interrupted_by("-TERM").await;
}

#[tokio::test]
async fn redact_masks_every_token_in_the_printed_json() {
    let provider = LocalProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(
        &[
            "--once",
            "--no-browser",
            "--port",
            "0",
            "--redact",
            "--then",
            "refresh",
        ],
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", crate::support::provider::CONFIDENTIAL_ID),
            (
                "CLIENT_SECRET",
                crate::support::provider::CONFIDENTIAL_SECRET,
            ),
        ],
        dir.path(),
    );
    let sign_in = running.sign_in_url();
    let browser = Browser::new();
    let callback = browser
        .authorize(
            &sign_in,
            &callback_prefix(&sign_in),
            "vic",
            crate::support::browser::Choice::Approve,
        )
        .await;
    let page = browser
        .client()
        .get(callback)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let real: Value = page.json().await.unwrap();
    let done = tokio::task::spawn_blocking(move || running.finish(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let doc = &done.documents()[0];
    for field in ["access_token", "refresh_token", "id_token"] {
        let shown = doc["token"][field].as_str().unwrap();
        let real = real[field].as_str().unwrap();
        assert!(
            shown.ends_with("chars)") && real.starts_with(&shown[..6]),
            "{field}: {shown}"
        );
        assert!(!done.stdout.contains(real), "{field} printed in full");
        assert!(
            doc["steps"][0]["response"][field]
                .as_str()
                .unwrap()
                .ends_with("chars)")
        );
    }
    assert_eq!(doc["token"]["token_type"], "Bearer", "other fields stay");
}
