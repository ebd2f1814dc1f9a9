//! Working with every real provider: client authentication methods, and the quirks of
//! providers that bend the specs (GitHub above all).

use serde_json::Value;

use crate::support::app::{cli_for, spawn_app};
use crate::support::browser::{Browser, Choice};
use crate::support::provider::{BASIC_ID, BASIC_SECRET, LocalProvider};

async fn action(browser: &Browser, base: &str, path: &str) -> Value {
    browser
        .client()
        .get(format!("{base}{path}"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn client_secret_basic_form_encodes_a_secret_full_of_special_characters() {
    let provider = LocalProvider::start();
    let mut cli = cli_for(&provider.issuer, BASIC_ID, Some(BASIC_SECRET));
    cli.auth_method = Some("client_secret_basic".into());
    let app = spawn_app(cli).await;
    let browser = Browser::new();
    let callback = browser
        .authorize(&app.login_url(), &app.redirect_uri, "pat", Choice::Approve)
        .await;
    let (status, json) = browser.callback_json(&callback).await;
    assert_eq!(status, 200, "{json}");
    // Introspection (oauth2 crate) and revocation (built here) authenticate the same way.
    let html = browser
        .client()
        .get(format!("{}/tokeninfo", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("authorization: Basic [client credentials masked]"),
        "{html}"
    );
    assert!(
        !html.contains("client_secret="),
        "basic sends no secret in the body"
    );
    let report = action(&browser, &app.base, "/tokeninfo").await;
    assert_eq!(report["response"]["active"], true, "{report}");
    let html = browser
        .client()
        .get(format!("{}/revoke", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("revoke:refresh succeeded")
            && html.contains("Basic [client credentials masked]"),
        "{html}"
    );
}
