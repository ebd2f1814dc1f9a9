//! The Action's installer (action/install.sh) against a fake release served from loopback:
//! the good download (checksum verified, the installed binary runs), a checksum mismatch
//! (nothing installed, nothing run), a release without the asset or without the version
//! (`cargo install` from the checkout, here a stub `cargo` that records its arguments), and
//! the cache key, which changes with the tool's sources.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const TARGET: &str = "x86_64-unknown-linux-musl";

/// A release server: GET <path> answers the file at that path, or 404; records each path.
struct FakeRelease {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeRelease {
    fn serve(files: HashMap<String, Vec<u8>>) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let base = format!(
            "http://127.0.0.1:{}/releases/download",
            listener.local_addr().unwrap().port()
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split(' ').nth(1).unwrap_or("").to_owned();
                loop {
                    let mut header = String::new();
                    match reader.read_line(&mut header) {
                        Ok(n) if n > 2 => continue,
                        _ => break,
                    }
                }
                seen.lock().unwrap().push(path.clone());
                let (status, body) = match files.get(&path) {
                    Some(body) => ("200 OK", body.clone()),
                    None => ("404 Not Found", b"Not Found".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        Self { base, requests }
    }

    fn requested(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn asset_name(name: &str) -> String {
    format!("{name}-{VERSION}-{TARGET}.tar.gz")
}

/// The release asset as the release workflow packs it (.ci/pack-release.sh), around this
/// build's binary, so the installed one really runs.
fn pack_asset(name: &str, dir: &Path) -> Vec<u8> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ok = Command::new("bash")
        .arg(repo.join(".ci/pack-release.sh"))
        .arg(env!("CARGO_BIN_EXE_oauth-test-client"))
        .args([name, VERSION, TARGET])
        .arg(dir)
        .current_dir(repo)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, ".ci/pack-release.sh packs the asset");
    std::fs::read(dir.join(asset_name(name))).unwrap()
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A release with `asset` (listed in SHA256SUMS with `listed_sum`, served when `served`).
fn release(dir: &Path, name: &str, listed_sum: Option<&str>, served: bool) -> FakeRelease {
    let asset = pack_asset(name, dir);
    let sum = listed_sum.map_or_else(|| hex_sha256(&asset), str::to_owned);
    let mut files = HashMap::new();
    files.insert(
        format!("/releases/download/v{VERSION}/SHA256SUMS"),
        format!(
            "{sum}  {}\n{}  oauth-test-client-{VERSION}-aarch64-apple-darwin.tar.gz\n",
            asset_name(name),
            "0".repeat(64)
        )
        .into_bytes(),
    );
    if served {
        files.insert(
            format!("/releases/download/v{VERSION}/{}", asset_name(name)),
            asset,
        );
    }
    FakeRelease::serve(files)
}

struct Install {
    code: Option<i32>,
    stderr: String,
    root: PathBuf,
    cargo_calls: String,
    _dir: tempfile::TempDir,
}

impl Install {
    fn installed(&self) -> PathBuf {
        self.root.join("bin/oauth-test-client")
    }
}

/// action/install.sh as action.yml runs it on a Linux x86_64 runner, with a stub `cargo` first
/// on PATH that records its arguments instead of compiling.
fn install(base: &str, features: &str) -> Install {
    let dir = tempfile::tempdir().unwrap();
    let stubs = dir.path().join("stubs");
    std::fs::create_dir_all(&stubs).unwrap();
    let calls = dir.path().join("cargo-calls.txt");
    std::fs::write(
        stubs.join("cargo"),
        format!("#!/bin/sh\necho \"$@\" >> '{}'\n", calls.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(stubs.join("cargo"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }
    let path = format!(
        "{}:{}",
        stubs.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let root = dir.path().join("root");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("action/install.sh");
    let out = Command::new("bash")
        .arg(script)
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir.path())
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("OAUTH_TEST_CLIENT_ROOT", &root)
        .env("RELEASE_BASE_URL", base)
        .env("INSTALL_FEATURES", features)
        .output()
        .unwrap();
    Install {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        root,
        cargo_calls: std::fs::read_to_string(&calls).unwrap_or_default(),
        _dir: dir,
    }
}

#[test]
fn the_release_asset_is_downloaded_verified_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let release = release(dir.path(), "oauth-test-client", None, true);
    let run = install(&release.base, "");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("SHA-256 verified"), "{}", run.stderr);
    assert_eq!(run.cargo_calls, "", "nothing built from source");
    let version = Command::new(run.installed())
        .arg("--version")
        .output()
        .unwrap();
    assert!(version.status.success());
    assert!(
        String::from_utf8_lossy(&version.stdout)
            .starts_with(&format!("oauth-test-client {VERSION} ")),
        "{version:?}"
    );
    assert_eq!(
        release.requested(),
        [
            format!("/releases/download/v{VERSION}/SHA256SUMS"),
            format!(
                "/releases/download/v{VERSION}/{}",
                asset_name("oauth-test-client")
            ),
        ]
    );
}

#[test]
fn the_browser_build_is_its_own_asset() {
    let dir = tempfile::tempdir().unwrap();
    let release = release(dir.path(), "oauth-test-client-browser", None, true);
    let run = install(&release.base, "browser");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.installed().is_file());
    assert_eq!(run.cargo_calls, "");
}

#[test]
fn a_checksum_mismatch_fails_and_installs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = "ab".repeat(32);
    let release = release(dir.path(), "oauth-test-client", Some(&wrong), true);
    let run = install(&release.base, "");
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{} does not match its SHA-256 in {}/v{VERSION}/SHA256SUMS (expected {wrong}, got ",
            asset_name("oauth-test-client"),
            release.base
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("not installed, not run"),
        "{}",
        run.stderr
    );
    assert!(!run.installed().exists(), "nothing installed");
    assert_eq!(run.cargo_calls, "", "no fallback after a bad download");
}

#[test]
fn a_release_without_the_asset_falls_back_to_cargo_install_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    // Listed in the sums but not served: a 404 for the asset itself.
    let release = release(dir.path(), "oauth-test-client", None, false);
    let run = install(&release.base, "");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "release v{VERSION} has no {}",
            asset_name("oauth-test-client")
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("building it from source with cargo install"),
        "{}",
        run.stderr
    );
    let checkout = env!("CARGO_MANIFEST_DIR");
    assert_eq!(
        run.cargo_calls,
        format!(
            "install --locked --path {checkout} --root {}\n",
            run.root.display()
        )
    );
}

#[test]
fn no_release_of_this_version_falls_back_to_cargo_install_with_the_features() {
    let release = FakeRelease::serve(HashMap::new());
    let run = install(&release.base, "browser");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("no release v{VERSION} at {}", release.base)),
        "{}",
        run.stderr
    );
    assert!(
        run.cargo_calls.ends_with("--features browser\n"),
        "{}",
        run.cargo_calls
    );
}

#[test]
fn a_plain_http_release_url_off_loopback_is_refused() {
    let run = install("http://releases.example/download", "");
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("must be an https URL"),
        "{}",
        run.stderr
    );
    assert_eq!(run.cargo_calls, "");
}

fn cache_key(checkout: &Path) -> String {
    cache_key_with(checkout, "false")
}

fn cache_key_with(checkout: &Path, from_source: &str) -> String {
    let out = Command::new("bash")
        .arg(checkout.join("action/install.sh"))
        .arg("--cache-key")
        .env("FROM_SOURCE", from_source)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_cache_key_changes_with_any_source_of_the_tool() {
    // A copy of what the key covers, changed one file at a time.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("action")).unwrap();
    std::fs::create_dir_all(root.join("src/web")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("action/install.sh"),
        root.join("action/install.sh"),
    )
    .unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"oauth-test-client\"\nversion = \"1.2.3\"\n",
    )
    .unwrap();
    std::fs::write(root.join("src/web/page.rs"), "fn a() {}\n").unwrap();
    let first = cache_key(root);
    assert!(
        first.starts_with("key=oauth-test-client-Linux-X64-1.2.3-release-"),
        "{first}"
    );
    assert_eq!(cache_key(root), first, "the same sources, the same key");
    std::fs::write(root.join("src/web/page.rs"), "fn b() {}\n").unwrap();
    let second = cache_key(root);
    assert_ne!(second, first, "a source change is a new key");
    let built = cache_key_with(root, "true");
    assert_ne!(built, second);
    assert_eq!(
        built.replace("-source-", "-release-"),
        second,
        "a from-source build is cached apart"
    );
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"oauth-test-client\"\nversion = \"1.2.4\"\n",
    )
    .unwrap();
    let third = cache_key(root);
    assert!(
        third.starts_with("key=oauth-test-client-Linux-X64-1.2.4-release-"),
        "{third}"
    );
}

/// A `key = "value"` line of Cargo.toml (the first one).
fn manifest_value(key: &str) -> String {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{key} in Cargo.toml"))
        .to_owned()
}

#[test]
fn cargo_binstall_metadata_names_the_assets_the_release_packs() {
    let repo = manifest_value("repository");
    let expand = |template: &str| {
        template
            .replace("{ repo }", &repo)
            .replace("{ version }", VERSION)
            .replace("{ name }", "oauth-test-client")
            .replace("{ target }", TARGET)
            .replace("{ bin }", "oauth-test-client")
            .replace("{ binary-ext }", "")
    };
    assert_eq!(
        expand(&manifest_value("pkg-url")),
        format!(
            "{repo}/releases/download/v{VERSION}/{}",
            asset_name("oauth-test-client")
        ),
        "the URL action/install.sh downloads"
    );
    assert_eq!(manifest_value("pkg-fmt"), "tgz");
    let dir = tempfile::tempdir().unwrap();
    pack_asset("oauth-test-client", dir.path());
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(dir.path().join(asset_name("oauth-test-client")))
        .output()
        .unwrap();
    let listing = String::from_utf8(listing.stdout).unwrap();
    let bin_dir = expand(&manifest_value("bin-dir"));
    assert!(
        listing.lines().any(|l| l == bin_dir),
        "{bin_dir} in {listing}"
    );
}

/// Every place that names this project's repository (an install line, `uses:`) names the one
/// in Cargo.toml.
#[test]
fn every_install_line_names_the_repository_of_cargo_toml() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let repo = manifest_value("repository");
    let slug = repo
        .strip_prefix("https://github.com/")
        .expect("a GitHub URL");
    let mut files = vec![
        root.join("README.md"),
        root.join("action.yml"),
        root.join("Dockerfile"),
    ];
    for dir in ["docs", "docs/pending", "examples"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue; // docs/pending/ exists only while documentation waits to be folded in
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md" || e == "yml") {
                files.push(path);
            }
        }
    }
    let mut wrong = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            // github.com/<owner>/oauth-test-client..., and `uses: <owner>/oauth-test-client@`.
            let named = line
                .match_indices("/oauth-test-client")
                .filter_map(|(at, _)| {
                    let before = &line[..at];
                    let owner_at = before
                        .rfind(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))?;
                    let prefix = &before[..=owner_at];
                    let owner = &before[owner_at + 1..];
                    let rest = &line[at + "/oauth-test-client".len()..];
                    let is_repo = prefix.ends_with("github.com/")
                        || (prefix.ends_with("uses: ") && rest.starts_with('@'));
                    is_repo.then(|| format!("{owner}/oauth-test-client"))
                })
                .filter(|named| named != slug);
            for named in named {
                wrong.push(format!("{}:{}: {named}", file.display(), n + 1));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "not Cargo.toml's repository ({slug}):\n{}",
        wrong.join("\n")
    );
}

/// action.yml hands the installer its settings and keys the cache with the installer's key
/// (hashFiles() cannot see the action's own folder: a key built with it never changed).
#[test]
fn action_yml_installs_with_install_sh_and_its_cache_key() {
    let action =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    assert!(!action.contains("hashFiles("), "{action}");
    assert!(action.contains("key: ${{ steps.key.outputs.key }}"));
    assert!(action.contains(r#"action/install.sh" --cache-key >> "$GITHUB_OUTPUT""#));
    for setting in [
        "INSTALL_FEATURES: ${{ inputs.sign-in-driver == 'browser' && 'browser' || '' }}",
        "RELEASE_BASE_URL: ${{ inputs.release-base-url }}",
        "FROM_SOURCE: ${{ inputs.from-source }}",
        "OAUTH_TEST_CLIENT_ROOT: ~/.oauth-test-client",
        "OAUTH_TEST_CLIENT_BIN: ~/.oauth-test-client/bin/oauth-test-client",
    ] {
        assert!(action.contains(setting), "{setting}");
    }
}
