//! `--once --sign-in --sign-in-driver browser` (and `auto`): the binary, built with the
//! `browser` feature, signs in with Debian's headless Chromium against the real provider's
//! pages (tests/provider/provider.mjs), the script-built form included, and with Clerk's
//! Testing Token against stand-ins of Clerk's Backend and Frontend APIs. Fails, never skips,
//! when Chromium is missing.

use std::path::Path;

use serde_json::json;

use crate::binary::Finished;
use crate::signin::{
    PASSWORD, TOTP_SECRET, assert_no_cookies, assert_signed_in, files, run_sign_in,
};
use crate::support::provider::LocalProvider;

const CHROMIUM: &str = "/usr/bin/chromium";
/// provider.mjs's stand-in of Clerk's Backend API takes this secret key.
const CLERK_SECRET_KEY: &str = "sk_test_standin";
/// Everything the driver could write about, when asked to: chromiumoxide's own trace lines
/// would show the DevTools traffic (what is typed, cookies).
const TRACE: (&str, &str) = (
    "RUST_LOG",
    "oauth_test_client=trace,chromiumoxide=trace,reqwest=trace,cookie_store=trace",
);

fn require_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the browser driver's tests need Debian's `chromium` package \
         (apt-get install -y chromium; .ci/run installs it)"
    );
}

fn browser(
    provider: &LocalProvider,
    args: &[&str],
    env: &[(&str, &str)],
    artifacts: &Path,
) -> Finished {
    require_chromium();
    let mut all = vec!["--sign-in-driver", "browser"];
    all.extend_from_slice(args);
    run_sign_in(provider, &all, env, artifacts)
}

/// After the binary exits: no Chromium still running from `tmp` (its TMPDIR), and nothing
/// left in it (Chromium's profile folder, its temporary files).
fn assert_no_leftovers(tmp: &Path) {
    let tmp_text = tmp.to_string_lossy().into_owned();
    let running = || {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .any(|c| String::from_utf8_lossy(&c).contains(&tmp_text))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while running() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!running(), "a Chromium from {tmp_text} is still running");
    let left: Vec<_> = std::fs::read_dir(tmp)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "left behind in TMPDIR: {left:?}");
}

#[test]
fn the_browser_signs_in_through_the_providers_own_forms() {
    let provider = LocalProvider::start();
    let artifacts = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let done = browser(
        &provider,
        &[],
        &[TRACE, ("TMPDIR", tmp.path().to_str().unwrap())],
        artifacts.path(),
    );
    assert_signed_in(&done);
    assert!(
        done.stderr.contains("sign-in (browser): page 1")
            && done.stderr.contains("filling in the username and password")
            && done.stderr.contains("answering \"Continue\""),
        "each page is narrated: {}",
        done.stderr
    );
    // Trace logging everywhere, chromiumoxide's included: the DevTools traffic stays out.
    assert!(!done.stderr.contains(PASSWORD) && !done.stdout.contains(PASSWORD));
    assert_no_cookies(&done.stderr);
    assert!(
        files(artifacts.path()).is_empty(),
        "nothing is saved when the sign-in works"
    );
    assert_no_leftovers(tmp.path());
}

#[test]
fn the_browser_builds_the_script_form_and_signs_in() {
    let provider = LocalProvider::start_with(json!({ "interactions": "script_form" }));
    let artifacts = tempfile::tempdir().unwrap();
    let done = browser(&provider, &[], &[], artifacts.path());
    assert_signed_in(&done);
    assert!(
        done.stderr.contains("filling in the username and password")
            && done.stderr.contains("answering \"Allow\""),
        "{}",
        done.stderr
    );
}

#[test]
fn auto_tries_http_then_the_browser_when_there_is_no_form() {
    require_chromium();
    let provider = LocalProvider::start_with(json!({ "interactions": "script_form" }));
    let artifacts = tempfile::tempdir().unwrap();
    let done = run_sign_in(
        &provider,
        &["--sign-in-driver", "auto"],
        &[],
        artifacts.path(),
    );
    assert_signed_in(&done);
    let http = done
        .stderr
        .find("sign-in (http): signing in")
        .expect("http first");
    let fallback = done
        .stderr
        .find("the http driver found no usable form")
        .expect("then the fallback");
    let chromium = done
        .stderr
        .find("sign-in (browser): signing in")
        .expect("then the browser");
    assert!(http < fallback && fallback < chromium, "{}", done.stderr);
    assert!(
        files(artifacts.path()).is_empty(),
        "the http driver's page is not kept when the browser goes on: {:?}",
        files(artifacts.path())
    );
}

#[test]
fn auto_never_takes_refused_credentials_to_the_browser() {
    let provider = LocalProvider::start_with(json!({ "interactions": "password" }));
    let artifacts = tempfile::tempdir().unwrap();
    let done = run_sign_in(
        &provider,
        &[],
        &[("OAUTH_TEST_PASSWORD", "Wr0ng-pa55word-xyzzy")],
        artifacts.path(),
    );
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert_eq!(done.documents()[0]["error"], "sign_in_rejected");
    assert!(
        !done.stderr.contains("sign-in (browser)"),
        "refused once is enough: {}",
        done.stderr
    );
}

#[test]
fn a_wrong_password_in_the_browser_ends_with_the_page_and_a_screenshot() {
    let provider = LocalProvider::start_with(json!({ "interactions": "password" }));
    let artifacts = tempfile::tempdir().unwrap();
    let wrong = "Wr0ng-pa55word-xyzzy";
    let tmp = tempfile::tempdir().unwrap();
    let done = browser(
        &provider,
        &[],
        &[
            ("OAUTH_TEST_PASSWORD", wrong),
            TRACE,
            ("TMPDIR", tmp.path().to_str().unwrap()),
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
    let doc = &done.documents()[0];
    assert_eq!(doc["step"], "sign_in", "{doc}");
    assert_eq!(doc["error"], "sign_in_rejected", "{doc}");
    assert_eq!(doc["page"]["errors"], json!(["Invalid password"]));
    assert_eq!(doc["page"]["status"], 401, "{doc}");
    let message = doc["message"].as_str().unwrap();
    assert!(
        message.contains("\"Sign in\"")
            && message.contains("username (text), password (password)")
            && !message.contains('?'),
        "{message}"
    );

    let dir = artifacts.path();
    let html = std::fs::read_to_string(dir.join("sign-in-last-page.html")).expect("the page");
    assert!(html.contains("Invalid password"), "{html}");
    let png = std::fs::read(dir.join("sign-in-last-page.png")).expect("the screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    for (what, text) in [
        ("stdout", done.stdout.as_str()),
        ("stderr", &done.stderr),
        ("the saved page", &html),
    ] {
        assert!(!text.contains(wrong), "the password appears in {what}");
    }
    assert!(
        !png.windows(wrong.len()).any(|w| w == wrong.as_bytes()),
        "the password is not in the PNG's bytes"
    );
    assert_no_cookies(&done.stderr);
    assert_no_leftovers(tmp.path());
}

#[test]
fn identifier_first_then_a_one_time_code_in_the_browser() {
    let provider = LocalProvider::start_with(json!({ "interactions": "identifier_first" }));
    let artifacts = tempfile::tempdir().unwrap();
    let done = browser(&provider, &[], &[], artifacts.path());
    assert_signed_in(&done);
    assert!(
        done.stderr
            .contains("filling in the username (identifier-first)")
            && done
                .stderr
                .contains("filling in the password and submitting"),
        "{}",
        done.stderr
    );

    let provider = LocalProvider::start_with(json!({ "interactions": "totp" }));
    let done = browser(
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
fn denying_consent_in_the_browser_exits_1_with_access_denied() {
    let provider = LocalProvider::start();
    let artifacts = tempfile::tempdir().unwrap();
    let done = browser(&provider, &["--consent", "deny"], &[], artifacts.path());
    crate::signin::assert_denied_with_the_cancel_link(&done);
}

/// Clerk's Testing Token, against provider.mjs's stand-ins: its Backend API issues tokens
/// for CLERK_SECRET_KEY; its Frontend API (the provider's origin, as Clerk's OAuth server is
/// its Frontend API) refuses the sign-in page's request without one, and answers
/// `captcha_bypass: false` with one; the page builds its form only for `true`.
#[test]
fn clerks_testing_token_gets_the_browser_past_the_bot_check() {
    let provider = LocalProvider::start_with(json!({ "interactions": "clerk_testing" }));
    let artifacts = tempfile::tempdir().unwrap();

    let refused = browser(&provider, &[], &[], artifacts.path());
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    let doc = &refused.documents()[0];
    assert_eq!(doc["error"], "sign_in_no_form", "{doc}");
    assert_eq!(
        doc["page"]["errors"],
        json!(["Bot traffic detected"]),
        "{doc}"
    );
    assert!(
        doc["hint"].as_str().unwrap().contains("CLERK_SECRET_KEY"),
        "{doc}"
    );
    assert!(artifacts.path().join("sign-in-last-page.png").exists());

    let with_key = [
        ("CLERK_SECRET_KEY", CLERK_SECRET_KEY),
        ("CLERK_API_URL", provider.issuer.as_str()),
        TRACE,
    ];
    let artifacts = tempfile::tempdir().unwrap();
    let done = browser(&provider, &[], &with_key, artifacts.path());
    assert_signed_in(&done);
    assert!(
        done.stderr.contains("got a Clerk Testing Token"),
        "{}",
        done.stderr
    );
    assert!(
        !done.stderr.contains(CLERK_SECRET_KEY) && !done.stdout.contains(CLERK_SECRET_KEY),
        "the secret key is never shown"
    );
    // The token itself (digits, a dash, 24 hex digits) is not logged either.
    assert!(
        !done.stderr.contains("__clerk_testing_token="),
        "{}",
        done.stderr
    );

    let wrong = [
        ("CLERK_SECRET_KEY", "sk_test_not-the-key"),
        ("CLERK_API_URL", provider.issuer.as_str()),
    ];
    let done = browser(&provider, &[], &wrong, artifacts.path());
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    let doc = &done.documents()[0];
    assert_eq!(doc["error"], "sign_in_clerk_testing_token", "{doc}");
    let message = doc["message"].as_str().unwrap();
    assert!(
        message.contains("HTTP 401")
            && message.contains("The provided Secret Key is invalid")
            && !message.contains("sk_test_not-the-key"),
        "{message}"
    );
}

/// A single-page app: no `<form>`, `type=button` buttons, each step drawn in place a moment
/// after a `fetch()` returns, a wrong password shown inline, a script navigation at the end.
/// The driver waits for the page to change and settle rather than for a navigation.
#[test]
fn a_single_page_app_without_forms_or_navigations_between_steps() {
    let provider = LocalProvider::start_with(json!({ "interactions": "spa" }));
    let artifacts = tempfile::tempdir().unwrap();
    let done = browser(&provider, &[], &[], artifacts.path());
    assert_signed_in(&done);
    assert!(
        done.stderr.contains(
            "filling in the username (identifier-first) and submitting with \"Continue\""
        ) && done
            .stderr
            .contains("filling in the password and submitting with \"Continue\""),
        "{}",
        done.stderr
    );

    let wrong = "Wr0ng-pa55word-xyzzy";
    let done = browser(
        &provider,
        &[],
        &[("OAUTH_TEST_PASSWORD", wrong)],
        artifacts.path(),
    );
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    let doc = &done.documents()[0];
    assert_eq!(doc["error"], "sign_in_rejected", "{doc}");
    assert_eq!(doc["page"]["errors"], json!(["Invalid password"]), "{doc}");
    assert_eq!(doc["page"]["fields"], "password (password)", "{doc}");
    let html = std::fs::read_to_string(artifacts.path().join("sign-in-last-page.html")).unwrap();
    assert!(
        html.contains("Invalid password") && !html.contains(wrong),
        "{html}"
    );
}

/// Issue 21 with Chromium: the same hostile provider's tricks end the same way (the shared
/// rules refuse before anything is typed, or the guard stops the 307/308), and the foreign
/// listener sees no credential or code (nor, with port-bound cookies, the app's cookie).
macro_rules! browser_refused {
    ($($test:ident: $trick:literal => $code:literal, page $page:ident, target $target:ident;)*) => {$(
        #[test]
        fn $test() {
            let (provider, foreign) = crate::confine::hostile($trick);
            let artifacts = tempfile::tempdir().unwrap();
            let done = browser(&provider, &[], &[TRACE], artifacts.path());
            let (p, f) = (
                crate::confine::origin(&provider.issuer),
                crate::confine::origin(&foreign.base),
            );
            let pick = |which: &str| if which == "provider" { p.clone() } else { f.clone() };
            crate::confine::assert_refused(
                &done,
                $code,
                &pick(stringify!($page)),
                &pick(stringify!($target)),
            );
            let encoded: String =
                url::form_urlencoded::byte_serialize(PASSWORD.as_bytes()).collect();
            for request in foreign.seen() {
                for secret in [PASSWORD, encoded.as_str(), crate::signin::USER, "ci%40example.com", "code=", "\ncookie: oauth_test_client"] {
                    assert!(!request.contains(secret), "{secret} reached the foreign origin:\n{request}");
                }
            }
        }
    )*};
}

browser_refused! {
    the_browser_refuses_a_foreign_login_page_after_a_302:
        "redirect" => "sign_in_foreign_origin", page foreign, target foreign;
    the_browser_refuses_a_foreign_login_page_after_a_meta_refresh:
        "meta_refresh" => "sign_in_foreign_origin", page foreign, target foreign;
    the_browser_refuses_a_form_action_to_another_origin:
        "action" => "sign_in_foreign_origin", page provider, target foreign;
    the_browser_refuses_a_button_formaction_to_another_origin:
        "formaction" => "sign_in_foreign_origin", page provider, target foreign;
    the_browser_refuses_a_password_form_sent_by_get:
        "get" => "sign_in_password_by_get", page provider, target provider;
    the_browser_stops_a_307_of_the_password_post_to_another_origin:
        "307" => "sign_in_foreign_origin", page provider, target foreign;
    the_browser_stops_a_308_of_the_password_post_to_another_origin:
        "308" => "sign_in_foreign_origin", page provider, target foreign;
}

/// A legitimate login page on another origin, allowed by OAUTH_SIGN_IN_ORIGINS, with Chromium.
#[test]
fn the_browser_signs_in_on_an_allowed_origin() {
    let (provider, foreign) = crate::confine::hostile("sso");
    let artifacts = tempfile::tempdir().unwrap();
    let done = browser(
        &provider,
        &[],
        &[("OAUTH_SIGN_IN_ORIGINS", &foreign.base)],
        artifacts.path(),
    );
    assert_signed_in(&done);
    assert!(
        foreign.seen().iter().any(|r| r.starts_with("POST /login")),
        "{:?}",
        foreign.seen()
    );
    // Chromium runs with port- and scheme-bound cookies: the app's binding cookie (on
    // localhost) does not go to the foreign listener on another port of localhost.
    assert!(
        foreign
            .seen()
            .iter()
            .all(|r| !r.to_ascii_lowercase().contains("\ncookie:")),
        "{:?}",
        foreign.seen()
    );
}
