//! Endpoints given by hand (OAUTH_AUTHORIZE_URL, OAUTH_TOKEN_URL, ...; see
//! `oauth::Endpoint::BY_HAND`), each laid over what discovery finds, and the hint that
//! names the setting for an endpoint a provider lacks.

use url::Url;

use super::defaults::given;
use super::error::ConfigError;
use crate::cli::Cli;
use crate::oauth::{Endpoint, require_https_unless_loopback};

/// Endpoints given by hand: each replaces what discovery said; authorization and token
/// together make discovery unnecessary.
#[derive(Debug, Clone, Default)]
pub struct EndpointOverrides {
    pub authorization: Option<Url>,
    pub token: Option<Url>,
    pub userinfo: Option<Url>,
    pub introspection: Option<Url>,
    pub revocation: Option<Url>,
    pub jwks: Option<Url>,
    pub device_authorization: Option<Url>,
}

/// The setting that gives a metadata endpoint by hand, as a fix to offer in a message:
/// ` (set OAUTH_TOKEN_URL to give it by hand)`, or nothing when there is no such setting.
pub fn by_hand(field: &str) -> String {
    Endpoint::from_metadata_name(field)
        .and_then(Endpoint::env_var)
        .map(|setting| format!(" (set {setting} to give it by hand)"))
        .unwrap_or_default()
}

impl EndpointOverrides {
    pub(super) fn from_cli(cli: &Cli) -> Result<Self, ConfigError> {
        Ok(Self {
            authorization: parse(Endpoint::Authorization, &cli.authorize_url)?,
            token: parse(Endpoint::Token, &cli.token_url)?,
            userinfo: parse(Endpoint::Userinfo, &cli.userinfo_url)?,
            introspection: parse(Endpoint::Introspection, &cli.introspection_url)?,
            revocation: parse(Endpoint::Revocation, &cli.revocation_url)?,
            jwks: parse(Endpoint::Jwks, &cli.jwks_url)?,
            device_authorization: parse(
                Endpoint::DeviceAuthorization,
                &cli.device_authorization_url,
            )?,
        })
    }

    /// The URL given for `endpoint`, if any.
    pub fn get(&self, endpoint: Endpoint) -> Option<&Url> {
        match endpoint {
            Endpoint::Authorization => self.authorization.as_ref(),
            Endpoint::Token => self.token.as_ref(),
            Endpoint::Userinfo => self.userinfo.as_ref(),
            Endpoint::Introspection => self.introspection.as_ref(),
            Endpoint::Revocation => self.revocation.as_ref(),
            Endpoint::Jwks => self.jwks.as_ref(),
            Endpoint::DeviceAuthorization => self.device_authorization.as_ref(),
            Endpoint::Registration | Endpoint::Par => None,
        }
    }

    /// Each endpoint given by hand, with its URL, in `Endpoint::BY_HAND` order.
    pub fn iter(&self) -> impl Iterator<Item = (Endpoint, &Url)> {
        Endpoint::BY_HAND
            .into_iter()
            .filter_map(|e| Some((e, self.get(e)?)))
    }

    /// `name=url` for each endpoint given by hand.
    pub fn listed(&self) -> Vec<String> {
        self.iter()
            .map(|(e, url)| format!("{}={url}", e.metadata_name()))
            .collect()
    }

    /// Enough to run the flow without discovery.
    pub fn complete(&self) -> bool {
        self.authorization.is_some() && self.token.is_some()
    }
}

/// A full URL, https unless loopback; errors name the endpoint's setting.
fn parse(endpoint: Endpoint, raw: &Option<String>) -> Result<Option<Url>, ConfigError> {
    let Some(raw) = given(raw) else {
        return Ok(None);
    };
    let err = |problem: String| ConfigError::Endpoint {
        name: endpoint.env_var().unwrap_or(endpoint.metadata_name()),
        value: raw.to_owned(),
        problem,
    };
    let url = Url::parse(raw).map_err(|e| err(format!("{e}; give the full URL")))?;
    require_https_unless_loopback(&url).map_err(err)?;
    Ok(Some(url))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::config::tests::cli;
    use crate::config::{Config, ProviderSetting};

    #[test]
    fn endpoints_by_hand() {
        let mut raw = cli();
        raw.issuer = None;
        raw.authorize_url = Some("https://github.com/login/oauth/authorize".into());
        assert!(matches!(
            Config::from_cli(&raw),
            Err(ConfigError::HalfManual)
        ));
        raw.token_url = Some("https://github.com/login/oauth/access_token".into());
        let c = Config::from_cli(&raw).unwrap();
        assert!(!c.provider.discovers());
        assert!(matches!(c.provider, ProviderSetting::ByHand { .. }));
        assert_eq!(
            c.provider.issuer().map(|i| i.as_str()),
            Some("https://github.com")
        );
        raw.jwks_url = Some("http://jwks.example.com/keys".into());
        assert!(
            Config::from_cli(&raw)
                .unwrap_err()
                .to_string()
                .starts_with("OAUTH_JWKS_URL")
        );
        raw.jwks_url = None;
        raw.issuer = Some("https://idp.example".into());
        let c = Config::from_cli(&raw).unwrap();
        assert!(
            c.provider.discovers(),
            "with an issuer, discovery still runs; the URLs override it"
        );
    }

    #[test]
    fn each_endpoint_given_by_hand_is_read_listed_and_named_in_the_hint() {
        let mut raw = cli();
        raw.authorize_url = Some("https://idp.example.com/a".into());
        raw.token_url = Some("https://idp.example.com/t".into());
        raw.userinfo_url = Some("https://idp.example.com/u".into());
        raw.introspection_url = Some("https://idp.example.com/i".into());
        raw.revocation_url = Some("https://idp.example.com/r".into());
        raw.jwks_url = Some("https://idp.example.com/k".into());
        let c = Config::from_cli(&raw).unwrap();
        assert_eq!(
            c.endpoints.listed(),
            [
                "authorization_endpoint=https://idp.example.com/a",
                "token_endpoint=https://idp.example.com/t",
                "userinfo_endpoint=https://idp.example.com/u",
                "introspection_endpoint=https://idp.example.com/i",
                "revocation_endpoint=https://idp.example.com/r",
                "jwks_uri=https://idp.example.com/k",
            ]
        );
        assert_eq!(
            by_hand("jwks_uri"),
            " (set OAUTH_JWKS_URL to give it by hand)"
        );
        assert_eq!(by_hand("registration_endpoint"), "");
        assert_eq!(by_hand("nonsense"), "");
    }

    /// The vocabulary's env vars and flags are the ones the CLI defines, for the same option.
    #[test]
    fn endpoint_settings_match_the_cli_definition() {
        let cmd = Cli::command();
        for e in Endpoint::BY_HAND {
            let flag = e.flag().unwrap().trim_start_matches("--");
            let arg = cmd
                .get_arguments()
                .find(|a| a.get_long() == Some(flag))
                .unwrap_or_else(|| panic!("no flag --{flag}"));
            assert_eq!(
                arg.get_env().and_then(|v| v.to_str()),
                e.env_var(),
                "--{flag}"
            );
        }
    }
}
