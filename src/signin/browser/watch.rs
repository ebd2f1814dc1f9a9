//! What Chromium's events tell the browser driver: requests in flight and when the network
//! was last busy, main-frame navigations, the provider's origin (where the app's `/login`
//! led), and the app's callback being loaded. Each kind of event arrives on its own stream,
//! so nothing here depends on the order between streams.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chromiumoxide::Page as Tab;
use chromiumoxide::cdp::browser_protocol::network::{
    EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent, EventResponseReceived,
    ResourceType,
};
use chromiumoxide::cdp::browser_protocol::page::{
    EventFrameStartedLoading, EventFrameStoppedLoading,
};
use chromiumoxide::error::CdpError;
use futures::StreamExt;
use url::{Origin, Url};

use super::super::{Refusal, SignInError, is_callback, shown};

pub(super) struct Watch {
    app: Origin,
    callback: Url,
    /// The tab's main frame: its documents are the pages.
    pub main_frame: Option<String>,
    /// Main-frame documents requested so far (redirect hops included).
    pub documents: u64,
    /// Requests started so far, any kind.
    pub requests: u64,
    pub last_network: Instant,
    in_flight: HashMap<String, Instant>,
    /// Finished before their start was seen (the streams are not ordered between them).
    finished_early: HashSet<String>,
    loads_started: u64,
    loads_stopped: u64,
    /// Main-frame document requests, by id, with their URL.
    main_documents: HashMap<String, Url>,
    /// The first origin the app's `/login` led to: the authorization server.
    pub provider: Option<Origin>,
    callback_request: Option<String>,
    callback_status: Option<u16>,
    callback_done: bool,
    /// A main-frame document that could not be loaded: its URL and Chromium's error.
    failure: Option<(Url, String)>,
    /// A request the guard stopped (and the origins allowed, for the message).
    pub refused: Option<(Refusal, String)>,
}

impl Watch {
    pub fn new(start: &Url, callback: &Url) -> Self {
        Self {
            app: start.origin(),
            callback: callback.clone(),
            main_frame: None,
            documents: 0,
            requests: 0,
            last_network: Instant::now(),
            in_flight: HashMap::new(),
            finished_early: HashSet::new(),
            loads_started: 0,
            loads_stopped: 0,
            main_documents: HashMap::new(),
            provider: None,
            callback_request: None,
            callback_status: None,
            callback_done: false,
            failure: None,
            refused: None,
        }
    }

    /// The main frame is loading a document.
    pub fn loading(&self) -> bool {
        self.loads_started > self.loads_stopped
    }

    /// Requests in flight, not counting those older than `stuck`.
    pub fn in_flight(&self, stuck: Duration) -> usize {
        self.in_flight
            .values()
            .filter(|started| started.elapsed() < stuck)
            .count()
    }

    /// The browser is on its way to the app's callback.
    pub fn callback_started(&self) -> bool {
        self.callback_request.is_some()
    }

    /// The end of the sign-in, once it is known: the callback loaded (its HTTP status), or a
    /// page that could not be loaded.
    pub fn ended(&self) -> Option<Result<u16, SignInError>> {
        if self.callback_done {
            return Some(Ok(self.callback_status.unwrap_or(0)));
        }
        if let Some((refusal, allowed)) = &self.refused {
            return Some(Err(SignInError::Confined {
                refusal: refusal.clone(),
                allowed: allowed.clone(),
            }));
        }
        self.failure.as_ref().map(|(url, error)| {
            Err(SignInError::Unreachable {
                url: shown(url),
                detail: error.clone(),
            })
        })
    }

    fn started(&mut self, e: &EventRequestWillBeSent) {
        let id = e.request_id.inner();
        self.requests += 1;
        self.last_network = Instant::now();
        if !self.finished_early.remove(id) {
            self.in_flight.insert(id.clone(), Instant::now());
        }
        let main = e.r#type == Some(ResourceType::Document)
            && e.frame_id.as_ref().map(|f| f.inner()) == self.main_frame.as_ref();
        if !main {
            return;
        }
        let Ok(url) = Url::parse(&e.request.url) else {
            return;
        };
        self.documents += 1;
        if self.provider.is_none() && url.origin() != self.app {
            self.provider = Some(url.origin());
        }
        if is_callback(&self.callback, &url) {
            self.callback_request = Some(id.clone());
        }
        self.main_documents.insert(id.clone(), url);
    }

    fn ended_request(&mut self, id: &str) {
        self.last_network = Instant::now();
        if self.in_flight.remove(id).is_none() {
            self.finished_early.insert(id.to_owned());
        }
        if self.callback_request.as_deref() == Some(id) {
            self.callback_done = true;
        }
    }

    fn failed(&mut self, e: &EventLoadingFailed) {
        let id = e.request_id.inner();
        self.ended_request(id);
        // Canceled and aborted loads are navigations replaced by others (or downloads).
        if e.canceled == Some(true) || e.error_text == "net::ERR_ABORTED" {
            return;
        }
        if let Some(url) = self.main_documents.get(id) {
            self.failure = Some((url.clone(), e.error_text.clone()));
        }
    }

    fn answered(&mut self, e: &EventResponseReceived) {
        if self.callback_request.as_deref() == Some(e.request_id.inner().as_str()) {
            self.callback_status = u16::try_from(e.response.status).ok();
        }
    }
}

/// Starts the tasks that feed `watch` from the tab's events.
pub(super) async fn spawn(
    tab: &Tab,
    watch: &Arc<Mutex<Watch>>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, CdpError> {
    let lock = |w: &Arc<Mutex<Watch>>| w.clone();
    let mut tasks = Vec::new();

    let mut started = tab.event_listener::<EventRequestWillBeSent>().await?;
    let w = lock(watch);
    tasks.push(tokio::spawn(async move {
        while let Some(e) = started.next().await {
            w.lock().expect("watch").started(&e);
        }
    }));

    let mut finished = tab.event_listener::<EventLoadingFinished>().await?;
    let w = lock(watch);
    tasks.push(tokio::spawn(async move {
        while let Some(e) = finished.next().await {
            w.lock().expect("watch").ended_request(e.request_id.inner());
        }
    }));

    let mut failed = tab.event_listener::<EventLoadingFailed>().await?;
    let w = lock(watch);
    tasks.push(tokio::spawn(async move {
        while let Some(e) = failed.next().await {
            w.lock().expect("watch").failed(&e);
        }
    }));

    let mut answered = tab.event_listener::<EventResponseReceived>().await?;
    let w = lock(watch);
    tasks.push(tokio::spawn(async move {
        while let Some(e) = answered.next().await {
            w.lock().expect("watch").answered(&e);
        }
    }));

    let mut loading = tab.event_listener::<EventFrameStartedLoading>().await?;
    let w = lock(watch);
    tasks.push(tokio::spawn(async move {
        while let Some(e) = loading.next().await {
            let mut w = w.lock().expect("watch");
            if w.main_frame.as_ref() == Some(e.frame_id.inner()) {
                w.loads_started += 1;
            }
        }
    }));

    let mut loaded = tab.event_listener::<EventFrameStoppedLoading>().await?;
    let w = lock(watch);
    tasks.push(tokio::spawn(async move {
        while let Some(e) = loaded.next().await {
            let mut w = w.lock().expect("watch");
            if w.main_frame.as_ref() == Some(e.frame_id.inner()) {
                w.loads_stopped += 1;
            }
        }
    }));
    Ok(tasks)
}
