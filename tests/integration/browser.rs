//! A person at a real browser: Debian's Chromium, driven by playwright-core
//! (tests/browser/e2e.mjs), signs in through the app and the real local provider, looks at
//! every page, copies tokens, refreshes, calls userinfo, and declines a second sign-in.
//! Screenshots of each page land in target/screenshots/. Fails, never skips, when Chromium,
//! Node.js or npm is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

use crate::support::app::confidential_app;
use crate::support::provider::{CONFIDENTIAL_ID, LocalProvider};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Every page the script saves, and the window width it was taken at.
const SCREENSHOTS: [(&str, u32); 9] = [
    ("index.png", 1000),
    ("provider-login.png", 1000),
    ("consent.png", 1000),
    ("result.png", 1000),
    ("result-top.png", 1000),
    ("result-375.png", 375),
    ("refresh.png", 1000),
    ("userinfo.png", 1000),
    ("error.png", 1000),
];

fn browser_dir() -> PathBuf {
    crate::support::npm::folder("browser")
}

fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("screenshots")
}

/// Chromium and Node.js are needed: say which package brings each, and fail.
fn require_tools() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the browser test needs Debian's `chromium` package \
         (apt-get install -y chromium; .ci/run installs it)"
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "cannot run node ({node:?}): the browser test needs Node.js 20+ and npm \
         (apt-get install -y nodejs npm)"
    );
}

/// playwright-core and axe-core (never a browser download: Debian's chromium is used).
fn ensure_installed() {
    crate::support::npm::ensure_installed(
        "browser",
        &["playwright-core", "axe-core"],
        "playwright-core",
    );
}

/// A PNG's width, from its IHDR chunk.
fn png_width(bytes: &[u8]) -> Option<u32> {
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" || &bytes[12..16] != b"IHDR" {
        return None;
    }
    Some(u32::from_be_bytes(bytes[16..20].try_into().ok()?))
}

#[tokio::test]
async fn a_person_signs_in_refreshes_and_declines_in_chromium() {
    require_tools();
    ensure_installed();
    let provider = LocalProvider::start();
    let app = confidential_app(&provider).await;
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).expect("target/screenshots");
    for (name, _) in SCREENSHOTS.iter().chain([&("failure.png", 0)]) {
        let _ = std::fs::remove_file(shots.join(name));
    }

    let login = "ada-lovelace";
    let started = Instant::now();
    let mut command = Command::new("node");
    command
        .arg(browser_dir().join("e2e.mjs"))
        .arg(format!("{}/", app.base))
        .arg(&shots)
        .arg(login)
        .arg(CONFIDENTIAL_ID)
        .current_dir(browser_dir());
    // Blocking, off the runtime's thread: the app keeps serving meanwhile.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("cannot run node: the browser test needs Node.js 20+ (apt-get install -y nodejs)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The script prints pages, counts and the subject: no token, no secret.
    eprintln!(
        "browser test: {:.1} s; screenshots in {}\n{stdout}",
        started.elapsed().as_secs_f64(),
        shots.display()
    );
    assert!(
        output.status.success(),
        "the browser test failed ({}); see {}/failure.png\nstdout:\n{stdout}\nstderr:\n{stderr}\nprovider stderr:\n{}",
        output.status,
        shots.display(),
        provider.stderr()
    );

    let lines: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let steps: Vec<&str> = lines.iter().filter_map(|l| l["step"].as_str()).collect();
    assert_eq!(
        steps,
        [
            "index",
            "provider-login",
            "consent",
            "result",
            "refresh",
            "userinfo",
            "error"
        ],
        "{stdout}"
    );
    assert!(
        lines.iter().all(|l| l
            .get("error")
            .is_none_or(|e| l["step"] == "error" && e == "access_denied")),
        "{stdout}"
    );
    let done = lines.last().expect("a last line");
    assert_eq!(done["done"], true, "{stdout}");
    assert_eq!(done["sub"], login, "{stdout}");
    assert_eq!(done["userinfo_sub"], login, "{stdout}");
    let result = lines.iter().find(|l| l["step"] == "result").unwrap();
    assert!(
        result["checks"].as_u64() >= Some(10) && result["checks"] == result["passed"],
        "{result}"
    );

    // Each page was saved, as a PNG of the window's width.
    for (name, width) in SCREENSHOTS {
        let path = shots.join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(png_width(&bytes), Some(width), "{}", path.display());
        assert!(bytes.len() > 5_000, "{} looks empty", path.display());
    }

    // The sign-in really went through the app: it printed the token JSON it showed.
    let documents = app.stdout.documents();
    assert!(
        documents
            .first()
            .is_some_and(|d| d["access_token"].is_string() && d["id_token"].is_string()),
        "{documents:?}"
    );
}
