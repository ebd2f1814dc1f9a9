//! Why a run ended without success, and the exit status each reason maps to.

use crate::config::ConfigError;
use crate::oauth::ExitStatus;
use crate::provider::DiscoveryError;

/// Why a run ended without success; printed once, to stderr, by `main`.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    #[error(
        "cannot listen on {addr}: {source}. Set PORT to a free port (or HOST to an address of this machine)"
    )]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Unsupported(String),
    /// The RFC 9728 chain broke; what was seen on the way, for `--report`.
    #[error("{}", .0.error)]
    Chain(Box<ChainFailure>),
    #[error("the server stopped unexpectedly: {0}")]
    Server(std::io::Error),
    #[error("the sign-in failed: {0}")]
    Flow(String),
    /// `--grant client_credentials` or `device` got no tokens (the reason says why).
    #[error("{0}")]
    Grant(String),
    #[error("the sign-in worked, but a step failed: {0}")]
    Steps(String),
    #[error("tokens were received, but checks failed: {0}")]
    Checks(String),
    /// An MCP server that answered without a token failed a check.
    #[error("the MCP server needs no access token, but checks failed: {0}")]
    OpenServerChecks(String),
    #[error(
        "no callback arrived within {0} s (--timeout / OAUTH_TIMEOUT): was the sign-in page opened and completed?"
    )]
    Timeout(u64),
    #[error(
        "the device authorization was neither approved nor denied within {0} s (--timeout / \
         OAUTH_TIMEOUT): was the code entered at the verification page?"
    )]
    DeviceTimeout(u64),
    #[error("interrupted before the sign-in completed")]
    Interrupted,
    /// SEP-2352: RESOURCE_URL's metadata named another authorization server after the
    /// sign-in; the run starts over there once.
    #[error(
        "the MCP server refused the access token from {from}, and its metadata now names the \
         authorization server {to}: the client must register and sign in there"
    )]
    AuthorizationServerMoved { from: String, to: String },
}

/// Where the RFC 9728 chain broke, and the hops and checks seen on the way.
#[derive(Debug)]
pub struct ChainFailure {
    pub error: crate::provider::resource::ChainError,
    pub hops: Vec<crate::provider::resource::Hop>,
    pub checks: Vec<crate::oauth::Check>,
}

impl RunError {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Config(_) | Self::Bind { .. } | Self::Unsupported(_) => ExitStatus::Usage,
            Self::Discovery(_)
            | Self::Chain(_)
            | Self::Server(_)
            | Self::Flow(_)
            | Self::Grant(_)
            | Self::Steps(_)
            | Self::Checks(_)
            | Self::OpenServerChecks(_)
            | Self::AuthorizationServerMoved { .. } => ExitStatus::FlowFailed,
            Self::Timeout(_) | Self::DeviceTimeout(_) => ExitStatus::Timeout,
            Self::Interrupted => ExitStatus::Interrupted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_stable() {
        let codes: Vec<u8> = [
            ExitStatus::Success,
            ExitStatus::FlowFailed,
            ExitStatus::Usage,
            ExitStatus::Timeout,
            ExitStatus::Interrupted,
        ]
        .into_iter()
        .map(ExitStatus::code)
        .collect();
        assert_eq!(codes, vec![0, 1, 2, 3, 130]);
        assert_eq!(RunError::Timeout(5).exit_status(), ExitStatus::Timeout);
        assert_eq!(
            RunError::Config(ConfigError::NoClientId).exit_status(),
            ExitStatus::Usage
        );
        assert_eq!(
            RunError::Flow("x".into()).exit_status(),
            ExitStatus::FlowFailed
        );
    }
}
