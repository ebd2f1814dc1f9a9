//! Page structs; the HTML is in templates/ (compiled in, autoescaped).

use askama::Template;

use crate::actions::StepReport;
use crate::provider::exchange::Exchange;

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
