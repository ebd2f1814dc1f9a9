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
mod http;
mod jar;
mod page;
mod plan;
mod totp;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use url::Url;

#[cfg(feature = "browser")]
pub use browser::{BrowserSettings, ClerkTesting};
pub use driver::{Driver, DriverError};
pub use error::{PageSummary, SignInError};
pub use totp::{TotpKey, TotpKeyError};

use page::Page;
use plan::{Action, Inputs, Problem, Stage};

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
/// HTML's path.
fn save(dir: Option<&Path>, last: &Last) -> std::io::Result<PathBuf> {
    let dir = match dir {
        Some(d) => d.to_owned(),
        None => std::env::temp_dir().join(format!(
            "oauth-test-client-sign-in-{}",
            uuid::Uuid::new_v4().simple()
        )),
    };
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(LAST_PAGE_FILE);
    std::fs::write(&path, &last.html)?;
    if let Some(png) = &last.screenshot {
        std::fs::write(dir.join(LAST_SCREENSHOT_FILE), png)?;
    }
    Ok(path)
}

/// The values that must not reach a log line, an error or a saved page, in the forms a page
/// could echo them (raw, HTML-escaped, form-encoded).
struct Scrub(Vec<String>);

impl Scrub {
    fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let escaped = secret
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;");
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        for form in [secret.to_owned(), escaped, encoded] {
            if !self.0.contains(&form) {
                self.0.push(form);
            }
        }
        // Longest first, so a secret inside another is not half-replaced.
        self.0.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.0 {
            out = out.replace(secret.as_str(), "[redacted]");
        }
        out
    }

    /// A page as saved: password fields' values removed, then every secret.
    fn page(&self, html: &str) -> String {
        self.text(&page::without_password_values(html))
    }
}

/// A URL as logs and errors show it: no query (it may hold `state` or a code), no fragment,
/// no user information.
fn shown(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// Same origin and path as the redirect URI (RFC 6749 section 3.1.2: the query is the
/// provider's to add to).
fn is_callback(callback: &Url, url: &Url) -> bool {
    url.origin() == callback.origin() && url.path() == callback.path()
}

/// What a driver does on a page, decided by the shared rules.
#[cfg_attr(not(feature = "browser"), allow(dead_code))]
struct Decision {
    action: Action,
    /// The one-time code the action types, when it types one.
    code: Option<Secret>,
}

/// What both drivers keep across pages: the stages answered, the pages read, the secrets to
/// keep out of every message and saved page, and the deadline.
struct Session<'a> {
    credentials: &'a Credentials,
    consent: Consent,
    limits: &'a Limits,
    deadline: Instant,
    submitted: Vec<Stage>,
    pages: usize,
    scrub: Scrub,
    /// The driver's name, for the log.
    driver: &'static str,
}

impl<'a> Session<'a> {
    fn new(
        credentials: &'a Credentials,
        consent: Consent,
        limits: &'a Limits,
        deadline: Instant,
        driver: &'static str,
    ) -> Self {
        let mut scrub = Scrub(Vec::new());
        scrub.add(credentials.password.expose());
        if let Some(OneTimeCode::Fixed(code)) = &credentials.one_time_code {
            scrub.add(code.expose());
        }
        Self {
            credentials,
            consent,
            limits,
            deadline,
            submitted: Vec::new(),
            pages: 0,
            scrub,
            driver,
        }
    }

    /// Counts a page read; past the limit, the error.
    fn count(&mut self, page: &Page) -> Result<(), SignInError> {
        self.pages += 1;
        for value in &page.password_values {
            self.scrub.add(value);
        }
        if self.pages > self.limits.max_pages {
            return Err(SignInError::TooManyPages {
                max: self.limits.max_pages,
                page: self.summary(page),
            });
        }
        Ok(())
    }

    /// What to do on `page`, or why nothing can be done; logs the decision.
    fn decide(&mut self, page: &Page) -> Result<Decision, SignInError> {
        let code = self
            .credentials
            .one_time_code
            .as_ref()
            .map(OneTimeCode::current);
        let inputs = Inputs {
            username: &self.credentials.username,
            password: self.credentials.password.expose(),
            code: code.as_ref().map(Secret::expose),
        };
        let action = plan::plan(page, &self.submitted, &inputs, self.consent)
            .map_err(|problem| self.problem(page, problem))?;
        let what = match &action {
            Action::Submit { stages, what, .. } => {
                if stages.contains(&Stage::Code)
                    && let Some(code) = &code
                {
                    self.scrub.add(code.expose());
                }
                self.submitted.extend(stages);
                what
            }
            Action::Follow { what, .. } => what,
        };
        log::info!(
            "sign-in ({}): page {}: {} ({:?}, HTTP {}): {what}",
            self.driver,
            self.pages,
            shown(&page.url),
            page.title,
            page.status
        );
        Ok(Decision { action, code })
    }

    fn problem(&self, page: &Page, problem: Problem) -> SignInError {
        let summary = self.summary(page);
        match problem {
            Problem::Rejected(stage) => SignInError::Rejected {
                stage: stage.noun(),
                setting: match stage {
                    Stage::Identifier => "OAUTH_TEST_USERNAME",
                    Stage::Password => "OAUTH_TEST_USERNAME and OAUTH_TEST_PASSWORD",
                    Stage::Code => {
                        "OAUTH_TEST_TOTP_SECRET or OAUTH_TEST_CODE, and this machine's clock"
                    }
                },
                username: self.credentials.username.clone(),
                page: summary,
            },
            // An error page from the provider, rather than a page to fill in.
            Problem::NoForm if page.status >= 400 => SignInError::Status {
                status: page.status,
                page: summary,
            },
            Problem::NoForm => SignInError::NoForm {
                scripts: page.scripts,
                browser: self.driver == "browser",
                signed_in: self.submitted.contains(&Stage::Password),
                page: summary,
            },
            Problem::NeedsCode { field } => SignInError::NeedsCode {
                field,
                page: summary,
            },
            Problem::NoControl { choice, seen } => SignInError::NoControl {
                choice: choice.name(),
                seen: if seen.is_empty() {
                    "none".into()
                } else {
                    seen.iter()
                        .map(|s| format!("{:?}", self.scrub.text(s)))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                page: summary,
            },
        }
    }

    fn summary(&self, page: &Page) -> Box<PageSummary> {
        Box::new(PageSummary {
            url: shown(&page.url),
            status: page.status,
            title: self.scrub.text(&page.title),
            alerts: page.alerts.iter().map(|a| self.scrub.text(a)).collect(),
            fields: self.scrub.text(&page.field_list()),
            saved: None,
        })
    }

    /// What is left of the whole sign-in; `None` once it is over.
    fn left(&self) -> Option<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    fn timed_out(&self, url: &Url) -> SignInError {
        SignInError::Timeout {
            secs: self.limits.overall.as_secs(),
            url: shown(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed_in_every_form_a_page_could_echo() {
        let mut scrub = Scrub(Vec::new());
        scrub.add("p&ss w\"rd");
        scrub.add("");
        let text = scrub.text(
            r#"raw p&ss w"rd, escaped p&amp;ss w&quot;rd, encoded p%26ss+w%22rd, and "other""#,
        );
        assert_eq!(
            text,
            r#"raw [redacted], escaped [redacted], encoded [redacted], and "other""#
        );
        assert_eq!(format!("{:?}", Secret::new("hunter2".into())), "[redacted]");
    }

    #[test]
    fn urls_are_shown_without_query_fragment_or_user() {
        let url = Url::parse("https://u:p@idp.example/cb?code=c&state=s#frag").unwrap();
        assert_eq!(shown(&url), "https://idp.example/cb");
    }

    #[test]
    fn the_callback_is_its_origin_and_path() {
        let callback = Url::parse("http://localhost:3000/oauth_callback").unwrap();
        let is = |u: &str| is_callback(&callback, &Url::parse(u).unwrap());
        assert!(is("http://localhost:3000/oauth_callback?code=x&state=y"));
        assert!(!is("http://127.0.0.1:3000/oauth_callback?code=x"));
        assert!(!is("http://localhost:3001/oauth_callback"));
        assert!(!is("http://localhost:3000/oauth_callback/x"));
    }

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
