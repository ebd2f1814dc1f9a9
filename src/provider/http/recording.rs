//! `Recording`: the HTTP client as the oauth2 crate calls it, recording each exchange for the
//! pages and the report, adding DPoP proofs (with one `use_dpop_nonce` retry) and re-signing a
//! client assertion on a retry.

use super::*;

/// A form body with its `client_assertion` replaced.
fn with_assertion(body: &[u8], assertion: &str) -> Vec<u8> {
    let pairs = url::form_urlencoded::parse(body).map(|(k, v)| {
        let v = if k == "client_assertion" {
            assertion.to_owned()
        } else {
            v.into_owned()
        };
        (k.into_owned(), v)
    });
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

/// The status, body and `content-type` of the last response.
type Last = (u16, Vec<u8>, Option<String>);

/// Signs a new client assertion (RFC 7523), for a request sent again: the provider may have
/// seen the first one's `jti` already.
pub type FreshAssertion<'a> = &'a (dyn Fn() -> Result<Option<String>, SignError> + Send + Sync);

/// An `AsyncHttpClient` for the oauth2 crate that records the exchange it carries (masked)
/// and keeps the raw response, so the provider's JSON can be shown whole. One per call: each
/// call makes one request, so only the last one is kept.
pub struct Recording<'a> {
    http: &'a HttpClient,
    /// DPoP (RFC 9449): the key that signs a proof for each request, and the access token
    /// the request carries (for `ath`).
    dpop: Option<(&'a Dpop, Option<&'a str>)>,
    /// Token and introspection responses: read through `quirks::normalize`.
    normalize: bool,
    /// Client assertion requests: a retry carries a new `client_assertion`.
    fresh_assertion: Option<FreshAssertion<'a>>,
    exchange: Mutex<Option<Exchange>>,
    last: Mutex<Option<Last>>,
    quirks: Mutex<Vec<String>>,
}

impl<'a> Recording<'a> {
    pub fn new(http: &'a HttpClient) -> Self {
        Self {
            http,
            dpop: None,
            normalize: false,
            fresh_assertion: None,
            exchange: Mutex::new(None),
            last: Mutex::new(None),
            quirks: Mutex::new(Vec::new()),
        }
    }

    /// For the token endpoint: answers are normalised (form-encoded bodies, errors with
    /// HTTP 200, string lifetimes) before the oauth2 crate reads them.
    pub fn for_tokens(http: &'a HttpClient) -> Self {
        Self {
            normalize: true,
            ..Self::new(http)
        }
    }

    /// Each request carries a DPoP proof by `dpop` (when given), with `ath` for
    /// `access_token`; a nonce challenge is answered once.
    pub fn with_dpop(mut self, dpop: Option<&'a Dpop>, access_token: Option<&'a str>) -> Self {
        self.dpop = dpop.map(|d| (d, access_token));
        self
    }

    /// A request sent again (a DPoP nonce challenge) signs a new client assertion with
    /// `fresh`, when the client authenticates with one.
    pub fn with_fresh_assertion(mut self, fresh: FreshAssertion<'a>) -> Self {
        self.fresh_assertion = Some(fresh);
        self
    }

    /// Sends a request and records it (the response as the provider sent it).
    pub async fn send(
        &self,
        request: oauth2::HttpRequest,
    ) -> Result<oauth2::HttpResponse, HttpError> {
        let (recorded, result) = self.execute(request).await;
        let url = recorded.url.clone();
        *lock(&self.exchange) = Some(Exchange {
            request: recorded,
            response: result
                .as_ref()
                .ok()
                .map(|r| RecordedResponse::of(r.status().as_u16(), r.headers(), r.body())),
        });
        let response = result?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if !self.normalize {
            *lock(&self.last) = Some((
                status,
                response.body().clone(),
                content_type.map(str::to_owned),
            ));
            return Ok(response);
        }
        let n = normalize(status, content_type, response.body());
        for quirk in &n.quirks {
            log::warn!("quirk: {}", untrusted(quirk));
        }
        lock(&self.quirks).extend(n.quirks);
        let raw = match &n.raw {
            Some(map) => serde_json::to_vec(map).unwrap_or_default(),
            None => response.body().clone(),
        };
        *lock(&self.last) = Some((status, raw, content_type.map(str::to_owned)));
        let content_type = if n.raw.is_some() {
            "application/json"
        } else {
            content_type.unwrap_or("")
        };
        http::Response::builder()
            .status(n.status)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(n.body)
            .map_err(|e| HttpError::Other {
                url,
                detail: e.to_string(),
            })
    }

    /// Runs the request, with a DPoP proof when this client has a key: a `use_dpop_nonce`
    /// answer (RFC 9449 sections 8 and 9) is retried once with the nonce it gave. Returns
    /// the last request sent, masked.
    async fn execute(
        &self,
        request: oauth2::HttpRequest,
    ) -> (RecordedRequest, Result<oauth2::HttpResponse, HttpError>) {
        let Some((dpop, access_token)) = self.dpop else {
            return (
                RecordedRequest::of(&request),
                self.http.execute(request).await,
            );
        };
        let url = request.uri().to_string();
        let (parts, mut body) = request.into_parts();
        let mut retried = false;
        loop {
            let mut attempt = http::Request::new(body.clone());
            *attempt.method_mut() = parts.method.clone();
            *attempt.uri_mut() = parts.uri.clone();
            *attempt.headers_mut() = parts.headers.clone();
            let proof = dpop
                .proof(parts.method.as_str(), &url, access_token)
                .map_err(|e| HttpError::Other {
                    url: url.clone(),
                    detail: e.to_string(),
                })
                .and_then(|p| {
                    http::HeaderValue::from_str(&p).map_err(|e| HttpError::invalid_request(&url, e))
                });
            let proof = match proof {
                Ok(p) => p,
                Err(e) => return (RecordedRequest::of(&attempt), Err(e)),
            };
            attempt.headers_mut().insert("dpop", proof);
            let recorded = RecordedRequest::of(&attempt);
            let result = self.http.execute(attempt).await;
            let Ok(response) = &result else {
                return (recorded, result);
            };
            let nonce = response
                .headers()
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok());
            if let Some(nonce) = nonce {
                dpop.remember_nonce(&url, nonce);
            }
            let challenge = dpop::asks_for_nonce(
                response.status().as_u16(),
                response.headers(),
                response.body(),
            );
            if retried || nonce.is_none() || !challenge {
                return (recorded, result);
            }
            log::info!(
                "{} asked for a DPoP nonce (use_dpop_nonce): sending the request again with it",
                untrusted(&url)
            );
            if let Some(fresh) = self.fresh_assertion {
                match fresh() {
                    Ok(Some(assertion)) => body = with_assertion(&body, &assertion),
                    Ok(None) => {}
                    Err(e) => return (recorded, Err(HttpError::invalid_request(&url, e))),
                }
            }
            retried = true;
        }
    }

    /// The quirks met so far.
    pub fn quirks(&self) -> Vec<String> {
        lock(&self.quirks).clone()
    }

    /// The status and body of the last response received.
    pub fn last_response(&self) -> (u16, Vec<u8>) {
        lock(&self.last)
            .as_ref()
            .map_or((0, Vec::new()), |(status, body, _)| (*status, body.clone()))
    }

    /// The last response, described, when it was not JSON (nor a form-encoded token
    /// response, which was read as JSON).
    pub fn last_not_json(&self, what: &'static str) -> Option<NotJson> {
        let last = lock(&self.last);
        let (status, body, content_type) = last.as_ref()?;
        NotJson::check(what, *status, content_type.as_deref(), body)
    }

    /// The exchange made, if any.
    pub fn exchange(&self) -> Option<Exchange> {
        lock(&self.exchange).clone()
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for Recording<'_> {
    type Error = HttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers every request with `use_dpop_nonce` and a fresh nonce; counts the requests
    /// and keeps the `DPoP` header of each.
    async fn always_asks_for_a_nonce() -> (String, std::sync::Arc<Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token?x=1", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            for n in 0.. {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = vec![0u8; 16 * 1024];
                let len = socket.read(&mut buf).await.unwrap();
                let request = String::from_utf8_lossy(&buf[..len]).into_owned();
                let proof = request
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .find(|(name, _)| name.eq_ignore_ascii_case("dpop"))
                    .map(|(_, v)| v.trim().to_owned())
                    .unwrap_or_default();
                lock(&log).push(proof);
                let body = r#"{"error":"use_dpop_nonce"}"#;
                let head = format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\
                     dpop-nonce: nonce-{n}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                socket.write_all(head.as_bytes()).await.unwrap();
                socket.write_all(body.as_bytes()).await.unwrap();
            }
        });
        (url, seen)
    }

    #[tokio::test]
    async fn a_nonce_challenge_is_answered_once_with_the_nonce_given() {
        use base64::Engine as _;
        let (url, seen) = always_asks_for_a_nonce().await;
        let client = HttpClient::new(Duration::from_secs(5), None).unwrap();
        let key = Dpop::generate().unwrap();
        let recording = Recording::for_tokens(&client).with_dpop(Some(&key), None);
        let request = http::Request::builder()
            .method("POST")
            .uri(&url)
            .body(b"grant_type=refresh_token".to_vec())
            .unwrap();
        let response = recording.send(request).await.unwrap();
        assert_eq!(
            response.status().as_u16(),
            400,
            "the second refusal is the answer"
        );
        let proofs = lock(&seen).clone();
        assert_eq!(proofs.len(), 2, "one retry, no more");
        let claims = |proof: &str| -> serde_json::Value {
            let part = proof.split('.').nth(1).unwrap();
            serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(part)
                    .unwrap(),
            )
            .unwrap()
        };
        assert!(
            claims(&proofs[0]).get("nonce").is_none(),
            "none known at first"
        );
        assert_eq!(
            claims(&proofs[1])["nonce"],
            "nonce-0",
            "the nonce the server gave"
        );
        assert_eq!(claims(&proofs[1])["htu"], url.replace("?x=1", ""));
        let recorded = recording.exchange().unwrap().request;
        assert!(
            recorded
                .headers
                .iter()
                .any(|(n, v)| n == "dpop" && v == "[DPoP proof masked]"),
            "{:?}",
            recorded.headers
        );
        // The nonce the last answer gave is kept for the next proof to that server.
        let next = key.proof("POST", &url, None).unwrap();
        assert_eq!(claims(&next)["nonce"], "nonce-1");
    }
}
