//! The end of a `--once` run: the steps of `--then`, the MCP handshake with the token, the
//! document printed on stdout (the token, or with `--report` / `--then` the checks and the
//! steps), and the exit status it earns.

use serde_json::{Value, json};

use crate::actions::{StepReport, perform};
use crate::config::Config;
use crate::error::RunError;
use crate::oauth::{Check, ExitStatus, Report, Step, Verdict};
use crate::state::AppState;

use super::mcp::{self, McpResult, mcp_check};

/// The document `--once` prints (the token, or with `--report` / `--then` the checks and
/// steps), and the exit status: 0 only when no check and no step failed.
pub(super) async fn finish_report(
    state: &AppState,
    config: &Config,
    chain: Option<&crate::provider::resource::Chain>,
    token: Value,
    mut report: Report,
    mut mcp: Option<McpResult>,
) -> Result<ExitStatus, RunError> {
    let mut steps = None;
    let mut failed_steps = Vec::new();
    if !config.then.is_empty() {
        let (mut reports, mut failed) = run_steps(state, &config.then).await;
        // Starting from a resource whose GET with the token finds nothing: an MCP server
        // (Streamable HTTP takes POST) is checked as one.
        if chain.is_some()
            && mcp.is_none()
            && let Some(at) = reports
                .iter()
                .position(|s| s.step == "api" && matches!(s.status, Some(404..=406)))
            && let Some(found) = mcp_check(state, config).await.filter(|m| {
                m.checks.iter().any(|c| {
                    matches!(c.check.as_str(), "mcp.initialize" | "mcp.discover")
                        && c.result == Verdict::Pass
                })
            })
        {
            log::info!(
                "the resource answered HTTP {} to a GET with the token but speaks MCP: checked as an MCP server",
                reports[at].status.unwrap_or(0)
            );
            reports.remove(at);
            failed.retain(|f| !f.starts_with("api:"));
            mcp = Some(found);
        }
        failed_steps = failed;
        steps = Some(reports);
    }
    if let Some(m) = &mcp {
        report.checks.extend(m.checks.iter().cloned());
    }
    // Checks the steps made (DPoP: the refreshed token's type, the API without a proof).
    report.checks.extend(
        steps
            .iter()
            .flatten()
            .flat_map(|s| s.checks.iter().cloned()),
    );
    if let Some(client) = state.client_checks.get() {
        report.checks.splice(0..0, client.iter().cloned());
    }
    if let Some(chain) = chain {
        let revision = mcp.as_ref().and_then(|m| m.document["revision"].as_str());
        report.checks.splice(
            0..0,
            chain
                .checks
                .iter()
                .map(|c| mcp::by_the_rules_of(c, revision)),
        );
        // Starting from the API, the point is that the API takes the token.
        if let Some(api) = steps.iter().flatten().find(|s| s.step == "api") {
            report.checks.push(if api.ok {
                Check::pass(
                    "resource.accepts_token",
                    format!("HTTP {} with the access token", api.status.unwrap_or(0)),
                )
            } else {
                Check::fail(
                    "resource.accepts_token",
                    api.error.clone().unwrap_or_default(),
                )
            });
        }
    }
    let failed_checks: Vec<String> = report
        .failed()
        .iter()
        .map(|c| format!("{} ({})", c.check, c.detail))
        .collect();
    let with_report = config.report;
    if !with_report && steps.is_none() {
        state.output.json(&token);
    } else {
        let mut document = json!({ "token": token });
        if with_report {
            if let Some(chain) = chain {
                document["discovery"] = json!(chain.hops);
            }
            document["id_token_claims"] = json!(report.id_token_claims);
            if report.id_jag_claims.is_some() {
                document["id_jag_claims_unverified"] = json!(report.id_jag_claims);
            }
            if report.access_token_claims.is_some() {
                document["access_token_claims"] = json!(report.access_token_claims);
            }
            document["endpoints"] = state.provider.endpoints_json();
            document["client_auth"] = state.provider.client_auth_json();
            if let Some(m) = &mcp {
                document["mcp"] = m.document.clone();
            }
            document["checks"] = json!(report.checks);
        }
        if let Some(steps) = steps {
            document["steps"] = json!(steps);
        }
        state.output.json(&document);
        if failed_checks.is_empty() && !failed_steps.is_empty() {
            return Err(RunError::Steps(failed_steps.join("; ")));
        }
    }
    if failed_checks.is_empty() {
        Ok(ExitStatus::Success)
    } else {
        Err(RunError::Checks(failed_checks.join("; ")))
    }
}

/// `--then`: each step in order after the code exchange; the reports, and the failures.
async fn run_steps(state: &AppState, steps: &[Step]) -> (Vec<StepReport>, Vec<String>) {
    let mut reports = Vec::new();
    let mut failed = Vec::new();
    for step in steps {
        // The sign-in has just completed, so there is a session.
        let Ok(report) = perform(state, step).await else {
            failed.push(format!("{}: no sign-in", step.name()));
            continue;
        };
        if !report.ok {
            failed.push(format!(
                "{}: {}{}",
                report.step,
                report.error.as_deref().unwrap_or("failed"),
                report
                    .hint
                    .as_deref()
                    .map(|h| format!(". {h}"))
                    .unwrap_or_default()
            ));
        }
        reports.push(report);
    }
    (reports, failed)
}
