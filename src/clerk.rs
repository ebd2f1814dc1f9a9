//! Clerk-specific knowledge: a publishable key names the instance's Frontend API host,
//! which is the OAuth issuer. Nothing else in the crate knows Clerk's key format.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use crate::oauth::Issuer;

/// The fixed paths of Clerk's OAuth server, used when discovery cannot be reached.
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
pub const TOKEN_PATH: &str = "/oauth/token";
pub const USERINFO_PATH: &str = "/oauth/userinfo";
pub const INTROSPECTION_PATH: &str = "/oauth/token_info";
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// Why a publishable key was refused; each message says what a key looks like.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("it does not start with pk_test_ or pk_live_")]
    Prefix,
    #[error("the part after pk_test_/pk_live_ is not base64")]
    NotBase64,
    #[error("the decoded key does not end in '$'")]
    NoDollar,
    #[error("the decoded key names no valid host")]
    BadHost,
}

/// A decoded publishable key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishableKey {
    /// `live` or `test`.
    pub environment: &'static str,
    /// The Frontend API host (with a port when the key has one), e.g. `clerk.example.com`.
    pub frontend_api: String,
    /// `https://<frontend_api>`, checked when the key was parsed.
    issuer: Issuer,
}

impl PublishableKey {
    /// Decodes `pk_test_`/`pk_live_` + base64(`<host>$`), padded or not, as Clerk's own
    /// `parsePublishableKey` does (it also insists on the trailing `$`).
    pub fn parse(key: &str) -> Result<Self, KeyError> {
        let key = key.trim();
        let (environment, encoded) = if let Some(rest) = key.strip_prefix("pk_test_") {
            ("test", rest)
        } else if let Some(rest) = key.strip_prefix("pk_live_") {
            ("live", rest)
        } else {
            return Err(KeyError::Prefix);
        };
        let bytes = STANDARD
            .decode(encoded)
            .or_else(|_| STANDARD_NO_PAD.decode(encoded.trim_end_matches('=')))
            .map_err(|_| KeyError::NotBase64)?;
        let decoded = String::from_utf8(bytes).map_err(|_| KeyError::NotBase64)?;
        let host = decoded.strip_suffix('$').ok_or(KeyError::NoDollar)?;
        if !valid_host(host) {
            return Err(KeyError::BadHost);
        }
        let issuer = Issuer::parse(&format!("https://{host}")).map_err(|_| KeyError::BadHost)?;
        Ok(Self {
            environment,
            frontend_api: host.to_owned(),
            issuer,
        })
    }

    /// The issuer of this instance's OAuth server.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The Account Portal's origin, where Clerk's OAuth server sends the browser to sign in
    /// (clerk.com/docs, "Account Portal" and "How Clerk works"): a development instance's
    /// Frontend API `<slug>.clerk.accounts.dev` has its portal on `<slug>.accounts.dev`; a
    /// production one's `clerk.<domain>`, on `accounts.<domain>`. `None` for other hosts.
    pub fn account_portal(&self) -> Option<url::Url> {
        let host = self.frontend_api.to_ascii_lowercase();
        let portal = if let Some(slug) = host.strip_suffix(".clerk.accounts.dev") {
            format!("{slug}.accounts.dev")
        } else if let Some(domain) = host.strip_prefix("clerk.") {
            format!("accounts.{domain}")
        } else {
            return None;
        };
        url::Url::parse(&format!("https://{portal}")).ok()
    }
}

fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && !host.contains(['/', '?', '#', '@', ' ', '$'])
        && url::Url::parse(&format!("https://{host}")).is_ok_and(|u| u.host_str().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(prefix: &str, payload: &str, pad: bool) -> String {
        let engine = if pad { STANDARD } else { STANDARD_NO_PAD };
        format!("{prefix}{}", engine.encode(payload))
    }

    #[test]
    fn decodes_padded_and_unpadded_keys() {
        // "clerk.example.com$" is 18 bytes: base64 needs no padding; add one char for a case that does.
        for host in ["clerk.example.com", "clerk.example.co", "localhost:8443"] {
            for pad in [true, false] {
                let parsed =
                    PublishableKey::parse(&key("pk_test_", &format!("{host}$"), pad)).unwrap();
                assert_eq!(parsed.frontend_api, host);
                assert_eq!(parsed.environment, "test");
                assert_eq!(parsed.issuer().as_str(), format!("https://{host}"));
            }
        }
        let live = PublishableKey::parse(&key("pk_live_", "clerk.acme.dev$", true)).unwrap();
        assert_eq!(live.environment, "live");
    }

    #[test]
    fn a_real_looking_key_decodes() {
        // pk_test_ + base64("eager-owl-12.clerk.accounts.dev$")
        let parsed =
            PublishableKey::parse("pk_test_ZWFnZXItb3dsLTEyLmNsZXJrLmFjY291bnRzLmRldiQ").unwrap();
        assert_eq!(parsed.frontend_api, "eager-owl-12.clerk.accounts.dev");
    }

    #[test]
    fn the_account_portal_is_derived_from_the_frontend_api() {
        let portal = |host: &str| {
            PublishableKey::parse(&key("pk_test_", &format!("{host}$"), true))
                .unwrap()
                .account_portal()
                .map(|u| u.origin().ascii_serialization())
        };
        assert_eq!(
            portal("eager-owl-12.clerk.accounts.dev").as_deref(),
            Some("https://eager-owl-12.accounts.dev")
        );
        assert_eq!(
            portal("clerk.example.com").as_deref(),
            Some("https://accounts.example.com")
        );
        assert_eq!(portal("localhost:8443"), None);
    }

    #[test]
    fn refuses_malformed_keys() {
        assert_eq!(PublishableKey::parse("sk_test_abc"), Err(KeyError::Prefix));
        assert_eq!(PublishableKey::parse(""), Err(KeyError::Prefix));
        assert_eq!(
            PublishableKey::parse("pk_test_***"),
            Err(KeyError::NotBase64)
        );
        assert_eq!(
            PublishableKey::parse(&key("pk_test_", "clerk.example.com", true)),
            Err(KeyError::NoDollar)
        );
        assert_eq!(
            PublishableKey::parse(&key("pk_test_", "$", true)),
            Err(KeyError::BadHost)
        );
        assert_eq!(
            PublishableKey::parse(&key("pk_test_", "evil.com/path$", true)),
            Err(KeyError::BadHost)
        );
    }
}
