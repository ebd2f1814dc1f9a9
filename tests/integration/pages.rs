//! The pages and endpoints a person or a CI script meets besides the callback.

use crate::support::app::confidential_app;
use crate::support::browser::{Browser, Choice};
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider};

#[tokio::test]
async fn index_shows_the_configuration_but_never_the_secret() {
    let provider = LocalProvider::start();
    let app = confidential_app(&provider).await;
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
    let app = confidential_app(&provider).await;
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
    let app = confidential_app(&provider).await;
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

#[tokio::test]
async fn the_one_script_is_served_cached_and_the_csp_allows_only_it() {
    let provider = LocalProvider::start();
    let app = confidential_app(&provider).await;
    let client = reqwest::Client::new();
    let page = client.get(&app.base).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap_or_else(|| panic!("no script-src in {csp}"));
    assert_eq!(script_src, "script-src 'self'", "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    let at = html.find("<script src=\"/assets/app.js?v=").expect(&html);
    assert!(
        html[at..].starts_with("<script src=\"/assets/app.js?v=")
            && html[at..].contains("defer></script>")
    );
    assert_eq!(
        html.matches("<script").count(),
        1,
        "one script, no inline code"
    );

    let script = client
        .get(format!("{}/assets/app.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let cache = script.headers()["cache-control"].to_str().unwrap();
    assert!(
        cache.contains("max-age=31536000") && !cache.contains("no-store"),
        "{cache}"
    );
    assert_eq!(script.headers()["x-content-type-options"], "nosniff");
    let body = script.text().await.unwrap();
    assert!(body.contains("navigator.clipboard") && body.contains("data-expires-at"));
}

#[tokio::test]
async fn the_result_page_says_everything_without_javascript() {
    let provider = LocalProvider::start();
    let app = confidential_app(&provider).await;
    let browser = Browser::new();
    let callback = browser
        .authorize(&app.login_url(), &app.redirect_uri, "hal", Choice::Approve)
        .await;
    let page = browser.client().get(callback).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let token = app.stdout.documents().remove(0);

    // The expiry, worked out on the server: seconds and a UTC time.
    let at = html.find("data-expires-at=\"").expect("data-expires-at") + 17;
    let expires_at: u64 = html[at..at + html[at..].find('"').unwrap()]
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        expires_at.abs_diff(now + 3600) <= 30,
        "{expires_at} vs {now}"
    );
    assert!(
        html.contains(&format!(
            "expires in 3600 s, at {}",
            oauth_test_client::oauth::time::utc(expires_at)
        )),
        "{html}"
    );
    // Every token is on the page whole (in the JSON), and each has a copy button, hidden
    // until the script shows it.
    for name in ["access_token", "refresh_token", "id_token"] {
        let value = token[name].as_str().unwrap();
        assert!(
            html.contains(&format!("data-copy=\"{value}\"")),
            "no copy button for {name}"
        );
        assert!(
            html.matches(value).count() >= 2,
            "{name} is not in the JSON as well"
        );
    }
    assert_eq!(html.matches("class=\"copy\"").count(), 4, "{html}");
    assert_eq!(
        html.matches("class=\"copy\"").count(),
        html.matches(" hidden>").count(),
        "{html}"
    );
    assert!(html.contains("<h2>ID token claims</h2>") && html.contains(">hal</code>"));
}

#[tokio::test]
async fn foreign_hosts_and_cross_site_actions_are_refused() {
    let provider = LocalProvider::start();
    let app = confidential_app(&provider).await;
    let client = reqwest::Client::new();
    // DNS rebinding: a page on attacker.example resolving to 127.0.0.1.
    let response = client
        .get(format!("{}/", app.base))
        .header("Host", format!("attacker.example:{}", app.port))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("DNS-rebinding"));
    // An <img src=http://localhost:3000/revoke> on another site.
    let response = client
        .get(format!("{}/revoke", app.base))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // The provider's redirect back is cross-site by nature, and still answered.
    let response = client
        .get(format!("{}/oauth_callback?state=x&code=y", app.base))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "reaches the state check");
    let response = client
        .get(format!("http://localhost:{}/", app.port))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// The index's Configuration table, as (setting, value) rows.
fn configuration_rows(html: &str) -> Vec<(String, String)> {
    let start = html
        .find("<h2>Configuration</h2>")
        .expect("a Configuration table");
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    table
        .split("<tr>")
        .skip(1)
        .map(|row| {
            let cell = |open: &str, close: &str| {
                let from = row.find(open).unwrap() + open.len();
                let from = from + row[from..].find('>').unwrap() + 1;
                let to = from + row[from..].find(close).unwrap();
                row[from..to].replace("<code>", "").replace("</code>", "")
            };
            (cell("<th", "</th>"), cell("<td", "</td>"))
        })
        .collect()
}

#[tokio::test]
async fn the_configuration_table_shows_the_settings_in_use_in_words() {
    let provider = LocalProvider::start();
    // A plain code flow: six rows, each in words.
    let app = confidential_app(&provider).await;
    let html = reqwest::get(&app.base).await.unwrap().text().await.unwrap();
    let rows = configuration_rows(&html);
    let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Client ID",
            "Client authentication",
            "Flow",
            "Scopes",
            "Listening on",
            "HTTP timeout"
        ],
        "{rows:?}"
    );
    let value = |name: &str| &rows.iter().find(|(n, _)| n == name).unwrap().1;
    assert_eq!(value("Client ID"), CONFIDENTIAL_ID);
    assert!(
        value("Client authentication").starts_with("the client secret, in "),
        "{rows:?}"
    );
    assert_eq!(value("Flow"), "authorization code with PKCE (S256)");
    for (name, value) in &rows {
        assert!(
            !value.starts_with('{') && !value.starts_with('[') && value != "false",
            "{name}: {value} is not in words"
        );
    }
    for absent in [
        "mcp_revision",
        "assertion_audience",
        "dpop",
        "audit",
        "client_auth",
    ] {
        assert!(!html.contains(absent), "{absent} on the index");
    }

    // What is set shows up, in words.
    let mut cli =
        crate::support::app::cli_for(&provider.issuer, CONFIDENTIAL_ID, Some(CONFIDENTIAL_SECRET));
    cli.params = vec!["prompt=consent".into()];
    cli.par = true;
    let app = crate::support::app::spawn_app(cli).await;
    let html = reqwest::get(&app.base).await.unwrap().text().await.unwrap();
    let rows = configuration_rows(&html);
    assert!(
        rows.contains(&(
            "Extra authorization parameters".into(),
            "prompt=consent".into()
        )),
        "{rows:?}"
    );
    assert!(
        rows.contains(&(
            "Flow".into(),
            "authorization code with PKCE (S256), the request pushed first (PAR)".into()
        )),
        "{rows:?}"
    );
}
