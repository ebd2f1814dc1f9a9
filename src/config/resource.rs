//! RESOURCE_URL and RESOURCE_METHOD: the user's own API, called with the access token.

use url::Url;

use super::error::ConfigError;
use crate::oauth::require_https_unless_loopback;

/// The user's own API, called with the access token.
#[derive(Debug, Clone)]
pub struct Resource {
    pub url: Url,
    pub method: String,
    /// An MCP server (`--mcp`, or found to answer like one at start): checked with the MCP
    /// handshake after the sign-in.
    pub mcp: bool,
    /// `--mcp-call NAME[:JSON]`, as given (the MCP module parses it at start).
    pub mcp_call: Option<String>,
}

impl Resource {
    pub(super) fn parse(
        raw: &str,
        method: Option<&str>,
        mcp: bool,
        mcp_call: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let err = |problem: String| ConfigError::Resource {
            value: raw.to_owned(),
            problem,
        };
        let url = Url::parse(raw).map_err(|e| {
            err(format!(
                "{e}; give the full URL, e.g. https://api.example.com/me"
            ))
        })?;
        // A bearer token must not cross the network in clear text.
        require_https_unless_loopback(&url).map_err(err)?;
        // Streamable HTTP takes POST; an MCP server may answer a GET with 404 or 405.
        let method = method
            .unwrap_or(if mcp { "POST" } else { "GET" })
            .to_ascii_uppercase();
        if !matches!(
            method.as_str(),
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS"
        ) {
            return Err(ConfigError::ResourceMethod(method));
        }
        Ok(Self {
            url,
            method,
            mcp,
            mcp_call: mcp_call.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::cli;
    use crate::config::{Config, ConfigError};

    #[test]
    fn the_resource_url_and_method() {
        let mut raw = cli();
        raw.resource_url = Some("http://api.example.com/me".into());
        assert!(
            Config::from_cli(&raw)
                .unwrap_err()
                .to_string()
                .starts_with("RESOURCE_URL")
        );
        raw.resource_url = Some("http://127.0.0.1:8080/me".into());
        raw.resource_method = Some("post".into());
        let r = Config::from_cli(&raw).unwrap().resource.unwrap();
        assert_eq!(
            (r.method.as_str(), r.url.as_str()),
            ("POST", "http://127.0.0.1:8080/me")
        );
        raw.resource_method = Some("FETCH".into());
        assert!(matches!(
            Config::from_cli(&raw),
            Err(ConfigError::ResourceMethod(_))
        ));
        assert!(
            Config::from_cli(&raw)
                .unwrap_err()
                .to_string()
                .starts_with("RESOURCE_METHOD")
        );
    }
}
