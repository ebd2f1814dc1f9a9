//! `/`: the configuration in use (no secret), the provider's endpoints and where each came
//! from, the discovery chain, the last result, and the actions that apply now.

use std::time::SystemTime;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::{action_links, page};
use crate::oauth::Endpoint;
use crate::provider::{EndpointOrigin, EndpointSource};
use crate::state::{AppState, LastResult};
use crate::web::templates::{IndexPage, LastView};

/// The configuration, the provider's endpoints, a sign-in button and the last result; the
/// tokens and the actions only for the browser that signed in.
pub async fn index(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let holder = super::holder::holds_tokens(&req, &state);
    let settings = state.settings.clone();
    let provider = &state.provider;
    let mut endpoints = vec![("issuer".to_owned(), provider.issuer.clone(), String::new())];
    endpoints.extend(provider.endpoint_rows().into_iter().map(|row| {
        let from = row.origin.map(|o| o.to_string()).unwrap_or_default();
        (row.name.to_owned(), row.url, from)
    }));
    endpoints.push((
        "authorization_response_iss_parameter_supported".to_owned(),
        provider.iss_parameter_supported.to_string(),
        String::new(),
    ));
    let endpoint_source = match &provider.source {
        EndpointSource::Discovery { url } => {
            let mut documents: Vec<String> = Vec::new();
            for (_, origin) in &provider.origins {
                if let EndpointOrigin::Document(doc) = origin
                    && doc != url
                    && !documents.contains(doc)
                {
                    documents.push(doc.clone());
                }
            }
            if documents.is_empty() {
                format!("From discovery: {url}")
            } else {
                format!(
                    "From discovery: {url}, and {} for what it lacks (each endpoint's source is listed).",
                    documents.join(", ")
                )
            }
        }
        EndpointSource::Manual => {
            let by_hand: Vec<&str> = Endpoint::BY_HAND
                .iter()
                .filter_map(|e| e.env_var())
                .collect();
            format!("Given by hand ({}): no discovery.", by_hand.join(", "))
        }
        EndpointSource::ClerkFixedPaths => {
            "Discovery was unreachable: using Clerk's fixed paths.".to_owned()
        }
    };
    let warnings = provider
        .metadata_warnings
        .iter()
        .map(ToString::to_string)
        .collect();
    let last = state.last().as_ref().map(|last| match last {
        LastResult::SignedIn { at, token } if holder => LastView {
            ok: true,
            headline: format!("Signed in {}", ago(*at)),
            token_json: serde_json::to_string_pretty(token).ok(),
        },
        LastResult::SignedIn { at, .. } => LastView {
            ok: true,
            headline: format!(
                "Signed in {} in another browser: its tokens and actions are shown to that \
                 browser only (the one that completed the sign-in, at {}).",
                ago(*at),
                state.redirect.url().origin().ascii_serialization()
            ),
            token_json: None,
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
            warnings,
            last,
            actions: if holder {
                action_links(&state)
            } else {
                Vec::new()
            },
            hops: state
                .chain
                .get()
                .map(|c| c.hops.clone())
                .unwrap_or_default(),
        },
    )
}

fn ago(at: SystemTime) -> String {
    let secs = at.elapsed().map(|d| d.as_secs()).unwrap_or(0);
    format!("{secs} s ago")
}
