//! The binary: load `.env`, start logging, parse the command line, call `run`, and turn its
//! result into the exit status (the one place that prints the final error).

use std::process::ExitCode;

use clap::Parser;
use oauth_test_client::cli::Cli;
use oauth_test_client::oauth::ExitStatus;
use oauth_test_client::output::Output;
use oauth_test_client::redact::untrusted;
use oauth_test_client::run::run;

fn main() -> ExitCode {
    // .env never overrides a variable already set in the environment.
    let dotenv = dotenvy::dotenv();
    oauth_test_client::logging::init();
    match dotenv {
        Ok(path) => log::debug!("read settings from {}", path.display()),
        Err(e) if e.not_found() => log::debug!("no .env file; using flags and the environment"),
        Err(dotenvy::Error::LineParse(_, at)) => {
            // The line itself is not shown: it may hold a secret.
            eprintln!(
                "error: .env has a line that is not NAME=value (parse error at character {at}); fix or remove it"
            );
            return ExitStatus::Usage.into();
        }
        Err(e) => {
            eprintln!("error: .env could not be read: {e}");
            return ExitStatus::Usage.into();
        }
    }
    let argv = match oauth_test_client::args::from_env() {
        Ok(argv) => argv,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitStatus::Usage.into();
        }
    };
    let cli = Cli::parse_from(argv);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitStatus::FlowFailed.into();
        }
    };
    match runtime.block_on(run(cli, Output::stdout())) {
        Ok(status) => status.into(),
        Err(e) => {
            // The message can quote a provider (a refused registration, foreign metadata).
            eprintln!("error: {}", untrusted(&e));
            e.exit_status().into()
        }
    }
}
