//! The sign-in round trip against the real local provider.

use serde_json::Value;

use crate::support::app::{confidential_app, public_app};
use crate::support::browser::{Browser, Choice};
use crate::support::provider::LocalProvider;

fn assert_token_json(json: &Value) {
    let obj = json.as_object().expect("token JSON is an object");
    for field in [
        "access_token",
        "expires_in",
        "id_token",
        "refresh_token",
        "scope",
        "token_type",
    ] {
        assert!(obj.contains_key(field), "token JSON lacks {field}: {json}");
    }
    assert_eq!(
        json["token_type"].as_str().unwrap().to_ascii_lowercase(),
        "bearer"
    );
}

#[tokio::test]
async fn confidential_client_signs_in_and_gets_the_whole_token_json() {
    let provider = LocalProvider::start();
    let app = confidential_app(&provider).await;
    let browser = Browser::new();
    let callback = browser
        .authorize(
            &app.login_url(),
            &app.redirect_uri,
            "alice",
            Choice::Approve,
        )
        .await;
    assert!(
        app.redirect_uri.starts_with("http://localhost:"),
        "default redirect URI: {}",
        app.redirect_uri
    );
    let (status, json) = browser.callback_json(&callback).await;
    assert_eq!(status, 200, "{json}");
    assert_token_json(&json);
    // Exactly the same JSON went to stdout.
    assert_eq!(app.stdout.documents(), vec![json]);
}

#[tokio::test]
async fn public_client_signs_in_with_pkce_and_no_secret() {
    let provider = LocalProvider::start();
    let app = public_app(&provider).await;
    let browser = Browser::new();
    let login = browser.client().get(app.login_url()).send().await.unwrap();
    assert_eq!(login.status(), 302);
    let authorize = url::Url::parse(login.headers()["location"].to_str().unwrap()).unwrap();
    let q: std::collections::HashMap<String, String> =
        authorize.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert!(q["state"].len() >= 22, "state carries at least 128 bits");
    assert!(q["nonce"].len() >= 22);
    assert_eq!(q["scope"], "openid profile email");
    assert_eq!(q["redirect_uri"], app.redirect_uri);

    let (status, json) = app.sign_in(&browser, "bob").await;
    assert_eq!(status, 200, "{json}\n{}", provider.stderr());
    assert_token_json(&json);
}
