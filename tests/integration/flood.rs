//! A flood (bounded, loopback only, stops by itself): 100,000 `/login` requests and 100,000
//! forged callbacks from concurrent clients. The app answers every one, its memory stays
//! under a stated bound, and a real sign-in works right after.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::binary::{callback_prefix, spawn};
use crate::support::browser::{Browser, Choice};
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider};

const REQUESTS: usize = 100_000;
const CONCURRENCY: usize = 32;
/// Resident memory the app may reach under the flood: the flow store is capped at 1000
/// pending sign-ins (and 1000 remembered used states), so memory must level off.
const RSS_BOUND_KIB: u64 = 64 * 1024;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Sends `count` GETs to `url(i)` from `CONCURRENCY` workers; returns how many got `expected`.
async fn flood(
    client: &reqwest::Client,
    count: usize,
    expected: u16,
    url: impl Fn(usize) -> String + Send + Sync + 'static,
) -> usize {
    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let url = Arc::new(url);
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, next, ok, url) = (client.clone(), next.clone(), ok.clone(), url.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    if let Ok(r) = client.get(url(i)).send().await
                        && r.status().as_u16() == expected
                    {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    ok.load(Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_logins_and_forged_callbacks_is_answered_in_bounded_memory() {
    let provider = LocalProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(
        &["--no-browser", "--port", "0"],
        &[
            ("OAUTH_ISSUER", &provider.issuer),
            ("CLIENT_ID", CONFIDENTIAL_ID),
            ("CLIENT_SECRET", CONFIDENTIAL_SECRET),
            ("RUST_LOG", "error"),
        ],
        dir.path(),
    );
    let sign_in = running.sign_in_url();
    let base = sign_in.trim_end_matches("/login").to_owned();
    let port: u16 = base.rsplit(':').next().unwrap().parse().unwrap();
    let client = reqwest::Client::builder()
        // The app's own name (its /login sends other names there), without a lookup each time.
        .resolve("localhost", ([127, 0, 0, 1], port).into())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    assert_eq!(
        client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let idle = rss_kib(running.pid());

    let login = format!("{base}/login");
    let answered = flood(&client, REQUESTS, 302, move |_| login.clone()).await;
    assert_eq!(answered, REQUESTS, "every /login answered with a redirect");
    let callback = format!("{base}/oauth_callback");
    let answered = flood(&client, REQUESTS, 400, move |i| {
        format!("{callback}?state=forged-{i}&code=x")
    })
    .await;
    assert_eq!(answered, REQUESTS, "every forged callback refused with 400");
    let after = rss_kib(running.pid());
    eprintln!(
        "flood: RSS idle {idle} KiB, after 200,000 requests {after} KiB (bound {RSS_BOUND_KIB} KiB)"
    );
    assert!(
        after < RSS_BOUND_KIB,
        "RSS {after} KiB over the bound {RSS_BOUND_KIB} KiB (idle {idle} KiB)"
    );
    assert!(
        after <= 2 * idle,
        "RSS after the flood {after} KiB is more than twice idle {idle} KiB"
    );

    // A real person still gets through.
    let browser = Browser::new();
    let callback = browser
        .authorize(&sign_in, &callback_prefix(&sign_in), "wes", Choice::Approve)
        .await;
    let (status, json) = browser.callback_json(&callback).await;
    assert_eq!(status, 200, "{json}");
    let _ = std::process::Command::new("kill")
        .arg(running.pid().to_string())
        .status();
    let _ = running.finish(Duration::from_secs(30));
}
