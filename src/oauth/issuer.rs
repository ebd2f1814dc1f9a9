//! Issuers and the URLs derived from them: the one well-known URL rule (RFC 8414, RFC 9728)
//! and the one https-or-loopback rule.

use url::Url;

/// An issuer URL, kept exactly as configured: issuer comparisons are simple string
/// comparisons (OpenID Connect Discovery 1.0 section 4.3, RFC 9207 section 2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    raw: String,
    url: Url,
}

impl Issuer {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let url = Url::parse(raw)
            .map_err(|e| format!("{e}; an issuer looks like https://login.example.com"))?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err("an issuer has no query or fragment (RFC 8414 section 2)".into());
        }
        require_https_unless_loopback(&url)?;
        Ok(Self {
            raw: raw.to_owned(),
            url,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The issuer without a trailing slash, the base that OpenID discovery appends to.
    fn base(&self) -> &str {
        self.raw.trim_end_matches('/')
    }

    /// `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 section 4).
    pub fn openid_configuration_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.base())
    }

    /// `<origin>/.well-known/oauth-authorization-server<path>` (RFC 8414 section 3.1).
    pub fn oauth_metadata_url(&self) -> String {
        well_known_url(&self.url, "oauth-authorization-server")
    }

    /// Joins a path onto the issuer's origin (for providers with fixed paths, like Clerk).
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }
}

/// RFC 8414 section 3.1 and RFC 9728 section 3.1: `/.well-known/<name>` goes between the
/// host and the path, and a trailing slash is dropped. (OpenID discovery appends instead: see
/// `Issuer::openid_configuration_url`.)
pub fn well_known_url(url: &Url, name: &str) -> String {
    let path = url.path().trim_end_matches('/');
    let origin = url.origin().ascii_serialization();
    format!("{origin}/.well-known/{name}{path}")
}

/// Plain HTTP is only acceptable on this machine (RFC 9700 section 2.6, RFC 8252 section 8.3).
pub fn require_https_unless_loopback(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_host(url) => Ok(()),
        "http" => Err(format!(
            "plain http:// is refused for {}: use https://, or a loopback host (localhost, 127.0.0.1, [::1]) for a local provider",
            url.host_str().unwrap_or("")
        )),
        other => Err(format!("scheme {other}:// is not http(s)")),
    }
}

pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback() {
        for ok in [
            "http://localhost:8080",
            "http://127.0.0.1:9000/tenant",
            "http://[::1]:1",
            "https://idp.example",
        ] {
            assert!(Issuer::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://idp.example.com",
            "ftp://idp.example",
            "https://idp.example/?x=1",
            "not a url",
        ] {
            assert!(Issuer::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn well_known_urls() {
        let plain = Issuer::parse("https://idp.example.com/").unwrap();
        assert_eq!(
            plain.as_str(),
            "https://idp.example.com/",
            "kept exactly as configured"
        );
        assert_eq!(
            plain.openid_configuration_url(),
            "https://idp.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            plain.oauth_metadata_url(),
            "https://idp.example.com/.well-known/oauth-authorization-server"
        );
        let tenant = Issuer::parse("https://idp.example.com/realms/demo").unwrap();
        assert_eq!(
            tenant.openid_configuration_url(),
            "https://idp.example.com/realms/demo/.well-known/openid-configuration"
        );
        assert_eq!(
            tenant.oauth_metadata_url(),
            "https://idp.example.com/.well-known/oauth-authorization-server/realms/demo"
        );
        assert_eq!(
            tenant.endpoint("/oauth/token"),
            "https://idp.example.com/realms/demo/oauth/token"
        );
    }

    #[test]
    fn the_well_known_segment_goes_between_host_and_path() {
        let api = Url::parse("http://127.0.0.1:8080/v1/api/").unwrap();
        assert_eq!(
            well_known_url(&api, "oauth-protected-resource"),
            "http://127.0.0.1:8080/.well-known/oauth-protected-resource/v1/api"
        );
        let root = Url::parse("https://api.example.com/").unwrap();
        assert_eq!(
            well_known_url(&root, "oauth-protected-resource"),
            "https://api.example.com/.well-known/oauth-protected-resource"
        );
    }
}
