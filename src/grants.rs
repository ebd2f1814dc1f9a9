//! The grants without a callback, each one command like `--once`: client credentials
//! (RFC 6749 section 4.4), the JWT-bearer grant with the workload's own JWT (RFC 7523
//! section 2.1, workload identity federation) and the device authorization grant (RFC 8628: a user code shown on
//! stderr, the token endpoint polled, and with `--sign-in` the driver completing the
//! verification page). Each ends in an `Outcome`, as a callback does, so `run` reports the
//! checks and `--then` steps the same way.

use std::future::Future;
use std::time::Duration;

use actix_web::web;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::config::{Config, WorkloadAssertion};
use crate::oauth::Grant;
use crate::provider::calls::CallError;
use crate::provider::device::DeviceAuthorization;
use crate::provider::refusal::token_refusal_hint;
use crate::provider::token::TokenCall;
use crate::provider::workload;
use crate::provider::{DeviceCode, Provider, TokenError};
use crate::redact::untrusted;
use crate::signin;
use crate::state::{AppState, Outcome};
use crate::verify;

/// RFC 8628 section 3.5: `slow_down` adds 5 seconds to the polling interval, for this and
/// every later request.
pub const SLOW_DOWN: Duration = Duration::from_secs(5);

/// The client credentials grant: one token request, its checks.
pub async fn client_credentials(state: &AppState, config: &Config) -> Outcome {
    let extra = extra_params(config);
    let call = state
        .provider
        .client_credentials(&config.scope_string(), &extra)
        .await;
    tokens_outcome(state, config, Grant::ClientCredentials, call, "token").await
}

/// The JWT-bearer grant (`--grant jwt_bearer`): the workload's JWT (from its file, or
/// fetched from GitHub Actions' OIDC endpoint for the authorization server's issuer unless
/// OAUTH_WORKLOAD_AUDIENCE names another audience) as the assertion; one token request, no
/// retry with another grant on a refusal.
pub async fn jwt_bearer(state: &AppState, config: &Config) -> Outcome {
    let assertion = match &config.workload {
        Some(WorkloadAssertion::File { jwt, .. }) => jwt.secret().to_owned(),
        Some(WorkloadAssertion::GithubActions {
            url,
            request_token,
            audience,
        }) => {
            state.output.hold_secret(request_token.secret());
            let audience = audience.as_deref().unwrap_or(&state.provider.issuer);
            match workload::github_actions_token(
                state.provider.http(),
                url,
                request_token.secret(),
                audience,
            )
            .await
            {
                Ok(jwt) => jwt,
                Err(e) => {
                    return Outcome::Failed {
                        document: json!({
                            "error": "workload_token_unavailable",
                            "step": "workload_token",
                            "message": e.to_string(),
                        }),
                        reason: e.to_string(),
                    };
                }
            }
        }
        None => {
            return Outcome::Failed {
                document: json!({ "error": "no_workload_assertion", "step": "token" }),
                reason: "--grant jwt_bearer without a workload assertion".into(),
            };
        }
    };
    state.output.hold_secret(&assertion);
    let extra = extra_params(config);
    let call = state
        .provider
        .jwt_bearer(
            &assertion,
            &config.scope_string(),
            state.provider.resource_indicator.as_deref(),
            &extra,
        )
        .await;
    tokens_outcome(state, config, Grant::JwtBearer, call, "token").await
}

/// The device grant: the device authorization request, the user code on stderr, then the
/// token endpoint polled until the user approves or denies, the code expires, or (`None`)
/// the run's `--timeout` passes.
pub async fn device(state: web::Data<AppState>, config: &Config) -> Option<Outcome> {
    let extra = extra_params(config);
    let authorization = match state
        .provider
        .device_authorization(&config.scope_string(), &extra)
        .await
    {
        Ok(a) => a,
        Err(e) => return Some(call_failure(&e, "device_authorization")),
    };
    announce(&authorization);
    let driver = match &config.sign_in {
        Some(sign_in) => match start_sign_in(sign_in, config, &state, &authorization) {
            Ok(driver) => Some(driver),
            Err(e) => {
                return Some(Outcome::Failed {
                    reason: e.to_string(),
                    document: e.to_json(),
                });
            }
        },
        None => None,
    };
    let provider = &state.provider;
    let code = authorization.device_code.clone();
    let polled = poll(authorization.interval, || ask(provider, &code));
    tokio::pin!(polled);
    let timeout = tokio::time::sleep(config.timeout);
    tokio::pin!(timeout);
    let mut driver_running = driver.is_some();
    // Without --sign-in, a channel that never answers (the branch is disabled anyway).
    let mut driver = driver.unwrap_or_else(|| oneshot::channel().1);
    let mut driver_failed = None;
    // After the driver stops on a page it cannot act on (the provider's "you may close this
    // window" page, say), the next poll decides: tokens, a refusal, or the driver's error.
    let grace = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            call = &mut polled => {
                return Some(match call {
                    Ok(call) => tokens_outcome(&state, config, Grant::Device, call, "device_token").await,
                    Err(e) => token_failure(&e, "device_token"),
                });
            }
            ended = &mut driver, if driver_running => {
                driver_running = false;
                if let Ok(Err(e)) = ended {
                    log::info!("sign-in: the driver stopped ({e}); polling once more");
                    grace.as_mut().reset(tokio::time::Instant::now() + authorization.interval * 2 + Duration::from_secs(1));
                    driver_failed = Some(e);
                }
            }
            () = &mut grace, if driver_failed.is_some() => {
                if let Some(e) = driver_failed.take() {
                    return Some(Outcome::Failed { reason: e.to_string(), document: e.to_json() });
                }
            }
            () = &mut timeout => return None,
        }
    }
}

/// What one poll of the token endpoint said (RFC 8628 section 3.5).
pub enum Poll<T, E> {
    Done(Result<T, E>),
    /// `authorization_pending`: ask again after the interval.
    Pending,
    /// `slow_down`: ask again after the interval grown by 5 s.
    SlowDown,
}

/// Asks at `interval` until an answer other than pending; each `slow_down` adds 5 s to the
/// interval (RFC 8628 section 3.5). The clock is tokio's, so tests run it paused.
pub async fn poll<T, E, F, Fut>(mut interval: Duration, mut ask: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Poll<T, E>>,
{
    loop {
        tokio::time::sleep(interval).await;
        match ask().await {
            Poll::Done(result) => return result,
            Poll::Pending => log::debug!("device grant: authorization_pending"),
            Poll::SlowDown => {
                interval += SLOW_DOWN;
                log::info!(
                    "device grant: the provider said slow_down; polling every {} s from now on",
                    interval.as_secs()
                );
            }
        }
    }
}

async fn ask(provider: &Provider, code: &DeviceCode) -> Poll<TokenCall, TokenError> {
    let call = provider.device_token(code).await;
    match call.result {
        Ok(tokens) => Poll::Done(Ok(TokenCall {
            result: Ok(tokens),
            ..call
        })),
        Err(TokenError::Provider { ref error, .. }) if error == "authorization_pending" => {
            Poll::Pending
        }
        Err(TokenError::Provider { ref error, .. }) if error == "slow_down" => Poll::SlowDown,
        Err(e) => Poll::Done(Err(e)),
    }
}

/// The user code and where to enter it, on stderr (RFC 8628 section 3.3).
fn announce(a: &DeviceAuthorization) {
    eprintln!(
        "To sign in, open {} and enter the code {}",
        untrusted(a.verification_uri.as_str()),
        untrusted(&a.user_code)
    );
    if let Some(complete) = &a.verification_uri_complete {
        eprintln!(
            "(or open {}, which carries the code)",
            untrusted(complete.as_str())
        );
    }
    log::info!(
        "device grant: the code expires in {} s; polling the token endpoint every {} s",
        a.expires_in.as_secs(),
        a.interval.as_secs()
    );
}

/// The origins that may receive the test user's credentials: the authorization endpoint's,
/// and those `sign_in` adds (OAUTH_SIGN_IN_ORIGINS, Clerk's Account Portal).
pub fn credential_origins(
    state: &AppState,
    sign_in: &crate::config::SignIn,
    also: Option<url::Origin>,
) -> signin::CredentialOrigins {
    signin::CredentialOrigins::new(
        state.provider.endpoints.authorization.url(),
        sign_in.origins.iter().cloned().chain(also),
    )
}

/// `--sign-in`: the driver starts at `verification_uri_complete` (the code already in it)
/// and answers the provider's pages (the code's confirmation, sign-in, consent). Both
/// verification URIs must be https (or loopback http) on the issuer's, the authorization
/// endpoint's or an allowed origin: a provider cannot send the driver (and the saved page)
/// to a local file or another site.
fn start_sign_in(
    sign_in: &crate::config::SignIn,
    config: &Config,
    state: &AppState,
    authorization: &DeviceAuthorization,
) -> Result<oneshot::Receiver<Result<signin::Finished, signin::SignInError>>, signin::SignInError> {
    let issuer = url::Url::parse(&state.provider.issuer)
        .ok()
        .map(|u| u.origin());
    let origins = credential_origins(state, sign_in, issuer);
    let uris = [
        (Some(&authorization.verification_uri), "verification_uri"),
        (
            authorization.verification_uri_complete.as_ref(),
            "verification_uri_complete",
        ),
    ];
    for (uri, what) in uris {
        if let Some(uri) = uri {
            origins
                .check_open(uri, what)
                .map_err(|refusal| signin::SignInError::Confined {
                    refusal,
                    allowed: origins.list(),
                })?;
        }
    }
    let start = authorization
        .verification_uri_complete
        .clone()
        .unwrap_or_else(|| authorization.verification_uri.clone());
    let target = signin::Target {
        origins,
        start,
        // No redirect comes back in the device grant: the app's (unserved) callback never
        // matches, and the driver ends on the provider's last page.
        callback: state.redirect.url().clone(),
        root_certificates: config.ca.as_ref().map(|c| c.pem.clone()),
        artifacts: sign_in.artifacts.clone(),
        ends_on_provider_page: true,
    };
    let limits = signin::Limits::within(config.timeout, config.http_timeout);
    let (credentials, consent) = (sign_in.credentials.clone(), sign_in.consent);
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let _ = tx.send(signin::sign_in(target, &credentials, consent, &limits).await);
    });
    Ok(rx)
}

/// `--param` pairs but `resource` (sent once, as the provider's resource indicator).
fn extra_params(config: &Config) -> Vec<(&str, &str)> {
    config
        .params
        .iter()
        .filter(|(k, _)| k != "resource")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// Tokens received: checked, kept for `--then`; or the provider's refusal.
async fn tokens_outcome(
    state: &AppState,
    config: &Config,
    grant: Grant,
    call: TokenCall,
    step: &str,
) -> Outcome {
    let tokens = match call.result {
        Ok(tokens) => tokens,
        Err(e) => {
            let mut failed = token_failure(&e, step);
            if let (true, Outcome::Failed { document, .. }) =
                (e.refused_without_error(), &mut failed)
            {
                // No user, so no default scope from a sign-in: client credentials and the
                // JWT-bearer grant alike (RFC 6749 section 3.3).
                let without_user = grant.without_user();
                document["hint"] = token_refusal_hint(without_user, &config.scope_string()).into();
            }
            return failed;
        }
    };
    log::info!(
        "{} grant: tokens received (fields: {})",
        grant.name(),
        tokens.field_names()
    );
    let requested: Vec<String> = config
        .scopes
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    let report = verify::grant(&state.provider, &tokens, grant, &requested, &call.quirks).await;
    for check in report.failed() {
        log::warn!("check {} failed: {}", check.check, check.detail);
    }
    state.signed_in(&tokens, report.verified_sub.clone());
    Outcome::SignedIn {
        token: Value::Object(tokens.raw),
        report,
    }
}

fn token_failure(e: &TokenError, step: &str) -> Outcome {
    let (error, description, uri) = match e {
        TokenError::Provider {
            error,
            description,
            uri,
            ..
        } => (error.clone(), description.clone(), uri.clone()),
        _ => ("token_request_failed".to_owned(), None, None),
    };
    let hint = hint(&error);
    let reason = match error.as_str() {
        "access_denied" => format!("the user denied the device authorization: {e}"),
        "expired_token" => {
            format!("the device code expired before the user completed the verification page: {e}")
        }
        _ => e.to_string(),
    };
    Outcome::Failed {
        document: json!({
            "error": error,
            "error_description": description,
            "error_uri": uri,
            "step": step,
            "message": reason,
            "hint": hint,
        }),
        reason,
    }
}

fn call_failure(e: &CallError, step: &str) -> Outcome {
    let (error, description) = match e {
        CallError::Refused {
            error, description, ..
        } => (error.clone(), description.clone()),
        CallError::NotAdvertised(_) => ("device_flow_not_offered".to_owned(), None),
        _ => ("device_authorization_failed".to_owned(), None),
    };
    Outcome::Failed {
        document: json!({
            "error": error,
            "error_description": description,
            "error_uri": null,
            "step": step,
            "message": e.to_string(),
            "hint": hint(&error),
        }),
        reason: e.to_string(),
    }
}

/// What to try, for the errors these grants meet.
fn hint(error: &str) -> Option<&'static str> {
    Some(match error {
        "access_denied" => {
            "The user declined at the verification page (or --consent deny did): approve it to get tokens."
        }
        "expired_token" => {
            "Start again and complete the verification page within the code's expires_in."
        }
        "unauthorized_client" => {
            "Allow the grant for this client at the provider (grant types client_credentials or \
             urn:ietf:params:oauth:grant-type:device_code)."
        }
        "invalid_client" => {
            "Check CLIENT_ID, CLIENT_SECRET and OAUTH_AUTH_METHOD: the provider did not \
             authenticate the client."
        }
        "invalid_scope" => {
            "A scope in OAUTH_SCOPES is not allowed for this client and grant: remove it, or allow \
             it at the provider."
        }
        "invalid_target" => {
            "The provider does not know the resource (RESOURCE_URL or --param resource=): register \
             the API at the provider, or name it as the provider does."
        }
        "device_flow_not_offered" => {
            "The provider's metadata lists no device_authorization_endpoint: enable the device flow \
             for the client, or set OAUTH_DEVICE_AUTHORIZATION_URL."
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::time::Instant;

    #[tokio::test(start_paused = true)]
    async fn slow_down_adds_five_seconds_to_this_and_every_later_interval() {
        let start = Instant::now();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let mut answers = vec![
            Poll::Pending,
            Poll::SlowDown,
            Poll::Pending,
            Poll::SlowDown,
            Poll::Done(Ok::<_, ()>("tokens")),
        ]
        .into_iter();
        let seen = asked.clone();
        let got = poll(Duration::from_secs(1), || {
            seen.lock().unwrap().push(start.elapsed().as_secs());
            let answer = answers.next().unwrap();
            async move { answer }
        })
        .await;
        assert_eq!(got, Ok("tokens"));
        // 1 s, then 1 s, then 6 s (slow_down), 6 s, then 11 s.
        assert_eq!(*asked.lock().unwrap(), [1, 2, 8, 14, 25]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_ends_the_polling_at_once() {
        let got: Result<(), &str> = poll(Duration::from_secs(5), || async {
            Poll::Done(Err("access_denied"))
        })
        .await;
        assert_eq!(got, Err("access_denied"));
    }

    #[test]
    fn each_device_error_has_its_own_message_and_hint() {
        for (error, words) in [("access_denied", "denied"), ("expired_token", "expired")] {
            let e = TokenError::Provider {
                status: 400,
                error: error.into(),
                description: Some("said the provider".into()),
                uri: None,
            };
            let Outcome::Failed { reason, document } = token_failure(&e, "device_token") else {
                panic!("a failure");
            };
            assert!(reason.contains(words), "{reason}");
            assert_eq!(document["error"], error);
            assert_eq!(document["error_description"], "said the provider");
            assert_eq!(document["step"], "device_token");
            assert!(document["hint"].is_string());
        }
    }
}
