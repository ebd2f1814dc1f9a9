//! One cookie jar for every host the sign-in visits (the provider's session, the app's own
//! flow-binding cookie). reqwest's `Jar` would do, but it logs each non-`Secure` cookie's value
//! at debug level (`cookie_store`'s `store_response_cookies`), and a cookie is a credential:
//! this jar stores through the same `cookie_store` rules (domain, path, expiry, `Secure`)
//! without a log line. The app's own cookies (its flow binding) are kept apart and go back
//! only to the app's origin (scheme, host and port): cookie rules ignore the port, so the
//! provider's cookies would otherwise reach any other port of the app's host.

use std::sync::RwLock;

use reqwest::header::HeaderValue;
use url::{Origin, Url};

pub struct Jar {
    /// The app's origin: its cookies go to it only.
    app: Origin,
    own: RwLock<cookie_store::CookieStore>,
    others: RwLock<cookie_store::CookieStore>,
}

impl Jar {
    pub fn new(app: Origin) -> Self {
        Self {
            app,
            own: RwLock::default(),
            others: RwLock::default(),
        }
    }

    fn store(&self, url: &Url) -> &RwLock<cookie_store::CookieStore> {
        if url.origin() == self.app {
            &self.own
        } else {
            &self.others
        }
    }
}

impl reqwest::cookie::CookieStore for Jar {
    fn set_cookies(&self, headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        // Every update leaves the store whole: a panic elsewhere cannot corrupt it.
        let mut store = self.store(url).write().unwrap_or_else(|e| e.into_inner());
        for header in headers {
            let Ok(text) = header.to_str() else { continue };
            if let Ok(cookie) = cookie_store::RawCookie::parse(text.to_owned()) {
                // A cookie the rules refuse (another domain, Secure over http) is dropped, as
                // a browser would.
                let _ = store.insert_raw(&cookie, url);
            }
        }
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        let mut stores = vec![&self.others];
        if url.origin() == self.app {
            stores.insert(0, &self.own);
        }
        let mut pairs = Vec::new();
        for store in stores {
            let store = store.read().unwrap_or_else(|e| e.into_inner());
            pairs.extend(
                store
                    .get_request_values(url)
                    .map(|(name, value)| format!("{name}={value}")),
            );
        }
        let header = pairs.join("; ");
        if header.is_empty() {
            return None;
        }
        HeaderValue::from_str(&header).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::cookie::CookieStore as _;

    #[test]
    fn cookies_go_back_to_their_own_host_and_path() {
        let app = Url::parse("http://localhost:3000/login").unwrap();
        let jar = Jar::new(app.origin());
        let idp = Url::parse("http://127.0.0.1:9000/interaction/abc").unwrap();
        jar.set_cookies(
            &mut [HeaderValue::from_static(
                "bind=1; HttpOnly; SameSite=Lax; Path=/",
            )]
            .iter(),
            &app,
        );
        jar.set_cookies(
            &mut [HeaderValue::from_static(
                "_interaction=x; Path=/interaction/abc; HttpOnly",
            )]
            .iter(),
            &idp,
        );
        let callback = Url::parse("http://localhost:3000/oauth_callback?code=c").unwrap();
        assert_eq!(jar.cookies(&callback).unwrap(), "bind=1");
        assert_eq!(
            jar.cookies(&Url::parse("http://127.0.0.1:9000/interaction/abc/login").unwrap())
                .unwrap(),
            "_interaction=x"
        );
        assert!(
            jar.cookies(&Url::parse("http://127.0.0.1:9000/oauth/authorize").unwrap())
                .is_none()
        );
        for other in [
            "http://localhost:3001/login",
            "https://localhost:3000/login",
        ] {
            assert!(
                jar.cookies(&Url::parse(other).unwrap()).is_none(),
                "the app's cookie goes to its own origin only, not {other}"
            );
        }
    }
}
