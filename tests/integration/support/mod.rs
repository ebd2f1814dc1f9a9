pub mod app;
pub mod browser;
pub mod mcp_server;
pub mod mcp_standin;
pub mod npm;
pub mod provider;
pub mod resource;
pub mod standin;
