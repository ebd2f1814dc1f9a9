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
    run_action_with(
        env!("CARGO_BIN_EXE_oauth-test-client").as_ref(),
        issuer,
        password,
        then,
        audit,
        "",
    )
}

fn run_action_with(
    bin: &Path,
    issuer: &str,
    password: &str,
    then: &str,
    audit: &str,
    args: &str,
) -> ActionRun {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let outputs = dir.path().join("outputs.txt");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("action/run.sh");
    let output = Command::new("bash")
        .arg(script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("OAUTH_TEST_CLIENT_BIN", bin)
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
        .env("INPUT_ARGS", args)
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
        run.summary.contains(r"| id\_token\.signature | pass |"),
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
        run.summary
            .contains(r"| audit\.code\_redeemed\_twice | pass |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains(r"| audit\.pkce\_wrong\_verifier | pass |"),
        "{}",
        run.summary
    );
    for text in [&run.stderr, &run.summary] {
        assert!(!text.contains(PASSWORD) && !text.contains(CONFIDENTIAL_SECRET));
    }
}

#[test]
fn args_are_split_as_a_shell_would_so_a_quoted_value_stays_one_word() {
    let provider = LocalProvider::start_with(json!({ "interactions": "password" }));
    let run = run_action_with(
        env!("CARGO_BIN_EXE_oauth-test-client").as_ref(),
        &provider.issuer,
        PASSWORD,
        "",
        "false",
        r#"--scopes "openid email""#,
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // The provider grants what was asked: both scopes, as one --scopes value.
    assert_eq!(run.report()["token"]["scope"], "openid email");
}

#[test]
fn args_with_an_unclosed_quote_stop_with_exit_2_naming_the_setting() {
    let provider = LocalProvider::start_with(json!({ "interactions": "password" }));
    let run = run_action_with(
        env!("CARGO_BIN_EXE_oauth-test-client").as_ref(),
        &provider.issuer,
        PASSWORD,
        "",
        "false",
        r#"--scopes "openid email"#,
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("OAUTH_TEST_CLIENT_ARGS has an unclosed quote"),
        "{}",
        run.stderr
    );
    assert!(run.summary.contains("stopped: a configuration mistake"));
}

/// Text a provider controls, with every Markdown construct that could add a link, an image,
/// HTML or formatting to the job summary, a table-breaking `|` and a line break.
const HOSTILE: &str = "see [here](https://evil.example/x) ![i](https://evil.example/i.png) \
    <img src=x onerror=alert(1)> <a href=\"https://evil.example\">a</a> `code` *em* __b__ ~~s~~ \
    a|b\n| new row | www.evil.example https://evil.example/y &amp; \\[x\\] # h";

/// A stand-in for the tool: the text under test is whatever a provider put in the report, and
/// no real provider can be made to send arbitrary error text; run.sh must render any of it.
fn fake_tool(dir: &Path, stdout: &str, stderr: &str) -> std::path::PathBuf {
    let bin = dir.join("fake-tool");
    std::fs::write(dir.join("stdout.txt"), stdout).unwrap();
    std::fs::write(dir.join("stderr.txt"), stderr).unwrap();
    std::fs::write(
        &bin,
        format!(
            "#!/bin/sh\ncat '{0}/stdout.txt'\ncat '{0}/stderr.txt' >&2\nexit 1\n",
            dir.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

/// The summary as GitHub renders it: cmark-gfm (GitHub's CommonMark) with GitHub's extensions.
fn render_gfm(markdown: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("cmark-gfm")
        .args([
            "-e",
            "table",
            "-e",
            "autolink",
            "-e",
            "tagfilter",
            "-e",
            "strikethrough",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect(
            "cmark-gfm renders the summary as GitHub does: install the Debian package cmark-gfm",
        );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(markdown.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn html_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn assert_inert(html: &str) {
    for tag in [
        "<a ", "<img", "<em>", "<strong>", "<code>", "<del>", "<script", "<h1", "<h2",
    ] {
        assert!(
            !html.contains(tag),
            "{tag} in the rendered summary:\n{html}"
        );
    }
}

#[test]
fn provider_text_in_the_report_is_plain_text_in_the_job_summary() {
    let fakes = tempfile::tempdir().unwrap();
    let report = json!({
        "step": "sign_in",
        "checks": [{ "check": "id_token.signature", "result": "fail", "detail": HOSTILE }],
        "steps": [{ "step": "sign_in", "ok": false, "status": 400, "error": HOSTILE }],
    });
    let bin = fake_tool(fakes.path(), &report.to_string(), "");
    let run = run_action_with(&bin, "https://issuer.example", PASSWORD, "", "false", "");
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let html = render_gfm(&run.summary);
    assert_inert(&html);
    // Shown whole and as typed (the line break as a space), each in its own cell.
    let shown = format!("<td>{}</td>", html_escaped(&HOSTILE.replace('\n', " ")));
    assert_eq!(html.matches(&shown).count(), 2, "{html}");
    assert_eq!(
        html.matches("<tr>").count(),
        4,
        "two tables, one row each:\n{html}"
    );
}

#[test]
fn stderr_shown_when_there_is_no_report_is_plain_text_in_the_job_summary() {
    let fakes = tempfile::tempdir().unwrap();
    let stderr = format!("error: the provider said:\n```\n{HOSTILE}\n```\n");
    let bin = fake_tool(fakes.path(), "", &stderr);
    let run = run_action_with(&bin, "https://issuer.example", PASSWORD, "", "false", "");
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    // One code block holding stderr as it was, backticks and all: nothing else rendered.
    let html = render_gfm(&run.summary);
    assert_eq!(
        html,
        format!(
            "<h3>oauth-test-client: failed: a check, a step or the sign-in failed (exit 1)</h3>\n<pre><code>{}</code></pre>\n",
            html_escaped(&stderr)
        )
    );
}
