//! `--dpop` (RFC 9449) against the real provider with DPoP on, nonces required (so both the
//! provider and the API answer the first proof with `use_dpop_nonce`), and a resource server
//! that takes DPoP-bound tokens only; a JWT access token shows its binding in `cnf`.

use serde_json::{Value, json};

use crate::binary::Finished;
use crate::signin::run_sign_in;
use crate::support::provider::LocalProvider;
use crate::support::resource;

/// `--once --sign-in --dpop --report --then refresh,userinfo,api` against the test resource
/// server's `path`.
async fn sign_in_with_dpop(options: Value, path: &str) -> Finished {
    let provider = LocalProvider::start_with(options);
    let api = resource::start(&provider.issuer).await;
    let resource_url = format!("{}{path}", api.base);
    let artifacts = tempfile::tempdir().unwrap();
    tokio::task::spawn_blocking(move || {
        run_sign_in(
            &provider,
            &["--dpop", "--report", "--then", "api"],
            &[
                ("RESOURCE_URL", resource_url.as_str()),
                ("RUST_LOG", "oauth_test_client=debug"),
            ],
            artifacts.path(),
        )
    })
    .await
    .unwrap()
}

fn check<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {doc}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpop_sign_in_refresh_userinfo_and_api_pass_every_check_through_nonce_challenges() {
    let done = sign_in_with_dpop(json!({ "dpop": "nonce" }), "/dpop").await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let doc = &done.documents()[0];
    assert!(
        doc["token"]["token_type"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("dpop"),
        "{doc}"
    );
    let failed: Vec<&Value> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] != "pass")
        .collect();
    assert!(failed.is_empty(), "every check passes: {failed:?}");
    for name in [
        "token.token_type",
        "dpop.cnf_jkt",
        "refresh.token_type",
        "dpop.api_refuses_bearer",
    ] {
        assert_eq!(check(doc, name)["result"], "pass", "{name}: {doc}");
    }
    let steps: Vec<(&str, bool)> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [("refresh", true), ("userinfo", true), ("api", true)],
        "{doc}"
    );
    // The API took the proof signed with the key the token is bound to, with its nonce.
    let api = &doc["steps"][2]["response"];
    assert!(api["nonce"].is_string(), "{api}");
    let jkt = check(doc, "dpop.cnf_jkt")["detail"].as_str().unwrap();
    assert!(jkt.contains(api["jkt"].as_str().unwrap()), "{jkt} / {api}");
    // Each server asked for a nonce once: the provider's token endpoint and the API.
    let retries = done.stderr.matches("asked for a DPoP nonce").count();
    assert!(retries >= 2, "{}", done.stderr);
    assert!(
        done.stderr.contains("/oauth/token asked for a DPoP nonce")
            && done.stderr.contains("/dpop asked for a DPoP nonce"),
        "{}",
        done.stderr
    );
    // No proof, no token in the log or on stdout but the token JSON itself.
    assert!(
        !done.stderr.contains("eyJhbGciOiJFUzI1NiIsImp3ayI6"),
        "{}",
        done.stderr
    );
    assert!(!done.stdout.contains("eyJhbGciOiJFUzI1NiIsImp3ayI6"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_answers_bearer_to_a_dpop_request_exits_1_naming_token_type() {
    let done = sign_in_with_dpop(json!({ "token_type": "Bearer" }), "/dpop").await;
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    let doc = &done.documents()[0];
    let row = check(doc, "token.token_type");
    assert_eq!(row["result"], "fail", "{doc}");
    assert!(
        row["detail"].as_str().unwrap().contains("\"Bearer\""),
        "{row}"
    );
    assert!(done.stderr.contains("token.token_type"), "{}", done.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_that_takes_the_token_without_its_proof_is_a_warning() {
    // `/echo` answers 200 to anything: the DPoP call and the Bearer one alike.
    let done = sign_in_with_dpop(json!({}), "/echo").await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let doc = &done.documents()[0];
    let row = check(doc, "dpop.api_refuses_bearer");
    assert_eq!(row["result"], "warn", "{doc}");
    assert!(
        row["detail"].as_str().unwrap().contains("HTTP 200"),
        "{row}"
    );
    // The API saw the DPoP scheme and a proof.
    let seen = &doc["steps"][2]["response"]["headers"];
    assert!(
        seen["authorization"].as_str().unwrap().starts_with("DPoP "),
        "{seen}"
    );
    assert!(seen["dpop"].is_string(), "{seen}");
    assert_eq!(check(doc, "token.token_type")["result"], "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_access_token_names_the_key_in_its_cnf_claim() {
    let provider = LocalProvider::start_with(json!({ "jwt_access_tokens": true }));
    let api = resource::start(&provider.issuer).await;
    let resource = format!("{}/echo", api.base);
    let param = format!("resource={resource}");
    let dir = tempfile::tempdir().unwrap();
    let done = tokio::task::spawn_blocking(move || {
        let issuer = provider.issuer.clone();
        crate::binary::spawn(
            &[
                "--once",
                "--sign-in",
                "--port",
                "0",
                "--dpop",
                "--report",
                "--then",
                "api",
                "--param",
                &param,
                "--resource-url",
                &resource,
            ],
            &[
                ("OAUTH_ISSUER", issuer.as_str()),
                ("CLIENT_ID", crate::support::provider::CONFIDENTIAL_ID),
                (
                    "CLIENT_SECRET",
                    crate::support::provider::CONFIDENTIAL_SECRET,
                ),
                ("OAUTH_TEST_USERNAME", crate::signin::USER),
                ("OAUTH_TEST_PASSWORD", crate::signin::PASSWORD),
            ],
            dir.path(),
        )
        .finish(std::time::Duration::from_secs(90))
    })
    .await
    .unwrap();
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let doc = &done.documents()[0];
    let row = check(doc, "dpop.cnf_jkt");
    assert_eq!(row["result"], "pass", "{doc}");
    assert!(
        row["detail"]
            .as_str()
            .unwrap()
            .starts_with("the JWT access token"),
        "{row}"
    );
    assert_eq!(check(doc, "access_token.signature")["result"], "pass");
    let jkt = doc["access_token_claims"]["cnf"]["jkt"].as_str().unwrap();
    assert!(row["detail"].as_str().unwrap().contains(jkt));
}
