//! Where the app listens and is reached: HOST and PORT, the redirect URI (REDIRECT_URI, or
//! the loopback default), and the host names it answers to (ALLOWED_HOSTS).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use oauth2::RedirectUrl;
use url::Url;

use super::defaults::{DEFAULT_CALLBACK_PATH, DEFAULT_PORT, given};
use super::error::ConfigError;
use crate::cli::Cli;
use crate::oauth::is_loopback_host;

/// The addresses to listen on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub addrs: Vec<IpAddr>,
    pub port: u16,
    /// Host names given in ALLOWED_HOSTS, lowercase: answered to beside loopback names, the
    /// redirect URI's host and the listen address.
    pub allowed_hosts: Vec<String>,
}

impl Listen {
    /// PORT, REDIRECT_URI, HOST and ALLOWED_HOSTS, in that order; with the redirect URI as
    /// given (`None`: the loopback default, known once the port is bound).
    pub(super) fn from_cli(cli: &Cli) -> Result<(Self, Option<RedirectUrl>), ConfigError> {
        let port = match given(&cli.port) {
            None => DEFAULT_PORT,
            Some(p) => p.parse().map_err(|_| ConfigError::Port(p.to_owned()))?,
        };
        let redirect = given(&cli.redirect_uri).map(parse_redirect).transpose()?;
        let listen = Self {
            addrs: listen_addrs(given(&cli.host), redirect.as_ref())?,
            port,
            allowed_hosts: parse_allowed_hosts(&cli.allowed_hosts)?,
        };
        Ok((listen, redirect))
    }
}

/// `http://localhost:<port>/oauth_callback`: the redirect URI when none is configured.
pub(super) fn default_redirect(port: u16) -> RedirectUrl {
    RedirectUrl::new(format!("http://localhost:{port}{DEFAULT_CALLBACK_PATH}"))
        .expect("the default redirect URI is a valid URL")
}

fn parse_redirect(raw: &str) -> Result<RedirectUrl, ConfigError> {
    let err = |problem: String| ConfigError::Redirect {
        value: raw.to_owned(),
        problem,
    };
    let url = Url::parse(raw).map_err(|e| {
        err(format!(
            "{e}; it must be the full URL registered at the provider, e.g. http://localhost:{DEFAULT_PORT}{DEFAULT_CALLBACK_PATH}"
        ))
    })?;
    if url.fragment().is_some() {
        return Err(err(
            "a redirect URI has no #fragment (RFC 6749 section 3.1.2)".into(),
        ));
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(err("this app can only receive http(s) callbacks".into()));
    }
    if matches!(url.path(), "/" | "/login" | "/healthz") {
        return Err(err(format!(
            "its path {} is one of this app's own pages; use a path of its own, e.g. {DEFAULT_CALLBACK_PATH}",
            url.path()
        )));
    }
    if !is_loopback_host(&url) {
        log::warn!(
            "REDIRECT_URI {raw} is not a loopback address: the provider will send the browser there, \
             so something at that address must forward to this app"
        );
    }
    RedirectUrl::new(raw.to_owned()).map_err(|e| err(e.to_string()))
}

/// ALLOWED_HOSTS: host names (or IP addresses) without scheme or port.
fn parse_allowed_hosts(raw: &[String]) -> Result<Vec<String>, ConfigError> {
    raw.iter()
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
        .map(|h| match url::Host::parse(h) {
            Ok(host) if !h.contains([':', '/']) || h.starts_with('[') => {
                Ok(host.to_string().to_ascii_lowercase())
            }
            _ => Err(ConfigError::AllowedHost(h.to_owned())),
        })
        .collect()
}

/// Loopback only unless HOST says otherwise; `localhost` means both 127.0.0.1 and ::1,
/// since a browser may resolve it to either (RFC 8252 section 8.3).
fn listen_addrs(
    host: Option<&str>,
    redirect: Option<&RedirectUrl>,
) -> Result<Vec<IpAddr>, ConfigError> {
    let both = vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    match host {
        Some(h) if h.eq_ignore_ascii_case("localhost") => Ok(both),
        Some(h) => {
            let ip: IpAddr = h
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .map_err(|_| ConfigError::Host(h.to_owned()))?;
            if !ip.is_loopback() {
                log::warn!(
                    "HOST={h}: listening beyond loopback, as asked; anyone who can reach it can use this app"
                );
            }
            Ok(vec![ip])
        }
        None => Ok(match redirect.and_then(|r| r.url().host()) {
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => vec![IpAddr::V4(ip)],
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => vec![IpAddr::V6(ip)],
            _ => both,
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use crate::config::Config;
    use crate::config::tests::cli;

    #[test]
    fn listen_addresses_follow_host_and_redirect() {
        let mut raw = cli();
        raw.redirect_uri = Some("http://127.0.0.1:4000/cb".into());
        let c = Config::from_cli(&raw).unwrap();
        assert_eq!(c.listen.addrs, vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
        assert_eq!(c.redirect_for_port(1).as_str(), "http://127.0.0.1:4000/cb");
        raw.host = Some("0.0.0.0".into());
        let c = Config::from_cli(&raw).unwrap();
        assert_eq!(c.listen.addrs, vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED)]);
        raw.host = Some("[::1]".into());
        assert_eq!(
            Config::from_cli(&raw).unwrap().listen.addrs,
            vec![IpAddr::V6(Ipv6Addr::LOCALHOST)]
        );
        raw.redirect_uri = Some("http://localhost:3000/cb#frag".into());
        assert!(
            Config::from_cli(&raw)
                .unwrap_err()
                .to_string()
                .starts_with("REDIRECT_URI")
        );
        raw.redirect_uri = Some("http://localhost:3000/".into());
        assert!(
            Config::from_cli(&raw)
                .unwrap_err()
                .to_string()
                .contains("own pages")
        );
    }

    #[test]
    fn allowed_hosts_are_bare_names_or_addresses() {
        let mut raw = cli();
        raw.allowed_hosts = vec![
            "My-Laptop.LAN".into(),
            " ".into(),
            "192.168.1.20".into(),
            "[::1]".into(),
        ];
        assert_eq!(
            Config::from_cli(&raw).unwrap().listen.allowed_hosts,
            ["my-laptop.lan", "192.168.1.20", "[::1]"]
        );
        for bad in ["my-laptop.lan:3000", "http://my-laptop.lan", "a/b"] {
            raw.allowed_hosts = vec![bad.into()];
            let msg = Config::from_cli(&raw).unwrap_err().to_string();
            assert!(
                msg.starts_with("ALLOWED_HOSTS") && msg.contains(bad),
                "{msg}"
            );
        }
    }
}
