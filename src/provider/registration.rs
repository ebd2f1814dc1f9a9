//! Dynamic client registration (RFC 7591): the request for this app's redirect URI, the
//! response read (only printable client IDs and secrets), and a client saved by an earlier
//! run taken up again.

use oauth2::{ClientSecret, RedirectUrl};
use serde_json::Value;
use url::Url;

use super::Provider;
use super::calls::{CallError, oauth_error};
use super::http::{HttpError, Recording};
use crate::oauth::AuthMethod;

/// A client the provider registered for this app. The secret's `Debug` is redacted.
#[derive(Debug)]
pub struct Registered {
    pub client_id: String,
    pub client_secret: Option<ClientSecret>,
    pub auth_method: AuthMethod,
    /// The `token_endpoint_auth_method` asked for.
    pub asked: AuthMethod,
    /// The response's `token_endpoint_auth_method`, as sent.
    pub returned: Option<String>,
}

impl Provider {
    /// RFC 7591 dynamic client registration for this app's redirect URI: a public client
    /// (PKCE, `none`) or a confidential one. On success the provider uses the new client.
    pub async fn register(
        &mut self,
        redirect: &RedirectUrl,
        confidential: bool,
    ) -> Result<Registered, CallError> {
        let Some(endpoint) = self.registration_endpoint.clone() else {
            return Err(CallError::NotAdvertised("registration_endpoint"));
        };
        let method = if confidential {
            AuthMethod::ClientSecretPost
        } else {
            AuthMethod::None
        };
        let http = Recording::new(self.http());
        let response = http
            .send(registration_request(&endpoint, redirect, method)?)
            .await?;
        let (mut registered, stated) = read_registration(&response)?;
        registered.asked = method;
        self.client_id = oauth2::ClientId::new(registered.client_id.clone());
        self.client_secret = registered.client_secret.clone();
        self.auth_method = registered.auth_method;
        self.registration = Some(crate::config::registered::Registration {
            asked: method,
            returned: registered.returned.clone(),
            saved: None,
            reused: false,
        });
        // The provider chose the method it registered; only a guessed one is worth a warning.
        if !stated {
            self.warn_if_auth_method_unlisted();
        }
        Ok(registered)
    }

    /// Uses a client registered by an earlier run, as saved.
    pub fn use_saved_client(&mut self, saved: crate::config::registered::SavedClient) {
        self.client_id = oauth2::ClientId::new(saved.client_id);
        self.client_secret = saved.client_secret;
        self.auth_method = saved.auth_method;
        self.registration = Some(saved.registration);
    }
}

/// The client metadata for this app's redirect URI (RFC 7591 section 2), as a POST.
fn registration_request(
    endpoint: &Url,
    redirect: &RedirectUrl,
    method: AuthMethod,
) -> Result<oauth2::HttpRequest, HttpError> {
    let loopback = crate::oauth::is_loopback_host(redirect.url());
    let metadata = serde_json::json!({
        "client_name": "oauth-test-client",
        "redirect_uris": [redirect.as_str()],
        // OpenID Connect Registration 1.0 section 2: loopback redirects are native apps.
        "application_type": if loopback { "native" } else { "web" },
        "token_endpoint_auth_method": method.name(),
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        // No `scope` (optional, RFC 7591 section 2): servers refuse scopes they do not
        // list, such as an API's, and leaving it out lets the client ask for any.
    });
    oauth2::http::Request::builder()
        .method("POST")
        .uri(endpoint.as_str())
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(serde_json::to_vec(&metadata).unwrap_or_default())
        .map_err(|e| HttpError::invalid_request(endpoint.as_str(), e))
}

/// The client a registration response describes (RFC 7591 section 3.2), and whether it
/// states the authentication method (else `client_secret_basic` with a secret, RFC 7591
/// section 2).
fn read_registration(response: &oauth2::HttpResponse) -> Result<(Registered, bool), CallError> {
    let field = "registration_endpoint";
    if !response.status().is_success() {
        return Err(oauth_error(field, response));
    }
    if let Some(e) = CallError::not_json(field, response) {
        return Err(e);
    }
    let refused = |detail: &str| CallError::Status {
        status: response.status().as_u16(),
        detail: Some(detail.to_owned()),
    };
    let body: Value = serde_json::from_slice(response.body()).unwrap_or_default();
    let Some(client_id) = body.get("client_id").and_then(Value::as_str) else {
        return Err(refused(
            "the registration response has no client_id (RFC 7591 section 3.2.1)",
        ));
    };
    let secret = body.get("client_secret").and_then(Value::as_str);
    // RFC 6749 appendix A.1, A.2: both are printable ASCII. Anything else (a newline) would
    // forge lines on stderr and in the saved .env file.
    if client_id.is_empty() || !is_vschar(client_id) || secret.is_some_and(|s| !is_vschar(s)) {
        return Err(refused(
            "the registration response's client_id or client_secret is empty or not \
             printable ASCII (RFC 6749 appendix A.1, A.2): refused",
        ));
    }
    let stated = body
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        .and_then(AuthMethod::parse);
    let auth_method = stated.unwrap_or(if secret.is_some() {
        AuthMethod::ClientSecretBasic
    } else {
        AuthMethod::None
    });
    let registered = Registered {
        client_id: client_id.to_owned(),
        client_secret: secret.map(|s| ClientSecret::new(s.to_owned())),
        auth_method,
        asked: auth_method,
        returned: body
            .get("token_endpoint_auth_method")
            .and_then(Value::as_str)
            .filter(|m| is_vschar(m))
            .map(str::to_owned),
    };
    Ok((registered, stated.is_some()))
}

/// `*VSCHAR`: %x20-7E (RFC 6749 appendix A).
pub(super) fn is_vschar(s: &str) -> bool {
    s.bytes().all(|b| (0x20..=0x7e).contains(&b))
}
