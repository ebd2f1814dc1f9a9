//! One run of the tool: configure, discover, serve, and (with `--once`) wait for the first
//! callback. Returns the exit status; `main` prints the error, once.

use tokio::sync::mpsc;

use serde_json::{Value, json};

use crate::actions::{StepReport, perform};
use crate::cli::Cli;
use crate::config::{Config, ConfigError, ProviderSetting, SignIn};
use crate::error::RunError;
use crate::oauth::{Check, ExitStatus, Issuer, Report, Step};
use crate::output::Output;
use crate::provider::resource::{self, Chain, Hop};
use crate::provider::{DiscoveryError, EndpointSource, HttpClient, Provider};
use crate::signin;
use crate::startup::{Application, Listeners};
use crate::state::{AppState, Outcome};

pub async fn run(cli: Cli, output: Output) -> Result<ExitStatus, RunError> {
    if let Some(command) = &cli.command {
        let text = command
            .render()
            .map_err(|e| RunError::Unsupported(format!("cannot write the text: {e}")))?;
        output.text(&text);
        return Ok(ExitStatus::Success);
    }
    let mut config = Config::from_cli(&cli)?;
    let output = output.redacted(cli.redact);
    if let Some(secret) = &config.client_secret {
        output.hold_secret(secret.secret());
    }
    if cli.print_config {
        output.json(&config.summary());
        return Ok(ExitStatus::Success);
    }
    let mut chain = None;
    if config.provider.from_resource {
        chain = Some(from_resource(&mut config, &output, cli.report).await?);
    }
    let provider = Provider::discover(&config).await?;
    if let Some(chain) = chain.as_mut()
        && let EndpointSource::Discovery { url } = &provider.source
    {
        chain.hops.push(Hop {
            url: url.clone(),
            status: Some(200),
            learned: format!(
                "issuer {}; registration_endpoint {}",
                provider.issuer,
                match (
                    &provider.registration_endpoint,
                    provider.origin("registration_endpoint"),
                ) {
                    (Some(u), Some(from)) if from.to_string() != *url =>
                        format!("{u} (from {from})"),
                    (Some(u), _) => u.to_string(),
                    (None, _) => "none".into(),
                }
            ),
        });
    }
    if config.par && provider.par_endpoint.is_none() {
        return Err(RunError::Unsupported(
            "--par (OAUTH_PAR): the provider advertises no pushed_authorization_request_endpoint; drop --par".into(),
        ));
    }
    let (tx, rx) = if config.once {
        let (tx, rx) = mpsc::unbounded_channel();
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    let listeners = Listeners::bind(&config.listen)?;
    let mut provider = provider;
    if config.will_register() {
        register(&mut provider, &config, listeners.port(), &output).await?;
        if let (Some(chain), Some(endpoint)) = (chain.as_mut(), &provider.registration_endpoint) {
            chain.hops.push(Hop {
                url: endpoint.to_string(),
                status: Some(201),
                learned: format!("registered client_id {}", provider.client_id()),
            });
        }
    }
    let app = Application::build(&config, provider, output, tx, listeners)?;
    if let Some(chain) = chain {
        let _ = app.state().chain.set(chain);
    }
    // Before the URL is printed: a Ctrl-C right after it must still exit 130.
    let mut shutdown = Shutdown::listen();
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

    let handle = app.handle();
    let state = app.state();
    let mut server = tokio::spawn(app.run_until_stopped());
    if let Some(sign_in) = &config.sign_in {
        start_sign_in(sign_in, &config, state.clone());
    }
    let result = match rx {
        Some(mut rx) => tokio::select! {
            outcome = rx.recv() => match outcome {
                Some(Outcome::SignedIn { token, report }) => {
                    finish_once(&state, &config, cli.report, token, report).await
                }
                Some(Outcome::Failed { reason, document }) => {
                    state.output.json(&document);
                    Err(RunError::Flow(reason))
                }
                None => Err(RunError::Flow("the server stopped before a callback".into())),
            },
            _ = tokio::time::sleep(config.timeout) => Err(RunError::Timeout(config.timeout.as_secs())),
            _ = shutdown.recv() => Err(RunError::Interrupted),
            ended = &mut server => Err(server_ended(ended)),
        },
        None => tokio::select! {
            _ = shutdown.recv() => Ok(ExitStatus::Success),
            ended = &mut server => Err(server_ended(ended)),
        },
    };
    // Graceful: the page for the last callback is still delivered.
    handle.stop(true).await;
    result
}

/// The end of a successful `--once`: the token JSON alone, or with `--report` / `--then` one
/// document with the checks and the steps. Exit 0 only when no check and no step failed.
async fn finish_once(
    state: &AppState,
    config: &Config,
    with_report: bool,
    token: Value,
    mut report: Report,
) -> Result<ExitStatus, RunError> {
    let chain = state.chain.get();
    let mut steps = None;
    let mut failed_steps = Vec::new();
    if !config.then.is_empty() {
        let (reports, failed) = run_steps(state, &config.then).await;
        failed_steps = failed;
        steps = Some(reports);
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
    if !with_report && steps.is_none() {
        state.output.json(&token);
    } else {
        let mut document = json!({ "token": token });
        if with_report {
            if let Some(chain) = chain {
                document["discovery"] = json!(chain.hops);
            }
            document["id_token_claims"] = json!(report.id_token_claims);
            if report.access_token_claims.is_some() {
                document["access_token_claims"] = json!(report.access_token_claims);
            }
            document["endpoints"] = state.provider.endpoints_json();
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

/// The longest a `--sign-in` may take, whatever `--timeout` allows.
const SIGN_IN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// `--sign-in`: the driver plays the browser, from `/login` on the redirect URI's host (the
/// app's cookies must come back with the callback, which arrives there). The callback reports
/// its own outcome; a sign-in that never reaches it is reported here, as step `sign_in`.
fn start_sign_in(sign_in: &SignIn, config: &Config, state: actix_web::web::Data<AppState>) {
    let callback = state.redirect.url().clone();
    let mut start = callback.clone();
    start.set_path("/login");
    start.set_query(None);
    start.set_fragment(None);
    let target = signin::Target {
        start,
        callback,
        root_certificates: config.ca.as_ref().map(|c| c.pem.clone()),
        artifacts: sign_in.artifacts.clone(),
    };
    // Below --timeout, so a stuck sign-in says where it stopped instead of exiting 3.
    let limits = signin::Limits {
        overall: config.timeout.mul_f64(0.9).min(SIGN_IN_TIMEOUT),
        per_request: config.http_timeout,
        ..signin::Limits::default()
    };
    let (credentials, consent) = (sign_in.credentials.clone(), sign_in.consent);
    tokio::spawn(async move {
        if let Err(e) = signin::sign_in(target, &credentials, consent, &limits).await {
            state.finish(Outcome::Failed {
                reason: e.to_string(),
                document: e.to_json(),
            });
        }
    });
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

/// RFC 9728: learn the authorization server from RESOURCE_URL, then set up the sign-in for
/// that resource: its scopes (unless OAUTH_SCOPES), the RFC 8707 `resource` parameter, and,
/// with --once, a final call to the API.
async fn from_resource(
    config: &mut Config,
    output: &Output,
    with_report: bool,
) -> Result<Chain, RunError> {
    let resource = config
        .resource
        .clone()
        .ok_or_else(|| RunError::Unsupported("RESOURCE_URL is not set".into()))?;
    let http = HttpClient::new(config.http_timeout, config.ca.as_ref())
        .map_err(|e| DiscoveryError::Client(e.to_string()))?;
    let (mut hops, mut checks) = (Vec::new(), Vec::new());
    let chain = match resource::discover(&http, &resource, &mut hops, &mut checks).await {
        Ok(chain) => chain,
        Err(e) => {
            if config.once && with_report {
                output.json(&json!({ "discovery": hops, "checks": checks }));
            }
            return Err(RunError::Chain(e));
        }
    };
    for hop in &chain.hops {
        log::info!("discovery: {} -> {}", hop.url, hop.learned);
    }
    let issuer = Issuer::parse(&chain.authorization_server).map_err(|problem| {
        RunError::Unsupported(format!(
            "the authorization server {:?} is unusable: {problem}",
            chain.authorization_server
        ))
    })?;
    // A client secret is bound to the issuer it was issued by: never sent to whatever server
    // a resource names.
    if config.client_secret.is_some() {
        return Err(RunError::Unsupported(format!(
            "CLIENT_SECRET is set, but it is bound to no issuer here: RESOURCE_URL's metadata names the \
             authorization server {server}, and a client secret is only ever sent to OAUTH_ISSUER \
             (none is set). If {server} issued this secret, set OAUTH_ISSUER={server}; otherwise unset \
             CLIENT_SECRET, and a client is registered at {server} when it offers registration",
            server = issuer.as_str()
        )));
    }
    config.provider = ProviderSetting {
        issuer,
        clerk: None,
        discover: true,
        from_resource: false,
    };
    if !config.scopes_given
        && let Some(scopes) = chain.scopes_supported.as_ref().filter(|s| !s.is_empty())
    {
        config.scopes = scopes
            .iter()
            .map(|s| oauth2::Scope::new(s.clone()))
            .collect();
    }
    if !config.params.iter().any(|(k, _)| k == "resource") {
        config
            .params
            .push(("resource".into(), chain.resource.clone()));
    }
    if config.once && !config.then.contains(&Step::Api) {
        config.then.push(Step::Api);
    }
    Ok(chain)
}

/// RFC 7591: a client for this app's redirect URI, when none is configured (or --register).
/// The client ID goes to stderr; a secret never does: it is saved to a file only the user
/// can read.
async fn register(
    provider: &mut Provider,
    config: &Config,
    port: u16,
    output: &Output,
) -> Result<(), RunError> {
    if provider.registration_endpoint.is_none() {
        return Err(if config.client_id.is_none() {
            RunError::Config(ConfigError::NoClientId)
        } else {
            RunError::Unsupported(
                "--register: the provider's metadata has no registration_endpoint (RFC 7591)"
                    .into(),
            )
        });
    }
    let redirect = config.redirect_for_port(port);
    let registered = provider
        .register(&redirect, config.register_confidential)
        .await
        .map_err(|e| RunError::Flow(format!("dynamic client registration failed: {e}")))?;
    eprintln!(
        "Registered a {} client for {}: CLIENT_ID={}",
        if registered.client_secret.is_some() {
            "confidential"
        } else {
            "public"
        },
        redirect.as_str(),
        registered.client_id
    );
    if let Some(secret) = registered.client_secret.as_ref().map(|s| s.secret()) {
        output.hold_secret(secret);
        let text = format!(
            "# Registered at {issuer} (RFC 7591): this secret is for that issuer only.\n\
             OAUTH_ISSUER={issuer}\nCLIENT_ID={}\nCLIENT_SECRET={secret}\nOAUTH_AUTH_METHOD={}\n",
            registered.client_id,
            registered.auth_method.name(),
            issuer = provider.issuer,
        );
        let path = save_private(std::path::Path::new("."), &text).map_err(|e| {
            RunError::Flow(format!(
                "could not save the registered client beside {REGISTERED_FILE}: {e}"
            ))
        })?;
        if path.file_name() != Some(std::ffi::OsStr::new(REGISTERED_FILE)) {
            eprintln!(
                "{REGISTERED_FILE} exists already and was left as it is: the new client is in {}",
                path.display()
            );
        }
        eprintln!(
            "Its secret is saved in {} (readable by you only): copy the lines into .env to reuse the client",
            path.display()
        );
    } else {
        eprintln!("Put CLIENT_ID={} in .env to reuse it", registered.client_id);
    }
    Ok(())
}

/// Where a registered client's credentials are saved (listed in .gitignore).
pub const REGISTERED_FILE: &str = "oauth-test-client.registered.env";

/// Writes `text` to a new file in `dir`, readable by the user only: REGISTERED_FILE, or when
/// that name is taken (by a file, or a link of any kind, which is never followed) the first
/// free `oauth-test-client.registered-N.env`. Returns the path written.
pub fn save_private(dir: &std::path::Path, text: &str) -> std::io::Result<std::path::PathBuf> {
    use std::io::Write;
    let names = std::iter::once(REGISTERED_FILE.to_owned())
        .chain((2..100).map(|n| format!("oauth-test-client.registered-{n}.env")));
    for name in names {
        let path = dir.join(name);
        let mut options = std::fs::OpenOptions::new();
        // create_new: O_CREAT|O_EXCL, which fails on any existing name, links included.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => {
                file.write_all(text.as_bytes())?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(
        "99 registration files exist already: remove the old ones",
    ))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn the_registration_file_is_new_private_and_never_replaces_or_follows() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = save_private(dir.path(), "CLIENT_SECRET=one\n").unwrap();
        assert_eq!(first, dir.path().join(REGISTERED_FILE));
        let mode = std::fs::metadata(&first).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // An existing file is left as it is; the new client goes beside it.
        let second = save_private(dir.path(), "CLIENT_SECRET=two\n").unwrap();
        assert_ne!(second, first);
        assert_eq!(
            std::fs::read_to_string(&first).unwrap(),
            "CLIENT_SECRET=one\n"
        );
        assert_eq!(
            std::fs::metadata(&second).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // A link in the way is never followed: its target stays untouched.
        let other = tempfile::tempdir().unwrap();
        let target = other.path().join("victim");
        std::fs::write(&target, "keep").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join(REGISTERED_FILE)).unwrap();
        let written = save_private(dir.path(), "CLIENT_SECRET=three\n").unwrap();
        assert_ne!(written, dir.path().join(REGISTERED_FILE));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert_eq!(
            std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }
}
