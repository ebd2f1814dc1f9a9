//! `--once --sign-in`: the binary signs in by itself, as a CI job runs it, against the real
//! provider's pages: its own devInteractions forms, and (options.interactions in
//! tests/provider/provider.mjs) pages that check the password, identifier-first pages, a
//! one-time-code page and a page whose form only a script builds.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::binary::{Finished, spawn};
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider};

/// The test user of provider.mjs's own pages (TEST_USERS, TEST_TOTP_SECRET there).
pub const USER: &str = "ci@example.com";
pub const PASSWORD: &str = "correct horse battery staple";
pub const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXP";

/// `oauth-test-client --once --sign-in --then refresh,userinfo` with the test user in the
/// environment, `args` added; waits for it to exit.
pub fn run_sign_in(
    provider: &LocalProvider,
    args: &[&str],
    env: &[(&str, &str)],
    artifacts: &Path,
) -> Finished {
    let dir = tempfile::tempdir().unwrap();
    let artifacts = artifacts.to_str().unwrap();
    let mut all = vec![
        "--once",
        "--sign-in",
        "--then",
        "refresh,userinfo",
        "--port",
        "0",
        "--artifacts",
        artifacts,
    ];
    all.extend_from_slice(args);
    let mut vars = vec![
        ("OAUTH_ISSUER", provider.issuer.as_str()),
        ("CLIENT_ID", CONFIDENTIAL_ID),
        ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
        ("OAUTH_TEST_USERNAME", USER),
    ];
    vars.extend_from_slice(env);
    if !vars.iter().any(|(k, _)| *k == "OAUTH_TEST_PASSWORD") {
        vars.push(("OAUTH_TEST_PASSWORD", PASSWORD));
    }
    spawn(&all, &vars, dir.path()).finish(Duration::from_secs(90))
}

/// Exit 0, the token, and both steps passed.
pub fn assert_signed_in(done: &Finished) -> Value {
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let docs = done.documents();
    assert_eq!(docs.len(), 1, "one document on stdout");
    let doc = docs[0].clone();
    assert!(doc["token"]["access_token"].is_string(), "{doc}");
    assert!(doc["token"]["id_token"].is_string(), "{doc}");
    let steps: Vec<(&str, bool)> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(steps, [("refresh", true), ("userinfo", true)], "{doc}");
    assert_eq!(doc["steps"][1]["response"]["sub"], USER);
    doc
}

/// Every file under `dir`, read as text.
pub fn files(dir: &Path) -> Vec<(String, String)> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        std::fs::read_to_string(e.path()).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Cookie values never reach a log line: no cookie header or provider cookie name=value.
pub fn assert_no_cookies(stderr: &str) {
    let lower = stderr.to_ascii_lowercase();
    for marker in ["set-cookie", "cookie:", "_interaction=", "_session="] {
        assert!(!lower.contains(marker), "{marker} in stderr:\n{stderr}");
    }
}

#[test]
fn sign_in_through_the_providers_own_forms_exits_0_with_the_token_and_the_steps() {
    let provider = LocalProvider::start();
    let artifacts = tempfile::tempdir().unwrap();
    // devInteractions take any password; trace logging shows that none of it leaks.
    let done = run_sign_in(
        &provider,
        &[],
        &[(
            "RUST_LOG",
            "oauth_test_client=trace,reqwest=trace,cookie_store=trace",
        )],
        artifacts.path(),
    );
    assert_signed_in(&done);
    assert!(
        done.stderr.contains("filling in the username and password")
            && done.stderr.contains("answering \"Continue\""),
        "each page is narrated: {}",
        done.stderr
    );
    assert!(!done.stderr.contains(PASSWORD) && !done.stdout.contains(PASSWORD));
    assert_no_cookies(&done.stderr);
    assert!(
        files(artifacts.path()).is_empty(),
        "nothing is saved when the sign-in works"
    );
}

#[test]
fn a_wrong_password_is_submitted_once_and_the_providers_message_ends_the_run() {
    let provider = LocalProvider::start_with(json!({ "interactions": "password" }));
    let artifacts = tempfile::tempdir().unwrap();
    let wrong = "Wr0ng-pa55word-xyzzy";
    let done = run_sign_in(
        &provider,
        &[],
        &[
            ("OAUTH_TEST_PASSWORD", wrong),
            (
                "RUST_LOG",
                "oauth_test_client=trace,reqwest=trace,cookie_store=trace",
            ),
        ],
        artifacts.path(),
    );
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    assert_eq!(
        done.stderr
            .matches("filling in the username and password")
            .count(),
        1,
        "submitted once: {}",
        done.stderr
    );
    let docs = done.documents();
    assert_eq!(docs.len(), 1, "one error document");
    let doc = &docs[0];
    assert_eq!(doc["step"], "sign_in", "{doc}");
    assert_eq!(doc["error"], "sign_in_rejected", "{doc}");
    let message = doc["message"].as_str().unwrap();
    assert!(
        message.contains("Invalid password")
            && message.contains("\"Sign in\"")
            && message.contains("username (text), password (password)")
            && message.contains("/interaction/"),
        "{message}"
    );
    assert!(!message.contains('?'), "no query string: {message}");
    assert_eq!(doc["page"]["errors"], json!(["Invalid password"]));
    assert!(
        done.stderr.contains("Invalid password") && done.stderr.contains("OAUTH_TEST_PASSWORD"),
        "{}",
        done.stderr
    );

    let saved = files(artifacts.path());
    let page = saved
        .iter()
        .find(|(name, _)| name == "sign-in-last-page.html")
        .unwrap_or_else(|| panic!("the last page is saved: {saved:?}"));
    assert!(page.1.contains("Invalid password"), "{}", page.1);
    for (what, text) in [("stdout", &done.stdout), ("stderr", &done.stderr)]
        .into_iter()
        .chain(saved.iter().map(|(n, t)| (n.as_str(), t)))
    {
        assert!(!text.contains(wrong), "the password appears in {what}");
    }
    assert_no_cookies(&done.stderr);
}

#[test]
fn denying_consent_exits_1_with_access_denied() {
    let provider = LocalProvider::start();
    let artifacts = tempfile::tempdir().unwrap();
    let done = run_sign_in(&provider, &["--consent", "deny"], &[], artifacts.path());
    assert_denied_with_the_cancel_link(&done);
}

/// `--consent deny` on devInteractions' consent page: its Cancel link was followed, and the
/// provider's `access_denied` ends the run with 1.
pub fn assert_denied_with_the_cancel_link(done: &Finished) {
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    let docs = done.documents();
    assert_eq!(docs[0]["error"], "access_denied", "{}", done.stdout);
    assert_eq!(docs[0]["step"], "authorization");
    assert!(
        done.stderr.contains("following the link \"[ Cancel ]\""),
        "devInteractions' Cancel is a link: {}",
        done.stderr
    );
}

#[test]
fn identifier_first_pages_email_then_password() {
    let provider = LocalProvider::start_with(json!({ "interactions": "identifier_first" }));
    let artifacts = tempfile::tempdir().unwrap();
    let done = run_sign_in(&provider, &[], &[], artifacts.path());
    assert_signed_in(&done);
    assert!(
        done.stderr
            .contains("filling in the username (identifier-first)")
            && done
                .stderr
                .contains("filling in the password and submitting")
            && done.stderr.contains("answering \"Allow"),
        "email page, password page, consent by its Allow button: {}",
        done.stderr
    );
}

#[test]
fn a_one_time_code_page_is_answered_from_the_totp_secret() {
    let provider = LocalProvider::start_with(json!({ "interactions": "totp" }));
    let artifacts = tempfile::tempdir().unwrap();
    let without = run_sign_in(&provider, &[], &[], artifacts.path());
    assert_eq!(without.code, Some(1), "{}", without.stderr);
    assert_eq!(without.documents()[0]["error"], "sign_in_needs_code");
    assert!(
        without.stderr.contains("OAUTH_TEST_TOTP_SECRET"),
        "{}",
        without.stderr
    );

    let done = run_sign_in(
        &provider,
        &[],
        &[("OAUTH_TEST_TOTP_SECRET", TOTP_SECRET)],
        artifacts.path(),
    );
    assert_signed_in(&done);
    assert!(
        done.stderr.contains("filling in the one-time code"),
        "{}",
        done.stderr
    );
}

#[test]
fn a_form_built_by_a_script_fails_with_the_browser_driver_hint() {
    let provider = LocalProvider::start_with(json!({ "interactions": "script_form" }));
    let artifacts = tempfile::tempdir().unwrap();
    // auto would go on with the browser driver, where it is built (signin_browser.rs); in a
    // build without it, auto is http, and this is what a user of that build sees.
    let driver = if cfg!(feature = "browser") {
        "http"
    } else {
        "auto"
    };
    let done = run_sign_in(
        &provider,
        &["--sign-in-driver", driver],
        &[],
        artifacts.path(),
    );
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    let doc = &done.documents()[0];
    assert_eq!(doc["error"], "sign_in_no_form", "{doc}");
    let message = doc["message"].as_str().unwrap();
    assert!(
        message.contains("no usable form") && message.contains("1 <script>"),
        "{message}"
    );
    // Issue 23 item 7: a build without the browser driver says exactly what to install.
    let hint = doc["hint"].as_str().unwrap();
    if cfg!(feature = "browser") {
        assert!(message.contains("--sign-in-driver browser"), "{message}");
    } else {
        assert!(
            message.contains(
                "cargo install --locked --features browser --git \
                 https://github.com/oauth-test-client/oauth-test-client --tag v"
            ) && message.contains(" oauth-test-client (or, in a checkout")
                && message.contains("no browser driver"),
            "{message}"
        );
        assert!(!hint.contains("or auto, which tries it"), "{hint}");
    }
    assert!(
        files(artifacts.path())
            .iter()
            .any(|(name, html)| name == "sign-in-last-page.html" && html.contains("<script>")),
        "the page is saved"
    );
}

#[test]
fn sign_in_settings_are_checked_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut vars = vec![("OAUTH_ISSUER", "http://127.0.0.1:1"), ("CLIENT_ID", "x")];
        vars.extend_from_slice(env);
        spawn(args, &vars, dir.path()).finish(Duration::from_secs(30))
    };
    let user = [
        ("OAUTH_TEST_USERNAME", USER),
        ("OAUTH_TEST_PASSWORD", PASSWORD),
    ];

    let done = run(&["--sign-in"], &user);
    assert_eq!(done.code, Some(2), "{}", done.stderr);
    assert!(
        done.stderr.contains("--sign-in") && done.stderr.contains("--once"),
        "{}",
        done.stderr
    );

    let done = run(&["--once", "--sign-in"], &[]);
    assert_eq!(done.code, Some(2), "{}", done.stderr);
    assert!(
        done.stderr
            .contains("OAUTH_TEST_USERNAME and OAUTH_TEST_PASSWORD"),
        "{}",
        done.stderr
    );

    // Without the browser feature, the driver is not there; with it, Chromium must be.
    let mut missing = user.to_vec();
    missing.push(("CHROMIUM", "/nonexistent/chromium"));
    let done = run(
        &["--once", "--sign-in", "--sign-in-driver", "browser"],
        &missing,
    );
    assert_eq!(done.code, Some(2), "{}", done.stderr);
    let expected = if cfg!(feature = "browser") {
        "/nonexistent/chromium does not exist"
    } else {
        "this build has no browser driver"
    };
    assert!(done.stderr.contains(expected), "{}", done.stderr);

    let done = run(&["--once", "--sign-in", "--print-config"], &user);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(!done.stdout.contains(PASSWORD), "{}", done.stdout);
    assert_eq!(done.documents()[0]["sign_in"]["username"], USER);
    assert!(
        spawn(&["--password", PASSWORD], &[], dir.path())
            .finish(Duration::from_secs(30))
            .code
            == Some(2),
        "no flag takes the password"
    );
}

/// Client ID Metadata Documents over https with a test CA: the provider (options.cimd: the
/// real oidc-provider, advertising support, serving the document, and knowing the client it
/// describes) is given only the document's URL; the tool reads the document, finds its own
/// redirect URI listed, signs in with the URL as a public client ID, and reports the check.
#[test]
fn a_client_metadata_document_url_is_the_client_id_where_the_server_supports_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let redirect = format!("http://localhost:{port}/oauth_callback");
    let ca = crate::support::provider::TestCa::new();
    let provider = LocalProvider::start_with(json!({
        "https": { "cert": ca.cert_pem, "key": ca.key_pem },
        "host": "localhost",
        "cimd": { "redirect_uris": [redirect] },
    }));
    let url = format!("{}/client-metadata.json", provider.issuer);
    let dir = tempfile::tempdir().unwrap();
    let done = spawn(
        &[
            "--once",
            "--report",
            "--sign-in",
            "--port",
            &port,
            "--ca-cert",
            ca.ca_pem.to_str().unwrap(),
            "--client-metadata-url",
            &url,
        ],
        &[
            ("OAUTH_ISSUER", provider.issuer.as_str()),
            ("OAUTH_TEST_USERNAME", USER),
            ("OAUTH_TEST_PASSWORD", PASSWORD),
        ],
        dir.path(),
    )
    .finish(Duration::from_secs(90));
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    assert!(
        done.stderr.contains("accepts Client ID Metadata Documents"),
        "{}",
        done.stderr
    );
    assert!(!done.stderr.contains("Registered"), "{}", done.stderr);
    let doc = &done.documents()[0];
    let checks = doc["checks"].as_array().unwrap();
    let check = checks
        .iter()
        .find(|c| c["check"] == "client_metadata.document")
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(check["result"], "pass", "{check}");
    assert!(!checks.iter().any(|c| c["result"] == "fail"), "{doc}");
    assert!(doc["token"]["access_token"].is_string(), "{doc}");
    assert_eq!(
        doc["id_token_claims"]["aud"], url,
        "the provider issued the ID token to the URL client ID"
    );
}
