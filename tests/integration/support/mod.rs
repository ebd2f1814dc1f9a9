pub mod app;
pub mod browser;
pub mod npm;
pub mod provider;
pub mod resource;
pub mod standin;
