//! Cross-app access (MCP "Enterprise-Managed Authorization", SEP-990) with `--once`: no
//! browser and no callback. The IdP's ID token becomes an ID-JAG at the IdP (RFC 8693), the
//! ID-JAG an access token at the authorization server (RFC 7523), and the token is used as a
//! sign-in's would be: the MCP handshake (or one call to the API), then the report.

use oauth2::AccessToken;
use serde_json::{Value, json};

use super::mcp::mcp_check_with;
use super::report::finish_report;
use crate::config::{Config, IdpEndpoint};
use crate::error::RunError;
use crate::oauth::time::now;
use crate::oauth::{Check, ExitStatus, Report};
use crate::provider::token_exchange::{CrossAppError, IdJagRequest};
use crate::startup::Application;
use crate::state::AppState;
use crate::verify;

/// The flow, after `Application::build` has discovered the resource and the authorization
/// server (the pinned-issuer rule included) and chosen the client authentication.
pub(super) async fn run(app: Application) -> Result<ExitStatus, RunError> {
    let config = app.config();
    let state = app.state();
    let Some(cross) = config.cross_app.as_ref() else {
        return Err(RunError::Unsupported(
            "cross-app access needs OAUTH_IDP_ID_TOKEN".into(),
        ));
    };
    if config.sign_in.is_some() {
        log::info!("cross-app access: no sign-in, so --sign-in is not used");
    }
    let output = &state.output;
    output.hold_secret(cross.subject_token.secret());
    let provider = &state.provider;
    let resource = config
        .params
        .iter()
        .find(|(k, _)| k == "resource")
        .map(|(_, v)| v.clone())
        .or_else(|| provider.resource_indicator.clone())
        .or_else(|| config.resource.as_ref().map(|r| r.url.to_string()))
        .unwrap_or_default();
    let scope = config.scope_string();
    let scope = (!scope.is_empty()).then_some(scope.as_str());
    let mut checks = Vec::new();

    let endpoint = match &cross.idp {
        IdpEndpoint::Issuer(issuer) => provider.idp_token_endpoint(issuer).await,
        IdpEndpoint::TokenUrl(url) => Ok(url.clone()),
    };
    let endpoint = match endpoint {
        Ok(url) => url,
        Err(e) => return Err(failed(&state, &config, checks, &e)),
    };
    log::info!("cross-app access: exchanging the ID token for an ID-JAG at {endpoint} (RFC 8693)");
    let request = IdJagRequest {
        subject_token: cross.subject_token.secret(),
        audience: &provider.issuer,
        resource: &resource,
        client_id: cross.idp_client_id.as_deref(),
        scope,
    };
    let jag = match provider.exchange_for_id_jag(&endpoint, &request).await {
        Ok(jag) => jag,
        Err(e) => return Err(failed(&state, &config, checks, &e)),
    };
    output.hold_secret(&jag.assertion);
    let expected = verify::id_jag::Expected {
        audience: &provider.issuer,
        client_id: provider.client_id(),
        resource: &resource,
        now: now(),
    };
    let (jag_checks, claims) =
        verify::id_jag::checks(&jag.assertion, jag.issued_token_type.as_deref(), &expected);
    checks.extend(jag_checks);
    log::info!(
        "cross-app access: the ID-JAG as a JWT-bearer grant at {} (RFC 7523)",
        provider.endpoints.token.url()
    );
    let token = match provider
        .jwt_bearer_grant(&jag.assertion, scope, Some(&resource))
        .await
    {
        Ok(token) => token,
        Err(e) => return Err(failed(&state, &config, checks, &e)),
    };
    let requested: Vec<String> = config
        .scopes
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    checks.extend(verify::token_response::checks(&token, &requested));
    let access = token
        .get("access_token")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    output.hold_secret(&access);
    let report = Report {
        checks,
        id_jag_claims: claims.map(Box::new),
        ..Report::default()
    };
    let mcp_server = config.resource.as_ref().is_some_and(|r| r.mcp);
    let mcp = match mcp_server {
        true => mcp_check_with(&state, &config, Some(&access)).await,
        false => None,
    };
    let mut report = report;
    if !mcp_server && let Some(api) = config.resource.as_ref() {
        report
            .checks
            .push(call_api(&state, api, &AccessToken::new(access)).await);
    }
    finish_report(
        &state,
        &config,
        state.chain.get(),
        Value::Object(token),
        report,
        mcp,
    )
    .await
}

/// A plain API as RESOURCE_URL: one call with the token.
async fn call_api(state: &AppState, api: &crate::config::Resource, token: &AccessToken) -> Check {
    let call = state
        .provider
        .call_resource(&api.url, &api.method, token)
        .await;
    match call.result {
        Ok(answer) => Check::pass(
            "resource.accepts_token",
            format!("HTTP {} with the access token", answer.status),
        ),
        Err(e) => Check::fail("resource.accepts_token", e.to_string()),
    }
}

/// A failed call: the document `--once` prints (the server's own `error` and
/// `error_description`, the step, and with `--report` the discovery and checks so far), and
/// the error `main` prints (exit 1).
fn failed(
    state: &AppState,
    config: &Config,
    checks: Vec<Check>,
    error: &CrossAppError,
) -> RunError {
    let (code, description) = error.provider_detail();
    let mut document = json!({
        "error": code.unwrap_or("cross_app_failed"),
        "error_description": description,
        "error_uri": null,
        "step": error.step().name(),
        "message": error.to_string(),
    });
    if config.report {
        let chain = state.chain.get();
        let mut all: Vec<Check> = chain.map(|c| c.checks.clone()).unwrap_or_default();
        all.extend(checks);
        document["discovery"] = json!(chain.map(|c| &c.hops));
        document["checks"] = json!(all);
    }
    state.output.json(&document);
    RunError::Flow(error.to_string())
}
