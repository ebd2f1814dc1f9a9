//! One cookie jar for every host the sign-in visits (the provider's session, the app's own
//! flow-binding cookie). reqwest's `Jar` would do, but it logs each non-`Secure` cookie's value
//! at debug level (`cookie_store`'s `store_response_cookies`), and a cookie is a credential:
//! this jar stores through the same `cookie_store` rules (domain, path, expiry, `Secure`)
//! without a log line.

use std::sync::RwLock;

use reqwest::header::HeaderValue;
use url::Url;

#[derive(Default)]
pub struct Jar(RwLock<cookie_store::CookieStore>);

impl reqwest::cookie::CookieStore for Jar {
    fn set_cookies(&self, headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        // Every update leaves the store whole: a panic elsewhere cannot corrupt it.
        let mut store = self.0.write().unwrap_or_else(|e| e.into_inner());
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
        let store = self.0.read().unwrap_or_else(|e| e.into_inner());
        let header = store
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
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
        let jar = Jar::default();
        let app = Url::parse("http://localhost:3000/login").unwrap();
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
    }
}
