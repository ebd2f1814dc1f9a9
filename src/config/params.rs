//! What the authorization request asks for beyond the flow itself: the scopes
//! (OAUTH_SCOPES) and extra parameters (`--param`, OAUTH_PARAMS), minus the parameters the
//! client sets itself (RESERVED_PARAMS).

use oauth2::Scope;

use super::defaults::DEFAULT_SCOPES;
use super::error::ConfigError;

/// Parameters the client sets itself, which `--param` and `/login?...` may not override.
pub const RESERVED_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "request_uri",
    // JAR and JARM change what the callback receives and how: not what this client tests.
    "request",
    "response_mode",
];

/// OAUTH_SCOPES, space-separated; unset: the OpenID Connect defaults.
pub(super) fn scopes(given: Option<&str>) -> Vec<Scope> {
    given
        .unwrap_or(DEFAULT_SCOPES)
        .split_whitespace()
        .map(|s| Scope::new(s.to_owned()))
        .collect()
}

pub fn scope_string(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `key=value` items, each side form-decoded; `scope` and reserved keys refused.
pub(super) fn parse_params(raw: &[String]) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for item in raw.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| ConfigError::Param(item.to_owned()))?;
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let (k, v) = (decode(k), decode(v));
        if k.is_empty() {
            return Err(ConfigError::Param(item.to_owned()));
        }
        if k == "scope" {
            return Err(ConfigError::ScopeParam);
        }
        if RESERVED_PARAMS.contains(&k.as_str()) {
            return Err(ConfigError::ReservedParam(k));
        }
        out.push((k, v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::config::tests::cli;
    use crate::config::{Config, ConfigError};

    #[test]
    fn extra_parameters() {
        let mut raw = cli();
        raw.params = vec![
            "audience=https%3A%2F%2Fapi.example".into(),
            "prompt=consent".into(),
            "acr_values=a b".into(),
        ];
        let c = Config::from_cli(&raw).unwrap();
        assert_eq!(
            c.params[0],
            ("audience".into(), "https://api.example".into())
        );
        assert_eq!(c.params[2], ("acr_values".into(), "a b".into()));
        raw.params = vec!["state=x".into()];
        assert!(matches!(
            Config::from_cli(&raw),
            Err(ConfigError::ReservedParam(_))
        ));
        raw.params = vec!["scope=x".into()];
        assert!(matches!(
            Config::from_cli(&raw),
            Err(ConfigError::ScopeParam)
        ));
        raw.params = vec!["novalue".into()];
        assert!(matches!(Config::from_cli(&raw), Err(ConfigError::Param(_))));
    }
}
