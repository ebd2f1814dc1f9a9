//! The redirect URI's route: the authorization response checked (state once, from the browser
//! that started the flow; `iss`; the provider's error), the code redeemed, every check run, and
//! the result page, JSON, or the end of a `--once` run.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use oauth2::{AuthorizationCode, PkceCodeVerifier};
use serde_json::Value;

use super::error::{Failure, FlowError};
use super::login::BROWSER_COOKIE;
use super::{action_links, flow_failure, page, wants_json};
use crate::oauth::Report;
use crate::provider::TokenSet;
use crate::state::{AppState, Outcome, Redeemed};
use crate::verify;
use crate::web::templates::{Expiry, Field, ResultPage};

/// The longest callback query read; real ones are a few hundred bytes.
pub const MAX_QUERY_BYTES: usize = 8 * 1024;

/// The authorization response parameters (RFC 6749 sections 4.1.2 and 4.1.2.1, RFC 9207).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub error_uri: Option<String>,
    pub iss: Option<String>,
}

impl CallbackParams {
    /// Parses a query string; a repeated parameter is refused (RFC 6749 section 3.1), and
    /// unknown ones are ignored.
    pub fn parse(query: &str) -> Result<Self, String> {
        if query.len() > MAX_QUERY_BYTES {
            return Err(format!(
                "the callback query is longer than {MAX_QUERY_BYTES} bytes"
            ));
        }
        let mut p = Self::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "state" => &mut p.state,
                "code" => &mut p.code,
                "error" => &mut p.error,
                "error_description" => &mut p.error_description,
                "error_uri" => &mut p.error_uri,
                "iss" => &mut p.iss,
                _ => continue,
            };
            if slot.is_some() {
                return Err(format!(
                    "the callback repeats the `{name}` parameter, which RFC 6749 section 3.1 forbids"
                ));
            }
            *slot = Some(value.into_owned());
        }
        Ok(p)
    }
}

/// The redirect target: checks state (once, from the browser that started the flow), `iss`,
/// the provider's error, then redeems the code.
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Failure> {
    let browser = req.cookie(BROWSER_COOKIE);
    match finish(
        req.query_string(),
        browser.as_ref().map(|c| c.value()),
        &state,
    )
    .await
    {
        Ok(Some((tokens, report))) => Ok(success(&req, &state, tokens, report)),
        Ok(None) => Ok(HttpResponse::Ok().json(serde_json::json!({
            "audit": "the authorization code was kept for a probe, not redeemed"
        }))),
        Err(e) => Err(flow_failure(&req, &state, e)),
    }
}

/// The tokens and their checks; `None` when `--audit` asked to keep the code instead.
async fn finish(
    query: &str,
    browser: Option<&str>,
    state: &AppState,
) -> Result<Option<(TokenSet, Report)>, FlowError> {
    let params = CallbackParams::parse(query).map_err(FlowError::BadQuery)?;
    let flow = state.flows.take(params.state.as_deref(), browser)?;
    log::info!("flow {}: callback received", flow.id);
    // RFC 9207 section 2.4: checked on error responses too.
    let iss = state.provider.check_response_iss(params.iss.as_deref());
    if let Some(error) = params.error {
        return Err(match iss {
            Ok(()) => FlowError::Authorization {
                error,
                description: params.error_description,
                uri: params.error_uri,
            },
            Err(iss) => FlowError::UnverifiedError {
                iss,
                error,
                description: params.error_description,
                uri: params.error_uri,
            },
        });
    }
    iss?;
    let code = params
        .code
        .filter(|c| !c.is_empty())
        .ok_or(FlowError::MissingCode)?;
    if state.take_hold() {
        log::info!("flow {}: code kept for an audit probe", flow.id);
        state.finish(Outcome::CodeHeld(Redeemed {
            code: AuthorizationCode::new(code),
            verifier: flow.verifier,
            response_headers: None,
        }));
        return Ok(None);
    }
    // --audit redeems the same code again (RFC 6749 section 10.5): a copy is kept.
    let kept = state.audit.then(|| {
        (
            AuthorizationCode::new(code.clone()),
            PkceCodeVerifier::new(flow.verifier.secret().clone()),
        )
    });
    let call = state
        .provider
        .exchange_code(AuthorizationCode::new(code), flow.verifier, &state.redirect)
        .await;
    let quirks = call.quirks;
    if let Some((code, verifier)) = kept {
        state.keep_redeemed(Redeemed {
            code,
            verifier,
            response_headers: call
                .exchange
                .as_ref()
                .and_then(|e| e.response.as_ref())
                .map(|r| r.headers.clone()),
        });
    }
    let tokens = call.result?;
    log::info!(
        "flow {}: tokens received (fields: {})",
        flow.id,
        tokens.field_names()
    );
    let requested: Vec<String> = flow.scopes.iter().map(|s| s.as_str().to_owned()).collect();
    let report = verify::sign_in(
        &state.provider,
        &tokens,
        flow.nonce.as_deref(),
        &requested,
        params.iss.as_deref(),
        &quirks,
    )
    .await;
    for check in report.failed() {
        log::warn!(
            "flow {}: check {} failed: {}",
            flow.id,
            check.check,
            check.detail
        );
    }
    Ok(Some((tokens, report)))
}

fn success(req: &HttpRequest, state: &AppState, tokens: TokenSet, report: Report) -> HttpResponse {
    let json = Value::Object(tokens.raw.clone());
    state.signed_in(&tokens, report.verified_sub.clone());
    // Only this browser sees the tokens on `/` and uses them in the actions from now on.
    let holder = super::holder::hand_over(state);
    // With --once, run() prints one document at the end (token, or token and steps).
    if state.once.is_none() {
        state.output.json(&json);
    }
    // --audit: the probes run before this last sign-in, shown with its checks.
    let audited = state.audit_checks();
    let mut response = if wants_json(req) {
        HttpResponse::Ok().json(&json)
    } else {
        page(
            StatusCode::OK,
            &ResultPage {
                client_id: state.provider.client_id().to_owned(),
                fields: token_fields(&tokens),
                token_json: serde_json::to_string_pretty(&json).unwrap_or_default(),
                actions: action_links(state),
                checks: [report.checks.clone(), audited.clone()].concat(),
                failed: report.failed().len()
                    + audited
                        .iter()
                        .filter(|c| c.result == crate::oauth::Verdict::Fail)
                        .count(),
                warnings: report.warnings()
                    + audited
                        .iter()
                        .filter(|c| c.result == crate::oauth::Verdict::Warn)
                        .count(),
                id_token_claims: claim_rows(report.id_token_claims.as_ref()),
                access_token_claims: claim_rows(report.access_token_claims.as_ref()),
            },
        )
    };
    if let Err(e) = response.add_cookie(&holder) {
        log::error!("the session cookie could not be set: {e}");
    }
    state.finish(Outcome::SignedIn {
        token: json,
        report,
    });
    response
}

/// Claims as rows; times as numbers and as UTC dates.
fn claim_rows(claims: Option<&serde_json::Map<String, Value>>) -> Vec<(String, String)> {
    let Some(claims) = claims else {
        return Vec::new();
    };
    claims
        .iter()
        .map(|(k, v)| {
            let shown = match (k.as_str(), v) {
                ("exp" | "iat" | "nbf" | "auth_time", Value::Number(_)) => {
                    crate::oauth::time::epoch_seconds(v).unwrap_or_else(|| v.to_string())
                }
                (_, Value::String(s)) => s.clone(),
                (_, other) => other.to_string(),
            };
            (k.clone(), shown)
        })
        .collect()
}

/// The fields a person looks for first, tokens shortened with a copy button; the whole JSON
/// is shown below them.
fn token_fields(tokens: &TokenSet) -> Vec<Field> {
    let raw = &tokens.raw;
    let text = |k: &str| match raw.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => "(not sent)".to_owned(),
    };
    let plain = |name: &str| Field {
        name: name.to_owned(),
        value: text(name),
        copy: None,
        expiry: None,
    };
    let token = |name: &str| match raw.get(name) {
        Some(Value::String(t)) if !t.is_empty() => Field {
            name: name.to_owned(),
            value: crate::web::templates::preview(t),
            copy: Some(t.clone()),
            expiry: None,
        },
        _ => Field {
            name: name.to_owned(),
            value: "(not issued)".to_owned(),
            copy: None,
            expiry: None,
        },
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    vec![
        plain("token_type"),
        Field {
            expiry: expires_in(raw.get("expires_in")).map(|secs| Expiry::from_now(now, secs)),
            ..plain("expires_in")
        },
        plain("scope"),
        token("access_token"),
        token("refresh_token"),
        token("id_token"),
    ]
}

/// `expires_in` as seconds: a number, or a numeric string (which a check warns about).
fn expires_in(value: Option<&Value>) -> Option<u64> {
    crate::oauth::time::ExpiresIn::read(value?).secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_success_and_an_error_response() {
        let p = CallbackParams::parse("code=abc&state=xyz&iss=https%3A%2F%2Fidp.example&extra=1")
            .unwrap();
        assert_eq!(p.code.as_deref(), Some("abc"));
        assert_eq!(p.state.as_deref(), Some("xyz"));
        assert_eq!(p.iss.as_deref(), Some("https://idp.example"));
        let p =
            CallbackParams::parse("error=access_denied&error_description=End-User+aborted&state=s")
                .unwrap();
        assert_eq!(p.error.as_deref(), Some("access_denied"));
        assert_eq!(p.error_description.as_deref(), Some("End-User aborted"));
        assert_eq!(
            CallbackParams::parse("").unwrap(),
            CallbackParams::default()
        );
    }

    #[test]
    fn expires_in_as_a_number_or_a_numeric_string() {
        assert_eq!(expires_in(Some(&serde_json::json!(3600))), Some(3600));
        assert_eq!(expires_in(Some(&serde_json::json!("120"))), Some(120));
        assert_eq!(expires_in(Some(&serde_json::json!("soon"))), None);
        assert_eq!(expires_in(Some(&serde_json::json!(-5))), None);
        assert_eq!(expires_in(None), None);
    }

    #[test]
    fn refuses_repeats_and_oversized_queries() {
        assert!(
            CallbackParams::parse("state=a&state=b")
                .unwrap_err()
                .contains("`state`")
        );
        assert!(CallbackParams::parse("code=a&code=a").is_err());
        assert!(CallbackParams::parse(&"x".repeat(MAX_QUERY_BYTES + 1)).is_err());
    }
}
