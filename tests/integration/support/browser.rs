//! A person at a browser, over plain HTTP: follows redirects by hand, keeps cookies, and fills
//! in the provider's own login and consent forms.

use reqwest::header::LOCATION;
use url::Url;

pub struct Browser {
    client: reqwest::Client,
}

/// What to do on the provider's pages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Approve,
    /// Follow the provider's "abort" link on the login page: the provider answers access_denied.
    Abort,
}

impl Browser {
    pub fn new() -> Self {
        Self::with_ca(None)
    }

    pub fn with_ca(ca_pem: Option<&std::path::Path>) -> Self {
        let mut builder = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = ca_pem {
            let pem = std::fs::read(path).expect("ca pem");
            builder =
                builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("ca"));
        }
        Self {
            client: builder.build().expect("client"),
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// From the app's `/login` through the provider until it redirects to `callback_prefix`;
    /// returns that callback URL without fetching it.
    pub async fn authorize(
        &self,
        login_url: &str,
        callback_prefix: &str,
        user: &str,
        choice: Choice,
    ) -> Url {
        let mut url = Url::parse(login_url).expect("login url");
        for _ in 0..20 {
            let response = self.client.get(url.clone()).send().await.expect("GET");
            let status = response.status();
            if status.is_redirection() {
                let location = response.headers()[LOCATION]
                    .to_str()
                    .expect("location")
                    .to_owned();
                let next = url.join(&location).expect("redirect target");
                if next.as_str().starts_with(callback_prefix) {
                    return next;
                }
                url = next;
                continue;
            }
            let html = response.text().await.expect("body");
            assert!(status.is_success(), "HTTP {status} at {url}: {html}");
            if choice == Choice::Abort && html.contains("name=\"login\"") {
                let href = attribute_after(&html, "/abort", "href").expect("abort link");
                url = url.join(&href).expect("abort url");
                continue;
            }
            let action = attribute_after(&html, "<form", "action")
                .unwrap_or_else(|| panic!("no form at {url}: {html}"));
            let form: Vec<(&str, &str)> = if html.contains("name=\"login\"") {
                vec![
                    ("prompt", "login"),
                    ("login", user),
                    ("password", "any-password"),
                ]
            } else {
                vec![("prompt", "consent")]
            };
            let target = url.join(&action).expect("form action");
            let response = self
                .client
                .post(target.clone())
                .form(&form)
                .send()
                .await
                .expect("POST");
            assert!(
                response.status().is_redirection(),
                "form at {target} answered {}",
                response.status()
            );
            let location = response.headers()[LOCATION]
                .to_str()
                .expect("location")
                .to_owned();
            url = target.join(&location).expect("redirect target");
            if url.as_str().starts_with(callback_prefix) {
                return url;
            }
        }
        panic!("no redirect to {callback_prefix} after 20 steps");
    }

    /// Fetches a callback URL asking for JSON.
    pub async fn callback_json(&self, url: &Url) -> (u16, serde_json::Value) {
        let response = self
            .client
            .get(url.clone())
            .header("Accept", "application/json")
            .send()
            .await
            .expect("callback");
        let status = response.status().as_u16();
        (
            status,
            response.json().await.expect("JSON from the callback"),
        )
    }
}

/// The value of `attr="..."` in the first tag at or after `marker` (HTML-unescaped).
fn attribute_after(html: &str, marker: &str, attr: &str) -> Option<String> {
    let at = html.find(marker)?;
    let tag_start = if marker.starts_with('<') {
        at
    } else {
        html[..at].rfind('<').unwrap_or(at)
    };
    let rest = &html[tag_start..];
    let key = format!("{attr}=\"");
    let start = rest.find(&key)? + key.len();
    let end = rest[start..].find('"')? + start;
    Some(
        rest[start..end]
            .replace("&amp;", "&")
            .replace("&#x2F;", "/")
            .replace("&#47;", "/"),
    )
}
