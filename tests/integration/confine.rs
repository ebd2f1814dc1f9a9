//! Issue 21: the test user's credentials go only to the authorization endpoint's origin (or
//! one OAUTH_SIGN_IN_ORIGINS allows), over https or loopback, in a POST body. A hostile
//! provider (the real one, tests/provider/provider.mjs `interactions: "hostile"`) tries each
//! trick; a foreign listener on another port of the app's host records whatever reaches it.
//! Each run ends with exit 1 and its own error code naming the origins, and the foreign
//! listener saw no credential, cookie or code.

use std::path::Path;

use serde_json::{Value, json};

use crate::binary::Finished;
use crate::signin::{PASSWORD, USER, run_sign_in};
use crate::support::foreign::{self, Foreign};
use crate::support::provider::{LocalProvider, TestCa};

/// The provider playing `trick`, and the foreign listener it points at.
pub fn hostile(trick: &str) -> (LocalProvider, Foreign) {
    let foreign = foreign::start();
    let provider = LocalProvider::start_with(json!({
        "interactions": "hostile",
        "hostile": { "trick": trick, "foreign": foreign.base },
    }));
    (provider, foreign)
}

pub fn origin(base: &str) -> String {
    url::Url::parse(base)
        .unwrap()
        .origin()
        .ascii_serialization()
}

/// Nothing secret reached the foreign listener: not the username or password (raw or
/// form-encoded), no cookie (the app's binding cookie included), no code or token.
pub fn assert_nothing_secret_received(foreign: &Foreign) {
    let encoded: String = url::form_urlencoded::byte_serialize(PASSWORD.as_bytes()).collect();
    for request in foreign.seen() {
        let lower = request.to_ascii_lowercase();
        for secret in [PASSWORD, encoded.as_str(), USER, "ci%40example.com"] {
            assert!(
                !request.contains(secret),
                "{secret} reached the foreign origin:\n{request}"
            );
        }
        for marker in ["\ncookie:", "code=", "access_token", "authorization:"] {
            assert!(
                !lower.contains(marker),
                "{marker} reached the foreign origin:\n{request}"
            );
        }
    }
}

/// Exit 1, step sign_in, `code`, the page's and the target's origins, and the setting.
pub fn assert_refused(done: &Finished, code: &str, page: &str, target: &str) -> Value {
    assert_eq!(done.code, Some(1), "{}\n{}", done.stdout, done.stderr);
    let doc = done.documents().pop().expect("a document");
    assert_eq!(doc["step"], "sign_in", "{doc}");
    assert_eq!(doc["error"], code, "{doc}");
    assert_eq!(doc["page_origin"], page, "{doc}");
    assert_eq!(doc["target_origin"], target, "{doc}");
    assert_eq!(doc["setting"], "OAUTH_SIGN_IN_ORIGINS", "{doc}");
    let message = doc["message"].as_str().unwrap();
    assert!(message.contains("not sent"), "{message}");
    assert!(!done.stderr.contains(PASSWORD) && !done.stdout.contains(PASSWORD));
    doc
}

fn run(provider: &LocalProvider, artifacts: &Path, env: &[(&str, &str)]) -> Finished {
    run_sign_in(provider, &["--sign-in-driver", "http"], env, artifacts)
}

macro_rules! refused {
    ($($test:ident: $trick:literal => $code:literal, page $page:ident, target $target:ident;)*) => {$(
        #[test]
        fn $test() {
            let (provider, foreign) = hostile($trick);
            let artifacts = tempfile::tempdir().unwrap();
            let done = run(&provider, artifacts.path(), &[]);
            let (p, f) = (origin(&provider.issuer), origin(&foreign.base));
            let pick = |which: &str| if which == "provider" { p.clone() } else { f.clone() };
            assert_refused(&done, $code, &pick(stringify!($page)), &pick(stringify!($target)));
            assert_nothing_secret_received(&foreign);
        }
    )*};
}

refused! {
    a_302_from_the_authorization_endpoint_to_a_foreign_login_page_is_refused:
        "redirect" => "sign_in_foreign_origin", page foreign, target foreign;
    a_meta_refresh_to_a_foreign_login_page_is_refused:
        "meta_refresh" => "sign_in_foreign_origin", page foreign, target foreign;
    a_button_formaction_to_another_origin_is_refused:
        "formaction" => "sign_in_foreign_origin", page provider, target foreign;
    a_307_of_the_password_post_to_another_origin_is_not_followed:
        "307" => "sign_in_foreign_origin", page provider, target foreign;
    a_308_of_the_password_post_to_another_origin_is_not_followed:
        "308" => "sign_in_foreign_origin", page provider, target foreign;
    a_password_form_sent_by_get_is_refused:
        "get" => "sign_in_password_by_get", page provider, target provider;
}

/// The form's action on another origin; also: the page saved for it replaces a symlink
/// planted at its name without writing through it, as a new 0600 file (issue 21, item 6).
#[test]
fn a_form_action_to_another_origin_is_refused_and_the_saved_page_never_follows_a_link() {
    let (provider, foreign) = hostile("action");
    let artifacts = tempfile::tempdir().unwrap();
    let victim = artifacts.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let planted = artifacts.path().join("sign-in-last-page.html");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let done = run(&provider, artifacts.path(), &[]);
    let doc = assert_refused(
        &done,
        "sign_in_foreign_origin",
        &origin(&provider.issuer),
        &origin(&foreign.base),
    );
    assert!(
        doc["message"]
            .as_str()
            .unwrap()
            .contains("the form's target"),
        "{doc}"
    );
    assert_nothing_secret_received(&foreign);
    assert!(foreign.seen().is_empty(), "nothing at all was sent there");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::symlink_metadata(&planted).unwrap();
        assert!(meta.is_file(), "the link was replaced, not followed");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let saved = std::fs::read_to_string(&planted).unwrap();
        assert!(
            saved.contains("/collect"),
            "the refused page is saved: {saved}"
        );
    }
}

/// An https provider whose form posts to plain http: refused as insecure, even to loopback.
#[test]
fn an_https_page_posting_to_http_is_refused_as_insecure() {
    let foreign = foreign::start();
    let ca = TestCa::new();
    let provider = LocalProvider::start_with(json!({
        "interactions": "hostile",
        "hostile": { "trick": "action", "foreign": foreign.base },
        "host": "localhost",
        "https": { "cert": ca.cert_pem, "key": ca.key_pem },
    }));
    let artifacts = tempfile::tempdir().unwrap();
    let ca_pem = ca.ca_pem.to_str().unwrap().to_owned();
    // Even with the http origin allowed: never from an https page.
    let done = run(
        &provider,
        artifacts.path(),
        &[
            ("OAUTH_CA_CERT", &ca_pem),
            ("OAUTH_SIGN_IN_ORIGINS", &foreign.base),
        ],
    );
    assert_refused(
        &done,
        "sign_in_insecure_origin",
        &origin(&provider.issuer),
        &origin(&foreign.base),
    );
    assert_nothing_secret_received(&foreign);
}

/// A legitimate login page on another origin (a federated login's round trip) signs in once
/// OAUTH_SIGN_IN_ORIGINS names it; the listener then does see the password (the control that
/// shows it records what it is sent).
#[test]
fn sign_in_origins_let_a_legitimate_login_page_on_another_origin_through() {
    let (provider, foreign) = hostile("sso");
    let artifacts = tempfile::tempdir().unwrap();
    let done = run(
        &provider,
        artifacts.path(),
        &[("OAUTH_SIGN_IN_ORIGINS", &foreign.base)],
    );
    crate::signin::assert_signed_in(&done);
    let posted = foreign
        .seen()
        .into_iter()
        .find(|r| r.starts_with("POST /login"));
    let encoded: String = url::form_urlencoded::byte_serialize(PASSWORD.as_bytes()).collect();
    assert!(
        posted.is_some_and(|r| r.contains(&encoded)),
        "{:?}",
        foreign.seen()
    );
    assert!(
        foreign
            .seen()
            .iter()
            .all(|r| !r.to_ascii_lowercase().contains("\ncookie:")),
        "the app's cookie never goes to another port of its host: {:?}",
        foreign.seen()
    );
}

/// `--grant device --sign-in`: a verification_uri_complete that is a local file, or on another
/// origin, is never opened (issue 21, item 2).
#[test]
fn device_verification_uris_outside_the_providers_origin_are_never_opened() {
    let foreign = foreign::start();
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join(".env");
    std::fs::write(&secret_file, "CLIENT_SECRET=do-not-render-me\n").unwrap();
    let file_url = url::Url::from_file_path(&secret_file).unwrap().to_string();
    let foreign_url = format!("{}/device?user_code=ABCD", foreign.base);
    for (uri, code) in [
        (file_url.as_str(), "sign_in_not_web"),
        (foreign_url.as_str(), "sign_in_foreign_origin"),
    ] {
        let provider = LocalProvider::start_with(json!({
            "device_interval": 1,
            "device_verification_uri_complete": uri,
        }));
        let artifacts = tempfile::tempdir().unwrap();
        let done = crate::binary::spawn(
            &[
                "--once",
                "--grant",
                "device",
                "--sign-in",
                "--sign-in-driver",
                "http",
                "--artifacts",
                artifacts.path().to_str().unwrap(),
            ],
            &[
                ("OAUTH_ISSUER", &provider.issuer),
                ("CLIENT_ID", "test-device"),
                ("CLIENT_SECRET", "test-device-secret"),
                ("OAUTH_SCOPES", "openid email offline_access"),
                ("OAUTH_TEST_USERNAME", USER),
                ("OAUTH_TEST_PASSWORD", PASSWORD),
            ],
            dir.path(),
        )
        .finish(std::time::Duration::from_secs(60));
        assert_eq!(
            done.code,
            Some(1),
            "{uri}: {}\n{}",
            done.stdout,
            done.stderr
        );
        let doc = done.documents().pop().expect("a document");
        assert_eq!(doc["error"], code, "{doc}");
        assert!(
            doc["message"]
                .as_str()
                .unwrap()
                .contains("verification_uri_complete"),
            "{doc}"
        );
        assert!(
            !done.stdout.contains("do-not-render-me") && !done.stderr.contains("do-not-render-me")
        );
        assert!(
            crate::signin::files(artifacts.path()).is_empty(),
            "nothing opened, nothing saved"
        );
    }
    assert!(foreign.seen().is_empty(), "{:?}", foreign.seen());
}
