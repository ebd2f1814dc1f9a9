//! The http driver: plays the browser over plain HTTP. From the app's own `/login` it follows
//! each redirect by hand, one cookie jar for every host (the app's flow-binding cookie and the
//! provider's session alike), reads each page with an HTML parser, submits the form the
//! shared rules choose, and stops when a redirect reaches the app's callback, which it then
//! loads as the browser would.

use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, CONTENT_TYPE, LOCATION, ORIGIN, REFERER};
use url::Url;

use super::page::{Method, Page};
use super::plan::Action;
use super::{
    Consent, Credentials, Decision, Finished, Last, Limits, Session, SignInError, Target,
    is_callback, jar, shown,
};

/// Signs in over HTTP; the error, with the last page it read (scrubbed) to save.
pub(super) async fn sign_in(
    target: &Target,
    credentials: &Credentials,
    consent: Consent,
    limits: &Limits,
    deadline: Instant,
) -> (Result<Finished, SignInError>, Option<Last>) {
    let mut driver = match Driver::new(target, credentials, consent, limits, deadline) {
        Ok(d) => d,
        Err(e) => return (Err(e), None),
    };
    let result = driver.run().await;
    let last = match (&result, driver.last.take()) {
        (Err(_), Some(html)) => Some(Last {
            html: driver.session.scrub.page(&html),
            screenshot: None,
        }),
        _ => None,
    };
    (result, last)
}

/// The next request. No `Debug`: its body may hold the password.
struct Next {
    method: Method,
    url: Url,
    body: Vec<(String, String)>,
    /// The page whose form or link led here (for `Origin` and `Referer`).
    from: Option<Url>,
    /// The body holds the test user's credentials: a 307/308 may repeat it only to an
    /// allowed origin.
    credentials: bool,
}

impl Next {
    fn get(url: Url) -> Self {
        Self {
            method: Method::Get,
            url,
            body: Vec::new(),
            from: None,
            credentials: false,
        }
    }
}

struct Driver<'a> {
    client: reqwest::Client,
    start: &'a Url,
    callback: &'a Url,
    session: Session<'a>,
    /// The last page read, as sent.
    last: Option<String>,
}

impl<'a> Driver<'a> {
    fn new(
        target: &'a Target,
        credentials: &'a Credentials,
        consent: Consent,
        limits: &'a Limits,
        deadline: Instant,
    ) -> Result<Self, SignInError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            // Each hop is looked at: the callback must be caught, not followed.
            .redirect(reqwest::redirect::Policy::none())
            // One jar for every host: the provider's session, and the app's own cookie kept to
            // the app's origin (the redirect URI's).
            .cookie_provider(std::sync::Arc::new(jar::Jar::new(target.callback.origin())))
            .connect_timeout(limits.per_request.min(Duration::from_secs(10)))
            .user_agent(concat!(
                "oauth-test-client/",
                env!("CARGO_PKG_VERSION"),
                " (sign-in driver)"
            ));
        if let Some(pem) = &target.root_certificates {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| SignInError::Client(e.to_string()))?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .build()
            .map_err(|e| SignInError::Client(e.to_string()))?;
        Ok(Self {
            client,
            start: &target.start,
            callback: &target.callback,
            session: Session::new(
                credentials,
                &target.origins,
                consent,
                limits,
                deadline,
                "http",
            ),
            last: None,
        })
    }

    async fn run(&mut self) -> Result<Finished, SignInError> {
        log::info!(
            "sign-in (http): signing in as {} from {} (consent: {})",
            self.session.credentials.username,
            shown(self.start),
            self.session.consent.name()
        );
        let mut next = Next::get(self.start.clone());
        let mut redirects = 0;
        loop {
            if is_callback(self.callback, &next.url) {
                return self.deliver(next.url).await;
            }
            let url = next.url.clone();
            let response = self.send(&next).await?;
            let status = response.status().as_u16();
            if response.status().is_redirection() && status != 304 {
                redirects += 1;
                let target = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l.trim()).ok())
                    .ok_or_else(|| SignInError::BadRedirect {
                        url: shown(&url),
                        status,
                    })?;
                if redirects > self.session.limits.max_redirects {
                    return Err(SignInError::RedirectLoop {
                        max: self.session.limits.max_redirects,
                        url: shown(&target),
                    });
                }
                log::debug!(
                    "sign-in: {} answered {status}, to {}",
                    shown(&url),
                    shown(&target)
                );
                // 307 and 308 repeat the request as it was (RFC 9110 section 15.4.8); the
                // others become a GET, as browsers do.
                next = if matches!(status, 307 | 308) {
                    if next.credentials {
                        self.session
                            .origins
                            .check_repost(&url, &target)
                            .map_err(|refusal| SignInError::Confined {
                                refusal,
                                allowed: self.session.origins.list(),
                            })?;
                    }
                    Next {
                        url: target,
                        from: Some(url),
                        ..next
                    }
                } else {
                    Next::get(target)
                };
                continue;
            }
            redirects = 0;
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !(content_type.starts_with("text/html")
                || content_type.starts_with("application/xhtml+xml"))
            {
                return Err(SignInError::NotHtml {
                    url: shown(&url),
                    status,
                    content_type,
                });
            }
            let html = self.read(&url, response).await?;
            let page = Page::parse(url, status, &html);
            self.last = Some(html);
            self.session.count(&page)?;
            if let Some(refresh) = &page.refresh {
                log::info!(
                    "sign-in (http): page {}: {} ({:?}) refreshes to {}",
                    self.session.pages,
                    shown(&page.url),
                    page.title,
                    shown(refresh)
                );
                next = Next::get(refresh.clone());
                continue;
            }
            next = self.act(&page)?;
        }
    }

    /// The request a page leads to, or why it leads nowhere.
    fn act(&mut self, page: &Page) -> Result<Next, SignInError> {
        let Decision { action, .. } = self.session.decide(page)?;
        Ok(match action {
            Action::Submit {
                submission, fills, ..
            } => Next {
                method: submission.method,
                url: submission.url,
                body: submission.body,
                from: Some(page.url.clone()),
                credentials: !fills.is_empty(),
            },
            Action::Follow { url, .. } => Next {
                from: Some(page.url.clone()),
                ..Next::get(url)
            },
        })
    }

    /// The time left for one request: the per-request limit, or what remains of the whole.
    fn budget(&self, url: &Url) -> Result<Duration, SignInError> {
        let left = self
            .session
            .left()
            .ok_or_else(|| self.session.timed_out(url))?;
        Ok(left.min(self.session.limits.per_request))
    }

    fn failed(&self, url: &Url, e: reqwest::Error) -> SignInError {
        if e.is_timeout() {
            if self.session.deadline <= Instant::now() + Duration::from_millis(50) {
                return self.session.timed_out(url);
            }
            return SignInError::Unreachable {
                url: shown(url),
                detail: format!(
                    "no answer within {} s (OAUTH_HTTP_TIMEOUT)",
                    self.session.limits.per_request.as_secs()
                ),
            };
        }
        // The error's own text names the URL with its query: leave it out.
        let e = e.without_url();
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        SignInError::Unreachable {
            url: shown(url),
            detail,
        }
    }

    async fn send(&self, next: &Next) -> Result<reqwest::Response, SignInError> {
        let budget = self.budget(&next.url)?;
        let mut request = match next.method {
            Method::Get => self.client.get(next.url.clone()),
            Method::Post => self.client.post(next.url.clone()).form(&next.body),
        }
        .timeout(budget)
        .header(
            ACCEPT,
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        // The provider's messages in English, as the tests and most CI readers expect.
        .header(ACCEPT_LANGUAGE, "en");
        if let Some(from) = &next.from {
            // As a browser: providers check Origin (and some Referer) on form posts (CSRF).
            if next.method == Method::Post {
                request = request.header(ORIGIN, from.origin().ascii_serialization());
            }
            if from.origin() == next.url.origin() {
                let mut referer = from.clone();
                referer.set_fragment(None);
                request = request.header(REFERER, referer.as_str());
            }
        }
        request.send().await.map_err(|e| self.failed(&next.url, e))
    }

    async fn read(
        &self,
        url: &Url,
        mut response: reqwest::Response,
    ) -> Result<String, SignInError> {
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.failed(url, e))? {
            if body.len() + chunk.len() > self.session.limits.max_page_bytes {
                return Err(SignInError::TooLarge {
                    url: shown(url),
                    limit: self.session.limits.max_page_bytes,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// Loads the callback as the browser delivering the redirect would; the app reports the
    /// outcome itself.
    async fn deliver(&self, url: Url) -> Result<Finished, SignInError> {
        let budget = self.budget(&url)?;
        let response = self
            .client
            .get(url.clone())
            .timeout(budget)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.failed(&url, e))?;
        let status = response.status().as_u16();
        log::info!(
            "sign-in (http): the provider redirected to the app's callback {} after {} pages; the app answered HTTP {status}",
            shown(&url),
            self.session.pages
        );
        Ok(Finished {
            pages: self.session.pages,
            callback_status: status,
        })
    }
}
