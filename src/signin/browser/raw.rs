//! What page.js's `read()` answers, turned into the shared [`Page`] with the http driver's
//! field roles, so both drivers decide by the same rules.

use serde::Deserialize;
use url::Url;

use super::super::page::{Field, Form, Link, Method, Page, Submit, role};

/// What page.js's `read()` answers.
#[derive(Deserialize)]
pub(super) struct RawPage {
    url: String,
    status: u16,
    title: String,
    forms: Vec<RawForm>,
    links: Vec<RawLink>,
    alerts: Vec<String>,
    scripts: usize,
}

#[derive(Deserialize)]
struct RawForm {
    action: Option<String>,
    method: String,
    fields: Vec<RawField>,
    submits: Vec<RawSubmit>,
}

#[derive(Deserialize)]
struct RawField {
    name: String,
    kind: String,
    autocomplete: String,
    name_and_id: String,
    inputmode: String,
    visible: bool,
    checked: bool,
    disabled: bool,
}

#[derive(Deserialize)]
struct RawSubmit {
    name: Option<String>,
    value: String,
    label: String,
    text: String,
    action: Option<String>,
    method: Option<String>,
}

#[derive(Deserialize)]
struct RawLink {
    href: String,
    label: String,
}

fn method(raw: &str) -> Method {
    if raw.eq_ignore_ascii_case("post") {
        Method::Post
    } else {
        Method::Get
    }
}

impl RawPage {
    /// The page as the shared rules read it, fields given their roles by the same function
    /// as the http driver's; `None` for a page without a URL (Chromium's own error page).
    pub(super) fn into_page(self) -> Option<Page> {
        let url = Url::parse(&self.url).ok()?;
        let parse = |u: Option<String>| u.and_then(|u| Url::parse(&u).ok());
        let forms = self
            .forms
            .into_iter()
            .map(|f| Form {
                action: parse(f.action).unwrap_or_else(|| url.clone()),
                method: method(&f.method),
                fields: f
                    .fields
                    .into_iter()
                    .map(|x| Field {
                        role: if matches!(x.kind.as_str(), "select" | "textarea") {
                            super::super::page::Role::Other
                        } else {
                            role(&x.kind, &x.autocomplete, &x.name_and_id, &x.inputmode)
                        },
                        name: x.name,
                        kind: x.kind,
                        // Values stay in the page: the browser submits its own form.
                        value: String::new(),
                        visible: x.visible,
                        checked: x.checked,
                        disabled: x.disabled,
                    })
                    .collect(),
                submits: f
                    .submits
                    .into_iter()
                    .map(|s| Submit {
                        name: s.name,
                        value: s.value,
                        label: s.label,
                        text: s.text,
                        action: parse(s.action),
                        method: s.method.as_deref().map(method),
                    })
                    .collect(),
            })
            .collect();
        let links = self
            .links
            .into_iter()
            .filter_map(|l| {
                Some(Link {
                    href: Url::parse(&l.href).ok()?,
                    label: l.label,
                })
            })
            .collect();
        Some(Page {
            url,
            status: self.status,
            title: self.title,
            forms,
            links,
            alerts: self.alerts,
            // Chromium follows it itself.
            refresh: None,
            scripts: self.scripts,
            password_values: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signin::page::Role;
    use serde_json::json;

    #[test]
    fn the_page_scripts_answer_becomes_a_page_with_the_http_drivers_roles() {
        let raw: RawPage = serde_json::from_value(json!({
            "url": "https://idp.example/sign-in?redirect_url=x",
            "status": 200,
            "title": "Sign in",
            "forms": [{
                "action": "https://idp.example/sign-in",
                "method": "post",
                "fields": [
                    {"name": "identifier", "kind": "text", "autocomplete": "username webauthn",
                     "name_and_id": "identifier identifier-field", "inputmode": "",
                     "visible": true, "checked": false, "disabled": false},
                    {"name": "password", "kind": "password", "autocomplete": "current-password",
                     "name_and_id": "password ", "inputmode": "",
                     "visible": false, "checked": false, "disabled": false},
                    {"name": "", "kind": "text", "autocomplete": "one-time-code",
                     "name_and_id": " otp", "inputmode": "numeric",
                     "visible": true, "checked": false, "disabled": false},
                    {"name": "notes", "kind": "textarea", "autocomplete": "",
                     "name_and_id": "notes ", "inputmode": "",
                     "visible": true, "checked": false, "disabled": false}
                ],
                "submits": [{"name": null, "value": "", "label": "Continue", "text": "Continue",
                             "action": null, "method": null}]
            }],
            "links": [{"href": "https://idp.example/sign-up", "label": "Sign up"},
                      {"href": "not a url", "label": "broken"}],
            "alerts": ["Password is incorrect"],
            "scripts": 7
        }))
        .unwrap();
        let page = raw.into_page().unwrap();
        let roles: Vec<Role> = page.forms[0].fields.iter().map(|f| f.role).collect();
        assert_eq!(
            roles,
            [Role::Username, Role::Password, Role::Code, Role::Other]
        );
        assert!(page.forms[0].has(Role::Username) && !page.forms[0].has(Role::Password));
        assert_eq!(page.forms[0].method, Method::Post);
        assert_eq!(page.links.len(), 1, "a link that is not a URL is dropped");
        assert_eq!(
            page.field_list(),
            "identifier (text), password (password), notes (textarea)"
        );
        assert!(page.forms[0].fields.iter().all(|f| f.value.is_empty()));
    }
}
