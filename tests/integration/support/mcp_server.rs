//! A real MCP server (the official TypeScript SDK, tests/mcp-server/), started per test like
//! the provider: a node child that prints one JSON line with its URL and exits when its stdin
//! closes. It accepts only tokens the local provider says are active and issued for its URL.
//! Two of them: server.mjs on the SDK v1 (2025-11-25, sessions) and server-v2.mjs on the SDK
//! v2 (the stateless 2026-07-28 revision).
//! Fails loudly when Node.js or npm is missing: these tests never pass by skipping.

use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

pub struct McpServer {
    child: Child,
    _stdin: ChildStdin,
    /// The MCP endpoint, `http://127.0.0.1:<port>/mcp`: the `resource` its tokens name.
    pub url: String,
    pub resource_metadata: String,
    stderr_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl McpServer {
    /// Answers each request with an SSE stream, as the SDK does by default.
    pub fn start(issuer: &str) -> Self {
        Self::start_with(json!({ "issuer": issuer }))
    }

    /// `options` as documented in tests/mcp-server/server.mjs.
    pub fn start_with(options: Value) -> Self {
        Self::start_script("server.mjs", options)
    }

    /// The SDK v2 server (tests/mcp-server/server-v2.mjs), stateless 2026-07-28, behind the
    /// provider like the v1 one.
    pub fn start_v2(issuer: &str) -> Self {
        Self::start_script("server-v2.mjs", json!({ "issuer": issuer }))
    }

    /// The SDK v2 server with no authorization at all: an MCP server that needs no token.
    pub fn start_v2_open() -> Self {
        Self::start_script("server-v2.mjs", json!({ "open": true }))
    }

    fn start_script(script: &str, options: Value) -> Self {
        super::npm::ensure_installed(
            "mcp-server",
            &[
                "@modelcontextprotocol/sdk",
                "@modelcontextprotocol/server",
                "express",
                "zod",
            ],
            "the test MCP server",
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let stderr_path = dir.path().join("mcp-server.stderr");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut child = Command::new("node")
            .arg(super::npm::folder("mcp-server").join(script))
            .arg(options.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start node ({e}): Node.js 20+ is needed for the test MCP server")
            });
        let (ready, stdin) = super::ready::wait_for_ready(
            &mut child,
            "the test MCP server",
            &stderr_path,
            Duration::from_secs(30),
        );
        Self {
            child,
            _stdin: stdin,
            url: ready["url"].as_str().expect("url").to_owned(),
            resource_metadata: ready["resource_metadata"]
                .as_str()
                .expect("resource_metadata")
                .to_owned(),
            stderr_path,
            _dir: dir,
        }
    }

    /// What the server wrote to stderr so far (for assertion messages).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for McpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
