//! The pages and endpoints a person or a CI script meets besides the callback.

use crate::support::app::{cli_for, spawn_app};
use crate::support::browser::{Browser, Choice};
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider};

#[tokio::test]
async fn index_shows_the_configuration_but_never_the_secret() {
    let provider = LocalProvider::start();
    let app = spawn_app(cli_for(
        &provider.issuer,
        CONFIDENTIAL_ID,
        Some(CONFIDENTIAL_SECRET),
    ))
    .await;
    let client = reqwest::Client::new();
    let health = client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let response = client.get(&app.base).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    let html = response.text().await.unwrap();
    for expected in [
        provider.issuer.as_str(),
        CONFIDENTIAL_ID,
        "/oauth/authorize",
        "/oauth/token",
        &app.redirect_uri,
    ] {
        assert!(html.contains(expected), "index lacks {expected}");
    }
    assert!(html.contains("href=\"/login\""));
    assert!(!html.contains(CONFIDENTIAL_SECRET));
    assert!(html.contains("No sign-in has completed yet"));

    let browser = Browser::new();
    let callback = browser
        .authorize(&app.login_url(), &app.redirect_uri, "gina", Choice::Approve)
        .await;
    let page = browser.client().get(callback).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Signed in")
            && html.contains("access_token")
            && html.contains("refresh_token")
    );
    let html = client
        .get(&app.base)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Last result") && html.contains("Signed in"),
        "{html}"
    );
}

#[tokio::test]
async fn the_default_redirect_answers_on_both_loopback_addresses() {
    let provider = LocalProvider::start();
    let app = spawn_app(cli_for(
        &provider.issuer,
        CONFIDENTIAL_ID,
        Some(CONFIDENTIAL_SECRET),
    ))
    .await;
    let client = reqwest::Client::new();
    for host in ["127.0.0.1", "[::1]", "localhost"] {
        let response = client
            .get(format!("http://{host}:{}/healthz", app.port))
            .send()
            .await;
        assert_eq!(
            response.map(|r| r.status().as_u16()).ok(),
            Some(200),
            "{host}"
        );
    }
}

#[tokio::test]
async fn login_accepts_other_scopes_and_a_prompt() {
    let provider = LocalProvider::start();
    let app = spawn_app(cli_for(
        &provider.issuer,
        CONFIDENTIAL_ID,
        Some(CONFIDENTIAL_SECRET),
    ))
    .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(format!(
            "{}?scope=openid%20email%20offline_access&prompt=consent",
            app.login_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let q: std::collections::HashMap<String, String> =
        location.query_pairs().into_owned().collect();
    assert_eq!(q["scope"], "openid email offline_access");
    assert_eq!(q["prompt"], "consent");
    // Without openid there is no nonce.
    let response = client
        .get(format!("{}?scope=email", app.login_url()))
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert!(!location.query_pairs().any(|(k, _)| k == "nonce"));
}
