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

mod clerk;
mod guard;
mod watch;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, CaptureScreenshotFormat, NavigateParams,
};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig, Page as Tab};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::instrument::WithSubscriber;
use url::Url;

pub use clerk::ClerkTesting;

use super::page::{Field, Form, Link, Method, Page, Submit, role};
use super::plan::{Action, Fill};
use super::{
    Consent, Credentials, Decision, Finished, Last, Limits, Session, SignInError, Target, shown,
};
use watch::Watch;

/// Debian's `chromium` package.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// The browser driver's settings, from the environment (or `.env`).
#[derive(Debug, Clone)]
pub struct BrowserSettings {
    /// CHROMIUM, or [`DEFAULT_CHROMIUM`].
    pub chromium: PathBuf,
    /// CLERK_SECRET_KEY (and CLERK_API_URL): a Testing Token for Clerk's bot protection.
    pub clerk: Option<ClerkTesting>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "--sign-in-driver browser runs Chromium, and {path} {problem}: install Debian's chromium \
         package (apt-get install -y chromium) or set CHROMIUM to the browser's path"
    )]
    Chromium { path: String, problem: &'static str },
    #[error(
        "CLERK_API_URL {value:?} is not usable ({problem}); leave it unset for Clerk's own \
         Backend API ({default}); it is meant for tests against a stand-in",
        default = clerk::DEFAULT_API
    )]
    ClerkApiUrl { value: String, problem: String },
}

impl BrowserSettings {
    /// `require`: Chromium must be there now (`browser`); `auto` may never need it.
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
        require: bool,
    ) -> Result<Self, SettingsError> {
        let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let chromium = PathBuf::from(set("CHROMIUM").unwrap_or_else(|| DEFAULT_CHROMIUM.into()));
        if require {
            check_executable(&chromium)?;
        }
        Ok(Self {
            chromium,
            clerk: ClerkTesting::from_env(&set)?,
        })
    }
}

#[cfg(unix)]
fn executable(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn executable(_: &std::fs::Metadata) -> bool {
    true
}

fn check_executable(path: &std::path::Path) -> Result<(), SettingsError> {
    let problem = match std::fs::metadata(path) {
        Err(_) => "does not exist",
        Ok(m) if !m.is_file() => "is not a file",
        Ok(m) if !executable(&m) => "is not executable",
        Ok(_) => return Ok(()),
    };
    Err(SettingsError::Chromium {
        path: path.display().to_string(),
        problem,
    })
}

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

/// A running Chromium with one tab, and what its events tell.
struct Chrome {
    browser: Browser,
    tab: Tab,
    watch: Arc<Mutex<Watch>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Held for its drop, after Chromium is gone (see `Drop for Chrome`).
    _profile: Profile,
}

/// Also when the app ends the run (the callback answered) while the driver is still closing
/// the browser, and the runtime drops it: Chromium is killed and waited for (briefly), so
/// that nothing writes into its profile folder once that is removed (by `profile`'s drop).
impl Drop for Chrome {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if matches!(self.browser.try_wait(), Ok(Some(_))) {
            return;
        }
        if let Some(child) = self.browser.get_mut_child() {
            let _ = child.inner.start_kill();
        }
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until && !matches!(self.browser.try_wait(), Ok(Some(_))) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Chromium's own profile folder, removed when dropped.
struct Profile(PathBuf);

impl Drop for Profile {
    fn drop(&mut self) {
        // Chromium's helper processes can still be writing for a moment after the browser
        // process is gone: a few tries.
        let mut last = None;
        for _ in 0..20 {
            match std::fs::remove_dir_all(&self.0) {
                Ok(()) => return,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
                Err(e) => last = Some(e),
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        if let Some(e) = last {
            log::warn!(
                "sign-in (browser): could not remove Chromium's profile folder {}: {e}",
                self.0.display()
            );
        }
    }
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

/// The uid owning /proc/self is this process's: root needs --no-sandbox, as in the tests'
/// playwright launch (Chromium refuses to run its sandbox as root).
#[cfg(unix)]
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[cfg(not(unix))]
fn running_as_root() -> bool {
    false
}

fn cdp_failed(what: &str, e: impl std::fmt::Display) -> SignInError {
    SignInError::Browser(format!("{what}: {e}"))
}

impl Chrome {
    async fn launch(
        settings: &BrowserSettings,
        target: &Target,
        session: &Session<'_>,
        token: Option<super::Secret>,
    ) -> Result<Self, SignInError> {
        // Short: Chromium's singleton socket goes in its TMPDIR, and a socket's path has at
        // most 107 bytes (sockaddr_un).
        let id = uuid::Uuid::new_v4().simple().to_string();
        let profile = Profile(std::env::temp_dir().join(format!("otc-chromium-{}", &id[..8])));
        let tmp = profile.0.join("t");
        // Where the socket would go: /…/t/org.chromium.Chromium.XXXXXX/SingletonSocket.
        let own_tmp = tmp.as_os_str().len() + 48 < 108;
        std::fs::create_dir_all(&tmp).map_err(|e| {
            cdp_failed(
                &format!("create Chromium's profile folder {}", profile.0.display()),
                e,
            )
        })?;
        let left = session
            .left()
            .ok_or_else(|| session.timed_out(&target.start))?;
        let mut builder = BrowserConfig::builder()
            .chrome_executable(&settings.chromium)
            .user_data_dir(&profile.0)
            // Certificate errors are errors, as in any browser (chromiumoxide ignores them
            // unless told otherwise).
            .respect_https_errors()
            .launch_timeout(left.min(Duration::from_secs(30)))
            .request_timeout(COMMAND)
            .window_size(1280, 900)
            .viewport(None)
            .args([
                "disable-gpu",
                "disable-quic",
                "disable-component-update",
                "no-default-browser-check",
                "disable-search-engine-choice-screen",
            ]);
        if running_as_root() {
            builder = builder.no_sandbox();
        }
        if own_tmp {
            // Its temporary files (shared memory, with chromiumoxide's --disable-dev-shm-usage)
            // in its own folder, removed with it even when Chromium is killed.
            builder = builder.env("TMPDIR", tmp.display().to_string());
        }
        let config = builder
            .build()
            .map_err(|e| SignInError::Browser(format!("configure Chromium: {e}")))?;
        let started = Instant::now();
        let (browser, mut handler) = Browser::launch(config).await.map_err(|e| {
            cdp_failed(
                &format!("start {}", settings.chromium.display()),
                e.to_string().lines().next().unwrap_or_default(),
            )
        })?;
        // The DevTools traffic holds what is typed and every cookie: chromiumoxide's own
        // trace lines (forwarded to the log when RUST_LOG asks for everything) stay silent.
        let silent = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        let handler_task = tokio::spawn(
            async move {
                let mut errors = 0u32;
                while let Some(event) = handler.next().await {
                    // A message this chromiumoxide does not know is not fatal; a dead socket
                    // repeats its error, and ends the loop.
                    errors = if event.is_err() { errors + 1 } else { 0 };
                    if errors > 50 {
                        break;
                    }
                }
            }
            .with_subscriber(silent),
        );
        let tab = match tokio::time::timeout(COMMAND, browser.new_page("about:blank")).await {
            Ok(Ok(tab)) => tab,
            failed => {
                let detail = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => "no answer".to_owned(),
                };
                shut_down(browser, vec![handler_task]).await;
                return Err(cdp_failed("open a tab in Chromium", detail));
            }
        };
        let mut chrome = Self {
            browser,
            tab,
            watch: Arc::new(Mutex::new(Watch::new(&target.start, &target.callback))),
            tasks: vec![handler_task],
            _profile: profile,
        };
        if let Err(e) = chrome.prepare(&target.origins, token).await {
            chrome.close().await;
            return Err(e);
        }
        log::info!(
            "sign-in (browser): {} started in {:.1} s",
            settings.chromium.display(),
            started.elapsed().as_secs_f64()
        );
        Ok(chrome)
    }
}

/// Closes Chromium (killed if it does not close) and stops the event tasks.
async fn shut_down(mut browser: Browser, tasks: Vec<tokio::task::JoinHandle<()>>) {
    let closed = tokio::time::timeout(Duration::from_secs(5), browser.close()).await;
    let exited = match closed {
        Ok(Ok(_)) => tokio::time::timeout(Duration::from_secs(5), browser.wait())
            .await
            .is_ok(),
        _ => false,
    };
    if !exited {
        let _ = browser.kill().await;
        let _ = browser.wait().await;
    }
    for task in tasks {
        task.abort();
    }
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
    /// Clerk's Testing Token on the Frontend API's requests.
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

/// What page.js's `read()` answers.
#[derive(Deserialize)]
struct RawPage {
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
    fn into_page(self) -> Option<Page> {
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
                            super::page::Role::Other
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

    #[test]
    fn settings_from_the_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let s = BrowserSettings::from_env(&env(&[]), false).unwrap();
        assert_eq!(s.chromium, PathBuf::from(DEFAULT_CHROMIUM));
        assert!(s.clerk.is_none());
        let s = BrowserSettings::from_env(
            &env(&[("CHROMIUM", "/opt/c"), ("CLERK_SECRET_KEY", " sk_test_x ")]),
            false,
        )
        .unwrap();
        assert_eq!(s.chromium, PathBuf::from("/opt/c"));
        let clerk = s.clerk.unwrap();
        assert_eq!(clerk.secret_key.expose(), "sk_test_x");
        assert_eq!(clerk.api.as_str(), "https://api.clerk.com/");
        assert!(
            !format!("{clerk:?}").contains("sk_test_x"),
            "Debug hides the key"
        );

        let e = BrowserSettings::from_env(
            &env(&[
                ("CLERK_SECRET_KEY", "sk_test_x"),
                ("CLERK_API_URL", "http://api.example.com"),
            ]),
            false,
        )
        .unwrap_err();
        assert!(e.to_string().contains("plain http:// is refused"), "{e}");
        let e =
            BrowserSettings::from_env(&env(&[("CHROMIUM", "/nonexistent/c")]), true).unwrap_err();
        assert!(
            e.to_string().contains("/nonexistent/c does not exist")
                && e.to_string().contains("apt-get install -y chromium"),
            "{e}"
        );
    }
}
