//! The process's exit statuses.

use std::process::ExitCode;

/// The process's exit statuses, for CI scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Tokens received (or the server was stopped normally).
    Success,
    /// The flow failed: provider error, denied consent, bad state, code refused.
    FlowFailed,
    /// A configuration or usage mistake.
    Usage,
    /// `--once` waited `--timeout` seconds with no callback.
    Timeout,
    /// Interrupted (Ctrl-C / SIGTERM) during `--once`.
    Interrupted,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::FlowFailed => 1,
            Self::Usage => 2,
            Self::Timeout => 3,
            Self::Interrupted => 130,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> Self {
        ExitCode::from(s.code())
    }
}
