//! Working with every real provider: client authentication methods, and the quirks of
//! providers that bend the specs (GitHub above all).

use serde_json::Value;

use crate::support::app::{cli_for, spawn_app};
use crate::support::browser::{Browser, Choice};
use crate::support::provider::{
    BASIC_ID, BASIC_SECRET, CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider,
};
use crate::support::standin::{self, Quirk};

#[tokio::test]
async fn client_secret_basic_form_encodes_a_secret_full_of_special_characters() {
    let provider = LocalProvider::start();
    let mut cli = cli_for(&provider.issuer, BASIC_ID, Some(BASIC_SECRET));
    cli.auth_method = Some("client_secret_basic".into());
    let app = spawn_app(cli).await;
    let browser = Browser::new();
    let (status, json) = app.sign_in(&browser, "pat").await;
    assert_eq!(status, 200, "{json}");
    // Introspection (oauth2 crate) and revocation (built here) authenticate the same way.
    let html = app.page(&browser, "/tokeninfo").await;
    assert!(
        html.contains("authorization: Basic [client credentials masked]"),
        "{html}"
    );
    assert!(
        !html.contains("client_secret="),
        "basic sends no secret in the body"
    );
    let report = app.json(&browser, "/tokeninfo").await;
    assert_eq!(report["response"]["active"], true, "{report}");
    let html = app.page(&browser, "/revoke").await;
    assert!(
        html.contains("revoke:refresh succeeded")
            && html.contains("Basic [client credentials masked]"),
        "{html}"
    );
}

/// Signs in against the stand-in, as GitHub is configured: endpoints by hand, no OpenID.
async fn quirky(quirk: Quirk) -> (u16, Value, String) {
    let standin = standin::start(quirk).await;
    let mut cli = cli_for("", "Iv1.standin", Some("standin-secret"));
    cli.issuer = None;
    cli.authorize_url = Some(format!("{}/login/oauth/authorize", standin.base));
    cli.token_url = Some(format!("{}/login/oauth/access_token", standin.base));
    cli.scopes = Some("repo user".into());
    let app = spawn_app(cli).await;
    let browser = Browser::new();
    let callback = |browser: &Browser| {
        let (client, login) = (browser.client().clone(), app.login_url());
        async move {
            let login = client.get(login).send().await.unwrap();
            let to_provider = login.headers()["location"].to_str().unwrap().to_owned();
            let back = client.get(&to_provider).send().await.unwrap();
            url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap()
        }
    };
    let (status, json) = browser.callback_json(&callback(&browser).await).await;
    // A second sign-in, as a person sees it.
    let page = browser
        .client()
        .get(callback(&browser).await)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (status, json, page)
}

#[tokio::test]
async fn a_form_encoded_token_response_is_read_and_named() {
    let (status, json, page) = quirky(Quirk::FormEncoded).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["access_token"], "gho_standin0123456789");
    assert_eq!(
        json["scope"], "repo,user",
        "printed as the provider sent it"
    );
    assert!(
        page.contains("provider.quirk") && page.contains("form-encoded"),
        "{page}"
    );
    assert!(page.contains("comma-separated"), "{page}");
}

#[tokio::test]
async fn an_error_with_http_200_is_an_error() {
    let (status, json, page) = quirky(Quirk::ErrorWith200).await;
    assert_eq!(status, 502, "{json}");
    assert_eq!(json["error"], "bad_verification_code");
    assert_eq!(
        json["error_description"],
        "The code passed is incorrect or expired."
    );
    assert_eq!(json["step"], "token");
    assert!(page.contains("bad_verification_code"), "{page}");
}

#[tokio::test]
async fn string_lifetimes_array_scopes_and_capital_token_types_are_accepted() {
    let (status, json, page) = quirky(Quirk::Strings).await;
    assert_eq!(status, 200, "{json}");
    assert!(page.contains("expires_in is the string"), "{page}");
    assert_eq!(
        json["expires_in"], "3600",
        "printed as the provider sent it"
    );
    assert_eq!(json["scope"], serde_json::json!(["repo", "user"]));
    assert_eq!(json["token_type"], "BEARER");
}

#[tokio::test]
async fn extra_parameters_from_the_command_line_and_from_login() {
    let provider = LocalProvider::start();
    let mut cli = cli_for(&provider.issuer, CONFIDENTIAL_ID, Some(CONFIDENTIAL_SECRET));
    cli.params = vec![
        "acr_values=urn:example:loa:2".into(),
        "login_hint=from-flag".into(),
    ];
    let app = spawn_app(cli).await;
    let browser = Browser::new();
    let login = browser
        .client()
        .get(format!(
            "{}?login_hint=from-login&state=forged&prompt=consent",
            app.login_url()
        ))
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(login.headers()["location"].to_str().unwrap()).unwrap();
    let q: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    let get = |k: &str| {
        q.iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(get("acr_values"), ["urn:example:loa:2"]);
    assert_eq!(
        get("login_hint"),
        ["from-login"],
        "/login wins over --param, once"
    );
    assert_eq!(get("prompt"), ["consent"]);
    assert_eq!(get("state").len(), 1);
    assert_ne!(get("state"), ["forged"], "the client sets state itself");
    // The provider accepts such a request end to end.
    let callback = browser
        .authorize(&app.login_url(), &app.redirect_uri, "rita", Choice::Approve)
        .await;
    assert_eq!(browser.callback_json(&callback).await.0, 200);
}

#[tokio::test]
async fn pushed_authorization_requests_end_to_end() {
    let provider = LocalProvider::start();
    let mut cli = cli_for(&provider.issuer, CONFIDENTIAL_ID, Some(CONFIDENTIAL_SECRET));
    cli.par = true;
    let app = spawn_app(cli).await;
    let browser = Browser::new();
    let login = browser.client().get(app.login_url()).send().await.unwrap();
    let location = url::Url::parse(login.headers()["location"].to_str().unwrap()).unwrap();
    let keys: Vec<String> = location
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(
        keys,
        ["client_id", "request_uri"],
        "only the reference travels through the browser"
    );
    let (status, json) = app.sign_in(&browser, "sam").await;
    assert_eq!(status, 200, "{json}");
    assert!(json["id_token"].is_string());
}
