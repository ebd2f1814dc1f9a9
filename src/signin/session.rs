//! What both drivers keep across the pages of one sign-in ([`Session`]): the stages
//! answered, the pages read, the deadline, and the secrets to keep out of every message and
//! saved page ([`Scrub`]); each page's decision by the shared rules, confined to the origins
//! allowed to receive the credentials.

use std::time::{Duration, Instant};

use url::Url;

use super::origins::{self, CredentialOrigins, Refusal, is_web};
use super::page::{self, Page};
use super::plan::{self, Action, Inputs, Problem, Stage};
use super::{Consent, Credentials, Limits, OneTimeCode, PageSummary, Secret, SignInError};

/// The values that must not reach a log line, an error or a saved page, in the forms a page
/// could echo them (raw, HTML-escaped, form-encoded).
pub(super) struct Scrub(pub(super) Vec<String>);

impl Scrub {
    pub(super) fn add(&mut self, secret: &str) {
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

    pub(super) fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.0 {
            out = out.replace(secret.as_str(), "[redacted]");
        }
        out
    }

    /// A page as saved: password fields' values removed, then every secret.
    pub(super) fn page(&self, html: &str) -> String {
        self.text(&page::without_password_values(html))
    }
}

/// A URL as logs and errors show it: no query (it may hold `state` or a code), no fragment,
/// no user information.
pub(super) fn shown(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// Same origin and path as the redirect URI (RFC 6749 section 3.1.2: the query is the
/// provider's to add to).
pub(super) fn is_callback(callback: &Url, url: &Url) -> bool {
    url.origin() == callback.origin() && url.path() == callback.path()
}

/// What a driver does on a page, decided by the shared rules.
#[cfg_attr(not(feature = "browser"), allow(dead_code))]
pub(super) struct Decision {
    pub(super) action: Action,
    /// The one-time code the action types, when it types one.
    pub(super) code: Option<Secret>,
}

/// What both drivers keep across pages: the stages answered, the pages read, the secrets to
/// keep out of every message and saved page, and the deadline.
pub(super) struct Session<'a> {
    pub(super) credentials: &'a Credentials,
    pub(super) origins: &'a CredentialOrigins,
    pub(super) consent: Consent,
    pub(super) limits: &'a Limits,
    pub(super) deadline: Instant,
    pub(super) submitted: Vec<Stage>,
    pub(super) pages: usize,
    pub(super) scrub: Scrub,
    /// The driver's name, for the log.
    pub(super) driver: &'static str,
}

impl<'a> Session<'a> {
    pub(super) fn new(
        credentials: &'a Credentials,
        origins: &'a CredentialOrigins,
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
            origins,
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
    pub(super) fn count(&mut self, page: &Page) -> Result<(), SignInError> {
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
    pub(super) fn decide(&mut self, page: &Page) -> Result<Decision, SignInError> {
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
        self.confine(page, &action)?;
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

    /// Credentials are typed only on an allowed page, for a form that sends them to an allowed
    /// origin, over https (or loopback), in a body; links are followed only to http(s).
    pub(super) fn confine(&self, page: &Page, action: &Action) -> Result<(), SignInError> {
        let refused = |refusal| SignInError::Confined {
            refusal,
            allowed: self.origins.list(),
        };
        match action {
            Action::Submit {
                fills, submission, ..
            } if !fills.is_empty() => {
                let secret = fills
                    .iter()
                    .any(|(_, f)| matches!(f, plan::Fill::Password | plan::Fill::Code));
                let by_get = secret && submission.method == page::Method::Get;
                self.origins
                    .check_submit(&page.url, &submission.url, by_get)
                    .map_err(refused)
            }
            Action::Follow { url, .. } if !is_web(url) => Err(refused(Refusal::Scheme {
                url: origins::shown(url),
            })),
            _ => Ok(()),
        }
    }

    pub(super) fn problem(&self, page: &Page, problem: Problem) -> SignInError {
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

    pub(super) fn summary(&self, page: &Page) -> Box<PageSummary> {
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
    pub(super) fn left(&self) -> Option<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    pub(super) fn timed_out(&self, url: &Url) -> SignInError {
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
}
