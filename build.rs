//! Records the git revision the binary is built from, for `--version`: from `git` in a
//! checkout, or from `.cargo_vcs_info.json` in a packaged crate (`cargo package` writes it).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    println!("cargo:rerun-if-changed=.cargo_vcs_info.json");
    let revision = from_git().or_else(from_package);
    let shown = revision.map_or_else(|| "revision unknown".to_owned(), |r| format!("git {r}"));
    println!("cargo:rustc-env=OAUTH_TEST_CLIENT_REVISION={shown}");
}

fn from_git() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    let rev = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !rev.is_empty()).then_some(rev)
}

fn from_package() -> Option<String> {
    let text = std::fs::read_to_string(".cargo_vcs_info.json").ok()?;
    // {"git": {"sha1": "<40 hex>"}, ...}: read without a JSON parser in the build script.
    let at = text.find("\"sha1\"")?;
    let rest = &text[at + 6..];
    let start = rest.find('"')? + 1;
    let sha: String = rest[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (sha.len() >= 12).then(|| sha[..12].to_owned())
}
