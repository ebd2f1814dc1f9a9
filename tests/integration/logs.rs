//! `RUST_LOG=trace`, for every crate: a sign-in with a password and a one-time code, by
//! either driver, writes no password, code, client secret, cookie or token to stderr. The
//! crates that log wire data (tungstenite logs the DevTools frames the browser driver types
//! with; hyper, h2, reqwest, rustls, cookie_store, html5ever) are capped at `info`.

use serde_json::{Value, json};

use crate::binary::Finished;
use crate::signin::{TOTP_SECRET, assert_no_cookies, assert_signed_in, run_sign_in};
use crate::support::provider::{CONFIDENTIAL_SECRET, LocalProvider};
use oauth_test_client::signin::{Secret, TotpKey};

const PASSWORD: &str = crate::signin::PASSWORD;

/// Every secret of the run: the password, the client secret, the tokens (first and
/// refreshed), and every one-time code of the last few minutes.
fn secrets(done: &Finished) -> Vec<String> {
    let doc = &done.documents()[0];
    let mut all = vec![PASSWORD.to_owned(), CONFIDENTIAL_SECRET.to_owned()];
    let tokens = [&doc["token"], &doc["steps"][0]["response"]];
    for token in tokens {
        for field in ["access_token", "refresh_token", "id_token"] {
            if let Value::String(t) = &token[field] {
                all.push(t.clone());
            }
        }
    }
    assert!(all.len() >= 7, "tokens and refreshed tokens: {doc}");
    let key = TotpKey::from_base32(&Secret::new(TOTP_SECRET.to_owned())).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for back in (0..=240).step_by(30) {
        all.push(key.at(now - back).expose().to_owned());
    }
    all
}

/// `secret` in `text`, as a whole (a six-digit code inside a longer number is not it).
fn contains_whole(text: &str, secret: &str) -> bool {
    text.match_indices(secret).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + secret.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

fn assert_nothing_secret_at_trace(done: &Finished) {
    assert_signed_in(done);
    assert!(
        done.stderr.contains("TRACE") || done.stderr.contains("DEBUG"),
        "trace logging is on: {}",
        done.stderr
    );
    assert!(
        done.stderr.contains("filling in the one-time code"),
        "the code page was answered: {}",
        done.stderr
    );
    for secret in secrets(done) {
        assert!(
            !contains_whole(&done.stderr, &secret),
            "a secret ({} characters) in stderr at RUST_LOG=trace:\n{}",
            secret.len(),
            done.stderr
        );
    }
    assert_no_cookies(&done.stderr);
    // The cap itself: no other crate's debug or trace line (html5ever's show the pages' text,
    // hyper's and tungstenite's the traffic).
    for line in done.stderr.lines() {
        let Some(head) = line.strip_prefix('[').and_then(|l| l.split(']').next()) else {
            continue;
        };
        let mut words = head.split_whitespace().skip(1);
        if let (Some(level @ ("DEBUG" | "TRACE")), Some(target)) = (words.next(), words.next()) {
            assert!(
                target == "oauth_test_client" || target.starts_with("oauth_test_client::"),
                "a {level} line of {target} at RUST_LOG=trace: {line}"
            );
        }
    }
    // The authorization code travels in the callback's query.
    assert!(!done.stderr.contains("code="), "{}", done.stderr);
}

fn sign_in_at_trace(args: &[&str]) -> Finished {
    let provider = LocalProvider::start_with(json!({ "interactions": "totp" }));
    let artifacts = tempfile::tempdir().unwrap();
    run_sign_in(
        &provider,
        args,
        &[
            ("OAUTH_TEST_TOTP_SECRET", TOTP_SECRET),
            ("RUST_LOG", "trace"),
        ],
        artifacts.path(),
    )
}

#[test]
fn trace_logs_of_the_http_driver_hold_no_secret() {
    assert_nothing_secret_at_trace(&sign_in_at_trace(&[]));
}

#[cfg(feature = "browser")]
#[test]
fn trace_logs_of_the_browser_driver_hold_no_secret() {
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "the browser driver's tests need /usr/bin/chromium"
    );
    assert_nothing_secret_at_trace(&sign_in_at_trace(&["--sign-in-driver", "browser"]));
}
