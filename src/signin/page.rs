//! One HTML page of a provider's sign-in, read with a real HTML parser (html5ever through
//! `scraper`) into plain data: its forms with their fields and submit controls, its links, its
//! visible error messages. The parsed document never outlives `Page::parse` (it is not `Send`,
//! and nothing here needs it after).

use scraper::{ElementRef, Html};
use url::Url;

use super::html::{attr_lower, cut, selector, squash, text_of, visible};
pub use super::roles::{Role, role};

/// The longest error message kept from a page.
const MAX_ALERT_CHARS: usize = 300;
/// At most this many error messages are kept from a page.
const MAX_ALERTS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    /// `type` for inputs (lowercase, `text` when absent); `select` or `textarea` otherwise.
    pub kind: String,
    pub value: String,
    pub role: Role,
    pub visible: bool,
    pub checked: bool,
    pub disabled: bool,
}

/// A control that submits its form: `<button>` (type submit), `<input type=submit|image>`.
#[derive(Debug, Clone)]
pub struct Submit {
    pub name: Option<String>,
    pub value: String,
    /// Its text, value, name, id and aria-label: what a person (or this driver) reads.
    pub label: String,
    /// Its text (or value) alone, for the log.
    pub text: String,
    /// `formaction` / `formmethod`, when the button overrides its form's.
    pub action: Option<Url>,
    pub method: Option<Method>,
}

#[derive(Debug, Clone)]
pub struct Form {
    pub action: Url,
    pub method: Method,
    pub fields: Vec<Field>,
    pub submits: Vec<Submit>,
}

impl Form {
    pub fn has(&self, role: Role) -> bool {
        self.fields.iter().any(|f| f.role == role && f.visible)
    }

    /// Fields a person would type into (not hidden, not buttons).
    pub fn visible_inputs(&self) -> usize {
        self.fields
            .iter()
            .filter(|f| f.visible && !matches!(f.kind.as_str(), "hidden" | "checkbox" | "radio"))
            .count()
    }
}

#[derive(Debug, Clone)]
pub struct Link {
    pub href: Url,
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub url: Url,
    pub status: u16,
    pub title: String,
    pub forms: Vec<Form>,
    pub links: Vec<Link>,
    /// Visible error messages: role=alert, aria-live=assertive, class names with error,
    /// alert, danger or invalid, and oidc-provider's error page (`<pre><strong>error</strong>`).
    pub alerts: Vec<String>,
    /// `<meta http-equiv=refresh content="0; url=...">`.
    pub refresh: Option<Url>,
    pub scripts: usize,
    /// Values the page put in password fields itself: kept out of saved pages.
    pub password_values: Vec<String>,
}

impl Page {
    pub fn parse(url: Url, status: u16, html: &str) -> Self {
        let doc = Html::parse_document(html);
        // <base href> changes what relative URLs mean.
        let base = doc
            .select(&selector("base[href]"))
            .next()
            .and_then(|b| b.value().attr("href"))
            .and_then(|h| url.join(h).ok())
            .unwrap_or_else(|| url.clone());
        let resolve = |href: &str| base.join(href.trim()).ok();

        let title = doc
            .select(&selector("title"))
            .next()
            .map(|t| text_of(t))
            .filter(|t| !t.is_empty())
            .or_else(|| doc.select(&selector("h1")).next().map(|h| text_of(h)))
            .unwrap_or_default();

        let control_sel = selector("input, button, select, textarea");
        let mut forms = Vec::new();
        for form in doc.select(&selector("form")) {
            let action = form
                .value()
                .attr("action")
                .filter(|a| !a.trim().is_empty())
                .and_then(resolve)
                .unwrap_or_else(|| url.clone());
            let method = method(form.value().attr("method")).unwrap_or(Method::Get);
            let mut controls: Vec<ElementRef<'_>> = form.select(&control_sel).collect();
            // Controls placed elsewhere with form="<id>" belong to it too.
            if let Some(id) = form.value().id() {
                controls.extend(
                    doc.select(&control_sel)
                        .filter(|c| c.value().attr("form") == Some(id)),
                );
            }
            let (fields, submits) = read_controls(&controls, &resolve);
            forms.push(Form {
                action,
                method,
                fields,
                submits,
            });
        }

        let links = doc
            .select(&selector("a[href]"))
            .filter(|a| visible(*a))
            .filter_map(|a| {
                let raw = a.value().attr("href")?;
                if raw
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("javascript:")
                {
                    return None;
                }
                let href = resolve(raw)?;
                let label = squash(
                    [
                        text_of(a),
                        a.value().attr("aria-label").unwrap_or_default().to_owned(),
                        a.value().attr("title").unwrap_or_default().to_owned(),
                    ]
                    .iter(),
                );
                Some(Link { href, label })
            })
            .collect();

        let refresh = doc
            .select(&selector("meta[http-equiv]"))
            .filter(|m| attr_lower(*m, "http-equiv") == "refresh")
            .find_map(|m| {
                let content = m.value().attr("content")?;
                let (_, target) = content.split_once(';')?;
                let target = target.trim();
                let target = target
                    .strip_prefix("url=")
                    .or_else(|| target.strip_prefix("URL="))
                    .unwrap_or(target)
                    .trim_matches(|c| c == '\'' || c == '"');
                resolve(target)
            });

        let password_values = doc
            .select(&selector("input"))
            .filter(|i| attr_lower(*i, "type") == "password")
            .filter_map(|i| i.value().attr("value"))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect();

        Self {
            url,
            status,
            title: cut(title, 120),
            forms,
            links,
            alerts: alerts(&doc),
            refresh,
            scripts: doc.select(&selector("script")).count(),
            password_values,
        }
    }

    /// `name (type)` for every named field of every form, for error messages.
    pub fn field_list(&self) -> String {
        let list: Vec<String> = self
            .forms
            .iter()
            .flat_map(|f| &f.fields)
            .filter(|f| !f.name.is_empty())
            .map(|f| format!("{} ({})", f.name, f.kind))
            .collect();
        if list.is_empty() {
            "none".into()
        } else {
            list.join(", ")
        }
    }
}

fn method(raw: Option<&str>) -> Option<Method> {
    match raw?.trim().to_ascii_lowercase().as_str() {
        "post" => Some(Method::Post),
        "get" => Some(Method::Get),
        _ => None,
    }
}

fn read_controls(
    controls: &[ElementRef<'_>],
    resolve: &dyn Fn(&str) -> Option<Url>,
) -> (Vec<Field>, Vec<Submit>) {
    let mut fields = Vec::new();
    let mut submits = Vec::new();
    for c in controls {
        let v = c.value();
        let tag = v.name();
        let kind = match tag {
            "input" => {
                let t = attr_lower(*c, "type");
                if t.is_empty() { "text".to_owned() } else { t }
            }
            "button" => {
                let t = attr_lower(*c, "type");
                if t.is_empty() { "submit".to_owned() } else { t }
            }
            other => other.to_owned(),
        };
        let name = v.attr("name").unwrap_or_default().to_owned();
        let disabled = v.attr("disabled").is_some();
        if matches!(kind.as_str(), "submit" | "image") && matches!(tag, "input" | "button") {
            if disabled {
                continue;
            }
            let value = v.attr("value").unwrap_or_default().to_owned();
            let label = squash(
                [
                    text_of(*c),
                    value.clone(),
                    name.clone(),
                    v.id().unwrap_or_default().to_owned(),
                    v.attr("aria-label").unwrap_or_default().to_owned(),
                ]
                .iter(),
            );
            let text = Some(text_of(*c))
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| value.clone());
            submits.push(Submit {
                text,
                name: Some(name).filter(|n| !n.is_empty()),
                value,
                label,
                action: v
                    .attr("formaction")
                    .filter(|a| !a.trim().is_empty())
                    .and_then(resolve),
                method: method(v.attr("formmethod")),
            });
            continue;
        }
        if tag == "button" || matches!(kind.as_str(), "button" | "reset" | "file") {
            continue;
        }
        let value = match tag {
            "select" => {
                let options: Vec<ElementRef<'_>> = c.select(&selector("option")).collect();
                options
                    .iter()
                    .find(|o| o.value().attr("selected").is_some())
                    .or(options.first())
                    .map(|o| {
                        o.value()
                            .attr("value")
                            .map(str::to_owned)
                            .unwrap_or_else(|| text_of(*o))
                    })
                    .unwrap_or_default()
            }
            "textarea" => c.text().collect(),
            _ => v.attr("value").unwrap_or_default().to_owned(),
        };
        let name_and_id = format!("{} {}", name, v.id().unwrap_or_default()).to_ascii_lowercase();
        fields.push(Field {
            role: if tag == "input" {
                role(
                    &kind,
                    &attr_lower(*c, "autocomplete"),
                    &name_and_id,
                    &attr_lower(*c, "inputmode"),
                )
            } else {
                Role::Other
            },
            visible: kind != "hidden" && visible(*c),
            checked: v.attr("checked").is_some(),
            name,
            kind,
            value,
            disabled,
        });
    }
    (fields, submits)
}

/// The page's visible error messages, outermost element first, each once.
fn alerts(doc: &Html) -> Vec<String> {
    let mut taken = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for el in doc.select(&selector("body *")) {
        let v = el.value();
        if matches!(
            v.name(),
            "form" | "input" | "button" | "select" | "textarea" | "script" | "style" | "label"
        ) {
            continue;
        }
        let class = attr_lower(el, "class");
        let alerting = attr_lower(el, "role") == "alert"
            || attr_lower(el, "aria-live") == "assertive"
            || ["error", "alert", "danger", "invalid"]
                .iter()
                .any(|w| class.contains(w))
            // oidc-provider's own error page: <pre><strong>error</strong>: invalid_request</pre>
            || (v.name() == "pre"
                && el
                    .child_elements()
                    .next()
                    .is_some_and(|s| s.value().name() == "strong"
                        && text_of(s).starts_with("error")));
        if !alerting || !visible(el) {
            continue;
        }
        if el.ancestors().any(|a| taken.contains(&a.id())) {
            continue;
        }
        // A wrapper around a whole form is not a message.
        if el
            .select(&selector("input, textarea, select"))
            .next()
            .is_some()
        {
            continue;
        }
        let text = cut(text_of(el), MAX_ALERT_CHARS);
        if text.is_empty() {
            continue;
        }
        taken.push(el.id());
        if !out.contains(&text) {
            out.push(text);
        }
        if out.len() == MAX_ALERTS {
            break;
        }
    }
    out
}

/// The page's HTML with every password field's value removed, for saving as an artifact.
pub fn without_password_values(html: &str) -> String {
    let mut doc = Html::parse_document(html);
    let ids: Vec<_> = doc
        .select(&selector("input"))
        .filter(|i| {
            attr_lower(*i, "type") == "password"
                || attr_lower(*i, "autocomplete").contains("password")
        })
        .map(|i| i.id())
        .collect();
    for id in ids {
        if let Some(mut node) = doc.tree.get_mut(id)
            && let scraper::Node::Element(element) = node.value()
        {
            element.attrs.retain(|(name, _)| &*name.local != "value");
        }
    }
    doc.html()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(html: &str) -> Page {
        Page::parse(
            Url::parse("https://idp.example/u/login?state=abc").unwrap(),
            200,
            html,
        )
    }

    #[test]
    fn oidc_provider_dev_interactions_login_page() {
        let p = page(
            r#"<!DOCTYPE html><html><head><title>Sign-in</title></head><body>
            <div class="login-card"><h1>Sign-in</h1>
            <form autocomplete="off" action="/interaction/abc/login" method="post">
              <input type="hidden" name="prompt" value="login"/>
              <input required type="text" name="login" placeholder="Enter any login" autofocus="on">
              <input required type="password" name="password" placeholder="and password" >
              <button type="submit" class="login login-submit">Sign-in</button>
            </form>
            <div class="login-help"><a href="/interaction/abc/abort">[ Cancel ]</a></div></div>
            <div class="grant-debug"><details><summary>DEBUG</summary><div>uid: abc</div></details></div>
            </body></html>"#,
        );
        assert_eq!(p.title, "Sign-in");
        let form = &p.forms[0];
        assert_eq!(
            form.action.as_str(),
            "https://idp.example/interaction/abc/login"
        );
        assert_eq!(form.method, Method::Post);
        let roles: Vec<(&str, Role, bool)> = form
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.role, f.visible))
            .collect();
        assert_eq!(
            roles,
            [
                ("prompt", Role::Other, false),
                ("login", Role::Username, true),
                ("password", Role::Password, true)
            ]
        );
        assert_eq!(form.submits[0].label, "Sign-in");
        assert_eq!(p.links[0].label, "[ Cancel ]");
        assert!(p.alerts.is_empty(), "{:?}", p.alerts);
        assert_eq!(
            p.field_list(),
            "prompt (hidden), login (text), password (password)"
        );
    }

    #[test]
    fn error_messages_are_found_and_hidden_ones_are_not() {
        let p = page(
            r#"<title>Log in</title><body>
            <div class="form-group has-error"><input name="password" type="password"></div>
            <p class="error-message" role="alert">  Invalid   password </p>
            <div class="alert alert-danger"><span class="danger">Too many tries</span></div>
            <div class="error" hidden>Never shown</div>
            <div class="error" style="display: none">Never shown either</div>
            <div role="alert"></div>
            <form><input name="u"></form></body>"#,
        );
        assert_eq!(p.alerts, ["Invalid password", "Too many tries"]);
        let err = page(
            r#"<title>oops! something went wrong</title><body><div class="container">
            <h1>oops! something went wrong</h1><pre><strong>error</strong>: invalid_request</pre>
            <pre><strong>error_description</strong>: interaction session not found</pre></div></body>"#,
        );
        assert_eq!(
            err.alerts,
            [
                "error: invalid_request",
                "error_description: interaction session not found"
            ]
        );
    }

    #[test]
    fn submits_links_and_refresh() {
        let p = page(
            r#"<base href="https://idp.example/base/"><form id="f" action="consent">
            <input type="hidden" name="csrf" value="t&amp;1">
            <input type="checkbox" name="remember" checked>
            <select name="lang"><option value="en">English</option><option value="fr" selected>Français</option></select>
            <button name="decision" value="allow">Allow access</button>
            <input type="submit" name="decision" value="Deny" formaction="/deny" formmethod="post">
            <button type="button">Help</button>
            <button disabled>Disabled</button>
            </form>
            <button form="f" name="outside" value="1">Outside</button>
            <a href="javascript:void(0)">Nothing</a><a href="cancel" aria-label="Cancel sign-in">x</a>
            <meta http-equiv="Refresh" content="0; URL='/next?x=1'">"#,
        );
        let form = &p.forms[0];
        assert_eq!(form.action.as_str(), "https://idp.example/base/consent");
        assert_eq!(form.method, Method::Get);
        assert_eq!(form.fields[0].value, "t&1");
        assert!(form.fields[1].checked);
        assert_eq!(form.fields[2].value, "fr");
        let labels: Vec<&str> = form.submits.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Allow access allow decision",
                "Deny decision",
                "Outside 1 outside"
            ]
        );
        assert_eq!(
            form.submits[1].action.as_ref().unwrap().as_str(),
            "https://idp.example/deny"
        );
        assert_eq!(form.submits[1].method, Some(Method::Post));
        assert_eq!(p.links.len(), 1);
        assert_eq!(p.links[0].label, "x Cancel sign-in");
        assert_eq!(
            p.refresh.as_ref().unwrap().as_str(),
            "https://idp.example/next?x=1"
        );
    }

    #[test]
    fn saved_pages_lose_password_values() {
        let html = r#"<form><input type="password" name="pw" value="hunter2"><input name="u" value="kim"></form>"#;
        let p = page(html);
        assert_eq!(p.password_values, ["hunter2"]);
        let saved = without_password_values(html);
        assert!(!saved.contains("hunter2"), "{saved}");
        assert!(saved.contains("kim"));
    }

    #[test]
    fn a_script_built_page_has_no_form() {
        let p = page(
            r#"<title>Sign in</title><div id="app"></div><script>document.getElementById('app').innerHTML = '<form></form>'</script>"#,
        );
        assert!(p.forms.is_empty());
        assert_eq!(p.scripts, 1);
    }
}
