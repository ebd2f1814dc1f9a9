//! `spawn_app`: the real app, in process, on port 0, against a given issuer.

use oauth_test_client::cli::Cli;

use super::browser::{Browser, Choice};
use super::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider, PUBLIC_ID};
use oauth_test_client::config::Config;
use oauth_test_client::output::{Captured, Output};
use oauth_test_client::startup::Application;

pub struct TestApp {
    pub port: u16,
    pub base: String,
    pub redirect_uri: String,
    pub stdout: Captured,
    handle: actix_web::dev::ServerHandle,
}

impl TestApp {
    /// `/login` on the redirect URI's host, as the app prints it: the flow's binding cookie
    /// is set there, and comes back with the callback.
    pub fn login_url(&self) -> String {
        let mut url = url::Url::parse(&self.redirect_uri).expect("redirect URI");
        url.set_path("/login");
        url.set_query(None);
        url.to_string()
    }

    /// Signs in as `user` through the provider's own forms and fetches the callback as JSON.
    pub async fn sign_in(&self, browser: &Browser, user: &str) -> (u16, serde_json::Value) {
        let callback = browser
            .authorize(&self.login_url(), &self.redirect_uri, user, Choice::Approve)
            .await;
        browser.callback_json(&callback).await
    }

    /// The redirect URI's origin: where the browser that signed in holds the app's cookies.
    pub fn origin(&self) -> String {
        let url = url::Url::parse(&self.redirect_uri).expect("redirect URI");
        url.origin().ascii_serialization()
    }

    /// GETs a page, as a person's browser would (on the host its cookies are for), and
    /// returns its HTML.
    pub async fn page(&self, browser: &Browser, path: &str) -> String {
        let response = browser
            .client()
            .get(format!("{}{path}", self.origin()))
            .send()
            .await
            .unwrap();
        response.text().await.unwrap()
    }

    /// GETs a path asking for JSON (an action's report); the request itself must answer 200.
    pub async fn json(&self, browser: &Browser, path: &str) -> serde_json::Value {
        let response = browser
            .client()
            .get(format!("{}{path}", self.origin()))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        // Stop without waiting: the runtime may be shutting down with the test.
        drop(handle.stop(false));
    }
}

/// The options every test shares; adjust the returned `Cli` before calling `spawn_app`.
pub fn cli_for(issuer: &str, client_id: &str, secret: Option<&str>) -> Cli {
    Cli {
        issuer: Some(issuer.to_owned()),
        client_id: Some(client_id.to_owned()),
        client_secret: secret.map(str::to_owned),
        port: Some("0".to_owned()),
        no_browser: true,
        http_timeout: Some("10".to_owned()),
        ..Cli::default()
    }
}

/// The app as the public client of the local provider (PKCE, no secret).
pub async fn public_app(provider: &LocalProvider) -> TestApp {
    spawn_app(cli_for(&provider.issuer, PUBLIC_ID, None)).await
}

/// The app as the confidential client of the local provider.
pub async fn confidential_app(provider: &LocalProvider) -> TestApp {
    spawn_app(cli_for(
        &provider.issuer,
        CONFIDENTIAL_ID,
        Some(CONFIDENTIAL_SECRET),
    ))
    .await
}

pub async fn spawn_app(cli: Cli) -> TestApp {
    try_spawn_app(cli)
        .await
        .unwrap_or_else(|e| panic!("the app did not start: {e}"))
}

/// The app through `Application::build`, the one startup path `run` takes too (resource-first
/// discovery, provider discovery, the PAR check, registration, binding).
pub async fn try_spawn_app(cli: Cli) -> Result<TestApp, oauth_test_client::error::RunError> {
    let config = Config::from_cli(&cli)?;
    let (output, stdout) = Output::capture();
    // --once is exercised through the real binary (tests/integration/binary.rs).
    let app = Application::build(config, output).await?;
    let port = app.port();
    let redirect_uri = app.redirect_uri().to_owned();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    Ok(TestApp {
        port,
        base: format!("http://127.0.0.1:{port}"),
        redirect_uri,
        stdout,
        handle,
    })
}
