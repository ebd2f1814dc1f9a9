//! One run of the tool: configure, discover, serve, and (with `--once`) wait for the first
//! callback. Returns the exit status; `main` prints the error, once.

mod cross_app;
mod sign_ins;

use serde_json::{Value, json};

use crate::actions::{StepReport, perform};
use crate::audit::{Audit, Event};
use crate::cli::Cli;
use crate::config::Config;
use crate::error::RunError;
use crate::grants;
use crate::mcp;
use crate::oauth::{Check, ExitStatus, Grant, Report, Step, Verdict};
use crate::output::Output;
use crate::startup::{Application, Headless};
use crate::state::{AppState, Outcome};
use sign_ins::{audit_next, sign_in_again, start_sign_in};

pub async fn run(cli: Cli, output: Output) -> Result<ExitStatus, RunError> {
    if let Some(command) = &cli.command {
        let text = command
            .render()
            .map_err(|e| RunError::Unsupported(format!("cannot write the text: {e}")))?;
        output.text(&text);
        return Ok(ExitStatus::Success);
    }
    if cli.print_jwks {
        let key = crate::config::client_key_for_jwks(&cli)?;
        output.json(&key.jwks(key.key_type().algs()[0]));
        return Ok(ExitStatus::Success);
    }
    let config = Config::from_cli(&cli)?;
    let output = output.redacted(config.redact);
    if let Some(document) = config
        .client_metadata_document()
        .filter(|_| config.print_client_metadata)
    {
        output.json(&document);
        return Ok(ExitStatus::Success);
    }
    if config.print_config {
        output.json(&config.summary());
        return Ok(ExitStatus::Success);
    }

    let (once, with_report) = (config.once, config.report);
    let built = match config.grant.needs_callback() {
        true => Application::build(config, output.clone())
            .await
            .map(Built::Served),
        false => Headless::build(config, output.clone())
            .await
            .map(Built::Headless),
    };
    match built {
        // OAUTH_IDP_ID_TOKEN: cross-app access, a token with no browser and no callback.
        Ok(Built::Served(app)) if app.config().cross_app.is_some() => cross_app::run(app).await,
        Ok(Built::Served(app)) => serve(app).await,
        Ok(Built::Headless(headless)) => run_grant(headless).await,
        Err(RunError::Chain(failure)) => {
            // Where the chain broke is the result a CI job wants to read.
            if once && with_report {
                output.json(&json!({ "discovery": failure.hops, "checks": failure.checks }));
            }
            Err(RunError::Chain(failure))
        }
        Err(e) => Err(e),
    }
}

/// What startup made: a server for the code flow, or the state alone for the other grants.
enum Built {
    Served(Application),
    Headless(Headless),
}

/// `--grant client_credentials` or `device`: one command, no server; the same report, steps
/// and exit statuses as `--once`.
async fn run_grant(headless: Headless) -> Result<ExitStatus, RunError> {
    let Headless { state, config } = headless;
    let mut shutdown = Shutdown::listen();
    let outcome = tokio::select! {
        outcome = obtain(state.clone(), &config) => outcome,
        () = shutdown.recv() => return Err(RunError::Interrupted),
    };
    match outcome {
        Some(Outcome::SignedIn { token, report }) => {
            match finish_once(&state, &config, token, report, false).await {
                Finished::Done(result) => result,
                Finished::StepUp(_) => Err(RunError::Flow(
                    "the MCP server asked for more scopes (insufficient_scope): add them to OAUTH_SCOPES".into(),
                )),
            }
        }
        Some(Outcome::Failed { reason, document }) => {
            state.output.json(&document);
            Err(RunError::Grant(reason))
        }
        // Only the code flow's callback holds a code (for --audit, which needs that flow).
        Some(Outcome::CodeHeld(_)) => Err(RunError::Flow(
            "a code was held for --audit, which runs with the code grant only".into(),
        )),
        None => Err(RunError::DeviceTimeout(config.timeout.as_secs())),
    }
}

/// The grant's tokens, or why there are none; `None`: `--timeout` passed.
async fn obtain(state: actix_web::web::Data<AppState>, config: &Config) -> Option<Outcome> {
    match config.grant {
        Grant::ClientCredentials => Some(grants::client_credentials(&state, config).await),
        Grant::Device => grants::device(state, config).await,
        // Never here: the code grant is served (`serve`), not run headless.
        Grant::Code => None,
    }
}

/// Serves until stopped, or with `--once` until the first sign-in's outcome (or the timeout,
/// or a signal).
async fn serve(mut app: Application) -> Result<ExitStatus, RunError> {
    let config = app.config();
    // Before the URL is printed: a Ctrl-C right after it must still exit 130.
    let mut shutdown = Shutdown::listen();
    announce(&app, &config);
    let outcomes = app.take_outcomes();
    let handle = app.handle();
    let state = app.state();
    let mut server = tokio::spawn(app.run_until_stopped());
    if let Some(sign_in) = &config.sign_in {
        start_sign_in(sign_in, &config, state.clone(), None);
    }
    let result = match outcomes {
        Some(mut rx) => {
            let deadline = tokio::time::sleep(config.timeout);
            tokio::pin!(deadline);
            let mut step_ups = 0;
            let mut audit = config.audit.then(|| Audit::new(config.sign_in.is_some()));
            let mut audited = Vec::new();
            loop {
                break tokio::select! {
                    outcome = rx.recv() => match outcome {
                        Some(Outcome::CodeHeld(held)) if audit.is_some() => {
                            if let Some(pending) = audit.as_mut() {
                                let next = pending.advance(&state, Event::CodeHeld(held)).await;
                                audit_next(&state, &config, next, &mut audit, &mut audited);
                            }
                            continue;
                        }
                        Some(Outcome::Failed { document, .. })
                            if audit.as_ref().is_some_and(Audit::expects_refusal) =>
                        {
                            if let Some(pending) = audit.as_mut() {
                                let next = pending.advance(&state, Event::Refused(document)).await;
                                audit_next(&state, &config, next, &mut audit, &mut audited);
                            }
                            continue;
                        }
                        Some(Outcome::SignedIn { token, mut report }) => {
                            if let Some(pending) = audit.as_mut() {
                                let next = pending.advance(&state, Event::SignedIn).await;
                                if audit_next(&state, &config, next, &mut audit, &mut audited) {
                                    continue;
                                }
                            }
                            report.checks.extend(audited.iter().cloned());
                            match finish_once(&state, &config, token, report, step_ups < MAX_STEP_UPS).await {
                                Finished::Done(result) => result,
                                Finished::StepUp(scope) => {
                                    step_ups += 1;
                                    sign_in_again(&state, &config, &scope);
                                    continue;
                                }
                            }
                        }
                        Some(Outcome::Failed { reason, mut document }) => {
                            // An audit cut short keeps the probes that ran (issue 23).
                            if let Some(pending) = audit.as_ref().filter(|a| a.started()) {
                                document["checks"] = json!(pending.cut_short(&format!(
                                    "the sign-in before it failed ({})",
                                    crate::redact::untrusted(&reason)
                                )));
                            }
                            state.output.json(&document);
                            Err(RunError::Flow(reason))
                        }
                        Some(Outcome::CodeHeld(_)) => {
                            Err(RunError::Flow("a code was kept with no audit running".into()))
                        }
                        None => Err(RunError::Flow("the server stopped before a callback".into())),
                    },
                    _ = &mut deadline => {
                        let secs = config.timeout.as_secs();
                        if let Some(pending) = audit.as_ref().filter(|a| a.started()) {
                            let reason = format!(
                                "the sign-in before it did not end within --timeout ({secs} s)"
                            );
                            state.output.json(&json!({
                                "error": "timeout",
                                "error_description": null,
                                "step": "audit",
                                "message": format!("--audit cut short: {reason}"),
                                "checks": pending.cut_short(&reason),
                            }));
                        }
                        Err(RunError::Timeout(secs))
                    }
                    _ = shutdown.recv() => Err(RunError::Interrupted),
                    ended = &mut server => Err(server_ended(ended)),
                };
            }
        }
        None => tokio::select! {
            _ = shutdown.recv() => Ok(ExitStatus::Success),
            ended = &mut server => Err(server_ended(ended)),
        },
    };
    // Graceful: the page for the last callback is still delivered.
    handle.stop(true).await;
    result
}

/// How many times `--once` signs in again for more scopes (an MCP server's
/// `insufficient_scope`) before it reports the refusal as it is.
const MAX_STEP_UPS: usize = 2;

/// How a `--once` sign-in ends: its result, or a new sign-in for more scopes first.
enum Finished {
    Done(Result<ExitStatus, RunError>),
    /// The scopes to ask for next: the ones granted, and those the server asked for.
    StepUp(String),
}

/// Where the app listens and where to sign in (stderr), and the browser opened there.
fn announce(app: &Application, config: &Config) {
    let url = app.sign_in_url();
    log::info!(
        "listening on {}; redirect URI {} (register it at the provider exactly)",
        app.addrs()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" and "),
        app.redirect_uri()
    );
    eprintln!("Sign in at {url}");
    if config.open_browser
        && let Err(e) = open::that_detached(&url)
    {
        log::warn!("could not open a browser ({e}): open {url} yourself");
    }
}

/// The end of a successful `--once`: the token JSON alone, or with `--report` / `--then` one
/// document with the checks and the steps. Exit 0 only when no check and no step failed.
async fn finish_once(
    state: &AppState,
    config: &Config,
    token: Value,
    report: Report,
    may_step_up: bool,
) -> Finished {
    let chain = state.chain.get();
    let explicit = config.resource.as_ref().is_some_and(|r| r.mcp);
    let mcp = match explicit {
        true => mcp_check(state, config).await,
        false => None,
    };
    if may_step_up && let Some(wanted) = mcp.as_ref().and_then(|m| m.step_up.as_deref()) {
        return Finished::StepUp(scope_union(&token, &state.scopes, wanted));
    }
    Finished::Done(finish_report(state, config, chain, token, report, mcp).await)
}

/// The granted scopes (else those asked for) and the ones a server wants, each once.
fn scope_union(token: &Value, asked: &[oauth2::Scope], wanted: &str) -> String {
    let mut scopes: Vec<String> = match token.get("scope").and_then(Value::as_str) {
        Some(granted) => granted.split_whitespace().map(str::to_owned).collect(),
        None => asked.iter().map(|s| s.as_str().to_owned()).collect(),
    };
    for s in wanted.split_whitespace() {
        if !scopes.iter().any(|have| have == s) {
            scopes.push(s.to_owned());
        }
    }
    scopes.join(" ")
}

/// The document `--once` prints (the token, or with `--report` / `--then` the checks and
/// steps), and the exit status: 0 only when no check and no step failed.
async fn finish_report(
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
                m.checks
                    .iter()
                    .any(|c| c.check == "mcp.initialize" && c.result == Verdict::Pass)
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
        report.checks.splice(0..0, chain.checks.iter().cloned());
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

/// An MCP server as RESOURCE_URL (`--mcp`, or found to answer like one): the MCP handshake
/// with the access token (initialize, tools/list, `--mcp-call`). Its checks, and what the
/// server said (or why it refused), for the report; `resource.accepts_token` says whether the
/// server took the token.
struct McpResult {
    checks: Vec<Check>,
    /// What the server said, or why it refused, for `--report`.
    document: Value,
    /// The scope an `insufficient_scope` refusal asked for.
    step_up: Option<String>,
}

async fn mcp_check(state: &AppState, config: &Config) -> Option<McpResult> {
    let token = state
        .session_tokens()
        .and_then(|s| s.access_token.map(|t| t.secret().clone()));
    mcp_check_with(state, config, token.as_deref()).await
}

/// The MCP handshake with `token` (the session's, or cross-app access's).
async fn mcp_check_with(
    state: &AppState,
    config: &Config,
    token: Option<&str>,
) -> Option<McpResult> {
    let resource = config.resource.as_ref()?;
    let call = resource
        .mcp_call
        .as_deref()
        .and_then(|spec| spec.parse::<mcp::ToolCall>().ok());
    let client = match mcp::Client::new(config.http_timeout) {
        Ok(client) => client.asking_for(config.mcp_revision.as_str()),
        Err(e) => {
            return Some(McpResult {
                checks: vec![Check::fail("mcp.initialize", e.to_string())],
                document: e.to_json(),
                step_up: None,
            });
        }
    };
    let answer = client
        .check_with_dpop(&resource.url, token, call.as_ref(), state.provider.dpop())
        .await;
    Some(match answer {
        Ok(handshake) => {
            let mut checks = handshake.checks.clone();
            checks.push(Check::pass(
                "resource.accepts_token",
                format!(
                    "the MCP server {} took the access token (initialize, tools/list)",
                    handshake.server.name
                ),
            ));
            let step_up = handshake.call.as_ref().and_then(|c| {
                c.result
                    .as_ref()
                    .err()
                    .and_then(|e| e.insufficient_scope())
                    .map(str::to_owned)
            });
            McpResult {
                checks,
                document: json!(handshake),
                step_up,
            }
        }
        Err(failure) => {
            log::warn!("MCP check failed: {}", failure.error);
            let mut checks = failure.checks;
            checks.push(Check::fail(
                "resource.accepts_token",
                failure.error.to_string(),
            ));
            McpResult {
                checks,
                document: failure.error.to_json(),
                step_up: failure.error.insufficient_scope().map(str::to_owned),
            }
        }
    })
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

fn server_ended(ended: Result<std::io::Result<()>, tokio::task::JoinError>) -> RunError {
    match ended {
        Ok(Ok(())) => RunError::Server(std::io::Error::other("stopped")),
        Ok(Err(e)) => RunError::Server(e),
        Err(e) => RunError::Server(std::io::Error::other(e.to_string())),
    }
}

/// Ctrl-C, or SIGTERM on Unix (what CI runners send). The handlers are installed when this is
/// made (an async `ctrl_c()` would only install its own when first polled, leaving a window in
/// which SIGINT still kills the process with the default action).
struct Shutdown {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Shutdown {
    fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = signal(SignalKind::interrupt())
                .and_then(|int| Ok((int, signal(SignalKind::terminate())?)))
                .map_err(|e| log::warn!("cannot listen for signals: {e}"))
                .ok();
            Self { signals }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            match self.signals.as_mut() {
                Some((int, term)) => {
                    tokio::select! {
                        _ = int.recv() => {},
                        _ = term.recv() => {},
                    }
                }
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
