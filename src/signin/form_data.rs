//! A form as the browser would send it (HTML, "constructing the entry list"): its successful
//! controls, the pressed button, the method and target it overrides, a GET form's fields in
//! the query.

use url::Url;

use super::page::{Field, Form, Method, Submit};

/// A form as the browser would send it. No `Debug`: its body holds the password.
pub struct Submission {
    pub method: Method,
    pub url: Url,
    pub body: Vec<(String, String)>,
}

/// The successful controls of a form (HTML "constructing the entry list"), with values
/// replaced where `fill` says, plus the pressed button.
pub fn submission(
    form: &Form,
    submit: Option<&Submit>,
    fill: impl Fn(&Field) -> Option<String>,
) -> Submission {
    let mut body = Vec::new();
    for f in form
        .fields
        .iter()
        .filter(|f| !f.disabled && !f.name.is_empty())
    {
        match f.kind.as_str() {
            "checkbox" | "radio" if !f.checked => {}
            "checkbox" | "radio" if f.value.is_empty() => body.push((f.name.clone(), "on".into())),
            _ => body.push((f.name.clone(), fill(f).unwrap_or_else(|| f.value.clone()))),
        }
    }
    if let Some(Submit {
        name: Some(name),
        value,
        ..
    }) = submit
    {
        body.push((name.clone(), value.clone()));
    }
    let mut url = submit
        .and_then(|s| s.action.clone())
        .unwrap_or_else(|| form.action.clone());
    let method = submit.and_then(|s| s.method).unwrap_or(form.method);
    if method == Method::Get {
        url.query_pairs_mut().clear().extend_pairs(&body);
        body.clear();
    }
    url.set_fragment(None);
    Submission { method, url, body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signin::Consent;
    use crate::signin::page::Page;
    use crate::signin::plan::{Action, Inputs, plan};

    const INPUTS: Inputs<'static> = Inputs {
        username: "ci@example.com",
        password: "pw",
        code: None,
    };

    fn page(html: &str) -> Page {
        Page::parse(Url::parse("http://idp.test/i/1").unwrap(), 200, html)
    }

    fn submitted(action: Action) -> (String, Vec<(String, String)>) {
        match action {
            Action::Submit { submission, .. } => (submission.url.to_string(), submission.body),
            Action::Follow { url, .. } => (url.to_string(), Vec::new()),
        }
    }

    #[test]
    fn get_forms_put_their_fields_in_the_query() {
        let p = page(
            r#"<form action="/next?old=1#x"><input type="hidden" name="a" value="b c"><button>Continue</button></form>"#,
        );
        let (url, body) =
            submitted(plan(&p, &[], &INPUTS, Consent::Approve).unwrap_or_else(|p| panic!("{p:?}")));
        assert_eq!(url, "http://idp.test/next?a=b+c");
        assert!(body.is_empty());
    }
}
