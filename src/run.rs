//! One run of the tool: configure, discover, serve, and (with `--once`) wait for the first
//! callback. Returns the exit status; `main` prints the error, once.

mod cross_app;
mod mcp;
mod open_server;
mod report;
mod shutdown;
mod sign_ins;

use serde_json::{Value, json};

use crate::audit::{Audit, Event};
use crate::cli::Cli;
use crate::config::Config;
use crate::error::RunError;
use crate::grants;
use crate::oauth::{ExitStatus, Grant, Report};
use crate::output::Output;
use crate::startup::{Application, Headless};
use crate::state::{AppState, Outcome};
use mcp::{mcp_check, moved_authorization_server};
use report::finish_report;
use shutdown::{Shutdown, server_ended};
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

    // An MCP server that needs no token is checked without OAuth.
    if let Some(result) = open_server::check(&config, &output).await {
        return result;
    }
    match once_through(config, &output).await {
        // SEP-2352: the resource moved to another authorization server; once more from the
        // start (resource-first discovery, registration, sign-in), as a fresh client there.
        Err(RunError::AuthorizationServerMoved { from, to }) => {
            log::warn!(
                "the MCP server's authorization server changed from {} to {}: registering and \
                 signing in there",
                crate::redact::untrusted(&from),
                crate::redact::untrusted(&to)
            );
            once_through(Config::from_cli(&cli)?, &output).await
        }
        other => other,
    }
}

/// Startup, then the sign-in or grant, then the report.
async fn once_through(config: Config, output: &Output) -> Result<ExitStatus, RunError> {
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
        Grant::JwtBearer => Some(grants::jwt_bearer(&state, config).await),
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
    if let Some(m) = &mcp
        && let Some(to) = moved_authorization_server(state, config, m).await
    {
        return Finished::Done(Err(RunError::AuthorizationServerMoved {
            from: state.provider.issuer.clone(),
            to,
        }));
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
