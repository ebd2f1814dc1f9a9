//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, tests/conformance/)
//! runs every client `auth/*` scenario against the built binary. A scenario passes with the
//! suite's exit 0 and no WARNING; the ones that still fail are listed in
//! tests/conformance/baseline.yml, and any other failure (or a listed one that now passes)
//! fails this test.

use std::path::Path;
use std::process::Command;

#[test]
fn the_mcp_conformance_suites_client_auth_scenarios_pass_except_the_listed_ones() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/run.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg("--baseline")
        .env("OAUTH_TEST_CLIENT", env!("CARGO_BIN_EXE_oauth-test-client"))
        .output()
        .expect("bash runs tests/conformance/run.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the conformance results differ from baseline.yml:\n{stdout}\n{stderr}"
    );
    let passed = stdout.lines().filter(|l| l.starts_with("PASS ")).count();
    assert!(passed >= 21, "{passed} scenarios passed:\n{stdout}");
}
