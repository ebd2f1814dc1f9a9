//! Verification, as the OpenID Foundation's relying-party tests do it: the real provider runs
//! the flow, then (only for these tests) its ID token is broken one way per test on the way
//! out. Each misbehaviour must fail its named check and make `--once` exit 1.

use std::time::Duration;

use serde_json::{Value, json};

use crate::binary::{Finished, spawn};
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider};

/// Signs in through the binary with `--once --report` (and any extra flags).
async fn sign_in(options: Value, extra: &[&str]) -> (Finished, Value) {
    let provider = LocalProvider::start_with(options);
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["--once", "--report", "--no-browser", "--port", "0"];
    args.extend_from_slice(extra);
    let running = spawn(
        &args,
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", CONFIDENTIAL_ID),
            ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
        ],
        dir.path(),
    );
    let done = running.sign_in_and_finish("nora", 200).await;
    let doc = done
        .documents()
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no JSON: {}", done.stderr));
    (done, doc)
}

/// The named row of a report's checks.
pub fn check<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {doc:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_provider_passes_every_check() {
    let (done, doc) = sign_in(json!({}), &[]).await;
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let names: Vec<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    for expected in [
        "discovery.issuer",
        "authorization_response.iss",
        "token.token_type",
        "token.access_token",
        "token.expires_in",
        "token.scope",
        "token.id_token",
        "id_token.signature",
        "id_token.iss",
        "id_token.aud",
        "id_token.sub",
        "id_token.exp",
        "id_token.iat",
        "id_token.nonce",
    ] {
        assert!(names.contains(&expected), "no {expected} in {names:?}");
    }
    for c in doc["checks"].as_array().unwrap() {
        assert_eq!(c["result"], "pass", "{c}");
    }
    // at_hash is optional in the code flow, and this provider leaves it out; the
    // wrong_at_hash test covers its check.
    assert_eq!(doc["id_token_claims"]["sub"], "nora");
    assert!(doc["id_token_claims"]["nonce"].is_string());
    assert!(
        doc["token"]["access_token"].is_string(),
        "the token JSON is in the report"
    );
}

macro_rules! rejected {
    ($($test:ident: $mode:literal fails $check:literal;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            let (done, doc) = sign_in(json!({ "misbehave": $mode }), &[]).await;
            assert_eq!(done.code, Some(1), "{}", done.stderr);
            let c = check(&doc, $check);
            assert_eq!(c["result"], "fail", "{c}");
            assert!(done.stderr.contains($check), "stderr names the check: {}", done.stderr);
            assert!(doc["token"]["access_token"].is_string(), "the token JSON is still printed");
        }
    )*};
}

rejected! {
    a_bad_signature_is_rejected: "bad_signature" fails "id_token.signature";
    alg_none_is_rejected: "alg_none" fails "id_token.signature";
    hmac_keyed_with_the_public_key_is_rejected: "hmac_with_public_key" fails "id_token.signature";
    an_unknown_kid_is_rejected_after_one_refetch: "unknown_kid" fails "id_token.signature";
    a_wrong_iss_is_rejected: "wrong_iss" fails "id_token.iss";
    a_wrong_aud_is_rejected: "wrong_aud" fails "id_token.aud";
    a_missing_aud_is_rejected: "missing_aud" fails "id_token.aud";
    a_foreign_azp_is_rejected: "wrong_azp" fails "id_token.azp";
    a_missing_sub_is_rejected: "missing_sub" fails "id_token.sub";
    a_missing_iat_is_rejected: "missing_iat" fails "id_token.iat";
    an_expired_id_token_is_rejected: "expired" fails "id_token.exp";
    a_missing_nonce_is_rejected: "missing_nonce" fails "id_token.nonce";
    a_wrong_nonce_is_rejected: "wrong_nonce" fails "id_token.nonce";
    a_wrong_at_hash_is_rejected: "wrong_at_hash" fails "id_token.at_hash";
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_of_a_forged_id_token_are_reported_unverified_never_passed() {
    let (done, doc) = sign_in(json!({ "misbehave": "bad_signature" }), &[]).await;
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    let rows: Vec<&Value> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"].as_str().unwrap().starts_with("id_token."))
        .filter(|c| c["check"] != "id_token.signature")
        .collect();
    assert!(rows.len() >= 6, "{doc:#}");
    for c in rows {
        assert_eq!(c["result"], "unverified", "{c}");
        assert!(
            c["detail"].as_str().unwrap().contains("unverified token"),
            "{c}"
        );
    }
}

macro_rules! accepted {
    ($($test:ident: $mode:literal, $detail:literal;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            let (done, doc) = sign_in(json!({ "misbehave": $mode }), &[]).await;
            assert_eq!(done.code, Some(0), "{}", done.stderr);
            let c = check(&doc, "id_token.signature");
            assert_eq!(c["result"], "pass", "{c}");
            assert!(c["detail"].as_str().unwrap().contains($detail), "{c}");
        }
    )*};
}

accepted! {
    a_rotated_key_is_found_by_fetching_the_jwks_again: "rotated_kid", "key rotation";
    no_kid_with_one_key_uses_that_key: "no_kid_one_key", "no kid";
    no_kid_with_several_keys_tries_each: "no_kid_several_keys", "key \"second\"";
    es256_is_verified: "es256", "ES256";
    hs256_keyed_with_the_client_secret_is_verified: "hs256_client_secret", "client secret";
    eddsa_is_verified: "eddsa", "EdDSA";
}

/// Issue 23 item 6: `auth_time: 0` says the user signed in in 1970.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth_time_of_zero_is_a_warning() {
    let (done, doc) = sign_in(json!({ "misbehave": "auth_time_zero" }), &[]).await;
    assert_eq!(
        done.code,
        Some(0),
        "a warning, not a failure: {}",
        done.stderr
    );
    let c = check(&doc, "id_token.auth_time");
    assert_eq!(c["result"], "warn", "{c}");
    assert!(c["detail"].as_str().unwrap().contains("implausible"), "{c}");
    assert_eq!(check(&doc, "id_token.signature")["result"], "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_userinfo_sub_that_differs_from_the_id_token_fails_the_step() {
    let (done, doc) = sign_in(
        json!({ "misbehave": "userinfo_sub" }),
        &["--then", "userinfo"],
    )
    .await;
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    let step = &doc["steps"][0];
    assert_eq!(step["ok"], false, "{step}");
    assert!(step["error"].as_str().unwrap().contains("5.3.2"), "{step}");
    assert_eq!(check(&doc, "id_token.signature")["result"], "pass");
}

#[tokio::test]
async fn a_discovery_issuer_mismatch_exits_1_before_any_redirect() {
    let provider = LocalProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let configured = provider.issuer.replace("127.0.0.1", "localhost");
    let done = spawn(
        &["--once", "--no-browser", "--port", "0"],
        &[
            ("OAUTH_ISSUER", &configured),
            ("CLIENT_ID", CONFIDENTIAL_ID),
        ],
        dir.path(),
    )
    .finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert!(
        !done.stderr.contains("Sign in at"),
        "no sign-in is offered: {}",
        done.stderr
    );
    assert!(done.stderr.contains("OAUTH_ISSUER"), "{}", done.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_access_token_is_decoded_and_verified() {
    let (done, doc) = sign_in(
        json!({ "jwt_access_tokens": true }),
        &[
            "--param",
            "resource=https://api.example.test",
            "--scopes",
            "openid api:read",
        ],
    )
    .await;
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let c = check(&doc, "access_token.signature");
    assert_eq!(c["result"], "pass", "{c}");
    let claims = &doc["access_token_claims"];
    assert_eq!(claims["aud"], "https://api.example.test", "{claims}");
    assert_eq!(claims["iss"], doc["id_token_claims"]["iss"]);
}
