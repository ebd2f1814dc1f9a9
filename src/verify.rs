//! Checks of what the provider returned, one named row each: discovery's issuer, the
//! authorization response's `iss`, the token response, the ID token (OpenID Connect Core
//! 3.1.3.7), a JWT access token and, with `--dpop`, the token's key binding. Pure but for
//! the signing keys, which come through the `keys::KeySource` this layer declares, and one
//! introspection call when an opaque DPoP token's `cnf.jkt` can be read no other way.

pub mod client_metadata;
pub mod dpop;
pub mod id_jag;
pub mod id_token;
pub mod keys;
pub mod token_response;

use serde_json::Value;

use crate::oauth::time::now;
use crate::oauth::{Check, Grant, Report, TokenKind};
use crate::provider::{EndpointSource, Provider, TokenSet};

/// Everything checked after a code exchange: discovery, the authorization response's `iss`,
/// the token response, the ID token, and a JWT access token.
pub async fn sign_in(
    provider: &Provider,
    tokens: &TokenSet,
    nonce: Option<&str>,
    requested: &[String],
    response_iss: Option<&str>,
    quirks: &[String],
) -> Report {
    let mut report = discovery_report(provider);
    report.checks.push(match response_iss {
        Some(_) => Check::pass("authorization_response.iss", "equals the issuer (RFC 9207)"),
        None => Check::pass(
            "authorization_response.iss",
            "absent; the provider does not advertise authorization_response_iss_parameter_supported",
        ),
    });
    token_checks(provider, tokens, nonce, requested, quirks, &mut report).await;
    report
}

/// A report that starts with discovery: the issuer check and each metadata warning.
fn discovery_report(provider: &Provider) -> Report {
    let mut report = Report::default();
    report.checks.push(discovery_check(provider));
    report.checks.extend(
        provider
            .metadata_warnings
            .iter()
            .map(|w| Check::warn("discovery.metadata", w.to_string())),
    );
    report
}

/// Everything checked after a grant with no authorization response (RFC 8628's device
/// grant, RFC 6749 section 4.4's client credentials): discovery, the token response, the ID
/// token (no nonce: the device grant has none to send), and a JWT access token.
pub async fn grant(
    provider: &Provider,
    tokens: &TokenSet,
    grant: Grant,
    requested: &[String],
    quirks: &[String],
) -> Report {
    let mut report = discovery_report(provider);
    if grant == Grant::ClientCredentials {
        report.checks.push(match &tokens.refresh_token {
            Some(_) => Check::warn(
                "token.refresh_token",
                "a refresh token came with the client credentials grant, which RFC 6749 section \
                 4.4.3 says SHOULD NOT be included: the client can ask for a new token instead",
            ),
            None => Check::pass(
                "token.refresh_token",
                "none, as RFC 6749 section 4.4.3 expects for client credentials",
            ),
        });
        if tokens.id_token.is_some() {
            report.checks.push(Check::warn(
                "token.id_token",
                "an ID token came with the client credentials grant, where no user signed in",
            ));
        }
    }
    token_checks(provider, tokens, None, requested, quirks, &mut report).await;
    report
}

/// The token response, the quirks met reading it, the ID token, a JWT access token.
async fn token_checks(
    provider: &Provider,
    tokens: &TokenSet,
    nonce: Option<&str>,
    requested: &[String],
    quirks: &[String],
    report: &mut Report,
) {
    report
        .checks
        .extend(token_response::checks(&tokens.raw, requested));
    // How the response bent RFC 6749 (read anyway): warnings, each named.
    report.checks.extend(
        quirks
            .iter()
            .map(|q| Check::warn("provider.quirk", q.clone())),
    );
    let now = now();
    if let Some(id_token) = &tokens.id_token {
        let expected = id_token::Expected {
            issuer: &provider.issuer,
            client_id: provider.client_id(),
            client_secret: provider.client_secret(),
            nonce,
            access_token: Some(tokens.access_token.secret()),
            signing_algs: provider.id_token_signing_algs.as_deref(),
            sub: None,
            now,
        };
        let outcome = id_token::verify(id_token.secret(), &expected, provider).await;
        report.checks.extend(outcome.checks);
        report.id_token_claims = outcome.claims;
        report.verified_sub = outcome.valid_sub;
    }
    access_token_checks(provider, tokens.access_token.secret(), report).await;
    if let Some(key) = provider.dpop() {
        dpop_checks(provider, key.thumbprint(), tokens, report).await;
    }
}

/// With `--dpop`: `token_type` must be DPoP (in place of the bearer rule), and the token's
/// `cnf.jkt`, from the JWT or else from introspection, this run's key.
async fn dpop_checks(provider: &Provider, jkt: &str, tokens: &TokenSet, report: &mut Report) {
    let token_type = dpop::token_type(&tokens.raw);
    match report
        .checks
        .iter_mut()
        .find(|c| c.check == "token.token_type")
    {
        Some(row) => *row = token_type,
        None => report.checks.push(token_type),
    }
    if let Some(claims) = &report.access_token_claims {
        let check = dpop::binding(jkt, dpop::Confirmation::Jwt(claims));
        report.checks.push(check);
        return;
    }
    if provider.endpoints.introspection.is_none() {
        report.checks.push(dpop::binding(
            jkt,
            dpop::Confirmation::Unavailable("the provider offers no introspection".into()),
        ));
        return;
    }
    let call = provider
        .introspect(tokens.access_token.secret(), TokenKind::Access)
        .await;
    report.checks.push(match &call.result {
        Ok(answer) if answer.body.get("active") == Some(&Value::Bool(true)) => {
            dpop::binding(jkt, dpop::Confirmation::Introspection(&answer.body))
        }
        Ok(_) => dpop::binding(
            jkt,
            dpop::Confirmation::Unavailable("introspection says it is not active".into()),
        ),
        Err(e) => dpop::binding(
            jkt,
            dpop::Confirmation::Unavailable(format!("introspection failed: {e}")),
        ),
    });
}

/// After a refresh that returned an ID token: the same rules, no nonce, the same `sub`.
pub async fn refreshed_id_token(
    provider: &Provider,
    tokens: &TokenSet,
    original_sub: Option<&str>,
) -> Vec<Check> {
    let Some(id_token) = &tokens.id_token else {
        return Vec::new();
    };
    let expected = id_token::Expected {
        issuer: &provider.issuer,
        client_id: provider.client_id(),
        client_secret: provider.client_secret(),
        nonce: None,
        access_token: Some(tokens.access_token.secret()),
        signing_algs: provider.id_token_signing_algs.as_deref(),
        sub: original_sub,
        now: now(),
    };
    id_token::verify(id_token.secret(), &expected, provider)
        .await
        .checks
}

fn discovery_check(provider: &Provider) -> Check {
    match &provider.source {
        EndpointSource::Manual => Check::pass(
            "discovery.issuer",
            "not applicable: the endpoints were given by hand, without discovery",
        ),
        EndpointSource::ClerkFixedPaths => Check::warn(
            "discovery.issuer",
            "no metadata to check: discovery was unreachable and Clerk's fixed paths are in use",
        ),
        EndpointSource::Discovery { .. } if provider.issuer == provider.configured_issuer => {
            Check::pass(
                "discovery.issuer",
                "the metadata's issuer equals the configured issuer",
            )
        }
        EndpointSource::Discovery { .. } => Check::warn(
            "discovery.issuer",
            format!(
                "the metadata's issuer {:?} differs from the configured {:?} by a trailing slash",
                provider.issuer, provider.configured_issuer
            ),
        ),
    }
}

/// RFC 9068 access tokens are JWTs: decode them, and verify those the provider issued.
async fn access_token_checks(provider: &Provider, token: &str, report: &mut Report) {
    let Ok(jws) = id_token::Jws::parse(token) else {
        return; // Opaque: nothing to decode.
    };
    let iss = jws
        .claims
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if iss.as_deref() == Some(provider.issuer.as_str()) && provider.endpoints.jwks.is_none() {
        // The access token is for the resource server (RFC 9068 section 4); without a
        // jwks_uri the client has nothing to check it with, and needs nothing.
        report.checks.push(Check::warn(
            "access_token.signature",
            "a JWT from the provider, but its metadata has no jwks_uri: not verified (the \
             resource server verifies it, RFC 9068 section 4)",
        ));
    } else if iss.as_deref() == Some(provider.issuer.as_str()) {
        let expected = id_token::Expected {
            issuer: &provider.issuer,
            client_id: provider.client_id(),
            client_secret: None,
            nonce: None,
            access_token: None,
            signing_algs: None,
            sub: None,
            now: now(),
        };
        report.checks.push(
            id_token::signature("access_token.signature", token, &jws, &expected, provider).await,
        );
    } else {
        report.checks.push(Check::warn(
            "access_token.signature",
            format!("a JWT from issuer {iss:?}, not the provider's: not verified"),
        ));
    }
    report.access_token_claims = Some(jws.claims);
}
