//! Why an MCP exchange failed, one variant per thing a person would fix differently. Messages
//! name the MCP method, the server's URL and what it sent (escaped, the access token masked);
//! never the token itself.

use serde_json::{Value, json};

use crate::provider::challenge::{Bearer, ChallengeError};
use crate::redact::untrusted;

/// The `WWW-Authenticate` header of a 401 or 403, as sent and as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Each field line, escaped for display.
    pub header: Vec<String>,
    /// The Bearer challenge, when the header holds a well-formed one.
    pub bearer: Option<Bearer>,
    /// Why the header could not be read, when it could not.
    pub problem: Option<ChallengeError>,
}

impl Refusal {
    /// `error` of the Bearer challenge (RFC 6750 section 3.1).
    pub fn error(&self) -> Option<&str> {
        self.bearer.as_ref()?.error.as_deref()
    }

    /// `scope` of the Bearer challenge: what the server asks for.
    pub fn scope(&self) -> Option<&str> {
        self.bearer.as_ref()?.scope.as_deref()
    }

    fn describe(&self) -> String {
        match (&self.bearer, &self.problem) {
            (Some(b), _) => untrusted(b).to_string(),
            (None, Some(p)) => format!("{p}: {}", self.header.join(" | ")),
            (None, None) if self.header.is_empty() => "no WWW-Authenticate header".to_owned(),
            (None, None) => format!("no Bearer challenge in {}", self.header.join(" | ")),
        }
    }

    fn to_json(&self) -> Value {
        let b = self.bearer.clone().unwrap_or_default();
        json!({
            "header": self.header,
            "error": b.error,
            "scope": b.scope,
            "error_description": b.error_description,
            "resource_metadata": b.resource_metadata,
            "problem": self.problem.as_ref().map(ToString::to_string),
        })
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum McpError {
    #[error("the MCP client could not be set up: {0}")]
    Client(String),
    #[error("the MCP server at {} did not answer {method} within {secs} s", untrusted(.url))]
    Timeout {
        url: String,
        method: String,
        secs: u64,
    },
    #[error("could not reach the MCP server at {}: {}", untrusted(.url), untrusted(.detail))]
    Connect { url: String, detail: String },
    #[error(
        "the MCP server at {} answered {method} with more than {limit} bytes; refusing to read further",
        untrusted(.url)
    )]
    TooLarge {
        url: String,
        method: String,
        limit: usize,
    },
    #[error(
        "the MCP server at {} answered {method} with HTTP {status} redirecting to {}: redirects \
         are not followed (the access token would go along); use the final URL",
        untrusted(.url),
        untrusted(.location)
    )]
    Redirect {
        url: String,
        method: String,
        status: u16,
        location: String,
    },
    #[error("the request for {method} to {} failed: {}", untrusted(.url), untrusted(.detail))]
    Request {
        url: String,
        method: String,
        detail: String,
    },
    /// 401: no token, or one the server does not accept (RFC 6750 section 3.1).
    #[error(
        "the MCP server at {} answered {method} with HTTP 401 ({}): {}",
        untrusted(.url),
        .refusal.describe(),
        if *.sent_token {
            "it does not accept the access token: expired, revoked, or issued for another \
             audience (request it with `resource` set to this server's URL, RFC 8707)"
        } else {
            "it wants an access token; sign in first"
        }
    )]
    Unauthorized {
        url: String,
        method: String,
        sent_token: bool,
        refusal: Box<Refusal>,
    },
    /// 403: the token is good but not enough; `insufficient_scope` names the scope to add
    /// (MCP authorization, "Runtime Insufficient Scope Errors": step up).
    #[error(
        "the MCP server at {} answered {method} with HTTP 403 ({}){}",
        untrusted(.url),
        .refusal.describe(),
        match .refusal.scope() {
            Some(scope) if .refusal.error() == Some("insufficient_scope") => format!(
                ": the access token lacks a scope; sign in again requesting {:?}",
                untrusted(scope).to_string()
            ),
            _ => String::new(),
        }
    )]
    Forbidden {
        url: String,
        method: String,
        refusal: Box<Refusal>,
    },
    #[error(
        "the MCP server at {} answered {method} with HTTP 406 Not Acceptable to \
         `Accept: application/json, text/event-stream`: no Streamable HTTP endpoint (MCP \
         2025-03-26 or later) at this URL; check it is the MCP endpoint (often ending in /mcp)",
        untrusted(.url)
    )]
    NotAcceptable { url: String, method: String },
    #[error(
        "the MCP server at {} answered {method} with HTTP {status}{}",
        untrusted(.url),
        .first_line.as_ref().map(|l| format!(": {l}")).unwrap_or_default()
    )]
    Status {
        url: String,
        method: String,
        status: u16,
        first_line: Option<String>,
    },
    /// A 2xx body that is neither JSON nor an event stream, or JSON that does not parse.
    #[error(
        "the MCP server at {} answered {method} with HTTP {status} and {}, not JSON-RPC{}",
        untrusted(.url),
        .content_type.as_deref().map(|c| format!("content-type {c}")).unwrap_or_else(|| "no content-type".to_owned()),
        .first_line.as_ref().map(|l| format!(": first line: {l}")).unwrap_or_default()
    )]
    NotJson {
        url: String,
        method: String,
        status: u16,
        content_type: Option<String>,
        first_line: Option<String>,
    },
    #[error(
        "the MCP server at {} answered {method} with JSON-RPC error {code}: {}{}",
        untrusted(.url),
        untrusted(.message),
        .data.as_ref().map(|d| format!(" (data: {})", untrusted(d))).unwrap_or_default()
    )]
    JsonRpc {
        url: String,
        method: String,
        code: i64,
        message: String,
        data: Option<String>,
    },
    /// A non-2xx status with a JSON-RPC error body: a 2026-07-28 server refuses a request so
    /// (HTTP 400, `-32020` a header missing or wrong, `-32022` an unsupported protocol version
    /// with the versions it supports in `data.supported`).
    #[error(
        "the MCP server at {} answered {method} with HTTP {status} and JSON-RPC error {code}: {}{}",
        untrusted(.url),
        untrusted(.message),
        if .supported.is_empty() { String::new() } else {
            format!(" (it supports {})", untrusted(&.supported.join(", ")))
        }
    )]
    Rejected {
        url: String,
        method: String,
        status: u16,
        code: i64,
        message: String,
        /// `data.supported` of an unsupported-version error.
        supported: Vec<String>,
    },
    /// A message that breaks the MCP or JSON-RPC rules (a missing field, no response).
    #[error("the MCP server at {} broke the protocol on {method}: {}", untrusted(.url), untrusted(.problem))]
    Protocol {
        url: String,
        method: String,
        problem: String,
    },
    #[error(
        "the MCP server at {} chose protocol version {:?}, which this client does not speak \
         ({}); it should have answered with one of them (MCP lifecycle, version negotiation)",
        untrusted(.url),
        untrusted(.offered).to_string(),
        super::SUPPORTED_VERSIONS.join(", ")
    )]
    UnsupportedVersion { url: String, offered: String },
}

impl McpError {
    /// A short machine-readable name, for the JSON report.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Client(_) => "client",
            Self::Timeout { .. } => "timeout",
            Self::Connect { .. } => "connect",
            Self::TooLarge { .. } => "too_large",
            Self::Redirect { .. } => "redirect",
            Self::Request { .. } => "request",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::NotAcceptable { .. } => "not_acceptable",
            Self::Status { .. } => "http_status",
            Self::NotJson { .. } => "not_json",
            Self::JsonRpc { .. } => "jsonrpc_error",
            Self::Rejected { .. } => "rejected",
            Self::Protocol { .. } => "protocol",
            Self::UnsupportedVersion { .. } => "unsupported_protocol_version",
        }
    }

    /// The HTTP status, for the errors that came with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            Self::NotAcceptable { .. } => Some(406),
            Self::Redirect { status, .. }
            | Self::Status { status, .. }
            | Self::Rejected { status, .. }
            | Self::NotJson { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The challenge of a 401 or 403.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Unauthorized { refusal, .. } | Self::Forbidden { refusal, .. } => Some(refusal),
            _ => None,
        }
    }

    /// The scope a 403 `insufficient_scope` asks for: what a step-up sign-in requests.
    pub fn insufficient_scope(&self) -> Option<&str> {
        match self {
            Self::Forbidden { refusal, .. } if refusal.error() == Some("insufficient_scope") => {
                refusal.scope()
            }
            _ => None,
        }
    }

    /// For `--report`: the kind, the message, and what the server said.
    pub fn to_json(&self) -> Value {
        let mut doc = json!({ "error": self.kind(), "message": self.to_string() });
        if let Some(status) = self.status() {
            doc["status"] = json!(status);
        }
        if let Some(refusal) = self.refusal() {
            doc["www_authenticate"] = refusal.to_json();
        }
        if let Self::JsonRpc { code, .. } | Self::Rejected { code, .. } = self {
            doc["code"] = json!(code);
        }
        doc
    }
}
