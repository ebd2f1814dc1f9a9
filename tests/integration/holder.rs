//! Tokens only to the browser that signed in: another local process or user (a client without
//! the session cookie the callback set) sees the configuration on `/` but no token, and the
//! actions refuse it; the browser that signed in keeps both.

use serde_json::Value;

use crate::support::app::confidential_app;
use crate::support::browser::Browser;
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider};

/// The provider's own word on a refresh token: still usable, or consumed by a refresh.
async fn active(provider: &LocalProvider, refresh_token: &str) -> bool {
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/oauth/token_info", provider.issuer))
        .basic_auth(CONFIDENTIAL_ID, Some(CONFIDENTIAL_SECRET))
        .form(&[("token", refresh_token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["active"] == true
}

#[tokio::test]
async fn a_local_reader_without_the_cookie_sees_no_token_and_mints_nothing() {
    let provider = LocalProvider::start();
    let app = confidential_app(&provider).await;
    let browser = Browser::new();
    let (status, token) = app.sign_in(&browser, "lou").await;
    assert_eq!(status, 200, "{token}");
    let access = token["access_token"].as_str().unwrap().to_owned();
    let refresh = token["refresh_token"].as_str().unwrap().to_owned();
    let id_token = token["id_token"].as_str().unwrap().to_owned();
    let secrets = [access.as_str(), refresh.as_str(), id_token.as_str()];

    // Another local process: no cookie, a made-up session cookie, or the flow's binding
    // cookie (which a page on another port of localhost could have planted) instead.
    let readers = [
        ("no cookie", None),
        (
            "a guessed session cookie",
            Some("oauth_test_client_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ),
        (
            "a binding cookie of its own",
            Some("oauth_test_client_browser=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"),
        ),
    ];
    let stranger = reqwest::Client::new();
    for (who, cookie) in readers {
        for base in [app.origin(), app.base.clone()] {
            let get = |path: &str, json: bool| {
                let mut request = stranger.get(format!("{base}{path}"));
                if json {
                    request = request.header("Accept", "application/json");
                }
                if let Some(cookie) = cookie {
                    request = request.header("Cookie", cookie);
                }
                async move {
                    let response = request.send().await.unwrap();
                    (response.status().as_u16(), response.text().await.unwrap())
                }
            };
            let (status, html) = get("/", false).await;
            assert_eq!(status, 200, "{who}: the configuration is still shown");
            assert!(
                html.contains("Signed in") && html.contains("another browser"),
                "{who}: {html}"
            );
            assert!(html.contains(CONFIDENTIAL_ID), "{who}: {html}");
            for secret in secrets {
                assert!(!html.contains(secret), "{who}: a token on / at {base}");
            }
            assert!(!html.contains("href=\"/refresh\""), "{who}: {html}");
            for (path, json) in [
                ("/refresh", true),
                ("/refresh", false),
                ("/userinfo", true),
                ("/tokeninfo?token=access", true),
                ("/revoke", false),
            ] {
                let (status, body) = get(path, json).await;
                assert_eq!(status, 403, "{who}: {path} at {base}: {body}");
                assert!(body.contains("not_the_signed_in_browser"), "{body}");
                for secret in secrets {
                    assert!(!body.contains(secret), "{who}: a token from {path}");
                }
            }
        }
    }
    // Nothing was refreshed or revoked on their behalf: the first refresh token is unused.
    assert!(
        active(&provider, &refresh).await,
        "the refresh token is intact"
    );

    // The browser that signed in: its tokens on `/`, and the actions work.
    let html = app.page(&browser, "/").await;
    assert!(
        html.contains(&access),
        "the signed-in browser sees its token"
    );
    assert!(html.contains("href=\"/refresh\""), "{html}");
    let report = app.json(&browser, "/refresh").await;
    assert_eq!(report["ok"], true, "{report}");
    assert_ne!(report["response"]["refresh_token"], refresh.as_str());
    // The check above can see a refresh: this one consumed the first refresh token.
    assert!(!active(&provider, &refresh).await, "rotated by the refresh");
}
