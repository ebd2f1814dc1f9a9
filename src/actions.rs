//! What can be done with the tokens after a sign-in: refresh, userinfo, token info,
//! revocation and a call to the user's own API. Shared by the routes and `--once --then`.

use serde::Serialize;
use serde_json::Value;

use crate::oauth::{Check, Step, TokenKind, Verdict};
use crate::provider::TokenError;
use crate::provider::calls::{Answer, Call};
use crate::provider::exchange::Exchange;
use crate::state::{AppState, Session};
use crate::verify;

/// What one step did; serialised into `--once --then` output.
#[derive(Debug, Serialize)]
pub struct StepReport {
    pub step: String,
    pub ok: bool,
    pub status: Option<u16>,
    pub response: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What to try next, when the failure has a known way around it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The page's link for the hint: (href, label).
    #[serde(skip)]
    pub next: Option<(&'static str, &'static str)>,
    /// The request and response, for the page (not in the JSON: the page masks tokens, the
    /// JSON output is for machines and keeps `response` whole).
    #[serde(skip)]
    pub exchange: Option<Exchange>,
    /// Checks this step made (DPoP), added to the run's report.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
}

impl StepReport {
    fn failed(step: &Step, error: impl Into<String>) -> Self {
        Self {
            step: step.name(),
            ok: false,
            status: None,
            response: Value::Null,
            error: Some(error.into()),
            notes: Vec::new(),
            hint: None,
            next: None,
            exchange: None,
            checks: Vec::new(),
        }
    }

    /// A failed call: the provider's own JSON error body, when it sent one (RFC 6749
    /// section 5.2, RFC 6750 section 3), else nothing.
    fn call_failed(step: &Step, error: String, exchange: Option<Exchange>) -> Self {
        let response = exchange
            .as_ref()
            .and_then(|e| e.response.as_ref())
            .filter(|r| !r.truncated)
            .and_then(|r| serde_json::from_str::<Value>(&r.body).ok())
            .unwrap_or(Value::Null);
        Self {
            status: exchange
                .as_ref()
                .and_then(|e| e.response.as_ref())
                .map(|r| r.status),
            response,
            exchange,
            ..Self::failed(step, error)
        }
    }

    /// A report from a call, with a step-specific check of a successful answer.
    fn from_call(
        step: &Step,
        call: Call,
        check: impl FnOnce(&Answer) -> Result<Vec<String>, String>,
    ) -> Self {
        let status = call
            .exchange
            .as_ref()
            .and_then(|e| e.response.as_ref())
            .map(|r| r.status);
        let (ok, response, error, notes) = match call.result {
            Ok(answer) => match check(&answer) {
                Ok(notes) => (true, answer.body, None, notes),
                Err(e) => (false, answer.body, Some(e), Vec::new()),
            },
            Err(e) => return Self::call_failed(step, e.to_string(), call.exchange),
        };
        Self {
            step: step.name(),
            ok,
            status,
            response,
            error,
            notes,
            hint: None,
            next: None,
            exchange: call.exchange,
            checks: Vec::new(),
        }
    }
}

/// Nothing to act on: no sign-in has completed in this app.
#[derive(Debug)]
pub struct NotSignedIn;

/// Runs one step with the current session's tokens.
pub async fn perform(state: &AppState, step: &Step) -> Result<StepReport, NotSignedIn> {
    let tokens = state.session_tokens().ok_or(NotSignedIn)?;
    Ok(match step {
        Step::Refresh => refresh(state, step, &tokens).await,
        Step::Userinfo => userinfo(state, step, &tokens).await,
        Step::Tokeninfo(kind) => tokeninfo(state, step, &tokens, *kind).await,
        Step::Revoke(kind) => revoke(state, step, &tokens, *kind).await,
        Step::Api => api(state, step, &tokens).await,
    })
}

/// The refresh grant; a new ID token is checked like the first (same `sub`), and the new
/// tokens replace the old in the session.
async fn refresh(state: &AppState, step: &Step, tokens: &Session) -> StepReport {
    let Some(refresh_token) = &tokens.refresh_token else {
        return StepReport::failed(
            step,
            "no refresh token is held: the provider issued none at sign-in (try the offline_access \
             scope) or it was revoked",
        );
    };
    let provider = &state.provider;
    let call = provider.refresh(refresh_token).await;
    let set = match call.result {
        Ok(set) => set,
        Err(e) => {
            let revoked_with_access = tokens.access_token.is_none()
                && matches!(&e, TokenError::Provider { error, .. } if error == "invalid_grant");
            let mut report = StepReport::call_failed(step, e.to_string(), call.exchange);
            if revoked_with_access {
                report.hint = Some(
                    "The access token was revoked earlier in this run (revoke:access), and RFC \
                     7009 section 2.1 lets the provider revoke the refresh token of the same \
                     grant with it (django-oauth-toolkit does): run refresh before \
                     revoke:access, or revoke only the refresh token at the end."
                        .into(),
                );
            }
            return report;
        }
    };
    let status = call
        .exchange
        .as_ref()
        .and_then(|e| e.response.as_ref())
        .map(|r| r.status);
    let rotated = set.refresh_token.is_some();
    let response = Value::Object(set.raw.clone());
    let checks = verify::refreshed_id_token(provider, &set, tokens.id_token_sub.as_deref()).await;
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| c.result == Verdict::Fail)
        .map(|c| format!("{}: {}", c.check, c.detail))
        .collect();
    let mut notes = vec![if rotated {
        "a new refresh token came back and replaces the old one".to_owned()
    } else {
        "no new refresh token came back: the old one is kept".to_owned()
    }];
    // The same normaliser as the code exchange: name what it had to bend.
    notes.extend(call.quirks.iter().map(|q| format!("quirk: {q}")));
    if !checks.is_empty() && failed.is_empty() {
        notes.push(format!(
            "the new ID token passed all {} checks",
            checks.len()
        ));
    }
    // RFC 9449 section 5: a refreshed DPoP token is DPoP-bound too.
    let dpop_checks: Vec<Check> = provider
        .dpop()
        .map(|_| {
            let mut c = verify::dpop::token_type(&set.raw);
            c.check = "refresh.token_type".into();
            c
        })
        .into_iter()
        .collect();
    state.refreshed(set);
    StepReport {
        step: step.name(),
        ok: failed.is_empty(),
        status,
        response,
        error: (!failed.is_empty())
            .then(|| format!("the new ID token failed: {}", failed.join("; "))),
        notes,
        hint: None,
        next: None,
        exchange: call.exchange,
        checks: dpop_checks,
    }
}

/// Userinfo, whose `sub` must equal the verified ID token's.
async fn userinfo(state: &AppState, step: &Step, tokens: &Session) -> StepReport {
    let Some(access_token) = &tokens.access_token else {
        return StepReport::failed(step, "no access token is held (it was revoked)");
    };
    let call = state.provider.userinfo(access_token).await;
    StepReport::from_call(step, call, |answer| {
        let sub = answer.body.get("sub").and_then(Value::as_str);
        match (&tokens.id_token_sub, sub) {
            // OpenID Connect Core 5.3.2: the sub must match, or the response is not used.
            (Some(expected), Some(got)) if expected == got => Ok(vec![format!(
                "sub {got:?} equals the ID token's sub (OpenID Connect Core 5.3.2)"
            )]),
            (Some(expected), got) => Err(format!(
                "userinfo sub {got:?} does not equal the ID token's sub {expected:?} (OpenID Connect Core 5.3.2)"
            )),
            (None, _) => Ok(vec!["no verified ID token to compare sub with".into()]),
        }
    })
}

/// Introspection: the token must be active. A refresh token said inactive gets a hint.
async fn tokeninfo(state: &AppState, step: &Step, tokens: &Session, kind: TokenKind) -> StepReport {
    let Some(token) = tokens.get(kind) else {
        return StepReport::failed(step, format!("no {} token is held", kind.word()));
    };
    let call = state.provider.introspect(token, kind).await;
    let mut report = StepReport::from_call(step, call, |answer| match answer.body.get("active") {
        Some(Value::Bool(true)) => Ok(vec![
            "the provider says the token is active".into(),
            introspection_summary(&answer.body),
        ]),
        _ => Err("the provider says the token is not active".into()),
    });
    let inactive = report.response.get("active") == Some(&Value::Bool(false))
        || report.response.get("error").and_then(Value::as_str) == Some("unsupported_token_type");
    if !report.ok && kind == TokenKind::Refresh && inactive {
        report.hint = Some(
            "Some providers (django-oauth-toolkit among them) introspect access tokens only \
             and answer active:false for a refresh token: try the access token \
             (--then tokeninfo:access, or /tokeninfo?token=access)."
                .into(),
        );
        report.next = Some(("/tokeninfo?token=access", "Token info (access token)"));
    }
    report
}

/// Revocation; a revoked token is forgotten here.
async fn revoke(state: &AppState, step: &Step, tokens: &Session, kind: TokenKind) -> StepReport {
    let Some(token) = tokens.get(kind) else {
        return StepReport::failed(step, format!("no {} token is held", kind.word()));
    };
    let call = state.provider.revoke(token, kind).await;
    let report = StepReport::from_call(step, call, |_| {
        Ok(vec![format!(
            "the {} token was revoked and is forgotten here",
            kind.word()
        )])
    });
    if report.ok {
        state.forget(kind);
    }
    report
}

/// The user's own API, with the access token.
async fn api(state: &AppState, step: &Step, tokens: &Session) -> StepReport {
    let Some(resource) = &state.resource else {
        return StepReport::failed(
            step,
            "RESOURCE_URL is not set: give the URL of your API (--resource-url) to call it with the access token",
        );
    };
    let Some(access_token) = &tokens.access_token else {
        return StepReport::failed(step, "no access token is held (it was revoked)");
    };
    if resource.mcp {
        return mcp_step(state, step, resource, access_token.secret()).await;
    }
    let call = state
        .provider
        .call_resource(&resource.url, &resource.method, access_token)
        .await;
    let mut report = StepReport::from_call(step, call, |answer| {
        Ok(vec![format!("the API answered HTTP {}", answer.status)])
    });
    // RFC 9449 section 7.2: the API took the DPoP proof; without it, it must refuse.
    if report.ok && state.provider.dpop().is_some() {
        let bearer = state
            .provider
            .call_resource_as_bearer(&resource.url, &resource.method, access_token)
            .await;
        let status = bearer
            .exchange
            .as_ref()
            .and_then(|e| e.response.as_ref())
            .map(|r| r.status);
        let error = bearer.result.as_ref().err().map(ToString::to_string);
        let check = verify::dpop::bearer_refused(status, error.as_deref());
        report
            .notes
            .push(format!("{}: {}", check.check, check.detail));
        report.checks.push(check);
    }
    report
}

/// An MCP server as the API: the MCP check with the token (its revision detected), for the
/// page: the revision, the server, its tools, and the checks.
async fn mcp_step(
    state: &AppState,
    step: &Step,
    resource: &crate::config::Resource,
    token: &str,
) -> StepReport {
    let client = match crate::mcp::Client::new(state.http_timeout) {
        Ok(client) => client,
        Err(e) => return StepReport::failed(step, e.to_string()),
    };
    let call = resource
        .mcp_call
        .as_deref()
        .and_then(|spec| spec.parse::<crate::mcp::ToolCall>().ok());
    let answer = client
        .check_with_dpop(
            &resource.url,
            Some(token),
            call.as_ref(),
            state.provider.dpop(),
        )
        .await;
    let (ok, response, error, checks) = match answer {
        Ok(done) => (true, serde_json::json!(done), None, done.checks),
        Err(failure) => (
            false,
            failure.error.to_json(),
            Some(failure.error.to_string()),
            failure.checks,
        ),
    };
    let mut notes: Vec<String> = response
        .get("revision")
        .and_then(Value::as_str)
        .map(|r| format!("MCP revision {r}"))
        .into_iter()
        .collect();
    notes.extend(
        checks
            .iter()
            .map(|c| format!("{} ({}): {}", c.check, c.result.label(), c.detail)),
    );
    StepReport {
        step: step.name(),
        ok,
        status: None,
        response,
        error,
        notes,
        hint: None,
        next: None,
        exchange: None,
        checks,
    }
}

/// RFC 7662 section 2.2: the fields a person checks first, `exp` also as a date.
fn introspection_summary(body: &Value) -> String {
    let field = |k: &str| match body.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(v @ Value::Number(_)) if k == "exp" => {
            crate::oauth::time::epoch_seconds(v).unwrap_or_else(|| v.to_string())
        }
        Some(v) => v.to_string(),
        None => "(not given)".into(),
    };
    ["active", "scope", "sub", "client_id", "exp"]
        .iter()
        .map(|k| format!("{k}: {}", field(k)))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_round_trip() {
        for word in [
            "refresh",
            "userinfo",
            "api",
            "tokeninfo:access",
            "tokeninfo:refresh",
            "revoke:access",
        ] {
            assert_eq!(Step::parse(word).unwrap().name(), word);
        }
        assert_eq!(
            Step::parse("tokeninfo"),
            Some(Step::Tokeninfo(TokenKind::Refresh))
        );
        assert_eq!(
            Step::parse(" revoke "),
            Some(Step::Revoke(TokenKind::Refresh))
        );
        for bad in ["", "refresh:access", "tokeninfo:id", "userinfos"] {
            assert_eq!(Step::parse(bad), None, "{bad}");
        }
    }
}
