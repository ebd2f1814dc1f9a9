//! What every worker shares: created once, outside `HttpServer::new`, so a flow started on
//! one worker can finish on another.

use std::sync::Mutex;
use std::time::SystemTime;

use oauth2::{RedirectUrl, Scope};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use crate::error::ExitStatus;
use crate::flow::FlowStore;
use crate::output::Output;
use crate::provider::{Provider, TokenSet};

/// The outcome of the latest callback, for the index page (and the follow-up actions).
pub enum LastResult {
    SignedIn { at: SystemTime, tokens: TokenSet },
    Failed { at: SystemTime, message: String },
}

/// What `--once` waits for.
#[derive(Debug)]
pub struct Outcome {
    pub status: ExitStatus,
    /// Why the flow failed, for stderr.
    pub reason: Option<String>,
}

pub struct AppState {
    pub provider: Provider,
    pub flows: FlowStore,
    pub redirect: RedirectUrl,
    pub scopes: Vec<Scope>,
    /// The configuration summary shown on the index page (no secret values).
    pub summary: Value,
    pub output: Output,
    /// In `--once` mode: where the first callback's outcome goes.
    pub once: Option<UnboundedSender<Outcome>>,
    pub last: Mutex<Option<LastResult>>,
}

impl AppState {
    pub fn remember(&self, result: LastResult) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
    }

    /// Reports a callback's outcome to `--once` (a no-op when serving).
    pub fn finish(&self, status: ExitStatus, reason: Option<String>) {
        if let Some(tx) = &self.once {
            // The receiver is gone only once the run is over.
            let _ = tx.send(Outcome { status, reason });
        }
    }
}
