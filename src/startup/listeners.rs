//! The sockets, bound before anything else (port 0 works).

use std::net::{SocketAddr, TcpListener};

use crate::config::Listen;
use crate::error::RunError;

/// Sockets bound before anything else, so the port (and so the redirect URI) is known
/// before a client is registered or a flow starts.
pub struct Listeners(Vec<TcpListener>);

impl Listeners {
    /// Binds the first address (port 0 picks one), then the others on the same port. Only
    /// the first is required: a machine without IPv6 still serves on 127.0.0.1.
    pub fn bind(listen: &Listen) -> Result<Self, RunError> {
        let mut listeners: Vec<TcpListener> = Vec::new();
        let mut port = listen.port;
        for (i, ip) in listen.addrs.iter().enumerate() {
            let addr = SocketAddr::new(*ip, port);
            match TcpListener::bind(addr) {
                Ok(l) => {
                    if i == 0 {
                        port = l.local_addr().map_err(RunError::Server)?.port();
                    }
                    listeners.push(l);
                }
                Err(source) if i == 0 => return Err(RunError::Bind { addr, source }),
                Err(e) => log::warn!("not listening on {addr}: {e}"),
            }
        }
        Ok(Self(listeners))
    }

    pub fn into_inner(self) -> Vec<TcpListener> {
        self.0
    }

    pub fn port(&self) -> u16 {
        self.0
            .first()
            .and_then(|l| l.local_addr().ok())
            .map_or(0, |a| a.port())
    }
}
