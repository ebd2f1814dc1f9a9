//! `--once --sign-in --audit --report`: the binary probes what the provider must refuse, against
//! the real provider (every probe passes or says why it did not run), and against the same
//! provider made to get each probe wrong (options.audit_misbehave and friends in
//! tests/provider/provider.mjs), where each probe demonstrably fails (or warns, where the
//! issue's table says a warning).

use std::time::Duration;

use serde_json::{Value, json};

use crate::binary::{Finished, callback_prefix, spawn};
use crate::signin::{PASSWORD, USER};
use crate::support::browser::{Browser, Choice};
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider, PUBLIC_ID};

/// Every probe, in report order.
const PROBES: [&str; 19] = [
    "audit.metadata_document",
    "audit.metadata_cimd",
    "audit.pkce_plain",
    "audit.id_token_alg",
    "audit.token_no_store",
    "audit.token_content_type",
    "audit.wrong_client_secret",
    "audit.redirect_uri_extra_path",
    "audit.redirect_uri_extra_query",
    "audit.redirect_uri_other_host",
    "audit.no_code_challenge",
    "audit.state_and_iss",
    "audit.code_redeemed_twice",
    "audit.revoked_token",
    "audit.refresh_rotation",
    "audit.pkce_wrong_verifier",
    "audit.pkce_no_verifier",
    "audit.token_redirect_uri_differs",
    "audit.unknown_scope",
];

/// `oauth-test-client --once --sign-in --audit --report` as `client_id` (with `secret`).
fn run_audit(provider: &LocalProvider, client_id: &str, secret: Option<&str>) -> Finished {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--once", "--sign-in", "--audit", "--report", "--port", "0"];
    let mut vars = vec![
        ("OAUTH_ISSUER", provider.issuer.as_str()),
        ("CLIENT_ID", client_id),
        ("OAUTH_TEST_USERNAME", USER),
        ("OAUTH_TEST_PASSWORD", PASSWORD),
    ];
    if let Some(secret) = secret {
        vars.push(("CLIENT_SECRET", secret));
    }
    spawn(&args, &vars, dir.path()).finish(Duration::from_secs(90))
}

/// The report's audit rows: name -> (result, detail, source).
fn probes(done: &Finished) -> Vec<(String, String, String, String)> {
    let docs = done.documents();
    assert_eq!(
        docs.len(),
        1,
        "one document:\n{}\n{}",
        done.stdout,
        done.stderr
    );
    docs[0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["check"].as_str().unwrap().starts_with("audit."))
        .map(|c| {
            let text = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (
                text("check"),
                text("result"),
                text("detail"),
                text("source"),
            )
        })
        .collect()
}

fn verdict<'a>(rows: &'a [(String, String, String, String)], name: &str) -> (&'a str, &'a str) {
    let row = rows
        .iter()
        .find(|r| r.0 == name)
        .unwrap_or_else(|| panic!("no {name} in {rows:#?}"));
    (row.1.as_str(), row.2.as_str())
}

/// Every probe is reported, with a source; none passes without a reason, none is "not run"
/// without saying why.
fn assert_every_probe_reported(rows: &[(String, String, String, String)]) {
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, PROBES, "{rows:#?}");
    for (name, result, detail, source) in rows {
        assert!(!detail.is_empty(), "{name} has no detail");
        assert!(
            ["RFC", "OIDC", "MCP"].iter().any(|p| source.starts_with(p)),
            "{name}: {source}"
        );
        assert!(
            ["pass", "warn", "fail", "not_run"].contains(&result.as_str()),
            "{name}: {result}"
        );
    }
}

#[tokio::test]
async fn the_real_provider_passes_every_probe_or_says_why_not_and_the_tokens_at_the_end_are_fresh()
{
    let provider = LocalProvider::start_with(json!({ "interactions": "password" }));
    let done = {
        let provider = &provider;
        std::thread::scope(|s| {
            s.spawn(|| run_audit(provider, CONFIDENTIAL_ID, Some(CONFIDENTIAL_SECRET)))
                .join()
                .unwrap()
        })
    };
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let rows = probes(&done);
    assert_every_probe_reported(&rows);
    for (name, result, detail, _) in &rows {
        // The conformance suite's warning too: this provider offers no Client ID Metadata
        // Documents (an MCP 2025-11-25 SHOULD).
        let expected = if name == "audit.metadata_cimd" {
            "warn"
        } else {
            "pass"
        };
        assert_eq!(result, expected, "{name}: {detail}");
    }
    assert!(
        verdict(&rows, "audit.code_redeemed_twice")
            .1
            .contains("revoked"),
        "{rows:#?}"
    );
    // Eight sign-ins: five redeemed by the callback (the first, before revocation, before
    // rotation, the unknown scope, the end), three codes kept for the PKCE and redirect_uri
    // probes.
    assert_eq!(
        done.stderr.matches("tokens received").count(),
        5,
        "{}",
        done.stderr
    );
    assert_eq!(
        done.stderr.matches("code kept for an audit probe").count(),
        3,
        "{}",
        done.stderr
    );
    // The tokens printed are from the last sign-in, which no probe touched.
    let token = done.documents()[0]["token"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = crate::support::resource::introspect(&provider.issuer, &token).await;
    assert_eq!(answer["active"], Value::Bool(true), "{answer}");
    for secret in [CONFIDENTIAL_SECRET, PASSWORD] {
        assert!(!done.stderr.contains(secret), "a secret in stderr");
    }
}

#[test]
fn a_public_client_has_no_secret_to_get_wrong_and_must_send_pkce() {
    let provider = LocalProvider::start_with(json!({ "interactions": "password" }));
    let done = run_audit(&provider, PUBLIC_ID, None);
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let rows = probes(&done);
    assert_every_probe_reported(&rows);
    let (result, detail) = verdict(&rows, "audit.wrong_client_secret");
    assert_eq!(result, "not_run");
    assert!(detail.contains("public client"), "{detail}");
    let (result, detail) = verdict(&rows, "audit.no_code_challenge");
    assert_eq!(result, "pass", "{detail}");
    assert!(detail.contains("public client"), "{detail}");
}

/// A confidential client whose ID tokens are HS256 (keyed with this secret, 32+ bytes).
const HS256_SECRET: &str = "test-confidential-secret-long-enough-for-hs256-keys";

#[test]
fn each_probe_fails_against_a_provider_that_gets_it_wrong() {
    let provider = LocalProvider::start_with(json!({
        "interactions": "password",
        "pkce_required": "public",
        "rotate_refresh_tokens": false,
        "audit_misbehave": ["listed_plain", "token_cacheable", "secret_unchecked",
            "loose_redirect_uri", "code_replay", "revocation_noop"],
        "clients": [{
            "client_id": CONFIDENTIAL_ID,
            "client_secret": HS256_SECRET,
            "token_endpoint_auth_method": "client_secret_post",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "application_type": "native",
            "id_token_signed_response_alg": "HS256",
            "redirect_uris": ["http://localhost:3000/oauth_callback"],
        }],
    }));
    let done = run_audit(&provider, CONFIDENTIAL_ID, Some(HS256_SECRET));
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    let rows = probes(&done);
    assert_every_probe_reported(&rows);
    for (name, expected, words) in [
        ("audit.pkce_plain", "warn", "lists `plain`"),
        ("audit.id_token_alg", "warn", "HS256"),
        ("audit.token_no_store", "fail", "no Cache-Control"),
        ("audit.wrong_client_secret", "fail", "invalid_grant"),
        ("audit.redirect_uri_extra_path", "fail", "accepted"),
        ("audit.redirect_uri_extra_query", "fail", "accepted"),
        ("audit.redirect_uri_other_host", "fail", "accepted"),
        ("audit.no_code_challenge", "warn", "confidential client"),
        (
            "audit.code_redeemed_twice",
            "fail",
            "redeemed a second time",
        ),
        ("audit.revoked_token", "fail", "active:true"),
        // Issue 23 item 8: RFC 9700 §4.14.2 asks rotation of public clients only.
        (
            "audit.refresh_rotation",
            "pass",
            "allows for a confidential client",
        ),
    ] {
        let (result, detail) = verdict(&rows, name);
        assert_eq!(result, expected, "{name}: {detail}");
        assert!(detail.contains(words), "{name}: {detail}");
    }
    // Issue 23 item 4: what was seen and what RFC 6749 §5.2 asks, no guess at why.
    let (_, detail) = verdict(&rows, "audit.wrong_client_secret");
    assert!(
        detail.contains("HTTP 400") && detail.contains("§5.2 asks `invalid_client`"),
        "{detail}"
    );
    assert!(!detail.contains("not checked"), "{detail}");
    // The exit status names the failures.
    assert!(
        done.stderr.contains("audit.code_redeemed_twice"),
        "{}",
        done.stderr
    );
    assert!(!done.stderr.contains(HS256_SECRET), "the secret in stderr");
}

#[test]
fn a_public_client_without_pkce_a_reusable_refresh_token_and_a_lax_token_endpoint_fail() {
    let provider = LocalProvider::start_with(json!({
        "interactions": "password",
        "pkce_required": "none",
        "audit_misbehave": ["refresh_replay", "code_lax", "scope_dropped"],
    }));
    let done = run_audit(&provider, PUBLIC_ID, None);
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    let rows = probes(&done);
    let (result, detail) = verdict(&rows, "audit.no_code_challenge");
    assert_eq!(result, "fail", "{detail}");
    assert!(detail.contains("public client"), "{detail}");
    for (name, words) in [
        ("audit.refresh_rotation", "still works"),
        ("audit.pkce_wrong_verifier", "got tokens"),
        ("audit.pkce_no_verifier", "got tokens"),
        ("audit.token_redirect_uri_differs", "got tokens"),
        ("audit.unknown_scope", "without `scope`"),
    ] {
        let (result, detail) = verdict(&rows, name);
        assert_eq!(result, "fail", "{name}: {detail}");
        assert!(detail.contains(words), "{name}: {detail}");
    }
}

#[tokio::test]
async fn without_the_sign_in_driver_the_person_signs_in_again_and_four_probes_say_why_not() {
    let provider = LocalProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(
        &[
            "--once",
            "--audit",
            "--report",
            "--port",
            "0",
            "--no-browser",
        ],
        &[
            ("OAUTH_ISSUER", provider.issuer.as_str()),
            ("CLIENT_ID", CONFIDENTIAL_ID),
            ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
        ],
        dir.path(),
    );
    let sign_in = running.sign_in_url();
    let browser = Browser::new();
    // The first sign-in, then one each before revocation, before rotation, and at the end:
    // each only once the tool has asked for it, saying what for.
    for round in 0..4 {
        let mut waited = 0;
        while running.stderr_so_far().matches("sign in again at").count() < round {
            assert!(
                waited < 300,
                "no request to sign in again:\n{}",
                running.stderr_so_far()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            waited += 1;
        }
        let callback = browser
            .authorize(
                &sign_in,
                &callback_prefix(&sign_in),
                "person",
                Choice::Approve,
            )
            .await;
        let page = browser.client().get(callback).send().await.unwrap();
        assert_eq!(page.status(), 200, "round {round}");
        let html = page.text().await.unwrap();
        // The last sign-in's result page shows the probes, with their sources.
        if round == 3 {
            for shown in [
                "audit.code_redeemed_twice",
                "RFC 6749 §4.1.2, §10.5; RFC 9700 §4.5",
                "class=\"verdict not_run\"",
            ] {
                assert!(html.contains(shown), "{shown} not on the page:\n{html}");
            }
        }
    }
    let done = tokio::task::spawn_blocking(move || running.finish(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    assert!(
        done.stderr
            .contains("audit: revocation needs fresh tokens: sign in again at"),
        "{}",
        done.stderr
    );
    let rows = probes(&done);
    assert_every_probe_reported(&rows);
    for (name, result, detail, _) in &rows {
        match name.as_str() {
            "audit.pkce_wrong_verifier"
            | "audit.pkce_no_verifier"
            | "audit.token_redirect_uri_differs"
            | "audit.unknown_scope" => {
                assert_eq!(result, "not_run", "{name}: {detail}");
                assert!(detail.contains("--sign-in"), "{name}: {detail}");
            }
            "audit.metadata_cimd" => assert_eq!(result, "warn", "{name}: {detail}"),
            _ => assert_eq!(result, "pass", "{name}: {detail}"),
        }
    }
}

#[test]
fn an_unknown_scope_refused_with_invalid_scope_passes_and_the_run_goes_on() {
    let provider = LocalProvider::start_with(json!({
        "interactions": "password",
        "audit_misbehave": ["scope_refused"],
    }));
    let done = run_audit(&provider, CONFIDENTIAL_ID, Some(CONFIDENTIAL_SECRET));
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let rows = probes(&done);
    assert_every_probe_reported(&rows);
    let (result, detail) = verdict(&rows, "audit.unknown_scope");
    assert_eq!(result, "pass", "{detail}");
    assert!(detail.contains("invalid_scope"), "{detail}");
}

/// Issue 23 item 5: a later sign-in that never ends (the provider does not answer its code
/// exchange): the probes that ran are kept, the others not_run with the reason, and the run
/// ends at --timeout (exit 3).
#[test]
fn an_audit_cut_short_by_the_timeout_keeps_every_probe_that_ran() {
    let provider = LocalProvider::start_with(json!({
        "interactions": "password",
        "hang_later_codes": true,
    }));
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--once",
        "--sign-in",
        "--audit",
        "--report",
        "--port",
        "0",
        "--timeout",
        "20",
    ];
    let vars = [
        ("OAUTH_ISSUER", provider.issuer.as_str()),
        ("CLIENT_ID", CONFIDENTIAL_ID),
        ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
        ("OAUTH_TEST_USERNAME", USER),
        ("OAUTH_TEST_PASSWORD", PASSWORD),
    ];
    let done = spawn(&args, &vars, dir.path()).finish(Duration::from_secs(90));
    assert_eq!(done.code, Some(3), "{}\n{}", done.stdout, done.stderr);
    let rows = probes(&done);
    assert_every_probe_reported(&rows);
    let (result, detail) = verdict(&rows, "audit.code_redeemed_twice");
    assert_eq!(result, "pass", "the first stage ran: {detail}");
    for name in ["audit.revoked_token", "audit.unknown_scope"] {
        let (result, detail) = verdict(&rows, name);
        assert_eq!(result, "not_run", "{name}: {detail}");
        assert!(detail.contains("--timeout (20 s)"), "{name}: {detail}");
    }
}
