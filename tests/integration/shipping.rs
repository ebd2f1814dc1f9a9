//! The tool as a CI job elsewhere gets it: the installed binary, run from an empty folder with
//! nothing of this repository beside it (templates and the page script are compiled in).
//! `.ci/run` installs the packaged crate (`cargo package`, then `cargo install --path` of the
//! unpacked package) and names that binary in OAUTH_TEST_CLIENT_INSTALLED; without it, this
//! build's binary is copied into an empty folder and checked the same way.

use std::path::PathBuf;
use std::time::Duration;

use crate::binary::{Running, callback_prefix};
use crate::support::browser::{Browser, Choice};
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider};

/// The binary under test, alone in a folder of its own, and that folder.
fn installed() -> (PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let bin = match std::env::var_os("OAUTH_TEST_CLIENT_INSTALLED") {
        Some(path) => PathBuf::from(path),
        None => {
            let copy = dir.path().join("oauth-test-client");
            std::fs::copy(env!("CARGO_BIN_EXE_oauth-test-client"), &copy).unwrap();
            copy
        }
    };
    (bin, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_installed_binary_signs_in_from_an_empty_folder() {
    let (bin, _home) = installed();
    let provider = LocalProvider::start();
    let empty = tempfile::tempdir().unwrap();
    let version = std::process::Command::new(&bin)
        .arg("--version")
        .current_dir(empty.path())
        .output()
        .unwrap();
    let version = String::from_utf8(version.stdout).unwrap();
    assert!(
        version.starts_with("oauth-test-client 0.1.0 ("),
        "{version}"
    );

    let running = Running::spawn_program(
        &bin,
        &[
            "--once",
            "--report",
            "--no-browser",
            "--port",
            "0",
            "--then",
            "userinfo",
        ],
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", CONFIDENTIAL_ID),
            ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
        ],
        empty.path(),
    );
    let sign_in = running.sign_in_url();
    let browser = Browser::new();
    // The pages render from the installed binary alone.
    let index = browser
        .client()
        .get(sign_in.replace("/login", "/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(index.contains("Sign in"), "{index}");
    let script = browser
        .client()
        .get(sign_in.replace("/login", "/assets/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    let callback = browser
        .authorize(&sign_in, &callback_prefix(&sign_in), "uma", Choice::Approve)
        .await;
    let page = browser.client().get(callback).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let done = tokio::task::spawn_blocking(move || running.finish(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let doc = &done.documents()[0];
    assert!(doc["token"]["access_token"].is_string(), "{doc}");
    assert_eq!(doc["steps"][0]["ok"], true, "{doc}");
    assert_eq!(
        std::fs::read_dir(empty.path()).unwrap().count(),
        0,
        "nothing written to the folder it ran in"
    );
}
