//! The index page's Configuration table: the settings in use, in words, one row each, and
//! the optional ones only when they are set (no MCP revision without an MCP server, no
//! assertion audience without a JWT assertion, no `false` rows). Made once at start.

use std::net::SocketAddr;

use serde_json::Value;

use crate::config::{Config, IdpEndpoint, SignIn};
use crate::oauth::AuthMethod;
use crate::provider::Provider;
use crate::signin::OneTimeCode;

/// One row: what the setting is, and its value in words.
pub type Setting = (&'static str, String);

/// The rows for the index page, in the order a person reads a setup.
pub fn rows(config: &Config, provider: &Provider, addrs: &[SocketAddr]) -> Vec<Setting> {
    let mut rows: Vec<Setting> = vec![("Client ID", provider.client_id().to_owned())];
    if let Some(url) = &config.client_metadata_url {
        rows.push(("Client metadata document", url.as_str().to_owned()));
    }
    rows.push(("Client authentication", client_auth(config, provider)));
    rows.push(("Flow", flow(config, provider)));
    rows.push(("Scopes", words_or_none(&config.scope_string())));
    if !config.params.is_empty() {
        let params: Vec<String> = config
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        rows.push(("Extra authorization parameters", params.join(", ")));
    }
    if let Some(key) = config.provider.clerk() {
        rows.push(("Clerk Frontend API", key.frontend_api.clone()));
    }
    let by_hand = config.endpoints.listed();
    if !by_hand.is_empty() {
        rows.push(("Endpoints given by hand", by_hand.join(", ")));
    }
    if let Some(ca) = &config.ca {
        rows.push((
            "Extra trusted CA certificates",
            ca.path.display().to_string(),
        ));
    }
    if let Some(resource) = &config.resource {
        let target = format!("{} {}", resource.method, resource.url);
        if resource.mcp {
            let revision = config.mcp_revision.as_str();
            rows.push(("MCP server", format!("{target} (MCP revision {revision})")));
        } else {
            rows.push(("Your API, called with the access token", target));
        }
    }
    if let Some(sign_in) = &config.sign_in {
        rows.push(("Signs in by itself", sign_in_words(sign_in)));
    }
    if config.once {
        rows.push(("Run", run_words(config)));
    }
    let listen: Vec<String> = addrs.iter().map(ToString::to_string).collect();
    rows.push(("Listening on", listen.join(", ")));
    rows.push((
        "HTTP timeout",
        format!("{} s per request", config.http_timeout.as_secs()),
    ));
    rows
}

/// How the client proves who it is at the token endpoint, in words.
fn client_auth(config: &Config, provider: &Provider) -> String {
    let method = provider.auth_method;
    let auth = provider.client_auth_json();
    let text = |key: &str| match &auth[key] {
        Value::String(s) => s.clone(),
        _ => String::new(),
    };
    let words = match method {
        AuthMethod::None => "none: a public client (PKCE only)".to_owned(),
        AuthMethod::ClientSecretPost => "the client secret, in the request body".to_owned(),
        AuthMethod::ClientSecretBasic => "the client secret, in HTTP Basic".to_owned(),
        AuthMethod::ClientSecretJwt => format!(
            "a JWT signed with the client secret ({}), audience {}",
            text("alg"),
            text("aud")
        ),
        AuthMethod::PrivateKeyJwt => {
            let key = config.client_key.as_ref().map_or(String::new(), |k| {
                format!(
                    " in {} ({} key, kid {})",
                    k.path.display(),
                    k.key_type().name(),
                    k.kid()
                )
            });
            format!(
                "a JWT signed with the private key{key} ({}), audience {}",
                text("alg"),
                text("aud")
            )
        }
    };
    format!("{words} ({})", method.name())
}

/// How the tokens are obtained, with what changes the requests.
fn flow(config: &Config, provider: &Provider) -> String {
    let mut words = match &config.cross_app {
        Some(cross_app) => {
            let idp = match &cross_app.idp {
                IdpEndpoint::Issuer(i) => i.as_str().to_owned(),
                IdpEndpoint::TokenUrl(u) => u.to_string(),
            };
            let client = cross_app
                .idp_client_id
                .as_ref()
                .map_or(String::new(), |c| format!(" (client {c} there)"));
            format!("cross-app access: the ID token exchanged at {idp}{client} for an ID-JAG")
        }
        None => "authorization code with PKCE (S256)".to_owned(),
    };
    if config.par || provider.require_par {
        words.push_str(", the request pushed first (PAR)");
    }
    if config.dpop {
        words.push_str(", DPoP-bound tokens");
    }
    words
}

/// `--sign-in`: driver, user, and which secrets are set (never their values).
fn sign_in_words(sign_in: &SignIn) -> String {
    let c = &sign_in.credentials;
    let code = match &c.one_time_code {
        Some(OneTimeCode::Totp(_)) => ", one-time codes from OAUTH_TEST_TOTP_SECRET",
        Some(OneTimeCode::Fixed(_)) => ", the one-time code OAUTH_TEST_CODE",
        None => "",
    };
    let mut words = format!(
        "as {} with the {} driver (password set{code}), consent: {}",
        c.username,
        c.driver.name(),
        sign_in.consent.name()
    );
    if let Some(dir) = &sign_in.artifacts {
        words.push_str(&format!(", pages saved to {} on failure", dir.display()));
    }
    words
}

/// `--once` and what it adds: the steps, the audit, the time limit.
fn run_words(config: &Config) -> String {
    let mut words = format!(
        "once: ends after the first sign-in, or after {} s",
        config.timeout.as_secs()
    );
    if !config.then.is_empty() {
        let steps: Vec<String> = config.then.iter().map(|s| s.name()).collect();
        words.push_str(&format!("; then {}", steps.join(", ")));
    }
    if config.audit {
        words.push_str("; with the audit");
    }
    words
}

fn words_or_none(s: &str) -> String {
    if s.is_empty() {
        "(none)".to_owned()
    } else {
        s.to_owned()
    }
}
