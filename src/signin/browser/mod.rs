//! The browser driver: Debian's headless Chromium (or `CHROMIUM`), driven over the Chrome
//! DevTools Protocol with `chromiumoxide`, for sign-in pages that JavaScript draws.
//!
//! The browser starts at the app's own `/login`, so the app's flow-binding cookie lives in
//! its cookie jar and comes back with the callback, which the browser loads itself. On each
//! page a small script (page.js) describes the forms, links and error messages in the shape
//! of the http driver's reader; the shared rules ([`super::plan`]) decide; the script types
//! into the fields and presses the control. Between pages it waits for the page to settle
//! (no navigation under way, no request in flight, no DOM change for a moment), never for a
//! fixed time. With `CLERK_SECRET_KEY`, Clerk's Testing Token rides on every Frontend API
//! request ([`clerk`]).
//!
//! Never downloads a browser (chromiumoxide's fetcher is off), never logs a field's value:
//! the DevTools traffic, which carries what is typed and the cookies, is kept out of the log.

mod chrome;
mod clerk;
mod guard;
mod raw;
mod settings;
mod watch;

use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, CaptureScreenshotFormat, NavigateParams,
};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::page::ScreenshotParams;
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

pub use clerk::ClerkTesting;
pub use settings::{BrowserSettings, SettingsError};

use chrome::Chrome;
use raw::RawPage;
use settings::check_executable;

use super::page::Page;
use super::plan::{Action, Fill};
use super::{
    Consent, Credentials, Decision, Finished, Last, Limits, Session, SignInError, Target, shown,
};

/// How long the page must stay still (no DOM change, no new request) to count as settled.
const QUIET: Duration = Duration::from_millis(300);
/// Before calling a page refused or empty: the page gets this long to finish drawing.
const PATIENT_QUIET: Duration = Duration::from_millis(1500);
/// After a click, how long a page may show no change at all before it is read anyway.
const CHANGE_WAIT: Duration = Duration::from_secs(10);
/// A page that never stops moving (an animation, a long poll) is read after this long.
const MAX_SETTLE: Duration = Duration::from_secs(10);
/// A request in flight longer than this (a long poll, a font that never comes) is ignored.
const STUCK: Duration = Duration::from_secs(5);
/// How often the page is looked at while it settles.
const POLL: Duration = Duration::from_millis(50);
/// One DevTools command (a script run, a screenshot).
const COMMAND: Duration = Duration::from_secs(10);

/// The page script: `(call) => result`, sent whole with each call.
const PAGE_JS: &str = include_str!("page.js");

/// Installed in every document before its own scripts: counts DOM changes, so the driver
/// can tell a page that is still drawing from one that is done.
const WATCH_JS: &str = "(() => { if (window.__otcWatch) return; const w = { mutations: 0 }; \
    window.__otcWatch = w; new MutationObserver(() => { w.mutations += 1; }).observe(document, \
    { subtree: true, childList: true, attributes: true, characterData: true }); })();";

/// Signs in with Chromium; the error, with the page it stopped on (scrubbed HTML and a
/// screenshot) to save.
pub(super) async fn sign_in(
    target: &Target,
    credentials: &Credentials,
    consent: Consent,
    limits: &Limits,
    deadline: Instant,
    settings: &BrowserSettings,
) -> (Result<Finished, SignInError>, Option<Last>) {
    let mut session = Session::new(
        credentials,
        &target.origins,
        consent,
        limits,
        deadline,
        "browser",
    );
    if let Err(e) = check_executable(&settings.chromium) {
        return (Err(SignInError::Browser(format!("start: {e}"))), None);
    }
    if target.root_certificates.is_some() {
        log::warn!(
            "sign-in (browser): Chromium trusts the system's certificate authorities only; \
             OAUTH_CA_CERT applies to the http driver"
        );
    }
    let token = match &settings.clerk {
        Some(clerk) => match clerk::testing_token(clerk, &session).await {
            Ok(token) => {
                session.scrub.add(token.expose());
                Some(token)
            }
            Err(e) => return (Err(e), None),
        },
        None => None,
    };
    let chrome = match Chrome::launch(settings, target, &session, token).await {
        Ok(c) => c,
        Err(e) => return (Err(e), None),
    };
    let result = chrome.run(&mut session, target).await;
    let last = match &result {
        Err(_) => chrome.last(&session).await,
        Ok(_) => None,
    };
    chrome.close().await;
    (result, last)
}

/// What the page looked like when the driver acted on it: a change from this is progress.
struct Marker {
    at: Instant,
    documents: u64,
    requests: u64,
    probe: Option<Probe>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct Probe {
    ready: String,
    mutations: i64,
    href: String,
}

enum Settled {
    Page,
    Callback(u16),
}

fn cdp_failed(what: &str, e: impl std::fmt::Display) -> SignInError {
    SignInError::Browser(format!("{what}: {e}"))
}

/// An evaluation that did not give a value.
enum Eval {
    /// The page went away under it (a navigation), or Chromium did not answer in time.
    Gone(String),
    /// The script threw.
    Threw(String),
}

impl Chrome {
    /// Before the first page: the DOM-change counter in every document, the event watchers,
    /// the guard on document requests (with Clerk's Testing Token on the Frontend API's).
    async fn prepare(
        &mut self,
        origins: &super::CredentialOrigins,
        token: Option<super::Secret>,
    ) -> Result<(), SignInError> {
        let fail = |e: chromiumoxide::error::CdpError| cdp_failed("prepare the tab", e);
        self.tab
            .execute(AddScriptToEvaluateOnNewDocumentParams::new(WATCH_JS))
            .await
            .map_err(fail)?;
        let main = self.tab.mainframe().await.map_err(fail)?;
        self.watch.lock().expect("watch").main_frame = main.map(|f| f.inner().clone());
        self.tasks
            .extend(watch::spawn(&self.tab, &self.watch).await.map_err(fail)?);
        self.tasks.push(
            guard::intercept(&self.tab, origins.clone(), token, self.watch.clone())
                .await
                .map_err(fail)?,
        );
        Ok(())
    }

    async fn run(
        &self,
        session: &mut Session<'_>,
        target: &Target,
    ) -> Result<Finished, SignInError> {
        log::info!(
            "sign-in (browser): signing in as {} from {} (consent: {})",
            session.credentials.username,
            shown(&target.start),
            session.consent.name()
        );
        // Chromium opens only web pages: never file:, data: or its own.
        if !super::is_web(&target.start) {
            return Err(SignInError::Confined {
                refusal: super::Refusal::Scheme {
                    url: origins_shown(&target.start),
                },
                allowed: session.origins.list(),
            });
        }
        let navigated = tokio::time::timeout(
            COMMAND,
            self.tab.execute(NavigateParams::new(target.start.as_str())),
        )
        .await;
        match navigated {
            Ok(Ok(answer)) => {
                if let Some(error) = &answer.result.error_text {
                    return Err(SignInError::Unreachable {
                        url: shown(&target.start),
                        detail: error.clone(),
                    });
                }
            }
            Ok(Err(e)) => return Err(cdp_failed("open the app's /login", e)),
            Err(_) => return Err(cdp_failed("open the app's /login", "no answer")),
        }
        let mut marker = None;
        let mut quiet = QUIET;
        let mut stale = 0;
        let mut gone = 0;
        let mut current = target.start.clone();
        loop {
            match self.settle(session, marker.take(), quiet, &current).await? {
                Settled::Callback(status) => {
                    log::info!(
                        "sign-in (browser): Chromium loaded the app's callback {} after {} pages; the app answered HTTP {status}",
                        shown(&target.callback),
                        session.pages
                    );
                    return Ok(Finished {
                        pages: session.pages,
                        callback_status: status,
                    });
                }
                Settled::Page => {}
            }
            let page = match self.read().await {
                Ok(page) => page,
                Err(Eval::Gone(why)) if gone < 20 => {
                    log::debug!("sign-in (browser): the page went away while being read ({why})");
                    gone += 1;
                    continue;
                }
                Err(Eval::Gone(why)) => return Err(cdp_failed("read the page", why)),
                Err(Eval::Threw(e)) => {
                    return Err(cdp_failed("read the page", session.scrub.text(&e)));
                }
            };
            gone = 0;
            current = page.url.clone();
            session.count(&page)?;
            let decision = match session.decide(&page) {
                Ok(d) => d,
                // A page that is still drawing looks empty, and a sign-in page between a
                // click and its answer looks refused: one more, longer look before saying so.
                Err(
                    SignInError::Rejected { .. }
                    | SignInError::NoForm { .. }
                    | SignInError::NoControl { .. },
                ) if quiet < PATIENT_QUIET => {
                    session.pages -= 1;
                    quiet = PATIENT_QUIET;
                    continue;
                }
                Err(e) => return Err(e),
            };
            quiet = QUIET;
            let before = self.marker().await;
            match self.act(session, &page, &decision).await {
                Ok(()) => {
                    stale = 0;
                    marker = Some(before);
                }
                Err(ActError::Refused(e)) => return Err(e),
                // The page redrew between reading and acting: read it again (the stages it
                // answered are forgotten with the decision).
                Err(ActError::Stale) if stale < 3 => {
                    stale += 1;
                    session.pages -= 1;
                    if let Action::Submit { stages, .. } = &decision.action {
                        session.submitted.retain(|s| !stages.contains(s));
                    }
                }
                Err(ActError::Stale) => {
                    return Err(cdp_failed(
                        "act on the page",
                        "it kept redrawing the form before the driver could use it",
                    ));
                }
                Err(ActError::Failed(e)) => {
                    return Err(cdp_failed("act on the page", session.scrub.text(&e)));
                }
            }
        }
    }

    /// Waits for the page to settle (after `marker`, for it to change first), or for the
    /// callback to be loaded.
    async fn settle(
        &self,
        session: &Session<'_>,
        marker: Option<Marker>,
        quiet: Duration,
        current: &Url,
    ) -> Result<Settled, SignInError> {
        let started = Instant::now();
        let mut last_change = Instant::now();
        let mut last: Option<Probe> = None;
        loop {
            let Some(left) = session.left() else {
                return Err(session.timed_out(current));
            };
            if let Some(end) = self.watch.lock().expect("watch").ended() {
                return end.map(Settled::Callback);
            }
            // The handler ends when the DevTools connection does: Chromium is gone.
            if self.tasks.first().is_none_or(|h| h.is_finished()) {
                return Err(cdp_failed(
                    "go on",
                    "Chromium exited (or closed its DevTools connection) during the sign-in",
                ));
            }
            let probe = self.probe().await;
            if probe != last {
                last_change = Instant::now();
                last = probe.clone();
            }
            if self.settled(marker.as_ref(), probe.as_ref(), quiet, started, last_change) {
                return Ok(Settled::Page);
            }
            tokio::time::sleep(POLL.min(left)).await;
        }
    }

    /// Whether the page has settled: changed since `marker` (or waited long enough for a
    /// change), then still: no navigation, no request in flight or started, no DOM change
    /// for `quiet`, and loaded. A page that never stops moving counts after [`MAX_SETTLE`].
    fn settled(
        &self,
        marker: Option<&Marker>,
        probe: Option<&Probe>,
        quiet: Duration,
        started: Instant,
        last_change: Instant,
    ) -> bool {
        let w = self.watch.lock().expect("watch");
        if w.callback_started() {
            return false;
        }
        let changed = marker.is_none_or(|m| {
            w.documents > m.documents || w.requests > m.requests || probe != m.probe.as_ref()
        });
        let given_up = marker.is_some_and(|m| m.at.elapsed() >= CHANGE_WAIT);
        if !(changed || given_up) {
            return false;
        }
        let ready = probe.map(|p| p.ready.as_str());
        let still = !w.loading()
            && w.in_flight(STUCK) == 0
            && w.last_network.elapsed() >= quiet
            && last_change.elapsed() >= quiet
            && ready == Some("complete");
        let restless = started.elapsed() >= MAX_SETTLE && ready.is_some_and(|r| r != "loading");
        still || restless
    }

    async fn marker(&self) -> Marker {
        let probe = self.probe().await;
        let w = self.watch.lock().expect("watch");
        Marker {
            at: Instant::now(),
            documents: w.documents,
            requests: w.requests,
            probe,
        }
    }

    /// Runs one call of the page script; its value.
    async fn call(&self, call: &Value) -> Result<Value, Eval> {
        let mut params = EvaluateParams::new(format!("({PAGE_JS})({call})"));
        params.return_by_value = Some(true);
        let answer = match tokio::time::timeout(COMMAND, self.tab.execute(params)).await {
            Ok(Ok(answer)) => answer.result,
            Ok(Err(e)) => return Err(Eval::Gone(e.to_string())),
            Err(_) => return Err(Eval::Gone("no answer".into())),
        };
        if let Some(thrown) = answer.exception_details {
            let text = thrown
                .exception
                .and_then(|e| e.description)
                .unwrap_or(thrown.text);
            // A script cut short by a navigation is not the script's fault.
            if text.contains("Execution context was destroyed") {
                return Err(Eval::Gone(text));
            }
            return Err(Eval::Threw(
                text.lines().next().unwrap_or_default().to_owned(),
            ));
        }
        Ok(answer.result.value.unwrap_or(Value::Null))
    }

    async fn probe(&self) -> Option<Probe> {
        let value = self.call(&json!({ "fn": "probe" })).await.ok()?;
        serde_json::from_value(value).ok()
    }

    async fn read(&self) -> Result<Page, Eval> {
        let value = self.call(&json!({ "fn": "read" })).await?;
        let raw: RawPage = serde_json::from_value(value)
            .map_err(|e| Eval::Threw(format!("the page script answered oddly: {e}")))?;
        raw.into_page()
            .ok_or_else(|| Eval::Gone("not a web page".into()))
    }

    /// Types and presses as decided, on `page`. `Err(Stale)`: the elements are gone (the page
    /// redrew).
    async fn act(
        &self,
        session: &Session<'_>,
        page: &Page,
        decision: &Decision,
    ) -> Result<(), ActError> {
        let call = match &decision.action {
            Action::Submit {
                form,
                submit,
                fills,
                submission,
                ..
            } => {
                let credentials = session.credentials;
                let fills: Vec<Value> = fills
                    .iter()
                    .map(|(i, fill)| {
                        let value = match fill {
                            Fill::Username => credentials.username.as_str(),
                            Fill::Password => credentials.password.expose(),
                            Fill::Code => decision.code.as_ref().map_or("", |c| c.expose()),
                        };
                        json!([i, value])
                    })
                    .collect();
                // Checked by the shared rules on the page as read; checked again in the page
                // just before typing, in case it navigated or was redrawn in between.
                let expect = (!fills.is_empty()).then(|| {
                    json!({
                        "page": page.url.origin().ascii_serialization(),
                        "target": submission.url.origin().ascii_serialization(),
                    })
                });
                json!({ "fn": "act", "form": form, "submit": submit, "fills": fills, "link": null, "expect": expect })
            }
            Action::Follow { link, .. } => {
                json!({ "fn": "act", "form": null, "submit": null, "fills": [], "link": link, "expect": null })
            }
        };
        match self.call(&call).await {
            Ok(answer) if answer["stale"] == true => Err(ActError::Stale),
            Ok(answer) if answer["foreign"].is_string() => {
                let foreign = answer["foreign"].as_str().unwrap_or_default().to_owned();
                let (page, target) = match &decision.action {
                    Action::Submit { submission, .. } => {
                        (origins_shown(&page.url), origins_shown(&submission.url))
                    }
                    Action::Follow { .. } => (origins_shown(&page.url), String::new()),
                };
                Err(ActError::Refused(SignInError::Confined {
                    refusal: super::Refusal::Foreign {
                        page,
                        target,
                        foreign,
                        what: if answer["what"] == "target" {
                            "the form's target (when typing)"
                        } else {
                            "the page (when typing)"
                        },
                    },
                    allowed: session.origins.list(),
                }))
            }
            Ok(_) => Ok(()),
            // The press navigated before the answer came back: done.
            Err(Eval::Gone(_)) => Ok(()),
            Err(Eval::Threw(e)) => Err(ActError::Failed(e)),
        }
    }

    /// The page a failed sign-in stopped on: its HTML (typed values, password and code
    /// fields emptied first) and a screenshot; never the app's own callback page.
    async fn last(&self, session: &Session<'_>) -> Option<Last> {
        if self.watch.lock().expect("watch").callback_started() {
            return None;
        }
        let html = match self.call(&json!({ "fn": "blank" })).await {
            Ok(Value::String(html)) => html,
            _ => return None,
        };
        let saved = session.scrub.page(&html);
        // A page that shows a secret as text would show it in the picture too.
        let screenshot = if session.scrub.text(&html) == html {
            let params = ScreenshotParams::builder()
                .format(CaptureScreenshotFormat::Png)
                .full_page(true)
                .build();
            match tokio::time::timeout(COMMAND, self.tab.screenshot(params)).await {
                Ok(Ok(png)) => Some(png),
                _ => {
                    log::warn!("sign-in (browser): could not take a screenshot of the last page");
                    None
                }
            }
        } else {
            log::warn!("sign-in (browser): the last page shows a secret: no screenshot taken");
            None
        };
        Some(Last {
            html: saved,
            screenshot,
        })
    }

    /// Closes Chromium as a person would, or kills it; then [`Drop`] removes the profile.
    async fn close(mut self) {
        let closed = tokio::time::timeout(Duration::from_secs(5), self.browser.close()).await;
        if matches!(closed, Ok(Ok(_))) {
            let _ = tokio::time::timeout(Duration::from_secs(5), self.browser.wait()).await;
        }
    }
}

/// Why acting on a page did not happen.
enum ActError {
    /// The elements are gone: the page redrew.
    Stale,
    /// The page script threw.
    Failed(String),
    /// The page or its form moved to another origin before the credentials were typed.
    Refused(SignInError),
}

/// An origin as refusals show it.
fn origins_shown(url: &Url) -> String {
    url.origin().ascii_serialization()
}
