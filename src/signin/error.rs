//! Why a sign-in stopped, in words a person can act on: the page (URL without its query,
//! title, the provider's own error text, the form fields by name and type) and the fix.
//! Never the password, a one-time code or a cookie.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::origins::{Refusal, SETTING};

/// The page a sign-in stopped on, as shown in an error.
#[derive(Debug, Clone)]
pub struct PageSummary {
    /// Without its query (which may hold `state` or a code) or fragment.
    pub url: String,
    pub status: u16,
    pub title: String,
    /// The provider's visible error messages.
    pub alerts: Vec<String>,
    /// `name (type)` of every form field.
    pub fields: String,
    /// Where the page was saved, once it was.
    pub saved: Option<PathBuf>,
}

impl std::fmt::Display for PageSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (title {:?}, HTTP {})",
            self.url, self.title, self.status
        )?;
        if self.alerts.is_empty() {
            write!(f, "; it shows no error message")?;
        } else {
            let quoted: Vec<String> = self.alerts.iter().map(|a| format!("{a:?}")).collect();
            write!(f, "; it says {}", quoted.join(", "))?;
        }
        write!(f, "; form fields: {}", self.fields)?;
        if let Some(path) = &self.saved {
            write!(f, "; saved as {}", path.display())?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the sign-in driver could not set up its HTTP client: {0}")]
    Client(String),
    #[error("the browser driver could not {0}")]
    Browser(String),
    #[error("no Clerk Testing Token: {0}")]
    TestingToken(String),
    #[error("could not load {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error(
        "the sign-in did not reach the app's callback within {secs} s; it was waiting for {url}"
    )]
    Timeout { secs: u64, url: String },
    #[error("{url} answered HTTP {status} without a usable Location header")]
    BadRedirect { url: String, status: u16 },
    #[error("more than {max} redirects in a row; the last went to {url}")]
    RedirectLoop { max: usize, url: String },
    #[error("{url} answered HTTP {status} with {content_type:?}, not an HTML page")]
    NotHtml {
        url: String,
        status: u16,
        content_type: String,
    },
    #[error("{url} answered with more than {limit} bytes; refusing to read further")]
    TooLarge { url: String, limit: usize },
    #[error(
        "the provider did not accept the {stage} of the test user {username} (check {setting}): \
         after it was submitted, the sign-in page came back: {page}"
    )]
    Rejected {
        stage: &'static str,
        /// The settings that give what was refused.
        setting: &'static str,
        username: String,
        page: Box<PageSummary>,
    },
    #[error("no usable form on {page}. {}", no_form_advice(*.browser, *.scripts))]
    NoForm {
        scripts: usize,
        /// Read by the browser driver, after the page's scripts ran.
        browser: bool,
        /// The password had been sent (so the page may be the provider's last).
        signed_in: bool,
        page: Box<PageSummary>,
    },
    #[error(
        "the page asks for a one-time code (field {field:?}) and none is set: set \
         OAUTH_TEST_TOTP_SECRET (the test user's authenticator secret, base32) or OAUTH_TEST_CODE. \
         The page: {page}"
    )]
    NeedsCode {
        field: String,
        page: Box<PageSummary>,
    },
    #[error("no {choice} control (button or link) on {page}; controls seen: {seen}")]
    NoControl {
        choice: &'static str,
        seen: String,
        page: Box<PageSummary>,
    },
    #[error("the provider answered HTTP {status} with {page}")]
    Status { status: u16, page: Box<PageSummary> },
    #[error("the sign-in did not reach the app's callback within {max} pages; the last was {page}")]
    TooManyPages { max: usize, page: Box<PageSummary> },
    /// The test user's credentials would have gone where they may not: nothing was sent.
    #[error("{}", confined(refusal, allowed))]
    Confined {
        refusal: Refusal,
        /// The origins that may receive credentials, for the message.
        allowed: String,
    },
}

/// Why the credentials were kept back, naming the origins and the setting that would allow it.
fn confined(refusal: &Refusal, allowed: &str) -> String {
    match refusal {
        Refusal::Foreign {
            page,
            target,
            foreign,
            what,
        } => format!(
            "the test user's credentials were not sent: {what} is on {foreign}, which is not an \
             origin allowed to receive them (allowed: {allowed}). The page is on {page}, its form \
             goes to {target}. If the provider's sign-in page really lives on {foreign}, add it \
             to {SETTING}"
        ),
        Refusal::Insecure {
            page,
            target,
            insecure,
        } => format!(
            "the test user's credentials were not sent: {insecure} is plain http{}, where they \
             could be read on the way. The page is on {page}, its form goes to {target}. \
             Credentials go over https only (plain http only between loopback addresses)",
            if insecure != page && page.starts_with("https:") {
                " from an https page"
            } else {
                ""
            }
        ),
        Refusal::ByGet { page, target } => format!(
            "the test user's credentials were not sent: the form on {page} sends the password or \
             one-time code by GET to {target}, which would put it in the URL (logs, history, \
             Referer)"
        ),
        Refusal::Scheme { url } => {
            format!("the sign-in driver does not open {url}: only http(s) pages are signed in on")
        }
    }
}

/// What a page without a usable form calls for, depending on who read it.
fn no_form_advice(browser: bool, scripts: usize) -> String {
    if browser {
        return "Chromium ran the page's scripts and still found no username, password or \
                one-time-code field and no control to answer with; the saved page and \
                screenshot show what it drew"
            .into();
    }
    let why = format!(
        "The page may be built by JavaScript ({scripts} <script> elements), which the http \
         sign-in driver does not run"
    );
    if cfg!(feature = "browser") {
        format!("{why}: try --sign-in-driver browser")
    } else {
        format!(
            "{why}, and this build has no browser driver to try instead (auto is http only \
             here). {GET_BROWSER}"
        )
    }
}

/// Exactly what to run for a build with the browser driver (the crate, its source, the
/// feature), for a build without one.
pub const GET_BROWSER: &str = concat!(
    "To get the browser driver: cargo install --locked --features browser --git ",
    env!("CARGO_PKG_REPOSITORY"),
    " --tag v",
    env!("CARGO_PKG_VERSION"),
    " ",
    env!("CARGO_PKG_NAME"),
    " (or, in a checkout of the source: cargo install --locked --features browser --path .); \
     it needs Chromium (Debian: apt-get install -y chromium)"
);

impl SignInError {
    /// The page the error is about, if it is about one.
    pub fn page(&self) -> Option<&PageSummary> {
        match self {
            Self::Rejected { page, .. }
            | Self::NoForm { page, .. }
            | Self::NeedsCode { page, .. }
            | Self::NoControl { page, .. }
            | Self::Status { page, .. }
            | Self::TooManyPages { page, .. } => Some(page),
            _ => None,
        }
    }

    pub(super) fn page_mut(&mut self) -> Option<&mut PageSummary> {
        match self {
            Self::Rejected { page, .. }
            | Self::NoForm { page, .. }
            | Self::NeedsCode { page, .. }
            | Self::NoControl { page, .. }
            | Self::Status { page, .. }
            | Self::TooManyPages { page, .. } => Some(page),
            _ => None,
        }
    }

    /// A short machine-readable code, for the `error` field of `--once`'s JSON.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Client(_) => "sign_in_client",
            Self::Browser(_) => "sign_in_browser",
            Self::TestingToken(_) => "sign_in_clerk_testing_token",
            Self::Unreachable { .. } => "sign_in_unreachable",
            Self::Timeout { .. } => "sign_in_timeout",
            Self::BadRedirect { .. } | Self::RedirectLoop { .. } => "sign_in_bad_redirect",
            Self::NotHtml { .. } => "sign_in_not_html",
            Self::TooLarge { .. } => "sign_in_page_too_large",
            Self::Rejected { .. } => "sign_in_rejected",
            Self::NoForm { .. } => "sign_in_no_form",
            Self::NeedsCode { .. } => "sign_in_needs_code",
            Self::NoControl { .. } => "sign_in_no_control",
            Self::Status { .. } => "sign_in_http_error",
            Self::TooManyPages { .. } => "sign_in_too_many_pages",
            Self::Confined { refusal, .. } => match refusal {
                Refusal::Foreign { .. } => "sign_in_foreign_origin",
                Refusal::Insecure { .. } => "sign_in_insecure_origin",
                Refusal::ByGet { .. } => "sign_in_password_by_get",
                Refusal::Scheme { .. } => "sign_in_not_web",
            },
        }
    }

    /// What to change.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Self::Rejected { .. } => {
                "Check OAUTH_TEST_USERNAME and OAUTH_TEST_PASSWORD (and OAUTH_TEST_TOTP_SECRET or \
                 OAUTH_TEST_CODE) against the test user at the provider; the provider's own message \
                 is quoted above."
            }
            Self::NoForm { browser: true, .. } => {
                "Open the saved page and screenshot: the provider may show a CAPTCHA or a bot \
                 check (for a Clerk development instance, set CLERK_SECRET_KEY so the browser \
                 driver sends a Testing Token), or a page this driver does not recognise."
            }
            Self::NoForm { .. } if cfg!(feature = "browser") => {
                "The http driver reads forms from the HTML the provider sends; a sign-in page drawn \
                 by JavaScript needs --sign-in-driver browser (auto tries it after http in the \
                 code flow; in the device grant the user code is used by then)."
            }
            Self::NoForm { .. } => {
                "The http driver reads forms from the HTML the provider sends; a sign-in page drawn \
                 by JavaScript needs the browser driver, which this build does not have: see the \
                 message for the command that installs a build with it."
            }
            Self::NeedsCode { .. } => {
                "Set OAUTH_TEST_TOTP_SECRET to the base32 secret the test user's authenticator was \
                 enrolled with, or OAUTH_TEST_CODE to a fixed code the provider accepts for it."
            }
            Self::NoControl { .. } => {
                "The consent page's buttons and links were not recognised by their words; the saved \
                 page shows what the provider offered."
            }
            Self::Timeout { .. } => {
                "The provider's pages were slow or never led back: raise OAUTH_TIMEOUT, or open the \
                 saved page to see where it stopped."
            }
            Self::Browser(_) => {
                "The browser driver runs Chromium: install Debian's chromium package \
                 (apt-get install -y chromium) or set CHROMIUM to the browser's path."
            }
            Self::TestingToken(_) => {
                "CLERK_SECRET_KEY must be the secret key (sk_test_...) of the Clerk instance \
                 being signed in to (Clerk dashboard > API keys); unset it for other providers."
            }
            Self::Confined {
                refusal: Refusal::Foreign { .. },
                ..
            } => {
                "Credentials go only to the authorization endpoint's origin and those listed in \
                 OAUTH_SIGN_IN_ORIGINS (comma-separated https origins): add the origin named above \
                 only if it is the provider's own sign-in page."
            }
            Self::Confined { .. } => {
                "This is the provider's page, not a setting: the test user's password is never \
                 sent this way. Check the provider's configuration (its sign-in URLs)."
            }
            Self::Unreachable { .. } => {
                "Check that the provider and this app are reachable from here (proxies, \
                 OAUTH_CA_CERT for a private CA)."
            }
            _ => return None,
        })
    }

    /// The JSON `--once` prints for a failed sign-in, in the shape of any failed flow.
    pub fn to_json(&self) -> Value {
        let mut doc = json!({
            "error": self.code(),
            "error_description": null,
            "error_uri": null,
            "step": "sign_in",
            "message": self.to_string(),
            "hint": self.hint(),
        });
        if let Self::Confined { refusal, allowed } = self {
            let (page, target) = match refusal {
                Refusal::Foreign { page, target, .. }
                | Refusal::Insecure { page, target, .. }
                | Refusal::ByGet { page, target } => (Some(page), Some(target)),
                Refusal::Scheme { url } => (Some(url), None),
            };
            doc["page_origin"] = json!(page);
            doc["target_origin"] = json!(target);
            doc["allowed_origins"] = json!(allowed);
            doc["setting"] = json!(SETTING);
        }
        if let Some(page) = self.page() {
            doc["page"] = json!({
                "url": page.url,
                "status": page.status,
                "title": page.title,
                "errors": page.alerts,
                "fields": page.fields,
                "saved": page.saved.as_ref().map(|p| p.display().to_string()),
            });
        }
        doc
    }
}
