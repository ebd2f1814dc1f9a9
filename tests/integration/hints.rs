//! Issue 23: every message true for the case at hand. The binary against the real provider
//! made to behave like the providers nobody here wrote (tests/provider/provider.mjs options):
//! a registered client refused at the token endpoint, a registration reused and set aside,
//! a refresh token revoked with its access token, empty 401 answers.

use std::path::Path;

use serde_json::json;

use crate::binary::{Finished, spawn};
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider, PUBLIC_ID};

/// A port free now, so that two runs in a row have the same redirect URI.
fn free_port() -> String {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string()
}

/// A code-flow run without CLIENT_ID in `dir`, signed in by the test browser; `status` is
/// what the callback page answers.
async fn registered_run(
    provider: &LocalProvider,
    dir: &Path,
    port: &str,
    extra: &[&str],
    status: u16,
) -> Finished {
    let mut args = vec!["--once", "--no-browser", "--port", port, "--report"];
    args.extend_from_slice(extra);
    let running = spawn(&args, &[("OAUTH_ISSUER", &provider.issuer)], dir);
    running.sign_in_and_finish("uma", status).await
}

fn registration_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("oauth-test-client.registered"))
        .collect();
    names.sort();
    names
}

fn aud(done: &Finished) -> String {
    done.documents()[0]["id_token_claims"]["aud"]
        .as_str()
        .expect("an ID token for the client")
        .to_owned()
}

/// Item 10: register once, then reuse (and say so); --register registers anew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_client_is_reused_for_the_same_issuer_and_redirect_uri() {
    let provider = LocalProvider::start_with(json!({ "registration": true }));
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();

    let first = registered_run(&provider, dir.path(), &port, &[], 200).await;
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert!(
        first.stderr.contains("Registered a public client"),
        "{}",
        first.stderr
    );
    assert_eq!(
        registration_files(dir.path()),
        ["oauth-test-client.registered.env"]
    );

    let second = registered_run(&provider, dir.path(), &port, &[], 200).await;
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains("Using the public client registered earlier"),
        "{}",
        second.stderr
    );
    assert!(!second.stderr.contains("Registered a"), "{}", second.stderr);
    assert_eq!(aud(&second), aud(&first), "the same client");
    assert_eq!(registration_files(dir.path()).len(), 1);

    let forced = registered_run(&provider, dir.path(), &port, &["--register"], 200).await;
    assert_eq!(forced.code, Some(0), "{}", forced.stderr);
    assert!(
        forced.stderr.contains("Registered a public client"),
        "{}",
        forced.stderr
    );
    assert_ne!(aud(&forced), aud(&first), "a new client");
    assert_eq!(registration_files(dir.path()).len(), 2);
}

/// Item 3: a registered client refused at the token endpoint gets a hint about what was
/// registered, never "check CLIENT_ID and CLIENT_SECRET" (the user set neither); item 10: a
/// saved registration refused is set aside, so the next run registers anew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_client_refused_at_the_token_endpoint_is_explained_and_set_aside() {
    let provider = LocalProvider::start_with(json!({
        "registration": true,
        "refuse_public_at_token": true,
    }));
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();

    let first = registered_run(&provider, dir.path(), &port, &[], 502).await;
    assert_eq!(first.code, Some(1), "{}\n{}", first.stdout, first.stderr);
    let doc = &first.documents()[0];
    assert_eq!(doc["error"], "unauthorized_client", "{doc}");
    let hint = doc["hint"].as_str().unwrap();
    assert!(
        hint.contains("registered by this run")
            && hint.contains(
                "asked for token_endpoint_auth_method `none` and the response returned `none`"
            ),
        "{hint}"
    );
    assert!(!hint.contains("match the OAuth application"), "{hint}");

    let second = registered_run(&provider, dir.path(), &port, &[], 502).await;
    assert_eq!(second.code, Some(1), "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains("Using the public client registered earlier"),
        "{}",
        second.stderr
    );
    let hint = second.documents()[0]["hint"].as_str().unwrap().to_owned();
    assert!(
        hint.contains("registered by an earlier run") && hint.contains("set aside"),
        "{hint}"
    );
    assert_eq!(
        registration_files(dir.path()),
        ["oauth-test-client.registered.env.refused"]
    );
}

/// Item 9: revoking the access token revoked the refresh token too (RFC 7009 section 2.1
/// allows it): the refresh step's failure says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_after_revoking_the_access_token_says_the_grant_may_have_gone_with_it() {
    let provider = LocalProvider::start_with(json!({ "revoke_grant_with_access_token": true }));
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(
        &[
            "--once",
            "--no-browser",
            "--port",
            "0",
            "--then",
            "revoke:access,refresh",
        ],
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", CONFIDENTIAL_ID),
            ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
        ],
        dir.path(),
    );
    let done = running.sign_in_and_finish("mia", 200).await;
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    let steps = done.documents()[0]["steps"].clone();
    assert_eq!(steps[0]["ok"], true, "{steps}");
    let refresh = &steps[1];
    assert_eq!(refresh["ok"], false, "{refresh}");
    assert_eq!(refresh["response"]["error"], "invalid_grant", "{refresh}");
    let hint = refresh["hint"].as_str().unwrap_or_default();
    assert!(hint.contains("RFC 7009 section 2.1"), "{refresh}");
}

/// Item 2: a bare 401 from introspection and revocation, for a public client, where the
/// metadata lists only client_secret_basic for both: said, not "the provider failed on its
/// side".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_401_for_a_public_client_names_the_methods_the_metadata_lists() {
    let provider = LocalProvider::start_with(json!({ "empty_401": true }));
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(
        &[
            "--once",
            "--no-browser",
            "--port",
            "0",
            "--then",
            "tokeninfo:access,revoke:access",
        ],
        &[("OAUTH_ISSUER", &provider.issuer), ("CLIENT_ID", PUBLIC_ID)],
        dir.path(),
    );
    let done = running.sign_in_and_finish("mia", 200).await;
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    let steps = done.documents()[0]["steps"].clone();
    for (step, field) in [
        (&steps[0], "introspection_endpoint"),
        (&steps[1], "revocation_endpoint"),
    ] {
        assert_eq!(step["ok"], false, "{step}");
        assert_eq!(step["status"], 401, "{step}");
        let error = step["error"].as_str().unwrap();
        assert!(
            error.contains(&format!(
                "lists {field}_auth_methods_supported [\"client_secret_basic\"]"
            )) && error.contains("`none` (a public client)"),
            "{error}"
        );
        assert!(!error.contains("failed on its side"), "{error}");
    }
}

/// Item 2: client credentials without `scope` refused with a bare 401: try OAUTH_SCOPES
/// (RFC 6749 section 3.3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_without_scope_refused_with_a_bare_401_suggests_oauth_scopes() {
    let provider = LocalProvider::start_with(json!({ "empty_401": true }));
    let dir = tempfile::tempdir().unwrap();
    let done = spawn(
        &["--once", "--grant", "client_credentials", "--report"],
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", "test-machine"),
            ("CLIENT_SECRET", "test-machine-secret"),
            ("OAUTH_AUTH_METHOD", "client_secret_basic"),
            ("OAUTH_SCOPES", ""),
        ],
        dir.path(),
    );
    let done = tokio::task::spawn_blocking(move || done.finish(std::time::Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    let doc = &done.documents()[0];
    let message = doc["message"].as_str().unwrap();
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(!message.contains("failed on its side"), "{message}");
    let hint = doc["hint"].as_str().unwrap();
    assert!(
        hint.contains("No `scope` was sent") && hint.contains("section 3.3"),
        "{hint}"
    );
}
