//! The workload's own JWT for `--grant jwt_bearer`, fetched where the platform hands it out:
//! GitHub Actions' OIDC token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL` with `audience`,
//! authenticated by `ACTIONS_ID_TOKEN_REQUEST_TOKEN`; the answer is `{"value": "<JWT>"}`).
//! Both the request token and the JWT are secrets: no message quotes either.

use serde_json::Value;
use url::Url;

use super::http::{HttpClient, HttpError};
use crate::redact::untrusted;

/// Why no workload JWT came.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("the GitHub Actions OIDC token could not be fetched: {0}")]
    Http(#[from] HttpError),
    #[error(
        "GitHub Actions' OIDC token endpoint {} answered HTTP {status}: {} (does the job have \
         `permissions: id-token: write`?)",
        untrusted(.url),
        untrusted(.first_line)
    )]
    Refused {
        url: String,
        status: u16,
        first_line: String,
    },
    #[error(
        "GitHub Actions' OIDC token endpoint {} answered without a JWT in `value`",
        untrusted(.url)
    )]
    NoToken { url: String },
}

/// The OIDC token GitHub Actions issues to this job, for `audience`.
pub async fn github_actions_token(
    http: &HttpClient,
    url: &Url,
    request_token: &str,
    audience: &str,
) -> Result<String, WorkloadError> {
    let mut url = url.clone();
    url.query_pairs_mut().append_pair("audience", audience);
    // Where the runner said, without the query (it names the run, not a secret, but is long).
    let shown = {
        let mut u = url.clone();
        u.set_query(None);
        u.to_string()
    };
    // Through `execute`: no redirect followed, the body bounded, the time limited.
    let request = oauth2::http::Request::builder()
        .method("GET")
        .uri(url.as_str())
        .header("authorization", format!("Bearer {request_token}"))
        .header("accept", "application/json")
        .body(Vec::new())
        .map_err(|e| HttpError::invalid_request(&shown, e))?;
    let response = http.execute(request).await?;
    let status = response.status().as_u16();
    let body = response.body();
    if !(200..300).contains(&status) {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
        return Err(WorkloadError::Refused {
            url: shown,
            status,
            first_line: text.lines().next().unwrap_or_default().to_owned(),
        });
    }
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("value").and_then(Value::as_str).map(str::to_owned))
        .filter(|jwt| jwt.split('.').count() == 3)
        .ok_or(WorkloadError::NoToken { url: shown })
}
