//! What the callback refuses: forged, replayed and missing state, a foreign or missing `iss`,
//! the provider's own errors, and a wrong client secret.

use url::Url;

use crate::support::app::{cli_for, public_app, spawn_app};
use crate::support::browser::{Browser, Choice};
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider};

fn with_param(url: &Url, name: &str, value: Option<&str>) -> Url {
    let mut out = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != name)
        .collect();
    {
        let mut q = out.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            q.append_pair(k, v);
        }
        if let Some(v) = value {
            q.append_pair(name, v);
        }
    }
    out
}

#[tokio::test]
async fn forged_replayed_and_missing_state_are_refused() {
    let provider = LocalProvider::start();
    let app = public_app(&provider).await;
    let browser = Browser::new();
    let callback = browser
        .authorize(
            &app.login_url(),
            &app.redirect_uri,
            "carol",
            Choice::Approve,
        )
        .await;

    let (status, json) = browser
        .callback_json(&with_param(&callback, "state", Some("forged-state")))
        .await;
    assert_eq!(
        (status, json["error"].as_str()),
        (400, Some("unknown_state")),
        "{json}"
    );

    let (status, json) = browser
        .callback_json(&with_param(&callback, "state", None))
        .await;
    assert_eq!(
        (status, json["error"].as_str()),
        (400, Some("missing_state")),
        "{json}"
    );

    let (status, json) = browser.callback_json(&callback).await;
    assert_eq!(status, 200, "the genuine callback still works: {json}");
    let (status, json) = browser.callback_json(&callback).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (400, Some("state_replayed")),
        "{json}"
    );
    assert!(json["hint"].as_str().unwrap().contains("/login"));
    assert_eq!(
        app.stdout.documents().len(),
        1,
        "only the successful exchange reached stdout"
    );
}

#[tokio::test]
async fn a_foreign_or_missing_iss_is_refused_before_the_code_is_redeemed() {
    let provider = LocalProvider::start();
    let app = public_app(&provider).await;
    let browser = Browser::new();

    let callback = browser
        .authorize(&app.login_url(), &app.redirect_uri, "dan", Choice::Approve)
        .await;
    let iss = callback
        .query_pairs()
        .find(|(k, _)| k == "iss")
        .map(|(_, v)| v.into_owned());
    assert_eq!(
        iss.as_deref(),
        Some(provider.issuer.as_str()),
        "the provider sends iss (RFC 9207)"
    );
    let (status, json) = browser
        .callback_json(&with_param(
            &callback,
            "iss",
            Some("https://attacker.example"),
        ))
        .await;
    assert_eq!(
        (status, json["error"].as_str()),
        (400, Some("issuer_mismatch")),
        "{json}"
    );

    let callback = browser
        .authorize(&app.login_url(), &app.redirect_uri, "dan", Choice::Approve)
        .await;
    let (status, json) = browser
        .callback_json(&with_param(&callback, "iss", None))
        .await;
    assert_eq!(
        (status, json["error"].as_str()),
        (400, Some("issuer_mismatch")),
        "{json}"
    );
    assert!(json["message"].as_str().unwrap().contains("RFC 9207"));
    assert!(app.stdout.documents().is_empty());
}

#[tokio::test]
async fn access_denied_is_shown_with_the_providers_own_words() {
    let provider = LocalProvider::start();
    let app = public_app(&provider).await;
    let browser = Browser::new();
    let callback = browser
        .authorize(&app.login_url(), &app.redirect_uri, "erin", Choice::Abort)
        .await;
    let (status, json) = browser.callback_json(&callback).await;
    assert_eq!(status, 400);
    assert_eq!(json["error"], "access_denied");
    assert_eq!(json["error_description"], "End-User aborted interaction");
    assert_eq!(json["step"], "authorization");

    // The page says the same, escaped, with a hint.
    let callback = browser
        .authorize(&app.login_url(), &app.redirect_uri, "erin", Choice::Abort)
        .await;
    let html = browser
        .client()
        .get(callback)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("access_denied") && html.contains("End-User aborted interaction"),
        "{html}"
    );
    assert!(html.contains("declined"), "{html}");
}

#[tokio::test]
async fn a_wrong_client_secret_names_the_setting_to_fix() {
    let provider = LocalProvider::start();
    let app = spawn_app(cli_for(
        &provider.issuer,
        CONFIDENTIAL_ID,
        Some("not-the-secret"),
    ))
    .await;
    let browser = Browser::new();
    let callback = browser
        .authorize(
            &app.login_url(),
            &app.redirect_uri,
            "frank",
            Choice::Approve,
        )
        .await;
    let (status, json) = browser.callback_json(&callback).await;
    assert_eq!(status, 502, "{json}");
    assert_eq!(json["error"], "invalid_client");
    assert_eq!(json["step"], "token");
    assert!(
        json["hint"].as_str().unwrap().contains("CLIENT_SECRET"),
        "{json}"
    );
    assert!(!json.to_string().contains("not-the-secret"));
    assert!(!json.to_string().contains(CONFIDENTIAL_SECRET));
}
