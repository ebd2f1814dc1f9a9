//! What the page script cannot see of the credential rules, enforced in Chromium's network
//! stack (the DevTools Fetch domain): a 307/308 that would repeat a form's POST (its body, the
//! credentials) to an origin not allowed is stopped before it is sent, and so is a document
//! that is not http(s). One interceptor for the tab, which also hands Clerk's Frontend API
//! requests to [`super::clerk`] when a Testing Token is in use (Fetch has one set of patterns
//! per tab).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chromiumoxide::Page as Tab;
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams, EventRequestPaused, FailRequestParams, RequestPattern,
    RequestStage,
};
use chromiumoxide::cdp::browser_protocol::network::{ErrorReason, ResourceType};
use chromiumoxide::error::CdpError;
use futures::StreamExt;
use url::Url;

use super::super::{CredentialOrigins, Refusal, Secret, is_web};
use super::clerk;
use super::watch::Watch;

/// Pauses every document request of the tab (and Clerk's, with `token`).
pub(super) async fn intercept(
    tab: &Tab,
    origins: CredentialOrigins,
    token: Option<Secret>,
    watch: Arc<Mutex<Watch>>,
) -> Result<tokio::task::JoinHandle<()>, CdpError> {
    let mut paused = tab.event_listener::<EventRequestPaused>().await?;
    let mut patterns = vec![RequestPattern {
        url_pattern: Some("*".into()),
        resource_type: Some(ResourceType::Document),
        request_stage: Some(RequestStage::Request),
    }];
    if token.is_some() {
        patterns.push(clerk::pattern());
    }
    tab.execute(EnableParams {
        patterns: Some(patterns),
        handle_auth_requests: None,
    })
    .await?;
    let tab = tab.clone();
    Ok(tokio::spawn(async move {
        // Document POSTs by interception id: where a redirect of one came from.
        let mut posts: HashMap<String, Url> = HashMap::new();
        while let Some(event) = paused.next().await {
            let document = event.resource_type == ResourceType::Document
                && event.response_status_code.is_none()
                && event.response_error_reason.is_none();
            if document {
                let refusal = judge(&event, &origins, &mut posts);
                let id = event.request_id.clone();
                let answer = match refusal {
                    Some(refusal) => {
                        log::warn!("sign-in (browser): stopped a request: {refusal:?}");
                        watch.lock().expect("watch").refused = Some((refusal, origins.list()));
                        tab.execute(FailRequestParams::new(id, ErrorReason::BlockedByClient))
                            .await
                            .map(|_| ())
                    }
                    None => tab
                        .execute(ContinueRequestParams::new(id))
                        .await
                        .map(|_| ()),
                };
                if let Err(e) = answer {
                    log::debug!("sign-in (browser): a paused document request: {e}");
                }
                continue;
            }
            let frontend = watch.lock().expect("watch").provider.clone();
            // Each on its own: a slow answer must not hold up the others.
            let (tab, token) = (tab.clone(), token.clone());
            tokio::spawn(async move {
                let id = event.request_id.clone();
                let handled = match &token {
                    Some(token) => clerk::handle(&tab, &event, token, frontend).await,
                    None => tab
                        .execute(ContinueRequestParams::new(id.clone()))
                        .await
                        .map(|_| ()),
                };
                if let Err(e) = handled {
                    log::debug!("sign-in (browser): a paused request: {e}");
                    let _ = tab.execute(ContinueRequestParams::new(id)).await;
                }
            });
        }
    }))
}

/// Why a document request must not go, if it must not.
fn judge(
    event: &EventRequestPaused,
    origins: &CredentialOrigins,
    posts: &mut HashMap<String, Url>,
) -> Option<Refusal> {
    let Ok(url) = Url::parse(&event.request.url) else {
        return None;
    };
    if !is_web(&url) {
        return Some(Refusal::Scheme {
            url: format!("{}:", url.scheme()),
        });
    }
    if !event.request.method.eq_ignore_ascii_case("POST") {
        return None;
    }
    let from = event
        .redirected_request_id
        .as_ref()
        .and_then(|r| posts.get(r.inner()).cloned());
    posts.insert(event.request_id.inner().clone(), url.clone());
    // Only a redirect that keeps the POST (307/308) repeats the body; a form's own POST was
    // checked by the shared rules before anything was typed.
    let from = from?;
    origins.check_repost(&from, &url).err()
}
