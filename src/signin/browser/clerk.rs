//! Clerk's Testing Tokens: a Clerk instance's sign-in refuses automated browsers ("Bot traffic
//! detected") unless its Frontend API requests carry `__clerk_testing_token`. With
//! CLERK_SECRET_KEY set, one token comes from the Backend API (`POST /v1/testing_tokens`,
//! <https://clerk.com/docs/guides/development/testing/overview#testing-tokens>) and is added
//! to every request the page makes to the Frontend API's `/v1/` paths, as `@clerk/testing`
//! does for Playwright; like it, a `captcha_bypass: false` in the answers becomes `true`.
//!
//! The Frontend API is the instance's OAuth server: the origin the app's `/login` led to.
//! Tested only against a local stand-in (tests/provider/provider.mjs, `clerk_testing`).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chromiumoxide::Page as Tab;
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EventRequestPaused, FulfillRequestParams, GetResponseBodyParams,
    HeaderEntry, RequestPattern, RequestStage,
};
use chromiumoxide::error::CdpError;
use reqwest::header::ACCEPT;
use serde_json::Value;
use url::Url;

use super::super::{Secret, Session, SignInError, shown};
use super::SettingsError;

/// Clerk's Backend API.
pub const DEFAULT_API: &str = "https://api.clerk.com";
/// The query parameter the Frontend API reads the token from.
const PARAM: &str = "__clerk_testing_token";
/// The longest Backend API answer read.
const MAX_ANSWER: usize = 64 * 1024;

/// CLERK_SECRET_KEY, and where the Backend API is.
#[derive(Debug, Clone)]
pub struct ClerkTesting {
    pub secret_key: Secret,
    /// CLERK_API_URL, for tests against a stand-in; [`DEFAULT_API`] otherwise.
    pub api: Url,
}

impl ClerkTesting {
    pub(super) fn from_env(
        set: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, SettingsError> {
        let Some(key) = set("CLERK_SECRET_KEY") else {
            return Ok(None);
        };
        let raw = set("CLERK_API_URL").unwrap_or_else(|| DEFAULT_API.into());
        let bad = |problem: String| SettingsError::ClerkApiUrl {
            value: raw.clone(),
            problem,
        };
        let api = Url::parse(raw.trim()).map_err(|e| bad(e.to_string()))?;
        // The secret key goes to it as a bearer token.
        crate::oauth::require_https_unless_loopback(&api).map_err(bad)?;
        Ok(Some(Self {
            secret_key: Secret::new(key.trim().to_owned()),
            api,
        }))
    }
}

/// A Testing Token from the Backend API.
pub(super) async fn testing_token(
    clerk: &ClerkTesting,
    session: &Session<'_>,
) -> Result<Secret, SignInError> {
    let api = shown(&clerk.api);
    let url = format!(
        "{}/v1/testing_tokens",
        clerk.api.as_str().trim_end_matches('/')
    );
    let fail = |detail: String| {
        let mut scrub = super::super::session::Scrub(Vec::new());
        scrub.add(clerk.secret_key.expose());
        SignInError::TestingToken(scrub.text(&detail))
    };
    let budget = session
        .left()
        .ok_or_else(|| session.timed_out(&clerk.api))?
        .min(session.limits.per_request);
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(budget)
        .build()
        .map_err(|e| SignInError::Client(e.to_string()))?;
    let mut response = client
        .post(&url)
        .bearer_auth(clerk.secret_key.expose())
        .header(ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            fail(format!(
                "POST {api}v1/testing_tokens failed: {}",
                e.without_url()
            ))
        })?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        fail(format!(
            "reading the answer of {api} failed: {}",
            e.without_url()
        ))
    })? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(fail(format!(
                "{api} answered with more than {MAX_ANSWER} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    if !status.is_success() {
        // Clerk's errors: {"errors": [{"message": ..., "long_message": ...}]}.
        let said = json
            .as_ref()
            .and_then(|j| {
                j["errors"][0]["long_message"]
                    .as_str()
                    .or(j["errors"][0]["message"].as_str())
            })
            .map(|m| format!(" ({})", m.chars().take(200).collect::<String>()))
            .unwrap_or_default();
        return Err(fail(format!(
            "Clerk's Backend API {api} answered HTTP {} to POST /v1/testing_tokens{said}: \
             check CLERK_SECRET_KEY",
            status.as_u16()
        )));
    }
    let token = json
        .as_ref()
        .and_then(|j| j["token"].as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| fail(format!("the answer of {api} has no \"token\"")))?;
    log::info!(
        "sign-in (browser): got a Clerk Testing Token from {api}; the Frontend API's requests carry it"
    );
    Ok(Secret::new(token.to_owned()))
}

/// The requests [`handle`] is for: every `/v1/` request of the tab, paused before it is sent.
pub(super) fn pattern() -> RequestPattern {
    RequestPattern {
        url_pattern: Some("*/v1/*".into()),
        resource_type: None,
        request_stage: Some(RequestStage::Request),
    }
}

/// Adds the token to a request for the Frontend API (and looks at its answer); any other
/// request goes on untouched.
pub(super) async fn handle(
    tab: &Tab,
    event: &EventRequestPaused,
    token: &Secret,
    frontend: Option<url::Origin>,
) -> Result<(), CdpError> {
    let url = Url::parse(&event.request.url).ok();
    let for_frontend = url
        .as_ref()
        .is_some_and(|u| Some(u.origin()) == frontend && u.path().starts_with("/v1/"));
    let at_response = event.response_status_code.is_some() || event.response_error_reason.is_some();
    let mut next = ContinueRequestParams::new(event.request_id.clone());
    if !for_frontend {
        tab.execute(next).await?;
        return Ok(());
    }
    if !at_response {
        let mut url = url.expect("checked above");
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != PARAM)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(pairs)
            .append_pair(PARAM, token.expose());
        next.url = Some(url.into());
        next.intercept_response = Some(true);
        tab.execute(next).await?;
        return Ok(());
    }
    match bypassed(tab, event).await {
        Some(fulfil) => tab.execute(fulfil).await.map(|_| ()),
        None => tab.execute(next).await.map(|_| ()),
    }
}

/// The answer with `captcha_bypass: false` made `true` (in `response` for `/v1/client`, in
/// `client` when piggybacked on another answer), as `@clerk/testing` does; `None` when there
/// is nothing to change.
async fn bypassed(tab: &Tab, event: &EventRequestPaused) -> Option<FulfillRequestParams> {
    let status = event.response_status_code?;
    let body = tokio::time::timeout(
        Duration::from_secs(10),
        tab.execute(GetResponseBodyParams::new(event.request_id.clone())),
    )
    .await
    .ok()?
    .ok()?
    .result;
    let bytes = if body.base64_encoded {
        STANDARD.decode(body.body).ok()?
    } else {
        body.body.into_bytes()
    };
    let mut json: Value = serde_json::from_slice(&bytes).ok()?;
    let mut changed = false;
    for key in ["response", "client"] {
        if json[key]["captcha_bypass"] == Value::Bool(false) {
            json[key]["captcha_bypass"] = Value::Bool(true);
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    let headers: Vec<HeaderEntry> = event
        .response_headers
        .iter()
        .flatten()
        .filter(|h| {
            !h.name.eq_ignore_ascii_case("content-length")
                && !h.name.eq_ignore_ascii_case("content-encoding")
        })
        .cloned()
        .collect();
    let mut fulfil = FulfillRequestParams::new(event.request_id.clone(), status);
    fulfil.response_headers = Some(headers);
    fulfil.body = Some(STANDARD.encode(json.to_string()).into());
    Some(fulfil)
}
