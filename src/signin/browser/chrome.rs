//! Chromium itself: launched headless with its own profile folder (removed after), one tab,
//! the DevTools connection, and closed (or killed) at the end.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chromiumoxide::{Browser, BrowserConfig, Page as Tab};
use futures::StreamExt;
use tracing::instrument::WithSubscriber;

use super::super::{Session, SignInError, Target};
use super::watch::Watch;
use super::{BrowserSettings, COMMAND, cdp_failed};

/// A running Chromium with one tab, and what its events tell.
pub(super) struct Chrome {
    pub(super) browser: Browser,
    pub(super) tab: Tab,
    pub(super) watch: Arc<Mutex<Watch>>,
    pub(super) tasks: Vec<tokio::task::JoinHandle<()>>,
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

impl Chrome {
    pub(super) async fn launch(
        settings: &BrowserSettings,
        target: &Target,
        session: &Session<'_>,
        token: Option<super::super::Secret>,
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
            ])
            // Cookies bound to the port and scheme that set them (Chromium's origin-bound
            // cookies): the app's flow-binding cookie goes to the app's origin only, never to
            // another port of the same host.
            .arg((
                "enable-features",
                &["EnablePortBoundCookies", "EnableSchemeBoundCookies"][..],
            ));
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
