//! oauth-test-client: prove an OAuth 2.0 / OpenID Connect application is configured right.

pub mod actions;
pub mod args;
pub mod audit;
pub mod clerk;
pub mod cli;
pub mod config;
pub mod error;
pub mod flow;
pub mod grants;
pub mod logging;
pub mod mcp;
pub mod oauth;
pub mod output;
pub mod private_file;
pub mod provider;
pub mod redact;
pub mod run;
pub mod signin;
pub mod startup;
pub mod state;
pub mod sync;
pub mod verify;
pub mod web;
