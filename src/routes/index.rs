use std::time::SystemTime;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::Value;

use super::{action_links, page};
use crate::provider::EndpointSource;
use crate::state::{AppState, LastResult};
use crate::templates::{IndexPage, LastView};

/// The configuration, the provider's endpoints, a sign-in button and the last result.
pub async fn index(state: web::Data<AppState>) -> HttpResponse {
    let settings = state
        .summary
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), display(v)))
                .collect()
        })
        .unwrap_or_default();
    let provider = &state.provider;
    let e = &provider.endpoints;
    let mut endpoints = vec![
        ("issuer".to_owned(), provider.issuer.clone()),
        (
            "authorization_endpoint".to_owned(),
            e.authorization.to_string(),
        ),
        ("token_endpoint".to_owned(), e.token.to_string()),
    ];
    let optional = [
        (
            "userinfo_endpoint",
            e.userinfo.as_ref().map(|u| u.to_string()),
        ),
        (
            "introspection_endpoint",
            e.introspection.as_ref().map(|u| u.to_string()),
        ),
        (
            "revocation_endpoint",
            e.revocation.as_ref().map(|u| u.to_string()),
        ),
        ("jwks_uri", e.jwks.as_ref().map(|u| u.to_string())),
    ];
    endpoints.extend(
        optional
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_owned(), v?))),
    );
    endpoints.push((
        "authorization_response_iss_parameter_supported".to_owned(),
        provider.iss_parameter_supported.to_string(),
    ));
    let endpoint_source = match &provider.source {
        EndpointSource::Discovery { url } => format!("From discovery: {url}"),
        EndpointSource::Manual => {
            "Given by hand (OAUTH_AUTHORIZE_URL, OAUTH_TOKEN_URL, ...): no discovery.".to_owned()
        }
        EndpointSource::ClerkFixedPaths => {
            "Discovery was unreachable: using Clerk's fixed paths.".to_owned()
        }
    };
    let last = state.last().as_ref().map(|last| match last {
        LastResult::SignedIn { at, token } => LastView {
            ok: true,
            headline: format!("Signed in {}", ago(*at)),
            token_json: serde_json::to_string_pretty(token).ok(),
        },
        LastResult::Failed { at, message } => LastView {
            ok: false,
            headline: format!("Failed {}: {message}", ago(*at)),
            token_json: None,
        },
    });
    page(
        StatusCode::OK,
        &IndexPage {
            issuer: provider.issuer.clone(),
            redirect_uri: state.redirect.as_str().to_owned(),
            settings,
            endpoint_source,
            endpoints,
            last,
            actions: action_links(&state),
            hops: state
                .chain
                .get()
                .map(|c| c.hops.clone())
                .unwrap_or_default(),
        },
    )
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "(none)".to_owned(),
        Value::Array(items) if items.is_empty() => "(none)".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn ago(at: SystemTime) -> String {
    let secs = at.elapsed().map(|d| d.as_secs()).unwrap_or(0);
    format!("{secs} s ago")
}
