//! How a run is stopped from outside: Ctrl-C or SIGTERM, and a server that ended by itself.

use crate::error::RunError;

pub(super) fn server_ended(ended: Result<std::io::Result<()>, tokio::task::JoinError>) -> RunError {
    match ended {
        Ok(Ok(())) => RunError::Server(std::io::Error::other("stopped")),
        Ok(Err(e)) => RunError::Server(e),
        Err(e) => RunError::Server(std::io::Error::other(e.to_string())),
    }
}

/// Ctrl-C, or SIGTERM on Unix (what CI runners send). The handlers are installed when this is
/// made (an async `ctrl_c()` would only install its own when first polled, leaving a window in
/// which SIGINT still kills the process with the default action).
pub(super) struct Shutdown {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Shutdown {
    pub(super) fn listen() -> Self {
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

    pub(super) async fn recv(&mut self) {
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
