//! Finding the provider: discovery, its issuer check, Clerk mode over HTTPS with a test CA,
//! and Clerk's fixed paths when discovery is missing.

use base64::Engine as _;
use serde_json::json;

use crate::support::app::{cli_for, confidential_app, spawn_app, try_spawn_app};
use crate::support::browser::{Browser, Choice};
use crate::support::provider::{
    CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider, PUBLIC_ID, TestCa,
};
use oauth_test_client::config::Config;
use oauth_test_client::error::RunError;
use oauth_test_client::provider::{DiscoveryError, EndpointOrigin, Provider};

fn clerk_key(frontend_api: &str) -> String {
    // Clerk's keys are unpadded base64 as often as padded: use the unpadded form here.
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(format!("{frontend_api}$"));
    format!("pk_test_{b64}")
}

fn https_provider(ca: &TestCa, discovery: bool) -> LocalProvider {
    LocalProvider::start_with(json!({
        "https": { "cert": ca.cert_pem, "key": ca.key_pem },
        "host": "localhost",
        "discovery": discovery,
    }))
}

#[tokio::test]
async fn clerk_mode_end_to_end_over_https_with_a_test_ca() {
    let ca = TestCa::new();
    let provider = https_provider(&ca, true);
    assert!(provider.issuer.starts_with("https://localhost:"));
    let mut cli = cli_for("", CONFIDENTIAL_ID, Some(CONFIDENTIAL_SECRET));
    cli.issuer = None;
    cli.publishable_key = Some(clerk_key(&format!("localhost:{}", provider.port)));
    cli.ca_cert = Some(ca.ca_pem.display().to_string());
    let app = spawn_app(cli).await;
    let browser = Browser::with_ca(Some(&ca.ca_pem));
    let (status, json) = app.sign_in(&browser, "hana").await;
    assert_eq!(status, 200, "{json}");
    assert!(
        json["access_token"].is_string()
            && json["id_token"].is_string()
            && json["refresh_token"].is_string()
    );
}

#[tokio::test]
async fn clerk_mode_falls_back_to_clerks_fixed_paths_without_discovery() {
    let ca = TestCa::new();
    let provider = https_provider(&ca, false);
    let mut cli = cli_for("", PUBLIC_ID, None);
    cli.issuer = None;
    cli.publishable_key = Some(clerk_key(&format!("localhost:{}", provider.port)));
    cli.ca_cert = Some(ca.ca_pem.display().to_string());
    let app = spawn_app(cli).await;
    let html = reqwest::get(&app.base).await.unwrap().text().await.unwrap();
    assert!(
        html.contains("Clerk&#39;s fixed paths") || html.contains("Clerk's fixed paths"),
        "{html}"
    );
    let browser = Browser::with_ca(Some(&ca.ca_pem));
    let (status, json) = app.sign_in(&browser, "ivan").await;
    assert_eq!(status, 200, "{json}");
    assert!(json["access_token"].is_string());
}

#[tokio::test]
async fn an_untrusted_certificate_points_at_oauth_ca_cert() {
    let ca = TestCa::new();
    let provider = https_provider(&ca, true);
    let mut cli = cli_for("", PUBLIC_ID, None);
    cli.issuer = None;
    cli.publishable_key = Some(clerk_key(&format!("localhost:{}", provider.port)));
    let err = try_spawn_app(cli)
        .await
        .err()
        .expect("an untrusted CA must fail");
    assert!(
        matches!(err, RunError::Discovery(DiscoveryError::Unreachable { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("OAUTH_CA_CERT"), "{err}");
}

#[tokio::test]
async fn a_metadata_issuer_that_differs_is_refused_before_any_redirect() {
    let provider = LocalProvider::start();
    // Same server, other name: the metadata says 127.0.0.1, the configuration says localhost.
    let configured = provider.issuer.replace("127.0.0.1", "localhost");
    let err = try_spawn_app(cli_for(&configured, PUBLIC_ID, None))
        .await
        .err()
        .expect("must fail");
    assert!(
        matches!(
            err,
            RunError::Discovery(DiscoveryError::IssuerMismatch { .. })
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&provider.issuer) && msg.contains("OAUTH_ISSUER"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_trailing_slash_on_the_issuer_is_tolerated() {
    let provider = LocalProvider::start();
    let app = spawn_app(cli_for(&format!("{}/", provider.issuer), PUBLIC_ID, None)).await;
    let browser = Browser::new();
    let (status, json) = app.sign_in(&browser, "jo").await;
    assert_eq!(status, 200, "{json}");
}

#[tokio::test]
async fn no_discovery_without_a_clerk_key_names_both_urls() {
    let provider = LocalProvider::start_with(json!({ "discovery": false }));
    let err = try_spawn_app(cli_for(&provider.issuer, PUBLIC_ID, None))
        .await
        .err()
        .expect("must fail");
    let msg = err.to_string();
    assert!(
        matches!(err, RunError::Discovery(DiscoveryError::NotFound { .. })),
        "{msg}"
    );
    assert!(
        msg.contains("/.well-known/openid-configuration")
            && msg.contains("/.well-known/oauth-authorization-server")
    );
    assert!(msg.contains("HTTP 404"), "{msg}");
}

#[tokio::test]
async fn without_discovery_the_endpoints_given_by_hand_are_used() {
    let provider = LocalProvider::start_with(json!({ "discovery": false }));
    let at = |path: &str| Some(format!("{}{path}", provider.issuer));
    let mut cli = cli_for("", CONFIDENTIAL_ID, Some(CONFIDENTIAL_SECRET));
    cli.issuer = None;
    cli.authorize_url = at("/oauth/authorize");
    cli.token_url = at("/oauth/token");
    cli.userinfo_url = at("/oauth/userinfo");
    cli.jwks_url = at("/.well-known/jwks.json");
    let app = spawn_app(cli).await;
    let html = reqwest::get(&app.base).await.unwrap().text().await.unwrap();
    assert!(html.contains("Given by hand"), "{html}");
    let browser = Browser::new();
    let callback = browser
        .authorize(&app.login_url(), &app.redirect_uri, "otto", Choice::Approve)
        .await;
    let page = browser
        .client()
        .get(callback)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("every check passed"),
        "the ID token verified with OAUTH_JWKS_URL: {page}"
    );
    let response = browser
        .client()
        .get(format!("{}/userinfo", app.origin()))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let report: serde_json::Value = response.json().await.unwrap();
    assert_eq!(report["response"]["sub"], "otto", "{report}");
}

/// django-oauth-toolkit's split: the OpenID document lacks these, the RFC 8414 one has them.
const SPLIT: [&str; 3] = [
    "introspection_endpoint",
    "revocation_endpoint",
    "registration_endpoint",
];

async fn discover(provider: &LocalProvider) -> Provider {
    let cli = cli_for(&provider.issuer, CONFIDENTIAL_ID, Some(CONFIDENTIAL_SECRET));
    Provider::discover(&Config::from_cli(&cli).unwrap())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn endpoints_only_in_the_rfc_8414_document_are_read_from_it_and_attributed() {
    let provider =
        LocalProvider::start_with(json!({ "split_metadata": true, "registration": true }));
    let openid = format!("{}/.well-known/openid-configuration", provider.issuer);
    let oauth = format!("{}/.well-known/oauth-authorization-server", provider.issuer);
    let found = discover(&provider).await;
    assert_eq!(
        found
            .registration_endpoint
            .as_ref()
            .map(ToString::to_string),
        Some(format!("{}/oauth/register", provider.issuer))
    );
    assert!(found.endpoints.revocation.is_some() && found.endpoints.introspection.is_some());
    for name in SPLIT {
        assert_eq!(
            found.origin(name),
            Some(&EndpointOrigin::Document(oauth.clone())),
            "{name}"
        );
    }
    assert_eq!(
        found.origin("token_endpoint"),
        Some(&EndpointOrigin::Document(openid.clone()))
    );
    assert!(found.metadata_warnings.is_empty());

    // The index page names each endpoint's document.
    let app = confidential_app(&provider).await;
    let html = reqwest::get(&app.base).await.unwrap().text().await.unwrap();
    for (name, path, from) in [
        ("revocation_endpoint", "/oauth/revoke", &oauth),
        ("registration_endpoint", "/oauth/register", &oauth),
        ("token_endpoint", "/oauth/token", &openid),
    ] {
        let row = format!(
            "<th scope=\"row\">{name}</th><td><code>{}{path}</code></td><td><code>{from}</code></td>",
            provider.issuer
        );
        assert!(html.contains(&row), "{row} in {html}");
    }
    assert!(
        html.contains(&format!("and {oauth} for what it lacks")),
        "{html}"
    );
}

#[tokio::test]
async fn a_second_document_naming_another_issuer_is_not_merged_and_is_named() {
    let provider = LocalProvider::start_with(
        json!({ "split_metadata": "other_issuer", "registration": true }),
    );
    let found = discover(&provider).await;
    assert!(found.registration_endpoint.is_none());
    assert!(found.endpoints.revocation.is_none() && found.endpoints.introspection.is_none());
    for name in SPLIT {
        assert_eq!(found.origin(name), None, "{name}");
    }
    let [warning] = found.metadata_warnings.as_slice() else {
        panic!("one warning: {:?}", found.metadata_warnings);
    };
    let message = warning.to_string();
    for words in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
        "https://other-issuer.example",
        "registration_endpoint",
        "OAUTH_REVOCATION_URL",
    ] {
        assert!(message.contains(words), "{words} in {message}");
    }
    let app = confidential_app(&provider).await;
    let html = reqwest::get(&app.base).await.unwrap().text().await.unwrap();
    assert!(html.contains("other-issuer.example"), "{html}");
}
