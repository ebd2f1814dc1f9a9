//! Page structs; the HTML is in templates/ (compiled in, autoescaped).

use askama::Template;

use crate::actions::StepReport;
use crate::provider::exchange::Exchange;
use crate::verify::{Check, Verdict};

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC` (civil-from-days, H. Hinnant).
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The CSS class and label of a verdict.
pub fn verdict_label(v: &Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Warn => "warn",
        Verdict::Fail => "fail",
    }
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
    pub settings: Vec<(String, String)>,
    pub endpoint_source: String,
    pub endpoints: Vec<(String, String)>,
    pub last: Option<LastView>,
    pub actions: Actions,
}

#[derive(Template)]
#[template(path = "result.html")]
pub struct ResultPage {
    pub client_id: String,
    pub fields: Vec<(String, String)>,
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
