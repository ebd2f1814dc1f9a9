//! What the MCP conformance suite's authorization-server scenarios check
//! (`authorization-server-metadata-endpoint`, `authorization-code-grant`), so that `--audit`
//! finds at least as much: the metadata document as served (RFC 8414), whether it offers
//! Client ID Metadata Documents, and the token response's `content-type` (RFC 6749 §5.1).

use serde_json::Value;

use crate::oauth::Check;
use crate::provider::probe::MetadataAnswer;
use crate::redact::untrusted;
use crate::state::{AppState, Redeemed};

const METADATA: &str = "audit.metadata_document";
const METADATA_SOURCE: &str = "RFC 8414 §2, §3.2, §3.3";
const CIMD: &str = "audit.metadata_cimd";
const CIMD_SOURCE: &str =
    "MCP 2025-11-25 authorization; draft-ietf-oauth-client-id-metadata-document";
const CONTENT_TYPE: &str = "audit.token_content_type";
const CONTENT_TYPE_SOURCE: &str = "RFC 6749 §5.1";

/// The metadata document (RFC 8414 first, then OpenID Connect's), and what it says of
/// Client ID Metadata Documents.
pub async fn metadata(state: &AppState) -> [Check; 2] {
    match state.provider.metadata_as_served().await {
        Ok(answer) => [
            document(&answer, &state.provider.configured_issuer),
            cimd(answer.body.as_ref()),
        ],
        Err(e) => [
            Check::fail(METADATA, format!("no metadata document could be read: {e}"))
                .source(METADATA_SOURCE),
            Check::not_run(CIMD, "no metadata document").source(CIMD_SOURCE),
        ],
    }
}

/// RFC 8414 §3.2: 200, JSON; §2: the fields a code-flow client needs; §3.3: the issuer is
/// the one asked about.
fn document(answer: &MetadataAnswer, issuer: &str) -> Check {
    let mut problems = Vec::new();
    if answer.status != 200 {
        problems.push(format!("HTTP {}", answer.status));
    }
    let json = answer
        .content_type
        .as_deref()
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("application/json"));
    if !json {
        problems.push(format!(
            "content-type {} (not application/json)",
            untrusted(answer.content_type.as_deref().unwrap_or("(none)"))
        ));
    }
    match &answer.body {
        None => problems.push("the body is not a JSON object".into()),
        Some(body) => problems.extend(body_problems(body, issuer)),
    }
    let check = if problems.is_empty() {
        Check::pass(
            METADATA,
            format!(
                "{}: issuer, endpoints, response_types_supported with `code`, \
                 code_challenge_methods_supported with S256",
                answer.url
            ),
        )
    } else {
        Check::fail(METADATA, format!("{}: {}", answer.url, problems.join("; ")))
    };
    check.source(METADATA_SOURCE)
}

fn body_problems(body: &Value, issuer: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for field in ["authorization_endpoint", "token_endpoint"] {
        if body
            .get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            problems.push(format!("no {field}"));
        }
    }
    let lists = |field: &str, value: &str| {
        body.get(field)
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v == value))
    };
    if !lists("response_types_supported", "code") {
        problems.push("response_types_supported lacks `code`".into());
    }
    if !lists("code_challenge_methods_supported", "S256") {
        problems.push("code_challenge_methods_supported lacks S256 (or is missing)".into());
    }
    match body.get("issuer").and_then(Value::as_str) {
        Some(i) if i == issuer => {}
        Some(i) => problems.push(format!("issuer {:?} is not {issuer:?}", untrusted(i))),
        None => problems.push("no issuer".into()),
    }
    problems
}

/// MCP 2025-11-25: an authorization server SHOULD offer Client ID Metadata Documents (a
/// warning, as the suite gives; it matters to MCP clients only).
fn cimd(body: Option<&Value>) -> Check {
    let value = body.and_then(|b| b.get("client_id_metadata_document_supported"));
    let check = match value {
        Some(Value::Bool(true)) => Check::pass(CIMD, "client_id_metadata_document_supported: true"),
        Some(other) => Check::warn(
            CIMD,
            format!(
                "client_id_metadata_document_supported is {other}: MCP clients (2025-11-25) \
                 cannot use a URL as their client ID here"
            ),
        ),
        None => Check::warn(
            CIMD,
            "the metadata does not include client_id_metadata_document_supported: MCP clients \
             (2025-11-25) cannot use a URL as their client ID here (outside MCP, nothing is \
             missing)",
        ),
    };
    check.source(CIMD_SOURCE)
}

/// RFC 6749 §5.1: the token response is `application/json`.
pub fn token_content_type(redeemed: Option<&Redeemed>) -> Check {
    let Some(headers) = redeemed.and_then(|r| r.response_headers.as_ref()) else {
        return Check::not_run(
            CONTENT_TYPE,
            "the token response's headers were not recorded",
        )
        .source(CONTENT_TYPE_SOURCE);
    };
    let content_type = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str());
    let check = match content_type {
        Some(ct) if ct.to_ascii_lowercase().contains("application/json") => {
            Check::pass(CONTENT_TYPE, format!("content-type: {}", untrusted(ct)))
        }
        Some(ct) => Check::fail(
            CONTENT_TYPE,
            format!("content-type: {} (not application/json)", untrusted(ct)),
        ),
        None => Check::fail(CONTENT_TYPE, "the token response has no content-type"),
    };
    check.source(CONTENT_TYPE_SOURCE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_metadata_document_is_judged_as_the_suite_judges_it() {
        let issuer = "http://127.0.0.1:4000";
        let good = json!({
            "issuer": issuer,
            "authorization_endpoint": "http://127.0.0.1:4000/a",
            "token_endpoint": "http://127.0.0.1:4000/t",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
        });
        assert!(body_problems(&good, issuer).is_empty());
        let mut bad = good.clone();
        bad["code_challenge_methods_supported"] = json!(["plain"]);
        bad["issuer"] = json!("http://127.0.0.1:4000/");
        let problems = body_problems(&bad, issuer);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(cimd(Some(&good)).result, crate::oauth::Verdict::Warn);
    }
}
