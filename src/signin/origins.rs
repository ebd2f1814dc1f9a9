//! Which origins may receive the test user's credentials (username, password, one-time code):
//! the authorization endpoint's, and those OAUTH_SIGN_IN_ORIGINS adds (with Clerk's Account
//! Portal, derived from the publishable key). Both drivers ask here before they fill in a
//! field or submit a form that carries one. Redirects through other origins (SSO hops) are
//! still followed: only the credentials are confined.

use url::{Host, Origin, Url};

/// The setting that allows another origin, named in every refusal.
pub const SETTING: &str = "OAUTH_SIGN_IN_ORIGINS";

/// The origins that may see the credentials. Built once per sign-in.
#[derive(Debug, Clone)]
pub struct CredentialOrigins {
    allowed: Vec<Origin>,
}

/// Why credentials were not sent. Origins are shown as `scheme://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The page, or where it (or a redirect of its POST) sends the form, is not allowed.
    Foreign {
        page: String,
        target: String,
        /// The origin that is not allowed (the page's or the target's).
        foreign: String,
        /// What led there: "the page", "the form's target", "a 307 redirect of the form".
        what: &'static str,
    },
    /// Plain http to a host that is not loopback, or from an https page.
    Insecure {
        page: String,
        target: String,
        insecure: String,
    },
    /// A form that puts the password or one-time code in the URL (method GET).
    ByGet { page: String, target: String },
    /// A URL the browser driver must not open (file:, data:, chrome:, ...).
    Scheme { url: String },
}

/// `scheme://host:port` as an origin's ASCII serialisation; `scheme:` for a URL without one
/// (file:, data:).
pub fn shown(url: &Url) -> String {
    let origin = url.origin();
    if origin.is_tuple() {
        origin.ascii_serialization()
    } else {
        format!("{}:", url.scheme())
    }
}

/// localhost, 127.0.0.0/8 or ::1: http there never leaves the machine.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// http(s) only: anything else is never opened.
pub fn is_web(url: &Url) -> bool {
    matches!(url.scheme(), "https" | "http")
}

impl CredentialOrigins {
    /// The authorization endpoint's origin, then the others allowed.
    pub fn new(authorization: &Url, others: impl IntoIterator<Item = Origin>) -> Self {
        let mut allowed = vec![authorization.origin()];
        for o in others {
            if !allowed.contains(&o) {
                allowed.push(o);
            }
        }
        Self { allowed }
    }

    /// Whether `url`'s origin is one of the allowed.
    pub fn allows(&self, url: &Url) -> bool {
        self.allowed.contains(&url.origin())
    }

    /// The allowed origins, for messages.
    pub fn list(&self) -> String {
        self.allowed
            .iter()
            .map(Origin::ascii_serialization)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Before a page's credential fields are filled and its form submitted to `target`
    /// (`by_get`: the form sends them in the URL).
    pub fn check_submit(&self, page: &Url, target: &Url, by_get: bool) -> Result<(), Refusal> {
        let (p, t) = (shown(page), shown(target));
        for (url, what) in [(page, "the page"), (target, "the form's target")] {
            if !is_web(url) {
                return Err(Refusal::Scheme { url: shown(url) });
            }
            if insecure(url, page) {
                return Err(Refusal::Insecure {
                    page: p,
                    target: t,
                    insecure: shown(url),
                });
            }
            if !self.allows(url) {
                return Err(Refusal::Foreign {
                    foreign: shown(url),
                    page: p,
                    target: t,
                    what,
                });
            }
        }
        if by_get {
            return Err(Refusal::ByGet { page: p, target: t });
        }
        Ok(())
    }

    /// A page the driver is told to open and sign in on (the device grant's verification URI,
    /// `what`): http(s), secure, and on an allowed origin.
    pub fn check_open(&self, url: &Url, what: &'static str) -> Result<(), Refusal> {
        let o = shown(url);
        if !is_web(url) {
            return Err(Refusal::Scheme {
                url: format!("{what} ({})", url.scheme()),
            });
        }
        if insecure(url, url) {
            return Err(Refusal::Insecure {
                page: o.clone(),
                target: o.clone(),
                insecure: o,
            });
        }
        if !self.allows(url) {
            return Err(Refusal::Foreign {
                page: o.clone(),
                target: o.clone(),
                foreign: o,
                what,
            });
        }
        Ok(())
    }

    /// A 307/308 answer to a POST that carried credentials: the body would be sent again to
    /// `to`, so it must be allowed (and secure) as a form's target is.
    pub fn check_repost(&self, from: &Url, to: &Url) -> Result<(), Refusal> {
        let (p, t) = (shown(from), shown(to));
        if !is_web(to) {
            return Err(Refusal::Scheme { url: t });
        }
        if insecure(to, from) {
            return Err(Refusal::Insecure {
                page: p,
                target: t.clone(),
                insecure: t,
            });
        }
        if !self.allows(to) {
            return Err(Refusal::Foreign {
                foreign: t.clone(),
                page: p,
                target: t,
                what: "a 307/308 redirect of the form's POST",
            });
        }
        Ok(())
    }
}

/// http where it could be read on the way: any host but loopback, or loopback when the page
/// that sends there is https (a downgrade).
fn insecure(url: &Url, from: &Url) -> bool {
    url.scheme() == "http" && (!is_loopback(url) || from.scheme() == "https")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn credentials_stay_on_the_allowed_origins_over_https_or_loopback() {
        let o = CredentialOrigins::new(
            &u("https://idp.example/authorize"),
            [u("https://login.example").origin()],
        );
        let page = u("https://idp.example/login");
        assert_eq!(
            o.check_submit(&page, &u("https://idp.example/x"), false),
            Ok(())
        );
        assert_eq!(
            o.check_submit(&page, &u("https://login.example/x"), false),
            Ok(())
        );
        assert!(matches!(
            o.check_submit(&page, &u("https://idp.example:8443/x"), false),
            Err(Refusal::Foreign { what: "the form's target", foreign, .. }) if foreign == "https://idp.example:8443"
        ));
        assert!(matches!(
            o.check_submit(&u("https://evil.example/login"), &page, false),
            Err(Refusal::Foreign {
                what: "the page",
                ..
            })
        ));
        assert!(matches!(
            o.check_submit(&page, &u("http://idp.example/x"), false),
            Err(Refusal::Insecure { .. })
        ));
        assert!(matches!(
            o.check_submit(&page, &page, true),
            Err(Refusal::ByGet { .. })
        ));
        assert!(matches!(
            o.check_repost(&page, &u("https://evil.example/collect")),
            Err(Refusal::Foreign { .. })
        ));
        assert_eq!(o.check_repost(&page, &u("https://login.example/c")), Ok(()));

        let local = CredentialOrigins::new(&u("http://127.0.0.1:9000/auth"), []);
        let lp = u("http://127.0.0.1:9000/interaction/1");
        assert!(o.check_submit(&lp, &lp, false).is_err());
        assert_eq!(local.check_submit(&lp, &lp, false), Ok(()));
        assert!(matches!(
            local.check_submit(&lp, &u("http://127.0.0.1:9001/x"), false),
            Err(Refusal::Foreign { .. })
        ));
        let https_local = CredentialOrigins::new(
            &u("https://localhost:9000/auth"),
            [u("http://localhost:9001").origin()],
        );
        assert!(
            matches!(
                https_local.check_submit(
                    &u("https://localhost:9000/i"),
                    &u("http://localhost:9001/x"),
                    false
                ),
                Err(Refusal::Insecure { .. })
            ),
            "no downgrade from https, even to loopback"
        );
        assert!(matches!(
            local.check_submit(&u("file:///etc/passwd"), &lp, false),
            Err(Refusal::Scheme { .. })
        ));
        assert!(is_loopback(&u("http://[::1]:1/")) && is_loopback(&u("http://127.0.0.2/")));
        assert!(!is_loopback(&u("http://localhost.evil.example/")));
    }
}
