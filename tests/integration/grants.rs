//! `--grant client_credentials` and `--grant device` (RFC 6749 section 4.4, RFC 8628): the
//! binary against the real provider (tests/provider/provider.mjs offers both grants, to its
//! clients test-machine and test-device), one command each, as a CI job runs them.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::binary::{Finished, spawn};
use crate::support::provider::LocalProvider;

const MACHINE_ID: &str = "test-machine";
const MACHINE_SECRET: &str = "test-machine-secret";
const DEVICE_ID: &str = "test-device";
const DEVICE_SECRET: &str = "test-device-secret";

/// Runs the binary with `args` and `env` until it exits, off the test's runtime (so servers
/// the test started keep serving it).
async fn run(args: &[&str], env: &[(&str, &str)]) -> Finished {
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(args, env, dir.path());
    tokio::task::spawn_blocking(move || running.finish(Duration::from_secs(60)))
        .await
        .unwrap()
}

fn only_document(done: &Finished) -> Value {
    let docs = done.documents();
    assert_eq!(docs.len(), 1, "one document: {}", done.stdout);
    docs[0].clone()
}

/// Every check passed (warnings included: none is expected against this provider).
fn assert_every_check_passes(doc: &Value) {
    let checks = doc["checks"].as_array().expect("checks");
    assert!(!checks.is_empty());
    for check in checks {
        assert_eq!(check["result"], "pass", "{check}");
    }
}

fn steps(doc: &Value) -> Vec<(String, bool)> {
    doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap().to_owned(), s["ok"] == true))
        .collect()
}

/// `--grant client_credentials` as test-machine (client_secret_basic) for `resource_url`.
async fn client_credentials(
    provider: &LocalProvider,
    resource_url: &str,
    args: &[&str],
) -> Finished {
    let mut all = vec!["--once", "--grant", "client_credentials", "--report"];
    all.extend_from_slice(args);
    run(
        &all,
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", MACHINE_ID),
            ("CLIENT_SECRET", MACHINE_SECRET),
            ("OAUTH_AUTH_METHOD", "client_secret_basic"),
            ("OAUTH_SCOPES", "api:read"),
            ("RESOURCE_URL", resource_url),
            ("RUST_LOG", "oauth_test_client=trace"),
        ],
    )
    .await
}

fn check_names(doc: &Value) -> Vec<String> {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_then_api_and_tokeninfo_exits_0_with_every_check_passing() {
    let provider = LocalProvider::start();
    let api = crate::support::resource::start(&provider.issuer).await;
    let resource_url = format!("{}/api", api.base);
    let done = client_credentials(
        &provider,
        &resource_url,
        &["--then", "api,tokeninfo:access"],
    )
    .await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let doc = only_document(&done);
    assert_every_check_passes(&doc);
    let names = check_names(&doc);
    for expected in [
        "token.token_type",
        "token.expires_in",
        "token.scope",
        "token.refresh_token",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    assert!(doc["token"].get("refresh_token").is_none());
    assert!(doc["token"].get("id_token").is_none());
    assert_eq!(doc["token"]["scope"], "api:read");
    assert_eq!(
        steps(&doc),
        [("api".into(), true), ("tokeninfo:access".into(), true)]
    );
    // RFC 8707: the token is for RESOURCE_URL; the API took it.
    let info = &doc["steps"][1]["response"];
    assert_eq!(info["client_id"], MACHINE_ID);
    assert_eq!(info["aud"], resource_url.as_str(), "{info}");
    // Nothing secret on stderr, at trace level.
    let token = doc["token"]["access_token"].as_str().unwrap();
    assert!(!done.stderr.contains(token) && !done.stderr.contains(MACHINE_SECRET));
    assert!(
        !done.stderr.contains("Sign in at"),
        "no server, no sign-in URL"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_access_token_from_client_credentials_is_verified() {
    let provider = LocalProvider::start_with(json!({ "jwt_access_tokens": true }));
    let resource_url = "https://api.example/m2m";
    let done = client_credentials(&provider, resource_url, &[]).await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let doc = only_document(&done);
    assert_every_check_passes(&doc);
    assert!(
        check_names(&doc)
            .iter()
            .any(|n| n == "access_token.signature")
    );
    assert_eq!(doc["access_token_claims"]["aud"], resource_url);
    assert_eq!(doc["access_token_claims"]["client_id"], MACHINE_ID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_with_a_wrong_secret_exits_1_with_the_providers_error() {
    let provider = LocalProvider::start();
    let done = run(
        &["--grant", "client_credentials", "--then", "revoke:access"],
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", MACHINE_ID),
            ("CLIENT_SECRET", "not-the-secret"),
            ("OAUTH_AUTH_METHOD", "client_secret_basic"),
        ],
    )
    .await;
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    let doc = only_document(&done);
    assert_eq!(doc["error"], "invalid_client", "{doc}");
    assert_eq!(doc["step"], "token");
    assert!(doc["hint"].as_str().unwrap().contains("CLIENT_SECRET"));
}

#[test]
fn client_credentials_refuses_steps_that_need_a_user_or_a_refresh_token_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    for step in ["refresh", "userinfo", "tokeninfo", "revoke"] {
        let done = spawn(
            &["--grant", "client_credentials", "--then", step],
            &[
                ("OAUTH_ISSUER", "https://idp.example"),
                ("CLIENT_ID", MACHINE_ID),
            ],
            dir.path(),
        )
        .finish(Duration::from_secs(30));
        assert_eq!(done.code, Some(2), "{step}: {}", done.stderr);
        assert!(
            done.stderr.contains(&format!("--then {step}"))
                && done.stderr.contains("--grant client_credentials"),
            "{}",
            done.stderr
        );
        assert!(done.stdout.is_empty());
    }
}

/// `--grant device` with `args` added, as test-device, the test user in the environment.
async fn device(provider: &LocalProvider, args: &[&str]) -> Finished {
    let mut all = vec!["--once", "--grant", "device"];
    all.extend_from_slice(args);
    run(
        &all,
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", DEVICE_ID),
            ("CLIENT_SECRET", DEVICE_SECRET),
            ("OAUTH_SCOPES", "openid email offline_access"),
            ("OAUTH_TEST_USERNAME", "mia"),
            ("OAUTH_TEST_PASSWORD", "any"),
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_grant_signed_in_by_the_driver_exits_0_then_refreshes_and_calls_userinfo() {
    let provider = LocalProvider::start_with(json!({ "device_interval": 1 }));
    let started = Instant::now();
    let done = device(
        &provider,
        &["--sign-in", "--report", "--then", "refresh,userinfo"],
    )
    .await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let doc = only_document(&done);
    assert_every_check_passes(&doc);
    let names: Vec<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"id_token.signature"), "{names:?}");
    assert!(
        !names.contains(&"id_token.nonce"),
        "no nonce in the device grant, so no nonce check: {names:?}"
    );
    assert_eq!(doc["id_token_claims"]["sub"], "mia");
    assert_eq!(
        steps(&doc),
        [("refresh".into(), true), ("userinfo".into(), true)]
    );
    assert_eq!(doc["steps"][1]["response"]["sub"], "mia");
    // The user code and both URIs on stderr (RFC 8628 section 3.3).
    assert!(
        done.stderr.contains("/oauth/device and enter the code ")
            && done.stderr.contains("/oauth/device?user_code="),
        "{}",
        done.stderr
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_device_authorization_exits_1_with_access_denied() {
    let provider = LocalProvider::start_with(json!({ "device_interval": 1 }));
    let done = device(&provider, &["--sign-in", "--consent", "deny"]).await;
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    let doc = only_document(&done);
    assert_eq!(doc["error"], "access_denied", "{doc}");
    assert_eq!(doc["step"], "device_token");
    assert!(doc["message"].as_str().unwrap().contains("denied"));
    assert!(done.stderr.contains("denied the device authorization"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_device_code_exits_1_with_expired_token() {
    // Nobody enters the code, which lives 2 s.
    let provider = LocalProvider::start_with(json!({ "device_interval": 1, "device_code_ttl": 2 }));
    let done = device(&provider, &[]).await;
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    let doc = only_document(&done);
    assert_eq!(doc["error"], "expired_token", "{doc}");
    assert!(doc["message"].as_str().unwrap().contains("expired"));
    assert!(doc["hint"].as_str().unwrap().contains("expires_in"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_code_nobody_enters_ends_at_the_timeout_with_exit_3() {
    let provider = LocalProvider::start_with(json!({ "device_interval": 1 }));
    let done = device(&provider, &["--timeout", "2"]).await;
    assert_eq!(done.code, Some(3), "{}\n{}", done.stdout, done.stderr);
    assert!(done.stdout.is_empty());
    assert!(
        done.stderr
            .contains("neither approved nor denied within 2 s")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_at_the_verification_page_exits_1_naming_the_sign_in() {
    // provider.mjs's own pages check the password (devInteractions take any).
    let provider = LocalProvider::start_with(json!({
        "device_interval": 1,
        "interactions": "password",
    }));
    let artifacts = tempfile::tempdir().unwrap();
    let mut all = vec!["--once", "--grant", "device", "--sign-in", "--artifacts"];
    all.push(artifacts.path().to_str().unwrap());
    let started = Instant::now();
    let done = run(
        &all,
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", DEVICE_ID),
            ("CLIENT_SECRET", DEVICE_SECRET),
            ("OAUTH_SCOPES", "openid"),
            ("OAUTH_TEST_USERNAME", crate::signin::USER),
            ("OAUTH_TEST_PASSWORD", "wrong"),
        ],
    )
    .await;
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    let doc = only_document(&done);
    assert_eq!(doc["step"], "sign_in", "{doc}");
    assert_eq!(doc["error"], "sign_in_rejected", "{doc}");
    assert!(
        doc["message"]
            .as_str()
            .unwrap()
            .contains("did not accept the password"),
        "{doc}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the driver's error ends the run at the next poll, not at the timeout"
    );
}

/// Issue 23 item 1: the device grant's sign-in with the default driver (auto) on a login page
/// drawn by JavaScript. The http driver cannot read it; that is no "page with nothing left to
/// do" (the password was never sent): the run ends at once on the http driver's error, which
/// names the browser driver, never at the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_drawn_login_page_in_the_device_grant_is_not_taken_for_its_end() {
    let provider = LocalProvider::start_with(json!({
        "device_interval": 1,
        "interactions": "script_form",
    }));
    let started = Instant::now();
    let done = run(
        &[
            "--once",
            "--grant",
            "device",
            "--sign-in",
            "--timeout",
            "40",
        ],
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", DEVICE_ID),
            ("CLIENT_SECRET", DEVICE_SECRET),
            ("OAUTH_SCOPES", "openid"),
            ("OAUTH_TEST_USERNAME", crate::signin::USER),
            ("OAUTH_TEST_PASSWORD", crate::signin::PASSWORD),
        ],
    )
    .await;
    assert!(
        !done.stderr.contains("nothing left to do"),
        "{}",
        done.stderr
    );
    // With the browser driver built, auto cannot start it over (the http driver has used
    // the user code by then): it says to run with --sign-in-driver browser.
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    let doc = only_document(&done);
    assert_eq!(doc["step"], "sign_in", "{doc}");
    assert_eq!(doc["error"], "sign_in_no_form", "{doc}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the driver's error ends the run, not the timeout: {:?}",
        started.elapsed()
    );
    if cfg!(feature = "browser") {
        assert!(
            done.stderr
                .contains("run again with --sign-in-driver browser"),
            "{}",
            done.stderr
        );
    }
}

/// `--grant client_credentials --dpop` against a provider that asks for DPoP nonces and an API
/// that takes only DPoP-bound tokens with a proof: the token request carries a proof (and is
/// sent again with the nonce), the token is bound to this run's key, and the API takes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_with_dpop_gets_a_bound_token_that_the_api_takes() {
    let provider = LocalProvider::start_with(json!({ "dpop": "nonce" }));
    let api = crate::support::resource::start(&provider.issuer).await;
    let resource_url = format!("{}/dpop", api.base);
    let done = client_credentials(&provider, &resource_url, &["--dpop", "--then", "api"]).await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let doc = only_document(&done);
    assert_every_check_passes(&doc);
    assert!(
        doc["token"]["token_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("dpop")),
        "{doc}"
    );
    let names = check_names(&doc);
    for expected in [
        "token.token_type",
        "dpop.cnf_jkt",
        "dpop.api_refuses_bearer",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    assert_eq!(steps(&doc), [("api".into(), true)]);
    assert!(
        done.stderr.contains("asked for a DPoP nonce"),
        "the provider's nonce challenge was answered: {}",
        done.stderr
    );
}
