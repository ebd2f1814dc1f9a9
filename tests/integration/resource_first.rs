//! Starting from the API (RFC 9728): only `--resource-url`; the resource's 401 names its
//! metadata, the metadata names the real provider, a client is registered, the flow runs
//! with the `resource` parameter, and the API takes the token.

use std::time::Duration;

use serde_json::{Value, json};

use crate::binary::{Finished, spawn};
use crate::support::provider::LocalProvider;
use crate::support::resource;
use crate::verification::check;

async fn only_the_resource(path: &str, sign_in: bool) -> (Finished, Vec<Value>) {
    only_the_resource_with(path, sign_in, "/.well-known/oauth-protected-resource/mcp").await
}

/// `metadata`: the end of the metadata URL the index page must list.
async fn only_the_resource_with(
    path: &str,
    sign_in: bool,
    metadata: &str,
) -> (Finished, Vec<Value>) {
    let provider = LocalProvider::start_with(json!({ "registration": true }));
    let api = resource::start(&provider.issuer).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}{path}", api.base);
    let running = spawn(
        &[
            "--once",
            "--report",
            "--no-browser",
            "--port",
            "0",
            "--resource-url",
            &url,
        ],
        &[],
        dir.path(),
    );
    let done = if sign_in {
        // The index lists the hops before anyone signs in.
        let index = running.sign_in_url().replace("/login", "/");
        let html = reqwest::get(index).await.unwrap().text().await.unwrap();
        assert!(html.contains("Discovery chain"), "{html}");
        assert!(html.contains(metadata), "{html}");
        assert!(html.contains("registered client_id"), "{html}");
        running.sign_in_and_finish("xena", 200).await
    } else {
        tokio::task::spawn_blocking(move || running.finish(Duration::from_secs(60)))
            .await
            .unwrap()
    };
    let docs = done.documents();
    drop(api);
    (done, docs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_chain_from_only_the_resource_url() {
    let (done, docs) = only_the_resource("/mcp", true).await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let doc = &docs[0];
    let hops: Vec<&str> = doc["discovery"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["url"].as_str().unwrap())
        .collect();
    assert!(hops[0].ends_with("/mcp"), "{hops:?}");
    assert!(
        hops[1].ends_with("/.well-known/oauth-protected-resource/mcp"),
        "{hops:?}"
    );
    assert!(
        hops[2].ends_with("/.well-known/openid-configuration"),
        "{hops:?}"
    );
    assert!(hops[3].ends_with("/oauth/register"), "{hops:?}");
    for name in [
        "resource.rejects_without_token",
        "resource_metadata.resource",
        "resource_metadata.authorization_servers",
        "resource.accepts_token",
    ] {
        assert_eq!(check(doc, name)["result"], "pass", "{}", check(doc, name));
    }
    let api = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "api")
        .unwrap();
    assert_eq!(api["ok"], true, "{api}");
    assert!(
        api["response"]["aud"].to_string().contains("/mcp"),
        "the token is for this resource: {api}"
    );
    assert!(
        done.stderr.contains("Registered a public client"),
        "{}",
        done.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_naming_another_resource_fails_the_named_check() {
    let (done, docs) = only_the_resource("/wrong", false).await;
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert!(
        !done.stderr.contains("Sign in at"),
        "no sign-in on foreign metadata"
    );
    assert_eq!(
        check(&docs[0], "resource_metadata.resource")["result"],
        "fail"
    );
    assert!(
        done.stderr.contains("RFC 9728 section 3.3"),
        "{}",
        done.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_without_metadata_says_what_is_missing() {
    let (done, docs) = only_the_resource("/nometa", false).await;
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert!(
        done.stderr.contains("resource_metadata")
            && done
                .stderr
                .contains("/.well-known/oauth-protected-resource/nometa"),
        "{}",
        done.stderr
    );
    assert_eq!(check(&docs[0], "resource_metadata.found")["result"], "fail");
    assert_eq!(
        check(&docs[0], "resource.rejects_without_token")["result"],
        "pass"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_challenge_is_found_among_several_header_lines() {
    // Line one is `Basic realm="bearer"`: not a Bearer challenge, whatever it quotes.
    let (done, docs) = only_the_resource_with(
        "/several",
        true,
        "/.well-known/oauth-protected-resource/several",
    )
    .await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let doc = &docs[0];
    assert_eq!(
        check(doc, "resource.rejects_without_token")["result"],
        "pass"
    );
    let hops = doc["discovery"].as_array().unwrap();
    assert!(
        hops[0]["learned"].as_str().unwrap().contains("Basic realm"),
        "both lines are shown: {hops:?}"
    );
    assert!(
        hops[1]["url"]
            .as_str()
            .unwrap()
            .ends_with("/.well-known/oauth-protected-resource/several"),
        "the metadata named by the Bearer line: {hops:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_build_starts_from_the_resource_and_registers_in_process() {
    use crate::support::app::spawn_app;
    use crate::support::browser::Browser;
    use oauth_test_client::cli::Cli;

    let provider = LocalProvider::start_with(json!({ "registration": true }));
    let api = resource::start(&provider.issuer).await;
    // Only the resource: the same startup path as the binary finds and registers the rest.
    let app = spawn_app(Cli {
        resource_url: Some(format!("{}/mcp", api.base)),
        port: Some("0".into()),
        no_browser: true,
        http_timeout: Some("10".into()),
        ..Cli::default()
    })
    .await;
    let browser = Browser::new();
    let index = app.page(&browser, "/").await;
    assert!(index.contains("Discovery chain"), "{index}");
    assert!(index.contains("registered client_id"), "{index}");
    let (status, token) = app.sign_in(&browser, "yuki").await;
    assert_eq!(status, 200, "{token}");
    let api_call = app.json(&browser, "/api").await;
    assert_eq!(
        api_call["ok"], true,
        "the API takes the resource-bound token: {api_call}"
    );
}

/// OAUTH_CLIENT_METADATA_URL at a real provider that does not advertise
/// `client_id_metadata_document_supported` (oidc-provider does not support Client ID Metadata
/// Documents): the tool says so and registers a client instead, and the sign-in passes.
/// (The URL client ID itself is run against the conformance suite's auth/basic-cimd.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_metadata_url_falls_back_to_registration_where_unsupported() {
    let provider = LocalProvider::start_with(json!({ "registration": true }));
    let api = resource::start(&provider.issuer).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/mcp", api.base);
    let running = spawn(
        &[
            "--once",
            "--report",
            "--no-browser",
            "--port",
            "0",
            "--resource-url",
            &url,
            "--client-metadata-url",
            "https://app.example.com/oauth-client.json",
        ],
        &[],
        dir.path(),
    );
    let done = running.sign_in_and_finish("xena", 200).await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    assert!(
        done.stderr
            .contains("does not advertise client_id_metadata_document_supported"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("Registered a public client"),
        "{}",
        done.stderr
    );
    assert!(
        !done.stdout.contains("client_metadata.document"),
        "no document check without its use"
    );
}

/// The test user's password and a client key's assertions are bound to one issuer, as a client
/// secret is: from RESOURCE_URL alone (no OAUTH_ISSUER), the run stops before anything is sent
/// to the server the resource names (issue 21, item 3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_a_client_key_need_the_issuer_pinned_like_a_client_secret() {
    let provider = LocalProvider::start_with(json!({ "registration": true }));
    let api = resource::start(&provider.issuer).await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("client-key.pem");
    std::fs::write(&key, rcgen::KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let url = format!("{}/mcp", api.base);
    let key_path = key.to_str().unwrap().to_owned();
    // (the setting named, extra flags, extra environment)
    type Run<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let runs: Vec<Run> = vec![
        (
            "--sign-in",
            vec!["--sign-in"],
            vec![
                ("OAUTH_TEST_USERNAME", "ci@example.com"),
                ("OAUTH_TEST_PASSWORD", "pinned-or-nothing-pw"),
            ],
        ),
        (
            "OAUTH_CLIENT_KEY",
            vec![],
            vec![("OAUTH_CLIENT_KEY", key_path.as_str()), ("CLIENT_ID", "x")],
        ),
    ];
    for (setting, extra, env) in runs {
        let mut args = vec![
            "--once",
            "--no-browser",
            "--port",
            "0",
            "--resource-url",
            &url,
        ];
        args.extend(extra);
        let running = spawn(&args, &env, dir.path());
        let done = tokio::task::spawn_blocking(move || running.finish(Duration::from_secs(60)))
            .await
            .unwrap();
        assert_eq!(done.code, Some(2), "{setting}: {}", done.stderr);
        let expected = format!("set OAUTH_ISSUER={}", provider.issuer);
        assert!(
            done.stderr.contains(setting)
                && done.stderr.contains("bound to no issuer")
                && done.stderr.contains(expected.trim_end_matches('/')),
            "{setting}: {}",
            done.stderr
        );
        assert!(!done.stderr.contains("pinned-or-nothing-pw"));
    }
}
