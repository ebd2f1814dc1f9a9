//! The Node.js parts of the tests (tests/provider, tests/browser) install themselves: `npm ci`
//! once per test binary and folder when its packages are missing. Without Node.js and npm
//! the tests fail, saying so; they never skip.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// `tests/<folder>` in this repository.
pub fn folder(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

/// Makes sure `packages` are installed in `tests/<name>`; `what` names the part for the
/// failure message.
pub fn ensure_installed(name: &str, packages: &[&str], what: &str) {
    static DONE: Mutex<Option<HashMap<String, Result<(), String>>>> = Mutex::new(None);
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    let result = done
        .get_or_insert_with(HashMap::new)
        .entry(name.to_owned())
        .or_insert_with(|| install(&folder(name), packages))
        .clone();
    if let Err(e) = result {
        panic!("{what} cannot be installed: {e}");
    }
}

fn install(dir: &Path, packages: &[&str]) -> Result<(), String> {
    let modules = dir.join("node_modules");
    if packages.iter().all(|p| modules.join(p).exists()) {
        return Ok(());
    }
    // No install scripts: nothing here may download a browser or a binary of its own.
    let status = Command::new("npm")
        .args([
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(dir)
        .status()
        .map_err(|e| format!("cannot run npm ({e}): the tests need Node.js 20+ and npm"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`npm ci` in {} failed ({status})", dir.display()))
    }
}
