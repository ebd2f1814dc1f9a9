//! Page structs; the HTML is in templates/ (compiled in, autoescaped).

use askama::Template;

use crate::actions::StepReport;
use crate::oauth::Check;
use crate::provider::exchange::Exchange;

pub use crate::oauth::time::{epoch_seconds, utc};

pub use super::assets::app_js_url;

/// When a token expires: `in_secs` from now, `at` in seconds since the epoch.
pub struct Expiry {
    pub in_secs: u64,
    pub at: u64,
}

impl Expiry {
    /// `expires_in` seconds from `now` (seconds since the epoch).
    pub fn from_now(now: u64, expires_in: u64) -> Self {
        Self {
            in_secs: expires_in,
            at: now.saturating_add(expires_in),
        }
    }

    pub fn at_utc(&self) -> String {
        utc(self.at)
    }
}

/// One row of the token summary on the result page.
pub struct Field {
    pub name: String,
    /// What is shown (a token is shortened; the JSON below has it whole).
    pub value: String,
    /// The whole value, for a copy button.
    pub copy: Option<String>,
    pub expiry: Option<Expiry>,
}

/// A token shortened for display: its start and its length.
pub fn preview(token: &str) -> String {
    const SHOWN: usize = 24;
    let count = token.chars().count();
    if count <= 64 {
        return token.to_owned();
    }
    crate::redact::shorten(token, SHOWN, "characters")
}

/// Links to the follow-up actions that apply: (href, label).
pub type Actions = Vec<(&'static str, &'static str)>;

pub struct LastView {
    pub ok: bool,
    pub headline: String,
    pub token_json: Option<String>,
}

#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexPage {
    pub issuer: String,
    pub redirect_uri: String,
    pub settings: Vec<crate::web::settings::Setting>,
    pub endpoint_source: String,
    /// (metadata name, value, where it came from).
    pub endpoints: Vec<(String, String, String)>,
    /// What discovery found wrong without failing.
    pub warnings: Vec<String>,
    pub last: Option<LastView>,
    pub actions: Actions,
    /// RFC 9728: how the provider was found from the API.
    pub hops: Vec<crate::provider::resource::Hop>,
}

#[derive(Template)]
#[template(path = "result.html")]
pub struct ResultPage {
    pub client_id: String,
    pub fields: Vec<Field>,
    pub token_json: String,
    pub actions: Actions,
    pub checks: Vec<Check>,
    pub failed: usize,
    pub warnings: usize,
    pub id_token_claims: Vec<(String, String)>,
    pub access_token_claims: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub message: String,
    pub step: String,
    pub code: String,
    pub description: Option<String>,
    pub uri: Option<String>,
    pub hint: Option<String>,
}

/// 409: an action before any sign-in.
#[derive(Template)]
#[template(path = "sign_in_first.html")]
pub struct SignInFirstPage {
    pub step: String,
}

/// One follow-up action: outcome, notes, the request as sent (masked), the response.
#[derive(Template)]
#[template(path = "action.html")]
pub struct ActionPage {
    pub step: String,
    pub ok: bool,
    pub error: Option<String>,
    pub notes: Vec<String>,
    pub hint: Option<String>,
    /// The hint's link: (href, label).
    pub next: Option<(&'static str, &'static str)>,
    pub response_json: String,
    pub exchange: Option<Exchange>,
    pub actions: Actions,
}

impl ActionPage {
    pub fn new(report: &StepReport, actions: Actions) -> Self {
        Self {
            step: report.step.clone(),
            ok: report.ok,
            error: report.error.clone(),
            notes: report.notes.clone(),
            hint: report.hint.clone(),
            next: report.next,
            response_json: serde_json::to_string_pretty(&report.response).unwrap_or_default(),
            exchange: report.exchange.clone(),
            actions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn tokens_are_shortened_for_display_only() {
        assert_eq!(preview("short-opaque-token"), "short-opaque-token");
        let opaque = "RAWNtP8W0nWrbmRXI5VYd3BPvxlwpLWmHBe_y2E9vSw";
        assert_eq!(preview(opaque), opaque);
        let jwt = format!("eyJhbGciOiJSUzI1NiJ9.{}", "x".repeat(100));
        assert_eq!(preview(&jwt), "eyJhbGciOiJSUzI1NiJ9.xxx…(121 characters)");
        let e = Expiry::from_now(1_700_000_000, 3600);
        assert_eq!((e.in_secs, e.at), (3600, 1_700_003_600));
        assert_eq!(e.at_utc(), "2023-11-14 23:13:20 UTC");
        // A provider's `exp` of u64::MAX is shown, not a panic.
        assert!(epoch_seconds(&u64::MAX.into()).is_some_and(|s| s.ends_with("UTC)")));
        assert_eq!(Expiry::from_now(u64::MAX, u64::MAX).at, u64::MAX);
    }

    #[test]
    fn result_page_escapes_tokens_and_offers_copies() {
        let page = ResultPage {
            client_id: "c".into(),
            fields: vec![
                Field {
                    name: "expires_in".into(),
                    value: "3600".into(),
                    copy: None,
                    expiry: Some(Expiry::from_now(1_700_000_000, 3600)),
                },
                Field {
                    name: "access_token".into(),
                    value: preview("\"><script>x</script>"),
                    copy: Some("\"><script>x</script>".into()),
                    expiry: None,
                },
            ],
            token_json: "{\"access_token\": \"<b>\"}".into(),
            actions: vec![("/refresh", "Refresh")],
            checks: Vec::new(),
            failed: 0,
            warnings: 0,
            id_token_claims: Vec::new(),
            access_token_claims: Vec::new(),
        }
        .render()
        .unwrap();
        assert!(!page.contains("<script>x"), "{page}");
        assert!(!page.contains("<b>"), "{page}");
        assert!(page.contains("data-expires-at=\"1700003600\""), "{page}");
        assert!(
            page.contains("expires in 3600 s, at 2023-11-14 23:13:20 UTC"),
            "{page}"
        );
        assert!(
            page.contains("<span class=\"label\">Copy</span><span class=\"visually-hidden\"> access_token</span>"),
            "{page}"
        );
        assert!(page.contains("data-copy-from=\"token-json\""), "{page}");
        assert!(page.contains(app_js_url()), "{page}");
        assert!(
            !page.contains("<script>") && !page.contains("onclick"),
            "{page}"
        );
    }

    #[test]
    fn provider_text_is_escaped() {
        let page = ErrorPage {
            message: "<script>alert(1)</script>".into(),
            step: "authorization".into(),
            code: "access_denied".into(),
            description: Some("<img src=x onerror=alert(1)>".into()),
            uri: None,
            hint: None,
        }
        .render()
        .unwrap();
        assert!(!page.contains("<script>alert"));
        assert!(!page.contains("<img src=x"));
        assert!(page.contains("&lt;script&gt;") || page.contains("&#60;script&#62;"));
    }
}
