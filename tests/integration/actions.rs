//! After the token: refresh, userinfo, token info, revocation and the user's own API, against
//! the real provider and a resource server that trusts it.

use serde_json::Value;

use crate::support::app::{TestApp, cli_for, confidential_app, spawn_app};
use crate::support::browser::{Browser, Choice};
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider};
use crate::support::resource;

async fn signed_in(
    provider: &LocalProvider,
    resource_url: Option<String>,
) -> (TestApp, Browser, Value) {
    let mut cli = cli_for(&provider.issuer, CONFIDENTIAL_ID, Some(CONFIDENTIAL_SECRET));
    cli.resource_url = resource_url;
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
    (app, browser, token)
}

#[tokio::test]
async fn before_sign_in_every_action_answers_409_with_a_link_to_login() {
    let provider = LocalProvider::start();
    let app = confidential_app(&provider).await;
    let client = reqwest::Client::new();
    for path in [
        "/refresh",
        "/userinfo",
        "/tokeninfo",
        "/tokeninfo?token=access",
        "/revoke",
        "/api",
    ] {
        let response = client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 409, "{path}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("href=\"/login\"") && html.contains("Sign in first"),
            "{path}: {html}"
        );
    }
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_the_old_one_stops_working() {
    let provider = LocalProvider::start();
    let (app, browser, token) = signed_in(&provider, None).await;
    let old = token["refresh_token"].as_str().unwrap().to_owned();

    let report = app.json(&browser, "/refresh").await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["status"], 200);
    let new = report["response"]["refresh_token"]
        .as_str()
        .expect("a rotated refresh token");
    assert_ne!(new, old);
    assert!(report["response"]["access_token"].is_string());
    let notes = report["notes"].to_string();
    assert!(notes.contains("the new ID token passed all"), "{notes}");

    // The provider no longer takes the old refresh token.
    let reuse: Value = reqwest::Client::new()
        .post(format!("{}/oauth/token", provider.issuer))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", old.as_str()),
            ("client_id", CONFIDENTIAL_ID),
            ("client_secret", CONFIDENTIAL_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reuse["error"], "invalid_grant", "{reuse}");

    // The page shows the exchange with the secrets masked.
    let page = browser
        .client()
        .get(format!("{}/tokeninfo", app.origin()))
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("POST")
            && html.contains("/oauth/token_info")
            && html.contains("client_id=test-confidential")
    );
    assert!(
        !html.contains(CONFIDENTIAL_SECRET),
        "the client secret is masked"
    );
    assert!(
        !html.contains(new),
        "the refresh token is masked in the request"
    );
}

#[tokio::test]
async fn userinfo_returns_the_signed_in_user() {
    let provider = LocalProvider::start();
    let (app, browser, _) = signed_in(&provider, None).await;
    let report = app.json(&browser, "/userinfo").await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["response"]["sub"], "alice");
    assert_eq!(report["response"]["email"], "alice@example.test");
}

#[tokio::test]
async fn introspection_says_active_then_inactive_after_revocation() {
    let provider = LocalProvider::start();
    let (app, browser, token) = signed_in(&provider, None).await;
    let access = token["access_token"].as_str().unwrap();
    let refresh = token["refresh_token"].as_str().unwrap();

    let report = app.json(&browser, "/tokeninfo").await;
    assert_eq!(
        (report["ok"].clone(), report["response"]["active"].clone()),
        (true.into(), true.into()),
        "{report}"
    );
    assert_eq!(report["response"]["client_id"], CONFIDENTIAL_ID);
    let summary = report["notes"][1].as_str().unwrap();
    for field in [
        "active: true",
        "scope: openid",
        "sub: alice",
        "client_id: test-confidential",
        "exp: 1",
    ] {
        assert!(summary.contains(field), "{summary}");
    }
    let report = app.json(&browser, "/tokeninfo?token=access").await;
    assert_eq!(report["response"]["active"], true, "{report}");
    assert_eq!(report["response"]["sub"], "alice");

    let report = app.json(&browser, "/revoke?token=access").await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(
        resource::introspect(&provider.issuer, access).await["active"],
        false
    );
    let report = app.json(&browser, "/tokeninfo?token=access").await;
    assert_eq!(
        report["ok"], false,
        "the revoked token is forgotten: {report}"
    );

    let report = app.json(&browser, "/revoke").await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(
        resource::introspect(&provider.issuer, refresh).await["active"],
        false
    );
}

#[tokio::test]
async fn the_api_accepts_a_live_token_and_rejects_a_stale_one() {
    let provider = LocalProvider::start();
    let api = resource::start(&provider.issuer).await;
    let (app, browser, token) = signed_in(&provider, Some(format!("{}/api", api.base))).await;

    let report = app.json(&browser, "/api").await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["status"], 200);
    assert_eq!(report["response"]["sub"], "alice");

    // Revoked behind the app's back: the app still holds it, the API refuses it.
    let revoked = reqwest::Client::new()
        .post(format!("{}/oauth/revoke", provider.issuer))
        .form(&[
            ("token", token["access_token"].as_str().unwrap()),
            ("client_id", CONFIDENTIAL_ID),
            ("client_secret", CONFIDENTIAL_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());
    let report = app.json(&browser, "/api").await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["status"], 401);
    assert!(
        report["error"].as_str().unwrap().contains("invalid_token"),
        "{report}"
    );

    let html = app.page(&browser, "/api").await;
    assert!(
        html.contains("HTTP 401") && html.contains("www-authenticate"),
        "{html}"
    );
}

#[tokio::test]
async fn tokeninfo_on_a_refresh_token_a_provider_will_not_introspect_points_at_the_access_token() {
    // As django-oauth-toolkit: refresh tokens are answered active:false.
    let provider =
        LocalProvider::start_with(serde_json::json!({ "introspect_access_tokens_only": true }));
    let (app, browser, _) = signed_in(&provider, None).await;

    let report = app.json(&browser, "/tokeninfo").await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["response"]["active"], false, "{report}");
    let hint = report["hint"].as_str().expect("a hint");
    assert!(
        hint.contains("tokeninfo:access") && hint.contains("/tokeninfo?token=access"),
        "{hint}"
    );

    let html = app.page(&browser, "/tokeninfo").await;
    let at = html
        .find("<p class=\"hint\">")
        .expect("the hint on the page");
    let hint = &html[at..at + html[at..].find("</p>").unwrap()];
    assert!(hint.contains("href=\"/tokeninfo?token=access\""), "{hint}");

    let report = app.json(&browser, "/tokeninfo?token=access").await;
    assert_eq!(report["ok"], true, "{report}");
    assert!(report.get("hint").is_none(), "{report}");
}

#[tokio::test]
async fn a_failed_step_shows_the_providers_json_error_body() {
    let provider = LocalProvider::start();
    let (app, browser, token) = signed_in(&provider, None).await;
    // Revoked behind the app's back: the app still holds both tokens.
    for field in ["access_token", "refresh_token"] {
        let revoked = reqwest::Client::new()
            .post(format!("{}/oauth/revoke", provider.issuer))
            .form(&[
                ("token", token[field].as_str().unwrap()),
                ("client_id", CONFIDENTIAL_ID),
                ("client_secret", CONFIDENTIAL_SECRET),
            ])
            .send()
            .await
            .unwrap();
        assert!(revoked.status().is_success(), "{field}");
    }

    let report = app.json(&browser, "/userinfo").await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["status"], 401, "{report}");
    assert_eq!(report["response"]["error"], "invalid_token", "{report}");
    assert!(
        report["response"]["error_description"].is_string(),
        "{report}"
    );

    let report = app.json(&browser, "/refresh").await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["status"], 400, "{report}");
    assert_eq!(report["response"]["error"], "invalid_grant", "{report}");
}
