//! django-oauth-toolkit (tests/dot-provider), a real provider written elsewhere: the http
//! sign-in driver through Django's login form and the toolkit's consent page, the split
//! metadata documents (revocation and introspection only in its RFC 8414 document), and what
//! it does that the RFCs allow and a user may not expect (issue 23 item 9).

use std::time::Duration;

use serde_json::Value;

use crate::binary::{Finished, spawn};
use crate::support::dot::{
    DOT_CONFIDENTIAL_ID, DOT_CONFIDENTIAL_SECRET, DOT_PASSWORD, DOT_USER, DotProvider,
};

/// `--once --sign-in --sign-in-driver http --report --then <steps>` as the confidential app.
fn signed_in(provider: &DotProvider, steps: &str) -> (Finished, Value) {
    let dir = tempfile::tempdir().unwrap();
    let done = spawn(
        &[
            "--once",
            "--sign-in",
            "--sign-in-driver",
            "http",
            "--report",
            "--port",
            "0",
            "--then",
            steps,
        ],
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", DOT_CONFIDENTIAL_ID),
            ("CLIENT_SECRET", DOT_CONFIDENTIAL_SECRET),
            ("OAUTH_SCOPES", "openid read"),
            ("OAUTH_TEST_USERNAME", DOT_USER),
            ("OAUTH_TEST_PASSWORD", DOT_PASSWORD),
        ],
        dir.path(),
    )
    .finish(Duration::from_secs(90));
    let docs = done.documents();
    assert_eq!(docs.len(), 1, "{}\n{}", done.stdout, done.stderr);
    let doc = docs[0].clone();
    (done, doc)
}

#[test]
fn the_http_driver_signs_in_and_the_split_metadata_is_read_from_both_documents() {
    let provider = DotProvider::start();
    let (done, doc) = signed_in(
        &provider,
        "tokeninfo:access,userinfo,refresh,revoke:refresh",
    );
    assert_eq!(
        done.code,
        Some(0),
        "{}\n{}\n{}",
        done.stdout,
        done.stderr,
        provider.stderr()
    );
    for check in doc["checks"].as_array().unwrap() {
        assert_ne!(check["result"], "fail", "{check}");
    }
    assert!(doc["id_token_claims"]["sub"].is_string(), "{doc}");
    for step in doc["steps"].as_array().unwrap() {
        assert_eq!(step["ok"], true, "{step}");
    }
    let oauth = format!("{}/.well-known/oauth-authorization-server", provider.issuer);
    let openid = format!("{}/.well-known/openid-configuration", provider.issuer);
    let endpoints = &doc["endpoints"];
    for name in ["revocation_endpoint", "introspection_endpoint"] {
        assert_eq!(
            endpoints[name]["from"],
            oauth.as_str(),
            "{name}: {endpoints}"
        );
    }
    assert_eq!(
        endpoints["token_endpoint"]["from"],
        openid.as_str(),
        "{endpoints}"
    );
}

/// Item 9: revoking the access token revokes its refresh token too (RFC 7009 section 2.1
/// allows it); the refresh that follows fails, and its hint says why.
#[test]
fn a_refresh_after_revoking_the_access_token_fails_with_the_rfc_7009_hint() {
    let provider = DotProvider::start();
    let (done, doc) = signed_in(&provider, "tokeninfo:access,userinfo,revoke:access,refresh");
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    let steps = doc["steps"].as_array().unwrap();
    for step in &steps[..3] {
        assert_eq!(step["ok"], true, "{step}");
    }
    let refresh = &steps[3];
    assert_eq!(refresh["ok"], false, "{refresh}");
    assert_eq!(refresh["response"]["error"], "invalid_grant", "{refresh}");
    assert!(
        refresh["hint"]
            .as_str()
            .is_some_and(|h| h.contains("RFC 7009 section 2.1")),
        "{refresh}"
    );
}
