//! Cross-app access (MCP "Enterprise-Managed Authorization", SEP-990), its two calls: at the
//! enterprise IdP, the user's ID token exchanged for an ID-JAG (RFC 8693 token exchange,
//! draft-ietf-oauth-identity-assertion-authz-grant); at the authorization server, the ID-JAG
//! as a JWT-bearer authorization grant (RFC 7523 section 2.1), the client authenticated as
//! for any token request. The ID token and the ID-JAG are credentials: never in an error.

use serde_json::{Map, Value};
use url::Url;

use super::Provider;
use super::http::{HttpError, Recording};
use super::token::TokenError;
use crate::oauth::Issuer;
use crate::redact::untrusted;

pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub use super::token::JWT_BEARER;
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const ID_JAG_TYPE: &str = "urn:ietf:params:oauth:token-type:id-jag";

/// Which call of the flow failed: the `step` of the failure document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrossAppStep {
    /// The IdP's metadata, for its token endpoint.
    IdpDiscovery,
    /// RFC 8693 at the IdP.
    TokenExchange,
    /// RFC 7523 at the authorization server.
    JwtBearer,
}

impl CrossAppStep {
    pub fn name(self) -> &'static str {
        match self {
            Self::IdpDiscovery => "idp_discovery",
            Self::TokenExchange => "token_exchange",
            Self::JwtBearer => "jwt_bearer",
        }
    }

    fn server(self) -> &'static str {
        match self {
            Self::IdpDiscovery | Self::TokenExchange => "the IdP",
            Self::JwtBearer => "the authorization server",
        }
    }
}

/// Why a cross-app call gave no token.
#[derive(Debug, thiserror::Error)]
pub enum CrossAppError {
    #[error(
        "the IdP's metadata at {url} is unusable: {problem}. Check OAUTH_IDP_ISSUER, or give \
         the token endpoint itself as OAUTH_IDP_TOKEN_URL"
    )]
    IdpMetadata { url: String, problem: String },
    #[error("{step}: {source}", step = .step.name())]
    Http {
        step: CrossAppStep,
        #[source]
        source: HttpError,
    },
    #[error(
        "{server} refused the {step} request (HTTP {status}): {}{}",
        untrusted(.error),
        .description.as_deref().map(|d| format!(" ({})", untrusted(d))).unwrap_or_default(),
        server = .step.server(),
        step = .step.name(),
    )]
    Refused {
        step: CrossAppStep,
        status: u16,
        error: String,
        description: Option<String>,
    },
    #[error(
        "{server} answered the {step} request with HTTP {status} and no usable token response: {}",
        untrusted(.problem),
        server = .step.server(),
        step = .step.name(),
    )]
    Malformed {
        step: CrossAppStep,
        status: u16,
        problem: String,
    },
}

impl CrossAppError {
    pub fn step(&self) -> CrossAppStep {
        match self {
            Self::IdpMetadata { .. } => CrossAppStep::IdpDiscovery,
            Self::Http { step, .. } | Self::Refused { step, .. } | Self::Malformed { step, .. } => {
                *step
            }
        }
    }

    /// The server's own `error` and `error_description`, when it refused.
    pub fn provider_detail(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Self::Refused {
                error, description, ..
            } => (Some(error), description.as_deref()),
            _ => (None, None),
        }
    }
}

/// The RFC 8693 request at the IdP, for an ID-JAG.
#[derive(Debug)]
pub struct IdJagRequest<'a> {
    /// The IdP's ID token for the user (a credential).
    pub subject_token: &'a str,
    /// The authorization server's issuer: the ID-JAG's audience.
    pub audience: &'a str,
    /// The resource (RFC 8707) the access token is for.
    pub resource: &'a str,
    pub client_id: Option<&'a str>,
    pub scope: Option<&'a str>,
}

impl IdJagRequest<'_> {
    fn form(&self) -> Vec<(&'static str, &str)> {
        let mut form = vec![
            ("grant_type", TOKEN_EXCHANGE),
            ("requested_token_type", ID_JAG_TYPE),
            ("subject_token", self.subject_token),
            ("subject_token_type", ID_TOKEN_TYPE),
            ("audience", self.audience),
            ("resource", self.resource),
        ];
        if let Some(id) = self.client_id {
            form.push(("client_id", id));
        }
        if let Some(scope) = self.scope.filter(|s| !s.is_empty()) {
            form.push(("scope", scope));
        }
        form
    }
}

/// The IdP's answer: the ID-JAG (a credential, in `access_token`) and what else it said.
pub struct IdJag {
    pub assertion: String,
    pub issued_token_type: Option<String>,
    /// The response without the assertion, for the report.
    pub response: Map<String, Value>,
}

impl std::fmt::Debug for IdJag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdJag")
            .field("assertion", &"[redacted]")
            .field("issued_token_type", &self.issued_token_type)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// The IdP's token endpoint from its metadata: OpenID discovery, else RFC 8414; the
    /// metadata's `issuer` must be the one configured.
    pub async fn idp_token_endpoint(&self, issuer: &Issuer) -> Result<Url, CrossAppError> {
        let mut last = None;
        for url in [
            issuer.openid_configuration_url(),
            issuer.oauth_metadata_url(),
        ] {
            match self.http().get(&url).await {
                Ok(r) if r.status == 200 => {
                    return metadata_token_endpoint(issuer, &r.body)
                        .map_err(|problem| CrossAppError::IdpMetadata { url, problem });
                }
                Ok(r) => last = Some((url, format!("HTTP {}", r.status))),
                Err(e) => last = Some((url, e.to_string())),
            }
        }
        let (url, problem) = last.unwrap_or_default();
        Err(CrossAppError::IdpMetadata { url, problem })
    }

    /// RFC 8693 at the IdP's token endpoint: the ID token for an ID-JAG.
    pub async fn exchange_for_id_jag(
        &self,
        endpoint: &Url,
        request: &IdJagRequest<'_>,
    ) -> Result<IdJag, CrossAppError> {
        let step = CrossAppStep::TokenExchange;
        let http_request = form_request(endpoint, &request.form())
            .map_err(|source| CrossAppError::Http { step, source })?;
        let (status, body) = send(self, step, http_request).await?;
        let mut response = body;
        let Some(Value::String(assertion)) = response.remove("access_token") else {
            return Err(CrossAppError::Malformed {
                step,
                status,
                problem: "no access_token (the ID-JAG) in the response".into(),
            });
        };
        let issued_token_type = response
            .get("issued_token_type")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(IdJag {
            assertion,
            issued_token_type,
            response,
        })
    }

    /// RFC 7523 section 2.1 at the authorization server's token endpoint: the ID-JAG as the
    /// authorization grant, sent like every other token request here (`token_request`: the
    /// client authenticated, a DPoP proof with `--dpop`). The token response as sent.
    pub async fn jwt_bearer_grant(
        &self,
        assertion: &str,
        scope: Option<&str>,
        resource: Option<&str>,
    ) -> Result<Map<String, Value>, CrossAppError> {
        let step = CrossAppStep::JwtBearer;
        let call = self
            .jwt_bearer(assertion, scope.unwrap_or_default(), resource, &[])
            .await;
        let status = call
            .exchange
            .as_ref()
            .and_then(|e| e.response.as_ref())
            .map_or(0, |r| r.status);
        call.result.map(|tokens| tokens.raw).map_err(|e| match e {
            TokenError::Provider {
                status,
                error,
                description,
                ..
            } => CrossAppError::Refused {
                step,
                status,
                error,
                description,
            },
            TokenError::Http(source) => CrossAppError::Http { step, source },
            other => CrossAppError::Malformed {
                step,
                status,
                problem: other.to_string(),
            },
        })
    }
}

/// The token endpoint an IdP's metadata names, when its `issuer` is the one configured.
fn metadata_token_endpoint(issuer: &Issuer, body: &[u8]) -> Result<Url, String> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let stated = doc.get("issuer").and_then(Value::as_str).unwrap_or("");
    let base = |s: &str| s.trim_end_matches('/').to_owned();
    if base(stated) != base(issuer.as_str()) {
        return Err(format!(
            "it names issuer {:?}, not {:?} (RFC 8414 section 3.3)",
            untrusted(stated).to_string(),
            issuer.as_str()
        ));
    }
    let endpoint = doc
        .get("token_endpoint")
        .and_then(Value::as_str)
        .ok_or("it has no token_endpoint")?;
    let url = Url::parse(endpoint).map_err(|e| format!("token_endpoint: {e}"))?;
    crate::oauth::require_https_unless_loopback(&url)
        .map_err(|e| format!("token_endpoint: {e}"))?;
    Ok(url)
}

/// A form POST without client authentication (the IdP's client, if any, is in the form).
fn form_request(url: &Url, form: &[(&str, &str)]) -> Result<oauth2::HttpRequest, HttpError> {
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    body.extend_pairs(form);
    oauth2::http::Request::builder()
        .method("POST")
        .uri(url.as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body.finish().into_bytes())
        .map_err(|e| HttpError::invalid_request(url.as_str(), e))
}

/// Sends a token request; a JSON object with a 2xx, else the server's error.
async fn send(
    provider: &Provider,
    step: CrossAppStep,
    request: oauth2::HttpRequest,
) -> Result<(u16, Map<String, Value>), CrossAppError> {
    let http = Recording::new(provider.http());
    let response = http
        .send(request)
        .await
        .map_err(|source| CrossAppError::Http { step, source })?;
    read_token_response(step, response.status().as_u16(), response.body())
}

/// A token endpoint's answer (RFC 6749 sections 5.1 and 5.2).
fn read_token_response(
    step: CrossAppStep,
    status: u16,
    body: &[u8],
) -> Result<(u16, Map<String, Value>), CrossAppError> {
    let json: Option<Map<String, Value>> = serde_json::from_slice(body).ok();
    match json {
        Some(map) if (200..300).contains(&status) => Ok((status, map)),
        Some(map) if map.get("error").is_some_and(Value::is_string) => {
            let text = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_owned);
            Err(CrossAppError::Refused {
                step,
                status,
                error: text("error").unwrap_or_default(),
                description: text("error_description"),
            })
        }
        _ => Err(CrossAppError::Malformed {
            step,
            status,
            problem: match (200..300).contains(&status) {
                true => "the body is not a JSON object".into(),
                false => "an error without an OAuth error body".into(),
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form_of(request: &oauth2::HttpRequest) -> Vec<(String, String)> {
        url::form_urlencoded::parse(request.body())
            .into_owned()
            .collect()
    }

    #[test]
    fn the_token_exchange_asks_for_an_id_jag_for_the_authorization_server() {
        let request = IdJagRequest {
            subject_token: "eyJ.id.token",
            audience: "https://as.example.com",
            resource: "https://mcp.example.com/mcp",
            client_id: Some("idp-client"),
            scope: Some("mcp:read"),
        };
        let url = Url::parse("https://idp.example.com/token").unwrap();
        let http = form_request(&url, &request.form()).unwrap();
        assert!(http.headers().get("authorization").is_none());
        let form = form_of(&http);
        let get = |k: &str| {
            form.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("{k} missing: {form:?}"))
        };
        assert_eq!(get("grant_type"), TOKEN_EXCHANGE);
        assert_eq!(get("subject_token"), "eyJ.id.token");
        assert_eq!(get("subject_token_type"), ID_TOKEN_TYPE);
        assert_eq!(get("requested_token_type"), ID_JAG_TYPE);
        assert_eq!(get("audience"), "https://as.example.com");
        assert_eq!(get("resource"), "https://mcp.example.com/mcp");
        assert_eq!(get("client_id"), "idp-client");
        assert_eq!(get("scope"), "mcp:read");
        let bare = IdJagRequest {
            client_id: None,
            scope: Some(""),
            ..request
        };
        let names: Vec<&str> = bare.form().iter().map(|(k, _)| *k).collect();
        assert!(!names.contains(&"client_id") && !names.contains(&"scope"));
    }

    #[test]
    fn a_refusal_carries_the_servers_error_and_never_the_request() {
        let body = br#"{"error":"invalid_grant","error_description":"Invalid ID token"}"#;
        let err = read_token_response(CrossAppStep::TokenExchange, 400, body).unwrap_err();
        assert_eq!(err.step().name(), "token_exchange");
        assert_eq!(
            err.provider_detail(),
            (Some("invalid_grant"), Some("Invalid ID token"))
        );
        let msg = err.to_string();
        assert!(
            msg.contains("the IdP")
                && msg.contains("invalid_grant")
                && msg.contains("Invalid ID token"),
            "{msg}"
        );
        let html = read_token_response(CrossAppStep::JwtBearer, 502, b"<html>").unwrap_err();
        assert!(matches!(html, CrossAppError::Malformed { status: 502, .. }));
        assert!(html.to_string().contains("authorization server"));
        let (status, ok) =
            read_token_response(CrossAppStep::JwtBearer, 200, br#"{"access_token":"a"}"#).unwrap();
        assert_eq!((status, ok["access_token"].as_str()), (200, Some("a")));
    }

    #[test]
    fn the_idp_metadata_must_name_the_configured_issuer() {
        let issuer = Issuer::parse("http://127.0.0.1:4000").unwrap();
        let good = br#"{"issuer":"http://127.0.0.1:4000/","token_endpoint":"http://127.0.0.1:4000/token"}"#;
        assert_eq!(
            metadata_token_endpoint(&issuer, good).unwrap().as_str(),
            "http://127.0.0.1:4000/token"
        );
        let other =
            br#"{"issuer":"http://127.0.0.1:5000","token_endpoint":"http://127.0.0.1:5000/token"}"#;
        assert!(
            metadata_token_endpoint(&issuer, other)
                .unwrap_err()
                .contains("5000")
        );
        let plain = br#"{"issuer":"http://127.0.0.1:4000","token_endpoint":"http://idp.example.com/token"}"#;
        assert!(metadata_token_endpoint(&issuer, plain).is_err());
    }
}
