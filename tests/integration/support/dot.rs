//! django-oauth-toolkit (tests/dot-provider/server.py), the second real provider that nobody
//! here wrote, started per test. Its Python packages install themselves once per test binary
//! (a venv from the pinned requirements.txt, PyPI only) when tests/dot-provider/.venv is
//! missing. Fails loudly without Python 3: these tests never pass by skipping.

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// The test user and the applications server.py creates.
pub const DOT_USER: &str = "alice";
pub const DOT_PASSWORD: &str = "alice-password-123";
pub const DOT_CONFIDENTIAL_ID: &str = "dot-confidential";
pub const DOT_CONFIDENTIAL_SECRET: &str = "dot-confidential-secret-0123456789";

fn folder() -> PathBuf {
    super::npm::folder("dot-provider")
}

fn python() -> PathBuf {
    folder().join(".venv").join("bin").join("python")
}

/// The venv, created once from requirements.txt when it is missing.
fn ensure_installed() {
    static DONE: Mutex<Option<Result<(), String>>> = Mutex::new(None);
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    let result = done.get_or_insert_with(|| install(&folder())).clone();
    if let Err(e) = result {
        panic!("django-oauth-toolkit cannot be installed: {e}");
    }
}

fn install(dir: &Path) -> Result<(), String> {
    if python().exists() {
        return Ok(());
    }
    let run = |program: &Path, args: &[&str]| -> Result<(), String> {
        let status = Command::new(program)
            .args(args)
            .current_dir(dir)
            .status()
            .map_err(|e| {
                format!(
                    "cannot run {} ({e}): the tests need Python 3.10+",
                    program.display()
                )
            })?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} {args:?} in {} failed ({status})",
                program.display(),
                dir.display()
            ))
        }
    };
    run(Path::new("python3"), &["-m", "venv", ".venv"])?;
    run(
        &dir.join(".venv/bin/pip"),
        &[
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            "requirements.txt",
        ],
    )
}

pub struct DotProvider {
    child: Child,
    _stdin: ChildStdin,
    pub issuer: String,
    stderr_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl DotProvider {
    pub fn start() -> Self {
        ensure_installed();
        let dir = tempfile::tempdir().expect("temp dir");
        let stderr_path = dir.path().join("dot.stderr");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut child = Command::new(python())
            .arg(folder().join("server.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start django-oauth-toolkit ({e})"));
        let (ready, stdin) = super::ready::wait_for_ready(
            &mut child,
            "django-oauth-toolkit",
            &stderr_path,
            Duration::from_secs(90),
        );
        Self {
            child,
            _stdin: stdin,
            issuer: ready["issuer"].as_str().expect("issuer").to_owned(),
            stderr_path,
            _dir: dir,
        }
    }

    /// What the server wrote to stderr so far (for assertion messages).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for DotProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
