//! The MCP specification revisions whose authorization rules this client applies
//! (`--mcp-revision`): what each one asks of a client, in one place.

/// An MCP revision, oldest first (so `<` means "older").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum McpRevision {
    /// No protected-resource metadata: the server's origin locates the authorization server.
    V2025_03_26,
    /// Protected-resource metadata (RFC 9728) and resource indicators (RFC 8707).
    V2025_06_18,
    /// Client ID Metadata Documents, scope selection and step-up, OpenID discovery.
    V2025_11_25,
    /// Stateless: no `initialize` handshake, `_meta` and headers on every request,
    /// `server/discover`; the authorization rules of 2025-11-25 plus issuer checks.
    #[default]
    V2026_07_28,
}

impl McpRevision {
    pub const NAMES: &'static str = "2025-03-26, 2025-06-18, 2025-11-25 or 2026-07-28";

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "2025-03-26" => Some(Self::V2025_03_26),
            "2025-06-18" => Some(Self::V2025_06_18),
            "2025-11-25" => Some(Self::V2025_11_25),
            "2026-07-28" => Some(Self::V2026_07_28),
            _ => None,
        }
    }

    /// The protocol version string, as sent in `initialize` or in `_meta`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2025_03_26 => "2025-03-26",
            Self::V2025_06_18 => "2025-06-18",
            Self::V2025_11_25 => "2025-11-25",
            Self::V2026_07_28 => "2026-07-28",
        }
    }

    /// Client ID Metadata Documents are part of the authorization rules (2025-11-25 on).
    pub fn client_id_metadata_documents(self) -> bool {
        self >= Self::V2025_11_25
    }

    /// A server without protected-resource metadata follows the rules (2025-03-26), rather
    /// than falling back with a warning.
    pub fn without_resource_metadata(self) -> bool {
        self == Self::V2025_03_26
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_parse_and_order() {
        for name in ["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"] {
            assert_eq!(McpRevision::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(McpRevision::default(), McpRevision::V2026_07_28);
        assert!(McpRevision::parse("2024-11-05").is_none());
        assert!(McpRevision::V2025_03_26 < McpRevision::V2025_06_18);
        assert!(!McpRevision::V2025_06_18.client_id_metadata_documents());
        assert!(McpRevision::V2025_11_25.client_id_metadata_documents());
        assert!(McpRevision::V2025_03_26.without_resource_metadata());
        assert!(!McpRevision::V2025_11_25.without_resource_metadata());
    }
}
