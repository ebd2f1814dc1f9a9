//! The sign-in drivers: complete a sign-in the way a person at a browser would, so
//! `--once --sign-in` needs nothing else to drive it.
//!
//! Both start at the app's own `/login` (so the app's flow-binding cookie comes back with the
//! callback), read each page into the same plain data ([`page::Page`]), decide with the same
//! rules ([`plan`]: username, password and one-time-code fields by `type`, `autocomplete` and
//! `name`, one page or identifier-first, the consent answer), and stop when the provider sends
//! the browser to the app's callback, which is then loaded as the browser would.
//!
//! - [`http`]: plain HTTP, one cookie jar, the provider's HTML forms as sent.
//! - `browser` (cargo feature `browser`): headless Chromium over the DevTools protocol, for
//!   pages that JavaScript draws; Clerk's Testing Token for Clerk's bot protection.
//!
//! Plain inputs only: this module knows nothing of the app's configuration or state, so the
//! app can use it without an import cycle.

#[cfg(feature = "browser")]
mod browser;
mod driver;
mod error;
mod form_data;
mod html;
mod http;
mod jar;
mod origins;
mod page;
mod plan;
mod roles;
mod session;
mod totp;
mod words;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use url::Url;

#[cfg(feature = "browser")]
pub use browser::{BrowserSettings, ClerkTesting};
pub use driver::{Driver, DriverError};
pub use error::{PageSummary, SignInError};
pub use origins::{CredentialOrigins, Refusal, is_loopback, is_web};
pub use totp::{TotpKey, TotpKeyError};

use session::{Decision, Session, is_callback, shown};

/// A value that must never be shown: `Debug` prints `[redacted]`, and there is no `Display`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where a one-time code comes from.
#[derive(Debug, Clone)]
pub enum OneTimeCode {
    /// RFC 6238, from the authenticator's secret (OAUTH_TEST_TOTP_SECRET).
    Totp(TotpKey),
    /// A fixed code the provider accepts for the test user (OAUTH_TEST_CODE).
    Fixed(Secret),
}

impl OneTimeCode {
    fn current(&self) -> Secret {
        match self {
            Self::Totp(key) => key.now(),
            Self::Fixed(code) => code.clone(),
        }
    }
}

/// The test user, and the driver that signs in as it.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
    pub one_time_code: Option<OneTimeCode>,
    /// `--sign-in-driver`, with the browser's settings (and Clerk's secret key) when it has
    /// one. Kept here, beside the other settings the sign-in reads from the environment.
    pub driver: Driver,
}

/// The answer to the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    Approve,
    Deny,
}

impl Consent {
    pub fn parse(word: &str) -> Option<Self> {
        match word.trim().to_ascii_lowercase().as_str() {
            "approve" => Some(Self::Approve),
            "deny" => Some(Self::Deny),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Deny => "deny",
        }
    }
}

/// Where the sign-in starts and ends.
#[derive(Debug, Clone)]
pub struct Target {
    /// The app's own `/login`, on the host the redirect URI names (so the app's cookies
    /// come back with the callback).
    pub start: Url,
    /// The redirect URI: a redirect to its origin and path ends the sign-in.
    pub callback: Url,
    /// Extra trusted roots (PEM), for a provider with a private CA.
    pub root_certificates: Option<Vec<u8>>,
    /// The origins that may receive the test user's credentials.
    pub origins: CredentialOrigins,
    /// Where the last page is saved when the sign-in fails; `None`: a new temp folder.
    pub artifacts: Option<PathBuf>,
    /// No redirect to `callback` will come (the device grant, RFC 8628): a page past the
    /// first with nothing left to act on (the provider's "you can close this page") ends the
    /// sign-in instead of failing it.
    pub ends_on_provider_page: bool,
}

/// Bounds on one sign-in.
#[derive(Debug, Clone)]
pub struct Limits {
    /// HTML pages read (redirects are counted apart).
    pub max_pages: usize,
    pub max_redirects: usize,
    /// The whole sign-in, from `/login` to the callback's answer.
    pub overall: Duration,
    pub per_request: Duration,
    pub max_page_bytes: usize,
}

/// The longest a sign-in may take, whatever `--timeout` allows.
const OVERALL: Duration = Duration::from_secs(120);

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pages: 15,
            max_redirects: 20,
            overall: OVERALL,
            per_request: Duration::from_secs(30),
            max_page_bytes: 2 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// Within a run's `--timeout` (90% of it, so a stuck sign-in says where it stopped
    /// instead of the run ending on its timeout) and at most 120 s; each request within
    /// `--http-timeout`.
    pub fn within(timeout: Duration, per_request: Duration) -> Self {
        Self {
            overall: timeout.mul_f64(0.9).min(OVERALL),
            per_request,
            ..Self::default()
        }
    }
}

/// A sign-in that reached the app's callback (whose answer, success or not, the app reports),
/// or with `ends_on_provider_page` the provider's last page (`pages` and `callback_status` 0).
#[derive(Debug, Clone)]
pub struct Finished {
    pub pages: usize,
    pub callback_status: u16,
}

/// The saved page's file name, inside the artifacts folder.
pub const LAST_PAGE_FILE: &str = "sign-in-last-page.html";
/// The browser driver's screenshot of that page, beside it.
pub const LAST_SCREENSHOT_FILE: &str = "sign-in-last-page.png";

/// The page a failed sign-in stopped on, to be saved (both already scrubbed of secrets).
struct Last {
    html: String,
    screenshot: Option<Vec<u8>>,
}

/// Signs in through the provider's pages, from `target.start` to the callback, with the
/// driver `credentials.driver` names.
pub async fn sign_in(
    target: Target,
    credentials: &Credentials,
    consent: Consent,
    limits: &Limits,
) -> Result<Finished, SignInError> {
    let deadline = Instant::now() + limits.overall;
    let (result, last) = match &credentials.driver {
        Driver::Http => ended(
            &target,
            http::sign_in(&target, credentials, consent, limits, deadline).await,
        ),
        #[cfg(feature = "browser")]
        Driver::Browser(settings) => ended(
            &target,
            browser::sign_in(&target, credentials, consent, limits, deadline, settings).await,
        ),
        #[cfg(feature = "browser")]
        Driver::Auto(settings) => {
            match ended(
                &target,
                http::sign_in(&target, credentials, consent, limits, deadline).await,
            ) {
                // The device grant: the http driver has used the user code by then, so the
                // browser cannot start over at verification_uri_complete.
                (Err(e @ SignInError::NoForm { .. }), last) if target.ends_on_provider_page => {
                    log::warn!(
                        "sign-in: the http driver found no usable form; in the device grant it \
                         has used the user code by then, so the browser driver cannot start \
                         over: run again with --sign-in-driver browser"
                    );
                    (Err(e), last)
                }
                // Only a page with nothing to fill in: never after the provider refused the
                // credentials, which would only be refused again.
                (Err(e @ SignInError::NoForm { .. }), _) => {
                    log::info!(
                        "sign-in: the http driver found no usable form ({}); trying the browser driver",
                        e.page().map_or_else(String::new, |p| p.url.clone())
                    );
                    ended(
                        &target,
                        browser::sign_in(&target, credentials, consent, limits, deadline, settings)
                            .await,
                    )
                }
                other => other,
            }
        }
    };
    let Err(mut error) = result else {
        return result;
    };
    if let Some(last) = last {
        match save(target.artifacts.as_deref(), &last) {
            Ok(path) => {
                log::warn!(
                    "sign-in: the last page it saw is saved in {}",
                    path.display()
                );
                if let Some(page) = error.page_mut() {
                    page.saved = Some(path);
                }
            }
            Err(e) => log::warn!("sign-in: could not save the last page: {e}"),
        }
    }
    Err(error)
}

/// With `ends_on_provider_page`, a page with nothing to act on once the password was sent is
/// the end. Before that it is a sign-in page the driver could not read (one drawn by
/// JavaScript, for the http driver): an error, which `auto` answers with the browser.
fn ended(
    target: &Target,
    result: (Result<Finished, SignInError>, Option<Last>),
) -> (Result<Finished, SignInError>, Option<Last>) {
    match result {
        (
            Err(SignInError::NoForm {
                page, signed_in, ..
            }),
            _,
        ) if target.ends_on_provider_page && signed_in && page.url != shown(&target.start) => {
            log::info!(
                "sign-in: ended on {} ({:?}), which has nothing left to do",
                page.url,
                page.title
            );
            (
                Ok(Finished {
                    pages: 0,
                    callback_status: 0,
                }),
                None,
            )
        }
        other => other,
    }
}

/// Saves a page (already scrubbed) and its screenshot in `dir`, or a new temp folder; the
/// HTML's path. Each file new and private, never written through a link planted at its name.
fn save(dir: Option<&Path>, last: &Last) -> std::io::Result<PathBuf> {
    let dir = match dir {
        Some(d) => d.to_owned(),
        None => std::env::temp_dir().join(format!(
            "oauth-test-client-sign-in-{}",
            uuid::Uuid::new_v4().simple()
        )),
    };
    crate::private_file::create_dir(&dir)?;
    let path = crate::private_file::replace(&dir, LAST_PAGE_FILE, last.html.as_bytes())?;
    if let Some(png) = &last.screenshot {
        crate::private_file::replace(&dir, LAST_SCREENSHOT_FILE, png)?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_print_as_a_sign_in_step() {
        let page = Box::new(PageSummary {
            url: "https://idp.example/login".into(),
            status: 200,
            title: "Log in".into(),
            alerts: vec!["Invalid password".into()],
            fields: "username (text), password (password)".into(),
            saved: None,
        });
        let e = SignInError::NoForm {
            scripts: 2,
            browser: false,
            signed_in: false,
            page,
        };
        let j = e.to_json();
        assert_eq!(j["step"], "sign_in");
        assert_eq!(j["error"], "sign_in_no_form");
        assert_eq!(j["page"]["errors"][0], "Invalid password");
        let message = j["message"].as_str().unwrap();
        assert!(
            message.contains("https://idp.example/login (title \"Log in\", HTTP 200)")
                && message.contains(if cfg!(feature = "browser") {
                    "--sign-in-driver browser"
                } else {
                    "cargo install --locked --features browser --git"
                }),
            "{message}"
        );
    }
}
