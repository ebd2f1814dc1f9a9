//! The sign-in driver: completes a sign-in the way a person at a browser would, over plain
//! HTTP, so `--once --sign-in` needs nothing else to drive it.
//!
//! From the app's own `/login` it follows each redirect by hand, one cookie jar for every host
//! (the app's flow-binding cookie and the provider's session alike), reads each page with an
//! HTML parser, fills the username, password and one-time-code fields it finds (by `type`,
//! `autocomplete` and `name`, one page or identifier-first), answers the consent page, and
//! stops when a redirect reaches the app's callback, which it then loads as the browser would.
//!
//! Plain inputs only: this module knows nothing of the app's configuration or state, so the
//! app can use it without an import cycle.

mod error;
mod jar;
mod page;
mod plan;
mod totp;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, CONTENT_TYPE, LOCATION, ORIGIN, REFERER};
use url::Url;

pub use error::{PageSummary, SignInError};
pub use totp::{TotpKey, TotpKeyError};

use page::{Method, Page};
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

/// The test user.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
    pub one_time_code: Option<OneTimeCode>,
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

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pages: 15,
            max_redirects: 20,
            overall: Duration::from_secs(120),
            per_request: Duration::from_secs(30),
            max_page_bytes: 2 * 1024 * 1024,
        }
    }
}

/// A sign-in that reached the app's callback (whose answer, success or not, the app reports).
#[derive(Debug, Clone)]
pub struct Finished {
    pub pages: usize,
    pub callback_status: u16,
}

/// The saved page's file name, inside the artifacts folder.
pub const LAST_PAGE_FILE: &str = "sign-in-last-page.html";

/// Signs in through the provider's pages, from `target.start` to the callback.
pub async fn sign_in(
    target: Target,
    credentials: &Credentials,
    consent: Consent,
    limits: &Limits,
) -> Result<Finished, SignInError> {
    let mut driver = Driver::new(&target, credentials, consent, limits)?;
    let result = driver.run().await;
    let Err(mut error) = result else {
        return result;
    };
    if let Some(last) = driver.last.take() {
        match save(target.artifacts.as_deref(), &last.html, &driver.scrub) {
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

/// Saves a page (password values stripped, secrets scrubbed) in `dir`, or a new temp folder.
fn save(dir: Option<&Path>, html: &str, scrub: &Scrub) -> std::io::Result<PathBuf> {
    let dir = match dir {
        Some(d) => d.to_owned(),
        None => std::env::temp_dir().join(format!(
            "oauth-test-client-sign-in-{}",
            uuid::Uuid::new_v4().simple()
        )),
    };
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(LAST_PAGE_FILE);
    std::fs::write(&path, scrub.text(&page::without_password_values(html)))?;
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

/// The next request. No `Debug`: its body may hold the password.
struct Next {
    method: Method,
    url: Url,
    body: Vec<(String, String)>,
    /// The page whose form or link led here (for `Origin` and `Referer`).
    from: Option<Url>,
}

impl Next {
    fn get(url: Url) -> Self {
        Self {
            method: Method::Get,
            url,
            body: Vec::new(),
            from: None,
        }
    }
}

struct Last {
    html: String,
}

struct Driver<'a> {
    client: reqwest::Client,
    start: &'a Url,
    callback: &'a Url,
    credentials: &'a Credentials,
    consent: Consent,
    limits: &'a Limits,
    deadline: Instant,
    submitted: Vec<Stage>,
    pages: usize,
    scrub: Scrub,
    last: Option<Last>,
}

impl<'a> Driver<'a> {
    fn new(
        target: &'a Target,
        credentials: &'a Credentials,
        consent: Consent,
        limits: &'a Limits,
    ) -> Result<Self, SignInError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            // Each hop is looked at: the callback must be caught, not followed.
            .redirect(reqwest::redirect::Policy::none())
            // One jar for every host: the provider's session and the app's own cookie.
            .cookie_provider(std::sync::Arc::new(jar::Jar::default()))
            .connect_timeout(limits.per_request.min(Duration::from_secs(10)))
            .user_agent(concat!(
                "oauth-test-client/",
                env!("CARGO_PKG_VERSION"),
                " (sign-in driver)"
            ));
        if let Some(pem) = &target.root_certificates {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| SignInError::Client(e.to_string()))?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .build()
            .map_err(|e| SignInError::Client(e.to_string()))?;
        let mut scrub = Scrub(Vec::new());
        scrub.add(credentials.password.expose());
        if let Some(OneTimeCode::Fixed(code)) = &credentials.one_time_code {
            scrub.add(code.expose());
        }
        Ok(Self {
            client,
            start: &target.start,
            callback: &target.callback,
            credentials,
            consent,
            limits,
            deadline: Instant::now() + limits.overall,
            submitted: Vec::new(),
            pages: 0,
            scrub,
            last: None,
        })
    }

    /// Same origin and path as the redirect URI (RFC 6749 section 3.1.2: the query is the
    /// provider's to add to).
    fn is_callback(&self, url: &Url) -> bool {
        url.origin() == self.callback.origin() && url.path() == self.callback.path()
    }

    async fn run(&mut self) -> Result<Finished, SignInError> {
        log::info!(
            "sign-in: signing in as {} from {} (consent: {})",
            self.credentials.username,
            shown(self.start),
            self.consent.name()
        );
        let mut next = Next::get(self.start.clone());
        let mut redirects = 0;
        loop {
            if self.is_callback(&next.url) {
                return self.deliver(next.url).await;
            }
            let url = next.url.clone();
            let response = self.send(&next).await?;
            let status = response.status().as_u16();
            if response.status().is_redirection() && status != 304 {
                redirects += 1;
                let target = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l.trim()).ok())
                    .ok_or_else(|| SignInError::BadRedirect {
                        url: shown(&url),
                        status,
                    })?;
                if redirects > self.limits.max_redirects {
                    return Err(SignInError::RedirectLoop {
                        max: self.limits.max_redirects,
                        url: shown(&target),
                    });
                }
                log::debug!(
                    "sign-in: {} answered {status}, to {}",
                    shown(&url),
                    shown(&target)
                );
                // 307 and 308 repeat the request as it was (RFC 9110 section 15.4.8); the
                // others become a GET, as browsers do.
                next = if matches!(status, 307 | 308) {
                    Next {
                        url: target,
                        from: Some(url),
                        ..next
                    }
                } else {
                    Next::get(target)
                };
                continue;
            }
            redirects = 0;
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !(content_type.starts_with("text/html")
                || content_type.starts_with("application/xhtml+xml"))
            {
                return Err(SignInError::NotHtml {
                    url: shown(&url),
                    status,
                    content_type,
                });
            }
            let html = self.read(&url, response).await?;
            self.pages += 1;
            let page = Page::parse(url, status, &html);
            for value in &page.password_values {
                self.scrub.add(value);
            }
            self.last = Some(Last { html });
            if self.pages > self.limits.max_pages {
                return Err(SignInError::TooManyPages {
                    max: self.limits.max_pages,
                    page: self.summary(&page),
                });
            }
            if let Some(refresh) = &page.refresh {
                log::info!(
                    "sign-in: page {}: {} ({:?}) refreshes to {}",
                    self.pages,
                    shown(&page.url),
                    page.title,
                    shown(refresh)
                );
                next = Next::get(refresh.clone());
                continue;
            }
            next = self.act(&page)?;
        }
    }

    /// The request a page leads to, or why it leads nowhere.
    fn act(&mut self, page: &Page) -> Result<Next, SignInError> {
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
        let action = plan::plan(page, &self.submitted, &inputs, self.consent);
        let (next, what) = match action {
            Ok(Action::Submit {
                submission,
                stages,
                what,
            }) => {
                if stages.contains(&Stage::Code)
                    && let Some(code) = &code
                {
                    self.scrub.add(code.expose());
                }
                self.submitted.extend(stages);
                let next = Next {
                    method: submission.method,
                    url: submission.url,
                    body: submission.body,
                    from: Some(page.url.clone()),
                };
                (next, what)
            }
            Ok(Action::Follow { url, what }) => {
                let next = Next {
                    from: Some(page.url.clone()),
                    ..Next::get(url)
                };
                (next, what)
            }
            Err(problem) => return Err(self.problem(page, problem)),
        };
        log::info!(
            "sign-in: page {}: {} ({:?}, HTTP {}): {what}",
            self.pages,
            shown(&page.url),
            page.title,
            page.status
        );
        Ok(next)
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
            fields: page.field_list(),
            saved: None,
        })
    }

    /// The time left for one request: the per-request limit, or what remains of the whole.
    fn budget(&self, url: &Url) -> Result<Duration, SignInError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.timed_out(url));
        }
        Ok(left.min(self.limits.per_request))
    }

    fn timed_out(&self, url: &Url) -> SignInError {
        SignInError::Timeout {
            secs: self.limits.overall.as_secs(),
            url: shown(url),
        }
    }

    fn failed(&self, url: &Url, e: reqwest::Error) -> SignInError {
        if e.is_timeout() {
            if self.deadline <= Instant::now() + Duration::from_millis(50) {
                return self.timed_out(url);
            }
            return SignInError::Unreachable {
                url: shown(url),
                detail: format!(
                    "no answer within {} s (OAUTH_HTTP_TIMEOUT)",
                    self.limits.per_request.as_secs()
                ),
            };
        }
        // The error's own text names the URL with its query: leave it out.
        let e = e.without_url();
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        SignInError::Unreachable {
            url: shown(url),
            detail,
        }
    }

    async fn send(&self, next: &Next) -> Result<reqwest::Response, SignInError> {
        let budget = self.budget(&next.url)?;
        let mut request = match next.method {
            Method::Get => self.client.get(next.url.clone()),
            Method::Post => self.client.post(next.url.clone()).form(&next.body),
        }
        .timeout(budget)
        .header(
            ACCEPT,
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        // The provider's messages in English, as the tests and most CI readers expect.
        .header(ACCEPT_LANGUAGE, "en");
        if let Some(from) = &next.from {
            // As a browser: providers check Origin (and some Referer) on form posts (CSRF).
            if next.method == Method::Post {
                request = request.header(ORIGIN, from.origin().ascii_serialization());
            }
            if from.origin() == next.url.origin() {
                let mut referer = from.clone();
                referer.set_fragment(None);
                request = request.header(REFERER, referer.as_str());
            }
        }
        request.send().await.map_err(|e| self.failed(&next.url, e))
    }

    async fn read(
        &self,
        url: &Url,
        mut response: reqwest::Response,
    ) -> Result<String, SignInError> {
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.failed(url, e))? {
            if body.len() + chunk.len() > self.limits.max_page_bytes {
                return Err(SignInError::TooLarge {
                    url: shown(url),
                    limit: self.limits.max_page_bytes,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// Loads the callback as the browser delivering the redirect would; the app reports the
    /// outcome itself.
    async fn deliver(&self, url: Url) -> Result<Finished, SignInError> {
        let budget = self.budget(&url)?;
        let response = self
            .client
            .get(url.clone())
            .timeout(budget)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.failed(&url, e))?;
        let status = response.status().as_u16();
        log::info!(
            "sign-in: the provider redirected to the app's callback {} after {} pages; the app answered HTTP {status}",
            shown(&url),
            self.pages
        );
        Ok(Finished {
            pages: self.pages,
            callback_status: status,
        })
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
        let target = Target {
            start: Url::parse("http://localhost:3000/login").unwrap(),
            callback: Url::parse("http://localhost:3000/oauth_callback").unwrap(),
            root_certificates: None,
            artifacts: None,
        };
        let credentials = Credentials {
            username: "u".into(),
            password: Secret::new("p".into()),
            one_time_code: None,
        };
        let limits = Limits::default();
        let driver = Driver::new(&target, &credentials, Consent::Approve, &limits).unwrap();
        let is = |u: &str| driver.is_callback(&Url::parse(u).unwrap());
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
        let e = SignInError::NoForm { scripts: 2, page };
        let j = e.to_json();
        assert_eq!(j["step"], "sign_in");
        assert_eq!(j["error"], "sign_in_no_form");
        assert_eq!(j["page"]["errors"][0], "Invalid password");
        let message = j["message"].as_str().unwrap();
        assert!(
            message.contains("https://idp.example/login (title \"Log in\", HTTP 200)")
                && message.contains("--sign-in-driver browser"),
            "{message}"
        );
    }
}
