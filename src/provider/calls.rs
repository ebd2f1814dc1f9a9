//! Every call to the provider but discovery, the token endpoint and the JWKS: userinfo
//! (OpenID Connect Core 5.3), introspection (RFC 7662), revocation (RFC 7009), pushed
//! authorization requests (RFC 9126), dynamic registration (RFC 7591), and the user's own
//! resource server (RFC 6750 bearer); with the error each can end in. Dynamic registration
//! is in `registration`.

use oauth2::basic::BasicErrorResponse;
use oauth2::{AccessToken, RequestTokenError};
use serde_json::Value;
use url::Url;

use super::Provider;
use super::dpop::Dpop;
use super::exchange::Exchange;
use super::http::{HttpError, NotJson, Recording};
use crate::config::by_hand;
use crate::oauth::{AuthMethod, TokenKind};
use crate::redact::untrusted;

/// Why a call produced no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("the provider's metadata has no {0}, so this step cannot run against it{fix}", fix = by_hand(.0))]
    NotAdvertised(&'static str),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(
        "the provider refused: {}{}",
        untrusted(.error),
        .description.as_deref().map(|d| format!(" ({})", untrusted(d))).unwrap_or_default()
    )]
    Refused {
        error: String,
        description: Option<String>,
    },
    #[error("HTTP {status}{}", detail.as_deref().map(|d| format!(": {}", untrusted(d))).unwrap_or_default())]
    Status { status: u16, detail: Option<String> },
    /// A bare 401 or 403 (see `refusal`).
    #[error("{what} answered HTTP {status} without an OAuth error: it refused the request. {why}")]
    Unauthorized {
        status: u16,
        what: &'static str,
        why: String,
    },
    #[error(
        "{answer}. The provider failed on its side (its logs say why), or the {field} in use is \
         not the right URL{fix}",
        fix = by_hand(.field)
    )]
    NotJson {
        answer: NotJson,
        field: &'static str,
    },
}

impl CallError {
    /// The response to `field`'s endpoint, when it is not JSON.
    pub(super) fn not_json(field: &'static str, response: &oauth2::HttpResponse) -> Option<Self> {
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok());
        let answer = NotJson::check(
            label(field),
            response.status().as_u16(),
            content_type,
            response.body(),
        )?;
        Some(Self::NotJson { answer, field })
    }
}

/// An endpoint's metadata name as words, for messages.
fn label(field: &'static str) -> &'static str {
    match field {
        "userinfo_endpoint" => "the userinfo endpoint",
        "introspection_endpoint" => "the introspection endpoint",
        "revocation_endpoint" => "the revocation endpoint",
        "registration_endpoint" => "the registration endpoint",
        "pushed_authorization_request_endpoint" => "the pushed authorization request endpoint",
        _ => "the endpoint",
    }
}

/// A successful answer: its status and body (JSON when it is JSON, text otherwise).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// A call's outcome and the exchange behind it.
pub struct Call {
    pub result: Result<Answer, CallError>,
    pub exchange: Option<Exchange>,
}

impl Provider {
    /// GET the userinfo endpoint with the access token as a Bearer header.
    pub async fn userinfo(&self, token: &AccessToken) -> Call {
        let Some(url) = self.endpoints.userinfo.clone() else {
            return not_advertised("userinfo_endpoint");
        };
        self.bearer_call(&url, "GET", token, Some("userinfo_endpoint"), self.dpop())
            .await
    }

    /// RFC 7662 introspection, authenticated as the client.
    pub async fn introspect(&self, token: &str, kind: TokenKind) -> Call {
        let client = self.oauth_client();
        let http = Recording::for_tokens(self.http());
        let token = AccessToken::new(token.to_owned());
        let mut request = match client.introspect(&token) {
            Ok(r) => r.set_token_type_hint(kind.hint()),
            Err(_) => return not_advertised("introspection_endpoint"),
        };
        match self.client_auth().assertion_params() {
            Ok(fields) => {
                for (name, value) in fields {
                    request = request.add_extra_param(name, value);
                }
            }
            Err(e) => {
                let url = self
                    .endpoints
                    .introspection
                    .as_ref()
                    .map_or("", |u| u.as_str());
                return Call {
                    result: Err(CallError::Http(HttpError::invalid_request(url, e))),
                    exchange: None,
                };
            }
        }
        let typed = request.request_async(&http).await;
        let (status, body) = http.last_response();
        let result = match typed {
            Ok(_) => Ok(answer(status, &body)),
            Err(e @ (RequestTokenError::Parse(..) | RequestTokenError::Other(_))) => Err(http
                .last_not_json(label("introspection_endpoint"))
                .map_or_else(
                    || refused(status, e),
                    |answer| CallError::NotJson {
                        answer,
                        field: "introspection_endpoint",
                    },
                )),
            Err(e) => Err(refused(status, e)),
        };
        Call {
            result: result.map_err(|e| self.explain_refusal("introspection_endpoint", e)),
            exchange: http.exchange(),
        }
    }

    /// RFC 7009 revocation, authenticated as the client. Built here rather than by the
    /// oauth2 crate, which refuses plain-http revocation endpoints even on loopback.
    pub async fn revoke(&self, token: &str, kind: TokenKind) -> Call {
        let Some(url) = self.endpoints.revocation.clone() else {
            return not_advertised("revocation_endpoint");
        };
        let http = Recording::new(self.http());
        let request = match self.client_auth().form_post(
            url.url(),
            &[("token", token), ("token_type_hint", kind.hint())],
        ) {
            Ok(r) => r,
            Err(e) => {
                return Call {
                    result: Err(CallError::Http(e)),
                    exchange: None,
                };
            }
        };
        let result = match http.send(request).await {
            Ok(response) if response.status().is_success() => {
                Ok(answer(response.status().as_u16(), response.body()))
            }
            Ok(response) => Err(self.explain_refusal(
                "revocation_endpoint",
                oauth_error("revocation_endpoint", &response),
            )),
            Err(e) => Err(CallError::Http(e)),
        };
        Call {
            result,
            exchange: http.exchange(),
        }
    }

    /// RFC 9126: pushes the authorization request's parameters (authenticated as the
    /// client) and returns the short authorization URL with `client_id` and `request_uri`.
    pub async fn push_authorization_request(&self, authorize: &Url) -> Result<Url, CallError> {
        let Some(endpoint) = &self.par_endpoint else {
            return Err(CallError::NotAdvertised(
                "pushed_authorization_request_endpoint",
            ));
        };
        // The client authentication adds client_id, unless a header carries it (Basic).
        let auth = self.client_auth();
        let keep_client_id = !auth.puts_client_id_in_body();
        let form: Vec<(String, String)> = authorize
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| keep_client_id || k != "client_id")
            .collect();
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let http = Recording::new(self.http());
        let response = http.send(auth.form_post(endpoint, &form)?).await?;
        let field = "pushed_authorization_request_endpoint";
        if !response.status().is_success() {
            return Err(oauth_error(field, &response));
        }
        if let Some(e) = CallError::not_json(field, &response) {
            return Err(e);
        }
        let body: Value = serde_json::from_slice(response.body()).unwrap_or_default();
        let Some(request_uri) = body.get("request_uri").and_then(Value::as_str) else {
            return Err(CallError::Status {
                status: response.status().as_u16(),
                detail: Some("the PAR response has no request_uri".into()),
            });
        };
        let mut short = self.endpoints.authorization.url().clone();
        short
            .query_pairs_mut()
            .append_pair("client_id", self.client_id())
            .append_pair("request_uri", request_uri);
        Ok(short)
    }

    /// A Client ID Metadata Document's URL as the client ID
    /// (draft-ietf-oauth-client-id-metadata-document): a public client, since section 4.1
    /// forbids secret-based authentication for it.
    pub fn use_client_id_metadata_document(&mut self, url: &str) {
        self.client_id = oauth2::ClientId::new(url.to_owned());
        self.client_secret = None;
        self.auth_method = AuthMethod::None;
    }

    /// Reads the Client ID Metadata Document at `url`, as the authorization server will
    /// (a plain GET; no redirect followed).
    pub async fn client_metadata_document(&self, url: &Url) -> Result<Value, CallError> {
        let response = self.http().get(url.as_str()).await?;
        if response.status != 200 {
            return Err(CallError::Status {
                status: response.status,
                detail: None,
            });
        }
        serde_json::from_slice(&response.body).map_err(|e| CallError::Status {
            status: response.status,
            detail: Some(format!("not JSON: {e}")),
        })
    }

    /// Calls the user's own API with the access token; any 2xx is success. With `--dpop`
    /// the token goes as `DPoP`, with a proof.
    pub async fn call_resource(&self, url: &Url, method: &str, token: &AccessToken) -> Call {
        self.bearer_call(url, method, token, None, self.dpop())
            .await
    }

    /// The same call with the token as a plain `Bearer` token and no proof: a DPoP-bound
    /// token must be refused so (RFC 9449 section 7.2).
    pub async fn call_resource_as_bearer(
        &self,
        url: &Url,
        method: &str,
        token: &AccessToken,
    ) -> Call {
        self.bearer_call(url, method, token, None, None).await
    }

    /// `field`: the provider's endpoint called, whose answers are JSON (none for the API).
    /// `dpop`: the token is DPoP-bound (RFC 9449 section 7.1), else a Bearer token.
    async fn bearer_call(
        &self,
        url: &Url,
        method: &str,
        token: &AccessToken,
        field: Option<&'static str>,
        dpop: Option<&Dpop>,
    ) -> Call {
        let http = Recording::new(self.http()).with_dpop(dpop, Some(token.secret()));
        let scheme = if dpop.is_some() { "DPoP" } else { "Bearer" };
        let request = oauth2::http::Request::builder()
            .method(method)
            .uri(url.as_str())
            .header("authorization", format!("{scheme} {}", token.secret()))
            .header("accept", "application/json")
            .body(Vec::new());
        let request = match request {
            Ok(r) => r,
            Err(e) => {
                return Call {
                    result: Err(CallError::Http(HttpError::invalid_request(url.as_str(), e))),
                    exchange: None,
                };
            }
        };
        let result = match http.send(request).await {
            Ok(response) if response.status().is_success() => {
                Ok(answer(response.status().as_u16(), response.body()))
            }
            Ok(response) => Err(match bearer_error(&response) {
                Some(detail) => CallError::Status {
                    status: response.status().as_u16(),
                    detail: Some(detail),
                },
                None => field
                    .and_then(|field| CallError::not_json(field, &response))
                    .unwrap_or(CallError::Status {
                        status: response.status().as_u16(),
                        detail: None,
                    }),
            }),
            Err(e) => Err(CallError::Http(e)),
        };
        Call {
            result,
            exchange: http.exchange(),
        }
    }
}

fn not_advertised(endpoint: &'static str) -> Call {
    Call {
        result: Err(CallError::NotAdvertised(endpoint)),
        exchange: None,
    }
}

/// JSON when the body parses as JSON, else the text itself (an `application/jwt` userinfo,
/// an HTML error page).
pub fn answer(status: u16, body: &[u8]) -> Answer {
    let body = serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
    Answer { status, body }
}

/// RFC 6750 section 3: the error is in `WWW-Authenticate`; some servers put it in the body.
fn bearer_error(response: &oauth2::HttpResponse) -> Option<String> {
    // Shown as sent (every field line), so a person sees the exact challenge.
    let lines: Vec<String> = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| {
            format!(
                "WWW-Authenticate: {}",
                String::from_utf8_lossy(v.as_bytes())
            )
        })
        .collect();
    if !lines.is_empty() {
        return Some(lines.join("; "));
    }
    let body: Value = serde_json::from_slice(response.body()).ok()?;
    let error = body.get("error")?.as_str()?;
    let description = body.get("error_description").and_then(Value::as_str);
    Some(match description {
        Some(d) => format!("{error} ({d})"),
        None => error.to_owned(),
    })
}

/// An RFC 6749 section 5.2 error body, a body that is not JSON described, or the bare status.
pub(super) fn oauth_error(field: &'static str, response: &oauth2::HttpResponse) -> CallError {
    if let Some(e) = CallError::not_json(field, response) {
        return e;
    }
    let status = response.status().as_u16();
    let body: Option<Value> = serde_json::from_slice(response.body()).ok();
    match body
        .as_ref()
        .and_then(|b| b.get("error"))
        .and_then(Value::as_str)
    {
        Some(error) => CallError::Refused {
            error: error.to_owned(),
            description: body
                .as_ref()
                .and_then(|b| b.get("error_description"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
        None => CallError::Status {
            status,
            detail: None,
        },
    }
}

fn refused(status: u16, e: RequestTokenError<HttpError, BasicErrorResponse>) -> CallError {
    match e {
        RequestTokenError::ServerResponse(r) => CallError::Refused {
            error: r.error().as_ref().to_owned(),
            description: r.error_description().cloned(),
        },
        RequestTokenError::Request(e) => CallError::Http(e),
        RequestTokenError::Parse(e, _) => CallError::Status {
            status,
            detail: Some(format!(
                "the answer is not valid JSON for this endpoint (at `{}`)",
                e.path()
            )),
        },
        RequestTokenError::Other(detail) => CallError::Status {
            status,
            detail: Some(detail),
        },
    }
}

#[cfg(test)]
mod tests {
    use oauth2::RedirectUrl;

    use super::*;
    use crate::cli::Cli;
    use crate::config::Config;

    /// Endpoints given by hand: no network until a call is made.
    async fn provider() -> Provider {
        let cli = Cli {
            authorize_url: Some("https://idp.example/authorize".into()),
            token_url: Some("https://idp.example/token".into()),
            client_id: Some("client".into()),
            client_secret: Some("secret".into()),
            ..Cli::default()
        };
        Provider::discover(&Config::from_cli(&cli).unwrap())
            .await
            .unwrap()
    }

    /// Longer than any URI the `http` crate accepts (64 KiB): hostile metadata can send it.
    fn huge_url() -> Url {
        Url::parse(&format!("https://idp.example/{}", "a".repeat(70_000))).unwrap()
    }

    fn is_invalid_request(e: &CallError) -> bool {
        matches!(e, CallError::Http(HttpError::InvalidRequest { url, .. }) if url.len() < 200)
    }

    /// One HTTP answer on a loopback port, whatever the request.
    async fn answer_once(status: &str, body: &'static str) -> Url {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!(
            "http://{}/register",
            listener.local_addr().unwrap()
        ))
        .unwrap();
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 64 * 1024];
            let _ = socket.read(&mut request).await;
            socket.write_all(head.as_bytes()).await.unwrap();
            socket.write_all(body.as_bytes()).await.unwrap();
        });
        url
    }

    #[tokio::test]
    async fn with_dpop_the_authorization_request_names_the_key() {
        let cli = Cli {
            authorize_url: Some("https://idp.example/authorize".into()),
            token_url: Some("https://idp.example/token".into()),
            client_id: Some("client".into()),
            dpop: true,
            ..Cli::default()
        };
        let bound = Provider::discover(&Config::from_cli(&cli).unwrap())
            .await
            .unwrap();
        let jkt = bound.dpop().unwrap().thumbprint().to_owned();
        let redirect = RedirectUrl::new("http://localhost:3000/oauth_callback".into()).unwrap();
        let (challenge, _) = oauth2::PkceCodeChallenge::new_random_sha256();
        let (url, _) = bound.authorize_url(&redirect, &[], challenge, None, &[]);
        assert!(
            url.query_pairs().any(|(k, v)| k == "dpop_jkt" && v == jkt),
            "{url}"
        );
        let (challenge, _) = oauth2::PkceCodeChallenge::new_random_sha256();
        let (url, _) = provider()
            .await
            .authorize_url(&redirect, &[], challenge, None, &[]);
        assert!(!url.as_str().contains("dpop_jkt"), "{url}");
    }

    #[tokio::test]
    async fn a_registered_client_id_that_is_not_printable_ascii_is_refused() {
        let redirect = RedirectUrl::new("http://localhost:3000/oauth_callback".into()).unwrap();
        for body in [
            r#"{"client_id": "abc\nOAUTH_ISSUER=https://evil.example"}"#,
            r#"{"client_id": "abc\u001b[2J"}"#,
            r#"{"client_id": "abc", "client_secret": "s\r\nCLIENT_ID=x"}"#,
            r#"{"client_id": ""}"#,
        ] {
            let mut provider = provider().await;
            provider.registration_endpoint = Some(answer_once("201 Created", body).await);
            let e = provider.register(&redirect, true).await.err().unwrap();
            assert!(e.to_string().contains("appendix A"), "{body}: {e}");
            assert_eq!(provider.client_id(), "client", "the old client is kept");
        }
        let mut provider = provider().await;
        provider.registration_endpoint = Some(
            answer_once(
                "201 Created",
                r#"{"client_id": "new-id", "client_secret": "s3cr3t~"}"#,
            )
            .await,
        );
        let registered = provider.register(&redirect, true).await.unwrap();
        assert_eq!(registered.client_id, "new-id");
        assert!(!super::super::registration::is_vschar("é"));
        assert!(super::super::registration::is_vschar(" ~!"));
    }

    #[tokio::test]
    async fn an_endpoint_url_too_long_for_a_request_is_a_named_error_not_a_panic() {
        let mut provider = provider().await;
        provider.registration_endpoint = Some(huge_url());
        provider.par_endpoint = Some(huge_url());
        provider.endpoints.revocation = Some(oauth2::RevocationUrl::from_url(huge_url()));
        let redirect = RedirectUrl::new("http://localhost:3000/oauth_callback".into()).unwrap();
        let e = provider.register(&redirect, false).await.err().unwrap();
        assert!(is_invalid_request(&e), "{e:?}");
        assert!(
            e.to_string().contains("characters)"),
            "the URL is shortened: {e}"
        );
        let authorize = Url::parse("https://idp.example/authorize?client_id=c").unwrap();
        let e = provider
            .push_authorization_request(&authorize)
            .await
            .unwrap_err();
        assert!(is_invalid_request(&e), "{e:?}");
        let call = provider.revoke("token", TokenKind::Refresh).await;
        assert!(
            is_invalid_request(call.result.as_ref().unwrap_err()),
            "{:?}",
            call.result.err()
        );
        let call = provider
            .call_resource(&huge_url(), "GET", &AccessToken::new("t".into()))
            .await;
        assert!(
            is_invalid_request(call.result.as_ref().unwrap_err()),
            "{:?}",
            call.result.err()
        );
        // reqwest checks the URI before any I/O, also for GETs (discovery, JWKS, metadata).
        assert!(provider.http().get(huge_url().as_str()).await.is_err());
    }
}
