//! JWT client authentication (RFC 7523 section 2.2): `private_key_jwt` with RSA, EC P-256
//! and Ed25519 keys, and `client_secret_jwt`, against the real provider, on every call that
//! authenticates the client (code exchange, refresh, introspection, revocation). Keys are
//! generated here by Node's crypto, never committed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::binary::{Finished, spawn};
use crate::signin::{PASSWORD, USER};
use crate::support::provider::LocalProvider;

const KEY_CLIENT: &str = "test-private-key-jwt";
const SECRET_CLIENT: &str = "test-client-secret-jwt";
// HS256 wants a key of at least 256 bits.
const JWT_SECRET: &str = "client-secret-jwt-secret-of-more-than-32-bytes";

/// A key pair from Node's crypto: the private key as a PKCS#8 PEM file in `dir`, the public
/// JWK as Node exports it, and its RFC 7638 thumbprint computed by Node.
struct NodeKey {
    pem: PathBuf,
    public_jwk: Value,
    thumbprint: String,
}

fn node_key(kind: &str, dir: &Path) -> NodeKey {
    let script = r#"
const crypto = require('node:crypto');
const kind = process.argv.at(-1);
const [type, opts] = { rsa: ['rsa', { modulusLength: 2048 }], ec: ['ec', { namedCurve: 'P-256' }],
  ed: ['ed25519', {}] }[kind];
const { privateKey, publicKey } = crypto.generateKeyPairSync(type, opts);
const jwk = publicKey.export({ format: 'jwk' });
const required = { RSA: ['e', 'kty', 'n'], EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'] }[jwk.kty];
const canonical = JSON.stringify(Object.fromEntries(required.map((k) => [k, jwk[k]])));
console.log(JSON.stringify({
  pem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
  jwk,
  thumbprint: crypto.createHash('sha256').update(canonical).digest('base64url'),
}));
"#;
    let out = Command::new("node")
        .args(["-e", script, kind])
        .output()
        .expect("node runs: Node.js 20+ is needed for these tests");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("node's key JSON");
    let pem = dir.join(format!("{kind}.pem"));
    std::fs::write(&pem, v["pem"].as_str().unwrap()).unwrap();
    NodeKey {
        pem,
        public_jwk: v["jwk"].clone(),
        thumbprint: v["thumbprint"].as_str().unwrap().to_owned(),
    }
}

/// `--print-jwks` for `key`: exit 0 and the JWK set on stdout.
fn print_jwks(key: &Path) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let done = spawn(
        &["--print-jwks"],
        &[("OAUTH_CLIENT_KEY", key.to_str().unwrap())],
        dir.path(),
    )
    .finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let docs = done.documents();
    assert_eq!(docs.len(), 1, "{}", done.stdout);
    docs[0].clone()
}

fn client(id: &str, extra: Value) -> Value {
    let mut client = json!({
        "client_id": id,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "application_type": "native",
        "redirect_uris": ["http://localhost:3000/oauth_callback"],
    });
    for (k, v) in extra.as_object().unwrap() {
        client[k] = v.clone();
    }
    client
}

/// The provider with one client authenticating with `private_key_jwt` (the JWK set given)
/// and one with `client_secret_jwt`.
fn provider_with(jwks: Value) -> LocalProvider {
    provider_with_options(jwks, json!({}))
}

/// The same, with more provider.mjs options.
fn provider_with_options(jwks: Value, options: Value) -> LocalProvider {
    let mut all = json!({
        "clients": [
            client(KEY_CLIENT, json!({ "token_endpoint_auth_method": "private_key_jwt", "jwks": jwks })),
            client(SECRET_CLIENT, json!({
                "token_endpoint_auth_method": "client_secret_jwt",
                "client_secret": JWT_SECRET,
            })),
        ],
    });
    for (k, v) in options.as_object().unwrap() {
        all[k] = v.clone();
    }
    LocalProvider::start_with(all)
}

/// `--once --sign-in --report --then refresh,tokeninfo,revoke` as `client_id`, `args` added.
fn sign_in(
    provider: &LocalProvider,
    client_id: &str,
    env: &[(&str, &str)],
    args: &[&str],
) -> Finished {
    let dir = tempfile::tempdir().unwrap();
    let mut vars = vec![
        ("OAUTH_ISSUER", provider.issuer.as_str()),
        ("CLIENT_ID", client_id),
        ("OAUTH_TEST_USERNAME", USER),
        ("OAUTH_TEST_PASSWORD", PASSWORD),
        ("RUST_LOG", "oauth_test_client=debug"),
    ];
    vars.extend_from_slice(env);
    let mut all = vec![
        "--once",
        "--sign-in",
        "--report",
        "--then",
        "refresh,tokeninfo,revoke",
        "--port",
        "0",
    ];
    all.extend_from_slice(args);
    spawn(&all, &vars, dir.path()).finish(Duration::from_secs(90))
}

/// Exit 0, every check and step passed, and the report names the method.
fn assert_all_passed(done: &Finished, method: &str) -> Value {
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    let doc = done.documents().remove(0);
    let steps: Vec<(&str, bool)> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("refresh", true),
            ("tokeninfo:refresh", true),
            ("revoke:refresh", true)
        ],
        "{doc}"
    );
    assert_eq!(
        doc["steps"][1]["response"]["active"], true,
        "introspection authenticated: {doc}"
    );
    for check in doc["checks"].as_array().unwrap() {
        assert_ne!(check["result"], "fail", "{check}");
    }
    assert_eq!(doc["client_auth"]["method"], method, "{doc}");
    doc
}

/// The assertion never reaches stderr or stdout (recorded requests mask it whole).
fn assert_no_assertion_shown(done: &Finished) {
    for text in [&done.stdout, &done.stderr] {
        assert!(
            !text.contains("client_assertion=ey"),
            "an assertion is shown: {text}"
        );
        assert!(!text.contains(JWT_SECRET));
    }
}

#[test]
fn private_key_jwt_with_rsa_ec_and_ed25519_keys_passes_every_check() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, alg) in [("rsa", "RS256"), ("ec", "ES256"), ("ed", "EdDSA")] {
        let key = node_key(kind, dir.path());
        let jwks = print_jwks(&key.pem);
        let provider = provider_with(jwks.clone());
        // No OAUTH_AUTH_METHOD: a key set means private_key_jwt.
        let done = sign_in(
            &provider,
            KEY_CLIENT,
            &[("OAUTH_CLIENT_KEY", key.pem.to_str().unwrap())],
            &[],
        );
        let doc = assert_all_passed(&done, "private_key_jwt");
        assert_eq!(doc["client_auth"]["alg"], alg, "{kind}: {doc}");
        assert_eq!(doc["client_auth"]["kid"], jwks["keys"][0]["kid"]);
        assert_eq!(doc["client_auth"]["aud"], provider.issuer.as_str());
        assert_no_assertion_shown(&done);
        assert!(
            !done.stderr.contains("PRIVATE KEY"),
            "{kind}: {}",
            done.stderr
        );
    }
}

#[test]
fn client_secret_jwt_passes_every_check_with_either_audience_and_with_par() {
    let provider = provider_with(json!({ "keys": [] }));
    // The pushed authorization request (RFC 9126) authenticates the client too.
    for (audience, args) in [("issuer", &[][..]), ("token_endpoint", &["--par"][..])] {
        let done = sign_in(
            &provider,
            SECRET_CLIENT,
            &[
                ("CLIENT_SECRET", JWT_SECRET),
                ("OAUTH_AUTH_METHOD", "client_secret_jwt"),
                ("OAUTH_ASSERTION_AUDIENCE", audience),
            ],
            args,
        );
        let doc = assert_all_passed(&done, "client_secret_jwt");
        assert_eq!(doc["client_auth"]["alg"], "HS256", "{doc}");
        let aud = doc["client_auth"]["aud"].as_str().unwrap();
        if audience == "issuer" {
            assert_eq!(aud, provider.issuer);
        } else {
            assert_eq!(aud, format!("{}/oauth/token", provider.issuer));
        }
        if !args.is_empty() {
            assert!(
                done.stderr.contains("pushed the authorization request"),
                "PAR was used: {}",
                done.stderr
            );
        }
        assert_no_assertion_shown(&done);
    }
}

#[test]
fn private_key_jwt_with_dpop_nonce_challenges_signs_a_fresh_assertion_for_the_retry() {
    // The provider authenticates the client before it asks for a DPoP nonce, so it has seen
    // the first assertion's jti: the retry must carry a new one (RFC 7523 section 3, item 7).
    let dir = tempfile::tempdir().unwrap();
    let key = node_key("ec", dir.path());
    let provider = provider_with_options(print_jwks(&key.pem), json!({ "dpop": "nonce" }));
    let done = sign_in(
        &provider,
        KEY_CLIENT,
        &[("OAUTH_CLIENT_KEY", key.pem.to_str().unwrap())],
        &["--dpop"],
    );
    assert_all_passed(&done, "private_key_jwt");
    assert!(
        done.stderr.contains("asked for a DPoP nonce"),
        "a nonce challenge was answered: {}",
        done.stderr
    );
    assert_no_assertion_shown(&done);
}

#[test]
fn a_key_other_than_the_registered_one_fails_at_the_token_step_with_invalid_client() {
    let dir = tempfile::tempdir().unwrap();
    let registered = node_key("ec", dir.path());
    let other = node_key("rsa", dir.path());
    let provider = provider_with(print_jwks(&registered.pem));
    let done = sign_in(
        &provider,
        KEY_CLIENT,
        &[
            ("OAUTH_CLIENT_KEY", other.pem.to_str().unwrap()),
            ("OAUTH_AUTH_METHOD", "private_key_jwt"),
        ],
        &[],
    );
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    assert!(
        done.stderr.contains("sign-in failed at the token step")
            && done
                .stderr
                .contains("invalid_client (client authentication failed)"),
        "{}",
        done.stderr
    );
    assert_no_assertion_shown(&done);
}

#[test]
fn print_jwks_gives_the_public_key_with_its_thumbprint_as_kid() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, alg) in [("rsa", "RS256"), ("ec", "ES256"), ("ed", "EdDSA")] {
        let key = node_key(kind, dir.path());
        let jwks = print_jwks(&key.pem);
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1, "{jwks}");
        let jwk = &keys[0];
        assert_eq!(jwk["kid"], key.thumbprint.as_str(), "{kind}: {jwk}");
        assert_eq!(jwk["alg"], alg);
        assert_eq!(jwk["use"], "sig");
        // Exactly Node's public key: every member Node exports, and nothing private.
        for (name, value) in key.public_jwk.as_object().unwrap() {
            assert_eq!(&jwk[name], value, "{kind}: {name}");
        }
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(jwk.get(private).is_none(), "{kind}: {private}");
        }
    }
}

#[test]
fn a_missing_or_wrong_client_key_is_exit_2_naming_oauth_client_key() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_key = dir.path().join("cert.pem");
    std::fs::write(&not_a_key, "not a key").unwrap();
    let missing = dir.path().join("missing.pem");
    for (args, env) in [
        (vec!["--print-jwks"], vec![]),
        (
            vec!["--print-jwks"],
            vec![("OAUTH_CLIENT_KEY", missing.to_str().unwrap())],
        ),
        (
            vec!["--print-jwks"],
            vec![("OAUTH_CLIENT_KEY", not_a_key.to_str().unwrap())],
        ),
        (
            vec!["--print-config"],
            vec![
                ("OAUTH_ISSUER", "https://idp.example"),
                ("OAUTH_AUTH_METHOD", "private_key_jwt"),
            ],
        ),
    ] {
        let done = spawn(&args, &env, dir.path()).finish(Duration::from_secs(30));
        assert_eq!(done.code, Some(2), "{args:?} {env:?}: {}", done.stderr);
        assert!(done.stderr.contains("OAUTH_CLIENT_KEY"), "{}", done.stderr);
        assert!(done.stdout.is_empty(), "{}", done.stdout);
    }
}

#[test]
fn print_config_shows_the_keys_kid_and_algorithms_never_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = node_key("ec", dir.path());
    let done = spawn(
        &["--print-config"],
        &[
            ("OAUTH_ISSUER", "https://idp.example"),
            ("CLIENT_ID", "app"),
            ("OAUTH_CLIENT_KEY", key.pem.to_str().unwrap()),
        ],
        dir.path(),
    )
    .finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let doc = done.documents().remove(0);
    assert_eq!(doc["client_key"]["kid"], key.thumbprint.as_str(), "{doc}");
    assert_eq!(doc["client_key"]["algs"], json!(["ES256"]));
    assert_eq!(doc["assertion_audience"], "issuer");
    assert!(!done.stdout.contains("PRIVATE KEY"));
}
