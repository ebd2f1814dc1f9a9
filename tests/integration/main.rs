//! Integration tests: the real app against a real OpenID provider, over real HTTP.

mod support;

mod action;
mod actions;
mod audit;
mod binary;
mod bounds;
mod browser;
mod callback;
mod client_jwt;
mod confine;
mod conformance;
mod conformance_as;
mod cross_app;
mod discovery;
mod docs;
mod dot;
mod dpop;
mod flood;
mod flow;
mod grants;
mod hints;
mod holder;
mod install;
mod logs;
mod mcp;
mod mcp2026;
mod pages;
mod providers;
mod resource_first;
mod security;
mod shipping;
mod signin;
#[cfg(feature = "browser")]
mod signin_browser;
mod verification;
