//! Page structs; the HTML is in templates/ (compiled in, autoescaped).

use askama::Template;

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
}

#[derive(Template)]
#[template(path = "result.html")]
pub struct ResultPage {
    pub client_id: String,
    pub fields: Vec<(String, String)>,
    pub token_json: String,
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
