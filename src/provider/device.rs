//! The device authorization request (RFC 8628 section 3.1): the client asks for a device
//! code and a user code, authenticated through `ClientAuth` like every other request.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::Provider;
use super::calls::CallError;
use super::http::Recording;
use super::token::DeviceCode;
use crate::redact::untrusted;

/// RFC 8628 section 3.2: when the response omits `interval`, 5 seconds.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// The device authorization response (RFC 8628 section 3.2).
#[derive(Debug, Clone)]
pub struct DeviceAuthorization {
    pub device_code: DeviceCode,
    pub user_code: String,
    pub verification_uri: Url,
    pub verification_uri_complete: Option<Url>,
    pub expires_in: Duration,
    pub interval: Duration,
}

#[derive(Deserialize)]
struct Raw {
    device_code: String,
    user_code: String,
    // RFC 8628 names it verification_uri; Google's older endpoint verification_url.
    #[serde(alias = "verification_url")]
    verification_uri: String,
    verification_uri_complete: Option<String>,
    expires_in: u64,
    interval: Option<u64>,
}

impl Provider {
    /// Asks for a device code (RFC 8628 section 3.1) with `scope`, and `resource` (RFC 8707)
    /// and `extra` when set.
    pub async fn device_authorization(
        &self,
        scope: &str,
        extra: &[(&str, &str)],
    ) -> Result<DeviceAuthorization, CallError> {
        let field = "device_authorization_endpoint";
        let Some(endpoint) = &self.endpoints.device_authorization else {
            return Err(CallError::NotAdvertised(field));
        };
        let mut form = Vec::new();
        if !scope.is_empty() {
            form.push(("scope", scope));
        }
        if let Some(resource) = &self.resource_indicator {
            form.push(("resource", resource.as_str()));
        }
        form.extend_from_slice(extra);
        let http = Recording::new(self.http());
        let response = http
            .send(self.client_auth().form_post(endpoint, &form)?)
            .await?;
        if !response.status().is_success() {
            return Err(super::calls::oauth_error(field, &response));
        }
        if let Some(e) = CallError::not_json(field, &response) {
            return Err(e);
        }
        let status = response.status().as_u16();
        let raw: Raw = serde_json::from_slice(response.body()).map_err(|e| CallError::Status {
            status,
            detail: Some(format!(
                "the device authorization response lacks a field RFC 8628 section 3.2 requires, \
                 or has one of the wrong type ({:?} at column {})",
                e.classify(),
                e.column()
            )),
        })?;
        let uri = |name: &str, value: &str| {
            Url::parse(value).map_err(|e| CallError::Status {
                status,
                detail: Some(format!("{name} {} is not a URL: {e}", untrusted(value))),
            })
        };
        Ok(DeviceAuthorization {
            verification_uri: uri("verification_uri", &raw.verification_uri)?,
            verification_uri_complete: raw
                .verification_uri_complete
                .as_deref()
                .map(|v| uri("verification_uri_complete", v))
                .transpose()?,
            device_code: DeviceCode::new(raw.device_code),
            user_code: raw.user_code,
            expires_in: Duration::from_secs(raw.expires_in),
            interval: raw
                .interval
                .filter(|&i| i > 0)
                .map_or(DEFAULT_INTERVAL, Duration::from_secs),
        })
    }
}
