//! The ID-token claim rules: never panic, for any claims, nonce and clock (an `exp` of
//! u64::MAX, a clock at the end of time); a row passes only when its rule holds; claims of
//! a token whose signature failed are never passed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_test_client::verify::id_token::{Expected, Jws, SKEW_SECS, claim_checks};
use oauth_test_client::oauth::{Check, Verdict};
use serde_json::{Map, Value};

fuzz_target!(|input: (u64, Option<&str>, Option<&str>, &str, &[u8])| {
    let (now, nonce, sub, alg, claims) = input;
    let Ok(claims) = serde_json::from_slice::<Map<String, Value>>(claims) else { return };
    let mut header = Map::new();
    header.insert("alg".into(), alg.into());
    let jws = Jws { header, claims };
    let expected = Expected {
        issuer: "https://idp.example",
        client_id: "client",
        client_secret: None,
        nonce,
        access_token: Some("an-access-token"),
        signing_algs: None,
        sub,
        now,
    };
    let checks = claim_checks(&jws, &expected);
    let passed = |name: &str| checks.iter().any(|c| c.check == name && c.result == Verdict::Pass);
    let num = |name: &str| jws.claims.get(name).and_then(Value::as_u64);
    if passed("id_token.exp") {
        let exp = num("exp").expect("a passed exp is a number");
        assert!(now <= exp.saturating_add(SKEW_SECS));
    }
    if passed("id_token.iat") {
        let iat = num("iat").expect("a passed iat is a number");
        assert!(iat <= now.saturating_add(SKEW_SECS));
    }
    if passed("id_token.nbf") {
        assert!(num("nbf").is_some_and(|nbf| nbf <= now.saturating_add(SKEW_SECS)));
    }
    if passed("id_token.iss") {
        assert_eq!(jws.claims.get("iss").and_then(Value::as_str), Some(expected.issuer));
    }
    if passed("id_token.nonce") {
        assert_eq!(jws.claims.get("nonce").and_then(Value::as_str), nonce);
    }
    assert_eq!(checks.iter().any(|c| c.check == "id_token.nonce"), nonce.is_some());
    for c in checks {
        assert!(c.check.starts_with("id_token."));
        let was = c.result;
        let marked = Check::unverified(c);
        assert_ne!(marked.result, Verdict::Pass);
        assert_eq!(marked.result == Verdict::Fail, was == Verdict::Fail);
    }
});
