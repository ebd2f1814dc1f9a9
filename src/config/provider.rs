//! The provider setting: which authorization server, and how it was named (OAUTH_ISSUER, a
//! Clerk publishable key, endpoints given by hand, or only RESOURCE_URL, whose metadata
//! names it at start).

use url::Url;

use super::defaults::given;
use super::endpoints::EndpointOverrides;
use super::error::ConfigError;
use crate::clerk::PublishableKey;
use crate::cli::Cli;
use crate::oauth::{Endpoint, Issuer, require_https_unless_loopback};

/// Where the provider is, and how we learned it.
#[derive(Debug, Clone)]
pub enum ProviderSetting {
    /// OAUTH_ISSUER: discovery at this issuer.
    Issuer(Issuer),
    /// CLERK_PUBLISHABLE_KEY: discovery at the key's Frontend API, and Clerk's fixed paths
    /// when discovery cannot be reached.
    Clerk(PublishableKey),
    /// No issuer, but the authorization and token endpoints (GitHub and the like): no
    /// discovery.
    ByHand {
        /// The authorization endpoint's origin, standing in for an issuer (for display, and
        /// compared with an `iss` the callback may carry).
        issuer: Issuer,
    },
    /// Nothing names the provider but RESOURCE_URL: the resource's metadata (RFC 9728)
    /// names the authorization server at start; see `Config::use_issuer_from_resource`.
    FromResource,
    /// RESOURCE_URL is an MCP server (`--mcp`) and OAUTH_ISSUER is set: the server's metadata
    /// names the authorization server, as for `FromResource`, and the run goes on only when it
    /// names this issuer (the one a CLIENT_SECRET belongs to).
    PinnedResource(Issuer),
}

impl ProviderSetting {
    /// An issuer wins over a publishable key; the endpoints given by hand name a provider
    /// without discovery; RESOURCE_URL alone starts from the API.
    pub(super) fn from_cli(cli: &Cli, endpoints: &EndpointOverrides) -> Result<Self, ConfigError> {
        if endpoints.authorization.is_some() != endpoints.token.is_some()
            && given(&cli.issuer).is_none()
            && given(&cli.publishable_key).is_none()
        {
            return Err(ConfigError::HalfManual);
        }
        let key = given(&cli.publishable_key)
            .map(|k| PublishableKey::parse(k).map_err(ConfigError::PublishableKey))
            .transpose()?;
        if let Some(raw) = given(&cli.issuer) {
            let issuer = Issuer::parse(raw).map_err(|problem| ConfigError::Issuer {
                value: raw.to_owned(),
                problem,
            })?;
            // MCP authorization starts from the server's metadata; the issuer pins the
            // authorization server it must name.
            if cli.mcp && given(&cli.resource_url).is_some() {
                return Ok(Self::PinnedResource(issuer));
            }
            if key.is_some() {
                log::info!(
                    "both OAUTH_ISSUER and CLERK_PUBLISHABLE_KEY are set: using OAUTH_ISSUER"
                );
            }
            return Ok(Self::Issuer(issuer));
        }
        if let Some(key) = key {
            return Ok(Self::Clerk(key));
        }
        if let Some(authorization) = endpoints
            .authorization
            .as_ref()
            .filter(|_| endpoints.complete())
        {
            // No issuer: the authorization server's origin names it, for display only.
            let origin = authorization.origin().ascii_serialization();
            let issuer = Issuer::parse(&origin).map_err(|problem| ConfigError::Endpoint {
                name: Endpoint::Authorization.env_var().unwrap_or_default(),
                value: authorization.to_string(),
                problem,
            })?;
            return Ok(Self::ByHand { issuer });
        }
        if let Some(resource) = given(&cli.resource_url)
            && let Ok(url) = Url::parse(resource)
        {
            // Start from the API: its metadata will name the authorization server. The URL
            // gets a bearer token, so the https rule holds from here.
            require_https_unless_loopback(&url).map_err(|problem| ConfigError::Resource {
                value: resource.to_owned(),
                problem,
            })?;
            return Ok(Self::FromResource);
        }
        Err(ConfigError::NoProvider)
    }

    /// The issuer discovery starts from (or that stands in for one); `None` until the
    /// resource's metadata has named it.
    pub fn issuer(&self) -> Option<&Issuer> {
        match self {
            Self::Issuer(issuer) | Self::ByHand { issuer } | Self::PinnedResource(issuer) => {
                Some(issuer)
            }
            Self::Clerk(key) => Some(key.issuer()),
            Self::FromResource => None,
        }
    }

    /// The Clerk key the issuer came from (enables Clerk's fixed paths and quirks).
    pub fn clerk(&self) -> Option<&PublishableKey> {
        match self {
            Self::Clerk(key) => Some(key),
            _ => None,
        }
    }

    /// Whether the endpoints come from metadata: false when given by hand without an issuer.
    pub fn discovers(&self) -> bool {
        !matches!(self, Self::ByHand { .. })
    }

    /// RESOURCE_URL alone: the issuer is learned from the resource's metadata at start.
    pub fn is_from_resource(&self) -> bool {
        matches!(self, Self::FromResource | Self::PinnedResource(_))
    }

    /// OAUTH_ISSUER with an MCP server's RESOURCE_URL: the authorization server its metadata
    /// must name.
    pub fn pinned(&self) -> Option<&Issuer> {
        match self {
            Self::PinnedResource(issuer) => Some(issuer),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::config::tests::cli;

    #[test]
    fn issuer_wins_over_publishable_key() {
        let mut raw = cli();
        raw.publishable_key = Some("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k".into());
        let c = Config::from_cli(&raw).unwrap();
        assert!(
            matches!(&c.provider, ProviderSetting::Issuer(i) if i.as_str() == "https://idp.example.com")
        );
        assert!(c.provider.clerk().is_none());
        raw.issuer = None;
        let c = Config::from_cli(&raw).unwrap();
        assert_eq!(
            c.provider.issuer().map(Issuer::as_str),
            Some("https://clerk.example.com")
        );
        assert!(matches!(c.provider, ProviderSetting::Clerk(_)));
        assert!(c.provider.discovers());
    }

    #[test]
    fn a_resource_url_alone_starts_from_the_api() {
        let raw = Cli {
            resource_url: Some("https://api.example.com/mcp".into()),
            ..Cli::default()
        };
        let mut c = Config::from_cli(&raw).unwrap();
        assert!(c.provider.is_from_resource());
        assert!(
            c.provider.issuer().is_none(),
            "not known before the metadata"
        );
        assert!(
            c.client_id.is_none(),
            "registered at start when the server allows"
        );
        assert_eq!(
            c.summary()["issuer"],
            "https://api.example.com",
            "--print-config shows the API's origin until the metadata is read"
        );
        c.use_issuer_from_resource(Issuer::parse("https://as.example.com").unwrap());
        assert!(!c.provider.is_from_resource() && c.provider.discovers());
        assert_eq!(
            c.provider.issuer().map(Issuer::as_str),
            Some("https://as.example.com")
        );
        let mut raw = cli();
        raw.resource_url = Some("https://api.example.com/mcp".into());
        assert!(
            !Config::from_cli(&raw).unwrap().provider.is_from_resource(),
            "an issuer wins"
        );
        let raw = Cli {
            resource_url: Some("http://api.example.com/mcp".into()),
            ..Cli::default()
        };
        assert!(matches!(
            Config::from_cli(&raw),
            Err(ConfigError::Resource { .. })
        ));
    }

    #[test]
    fn an_issuer_with_an_mcp_server_pins_the_authorization_server_its_metadata_names() {
        let mut raw = cli();
        raw.resource_url = Some("https://api.example.com/mcp".into());
        raw.mcp = true;
        let c = Config::from_cli(&raw).unwrap();
        assert!(
            c.provider.is_from_resource(),
            "the MCP server's metadata is read"
        );
        assert_eq!(
            c.provider.pinned().map(Issuer::as_str),
            Some("https://idp.example.com")
        );
        assert_eq!(c.summary()["issuer"], "https://idp.example.com");
        raw.mcp = false;
        let c = Config::from_cli(&raw).unwrap();
        assert!(
            !c.provider.is_from_resource() && c.provider.pinned().is_none(),
            "a plain API with an issuer: as before"
        );
    }
}
