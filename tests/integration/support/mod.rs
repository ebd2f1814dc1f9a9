pub mod app;
pub mod browser;
pub mod provider;
pub mod resource;
pub mod standin;
