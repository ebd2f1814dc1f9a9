//! The GitHub Action's run script (action/run.sh), with the inputs passed as action.yml passes
//! them (INPUT_* variables), against the real provider: the report file, the job summary's
//! table of checks, the step outputs, and the tool's exit status.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider};

const USER: &str = "ci@example.com";
const PASSWORD: &str = "correct horse battery staple";

struct ActionRun {
    code: Option<i32>,
    stderr: String,
    summary: String,
    outputs: String,
    dir: tempfile::TempDir,
}

impl ActionRun {
    fn report(&self) -> Value {
        let text = std::fs::read_to_string(self.dir.path().join("out/report.json")).unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("report.json ({e}): {text}"))
    }
}

fn run_action(issuer: &str, password: &str, then: &str, audit: &str) -> ActionRun {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let outputs = dir.path().join("outputs.txt");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("action/run.sh");
    let output = Command::new("bash")
        .arg(script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env(
            "OAUTH_TEST_CLIENT_BIN",
            env!("CARGO_BIN_EXE_oauth-test-client"),
        )
        .env("OUTPUT_DIR", dir.path().join("out"))
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        // As action.yml passes its inputs (empty when not given).
        .env("INPUT_ISSUER", issuer)
        .env("INPUT_PUBLISHABLE_KEY", "")
        .env("INPUT_CLIENT_ID", CONFIDENTIAL_ID)
        .env("INPUT_CLIENT_SECRET", CONFIDENTIAL_SECRET)
        .env("INPUT_USERNAME", USER)
        .env("INPUT_PASSWORD", password)
        .env("INPUT_TOTP_SECRET", "")
        .env("INPUT_THEN", then)
        .env("INPUT_AUDIT", audit)
        .env("INPUT_TIMEOUT", "60")
        .env("INPUT_SIGN_IN_DRIVER", "http")
        .env("INPUT_ARGS", "")
        .current_dir(dir.path())
        .output()
        .expect("bash runs action/run.sh");
    ActionRun {
        code: output.status.code(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        outputs: std::fs::read_to_string(&outputs).unwrap_or_default(),
        dir,
    }
}

#[test]
fn the_action_signs_in_and_writes_the_report_and_the_summary() {
    let provider = LocalProvider::start_with(json!({ "interactions": "password" }));
    let run = run_action(&provider.issuer, PASSWORD, "refresh,userinfo", "false");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let report = run.report();
    let access = report["token"]["access_token"].as_str().unwrap();
    assert!(
        access.ends_with("chars)"),
        "tokens masked in the artifact: {access}"
    );
    assert!(report["checks"].as_array().is_some_and(|c| !c.is_empty()));
    assert!(
        run.summary.contains("oauth-test-client: passed (exit 0)"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("| check | result | detail |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("| id_token.signature | pass |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("| refresh | true |"),
        "{}",
        run.summary
    );
    assert!(run.outputs.contains("exit-code=0"), "{}", run.outputs);
    for text in [&run.stderr, &run.summary, &run.outputs] {
        assert!(!text.contains(PASSWORD) && !text.contains(CONFIDENTIAL_SECRET));
    }
}

#[test]
fn a_wrong_password_fails_the_step_with_the_saved_page_and_a_summary() {
    let provider = LocalProvider::start_with(json!({ "interactions": "password" }));
    let run = run_action(&provider.issuer, "not the password", "", "false");
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.summary.contains("failed"), "{}", run.summary);
    assert!(run.outputs.contains("exit-code=1"), "{}", run.outputs);
    let saved: Vec<String> = std::fs::read_dir(run.dir.path().join("out/sign-in"))
        .expect("the sign-in page is kept for the artifact")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(saved.iter().any(|n| n.ends_with(".html")), "{saved:?}");
    assert_eq!(run.report()["step"], "sign_in");
}

#[test]
fn audit_on_adds_the_probes_to_the_report_and_the_summary() {
    let provider = LocalProvider::start_with(json!({ "interactions": "password" }));
    let run = run_action(&provider.issuer, PASSWORD, "", "true");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let report = run.report();
    let probes: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"].as_str().unwrap().starts_with("audit."))
        .collect();
    assert!(probes.len() > 10, "{report}");
    assert!(
        run.summary.contains("| audit.code_redeemed_twice | pass |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("| audit.pkce_wrong_verifier | pass |"),
        "{}",
        run.summary
    );
    for text in [&run.stderr, &run.summary] {
        assert!(!text.contains(PASSWORD) && !text.contains(CONFIDENTIAL_SECRET));
    }
}
