//! The vocabulary every other module speaks: issuers, endpoints, client authentication
//! methods, the follow-up steps, checks and reports, time, and exit statuses. Imports no
//! other module of this crate.

mod auth_method;
mod check;
mod endpoint;
mod exit;
mod grant;
mod issuer;
mod mcp_revision;
mod step;
pub mod time;

pub use auth_method::AuthMethod;
pub use check::{Check, Report, Verdict};
pub use endpoint::Endpoint;
pub use exit::ExitStatus;
pub use grant::Grant;
pub use issuer::{Issuer, is_loopback_host, require_https_unless_loopback, well_known_url};
pub use mcp_revision::McpRevision;
pub use step::{Step, TokenKind};
