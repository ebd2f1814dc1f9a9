//! Client authentication (RFC 6749 section 2.3.1, OpenID Connect Core section 9, RFC 7523
//! section 2.2): the one place that turns the method, the client ID, the secret and the key
//! into what a request carries. Requests built here (revocation, PAR) get it from
//! `form_post`; the oauth2 crate's (code exchange, refresh, introspection) from
//! `oauth2_client` plus `assertion_params`, set from the same value. Every request signs a
//! fresh assertion.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret};
use serde_json::json;
use url::Url;

use super::http::HttpError;
use crate::config::{ClientKey, SignError};
use crate::oauth::AuthMethod;

/// RFC 7523 section 2.2.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid: short, as each is used once.
const ASSERTION_LIFETIME_SECS: u64 = 60;

/// What signs a client assertion, and with which JWS algorithm.
#[derive(Debug, Clone, Copy)]
pub enum Signer<'a> {
    /// `private_key_jwt`: the client's private key (its `kid` in the header).
    Key {
        key: &'a ClientKey,
        alg: &'static str,
    },
    /// `client_secret_jwt`: HMAC keyed with the client secret.
    Secret {
        secret: &'a ClientSecret,
        alg: &'static str,
    },
}

impl Signer<'_> {
    pub fn alg(self) -> &'static str {
        match self {
            Self::Key { alg, .. } | Self::Secret { alg, .. } => alg,
        }
    }

    fn sign(self, input: &[u8]) -> Result<Vec<u8>, SignError> {
        match self {
            Self::Key { key, alg } => key.sign(alg, input),
            Self::Secret { secret, alg } => {
                let algorithm = match alg {
                    "HS384" => ring::hmac::HMAC_SHA384,
                    "HS512" => ring::hmac::HMAC_SHA512,
                    _ => ring::hmac::HMAC_SHA256,
                };
                let key = ring::hmac::Key::new(algorithm, secret.secret().as_bytes());
                Ok(ring::hmac::sign(&key, input).as_ref().to_vec())
            }
        }
    }
}

/// A client assertion (RFC 7523 section 3, OpenID Connect Core section 9): `iss` = `sub` =
/// the client ID, `aud`, a fresh `jti`, `iat` = `now`, `exp` 60 s later.
pub fn assertion(
    id: &ClientId,
    signer: Signer<'_>,
    audience: &str,
    now: u64,
) -> Result<String, SignError> {
    let mut header = json!({ "alg": signer.alg(), "typ": "JWT" });
    if let Signer::Key { key, .. } = signer {
        header["kid"] = key.kid().into();
    }
    let claims = json!({
        "iss": id.as_str(),
        "sub": id.as_str(),
        "aud": audience,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_SECS,
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = signer.sign(input.as_bytes())?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// How one request authenticates the client. A new method (private_key_jwt) is a new variant
/// here, and every call that authenticates the client follows.
#[derive(Debug, Clone, Copy)]
pub enum ClientAuth<'a> {
    /// `none` (a public client, protected by PKCE): `client_id` in the body. Also a
    /// secret-based method when there is no secret.
    None { id: &'a ClientId },
    /// `client_secret_post`: `client_id` and `client_secret` in the body.
    Post {
        id: &'a ClientId,
        secret: &'a ClientSecret,
    },
    /// `client_secret_basic`: an `Authorization: Basic` header, id and secret each
    /// form-urlencoded before base64 (RFC 6749 section 2.3.1), so `+ / : $ %` survive.
    Basic {
        id: &'a ClientId,
        secret: &'a ClientSecret,
    },
    /// `private_key_jwt` or `client_secret_jwt`: `client_id`, `client_assertion_type` and a
    /// freshly signed `client_assertion` in the body; the secret never travels.
    Jwt {
        id: &'a ClientId,
        signer: Signer<'a>,
        audience: &'a str,
    },
}

impl<'a> ClientAuth<'a> {
    pub fn new(method: AuthMethod, id: &'a ClientId, secret: Option<&'a ClientSecret>) -> Self {
        match (method, secret) {
            (AuthMethod::ClientSecretBasic, Some(secret)) => Self::Basic { id, secret },
            (AuthMethod::ClientSecretPost, Some(secret)) => Self::Post { id, secret },
            _ => Self::None { id },
        }
    }

    /// Whether `client_id` goes in the body (with Basic, the header carries it).
    pub fn puts_client_id_in_body(self) -> bool {
        !matches!(self, Self::Basic { .. })
    }

    /// The method's name, for the report.
    pub fn method(self) -> AuthMethod {
        match self {
            Self::None { .. } => AuthMethod::None,
            Self::Post { .. } => AuthMethod::ClientSecretPost,
            Self::Basic { .. } => AuthMethod::ClientSecretBasic,
            Self::Jwt {
                signer: Signer::Key { .. },
                ..
            } => AuthMethod::PrivateKeyJwt,
            Self::Jwt {
                signer: Signer::Secret { .. },
                ..
            } => AuthMethod::ClientSecretJwt,
        }
    }

    /// The assertion fields (`client_assertion_type`, a fresh `client_assertion`) for a
    /// request the oauth2 crate builds, which adds `client_id` itself; none for the
    /// other methods.
    pub fn assertion_params(self) -> Result<Vec<(&'static str, String)>, SignError> {
        let Self::Jwt {
            id,
            signer,
            audience,
        } = self
        else {
            return Ok(Vec::new());
        };
        Ok(vec![
            ("client_assertion_type", ASSERTION_TYPE.to_owned()),
            (
                "client_assertion",
                assertion(id, signer, audience, crate::oauth::time::now())?,
            ),
        ])
    }

    /// A new `client_assertion`, for a request sent again; `None` for the other methods.
    pub fn fresh_assertion(self) -> Result<Option<String>, SignError> {
        match self {
            Self::Jwt {
                id,
                signer,
                audience,
            } => assertion(id, signer, audience, crate::oauth::time::now()).map(Some),
            _ => Ok(None),
        }
    }

    /// The fields this method adds to a form body.
    fn body_fields(self) -> Result<Vec<(&'static str, String)>, SignError> {
        Ok(match self {
            Self::None { id } => vec![("client_id", id.to_string())],
            Self::Post { id, secret } => vec![
                ("client_id", id.to_string()),
                ("client_secret", secret.secret().clone()),
            ],
            Self::Basic { .. } => Vec::new(),
            Self::Jwt { id, .. } => {
                let mut fields = vec![("client_id", id.to_string())];
                fields.extend(self.assertion_params()?);
                fields
            }
        })
    }

    /// The `Authorization` header this method adds, if any.
    fn header(self) -> Option<String> {
        let Self::Basic { id, secret } = self else {
            return None;
        };
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let pair = format!("{}:{}", enc(id.as_str()), enc(secret.secret()));
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        ))
    }

    /// A form POST of `form` to `url`, the client authenticated. An endpoint URL from
    /// metadata can be too long for HTTP: an error, never a panic.
    pub fn form_post(
        self,
        url: &Url,
        form: &[(&str, &str)],
    ) -> Result<oauth2::HttpRequest, HttpError> {
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        body.extend_pairs(form);
        body.extend_pairs(
            self.body_fields()
                .map_err(|e| HttpError::invalid_request(url.as_str(), e))?,
        );
        let mut request = oauth2::http::Request::builder()
            .method("POST")
            .uri(url.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json");
        if let Some(value) = self.header() {
            request = request.header("authorization", value);
        }
        request
            .body(body.finish().into_bytes())
            .map_err(|e| HttpError::invalid_request(url.as_str(), e))
    }

    /// The oauth2 crate's client, authenticating the same way (its Basic encoding is the
    /// same as `header`'s), for the requests the crate builds.
    pub fn oauth2_client(self) -> BasicClient {
        match self {
            Self::None { id } => BasicClient::new(id.clone()).set_auth_type(AuthType::RequestBody),
            Self::Post { id, secret } => BasicClient::new(id.clone())
                .set_auth_type(AuthType::RequestBody)
                .set_client_secret(secret.clone()),
            Self::Basic { id, secret } => BasicClient::new(id.clone())
                .set_auth_type(AuthType::BasicAuth)
                .set_client_secret(secret.clone()),
            // No secret: the crate adds only client_id; `assertion_params` the rest.
            Self::Jwt { id, .. } => {
                BasicClient::new(id.clone()).set_auth_type(AuthType::RequestBody)
            }
        }
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
    fn each_method_puts_the_credentials_where_rfc_6749_says() {
        let url = Url::parse("https://idp.example/revoke").unwrap();
        let id = ClientId::new("app:1".into());
        let secret = ClientSecret::new("s3cr3t+/:$%".into());
        let form = [("token", "t")];

        let basic = ClientAuth::new(AuthMethod::ClientSecretBasic, &id, Some(&secret));
        let request = basic.form_post(&url, &form).unwrap();
        // base64("app%3A1:s3cr3t%2B%2F%3A%24%25")
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("app%3A1:s3cr3t%2B%2F%3A%24%25")
        );
        assert_eq!(request.headers()["authorization"], expected.as_str());
        assert_eq!(form_of(&request), [("token".into(), "t".into())]);
        assert!(!basic.puts_client_id_in_body());

        let post = ClientAuth::new(AuthMethod::ClientSecretPost, &id, Some(&secret));
        let request = post.form_post(&url, &form).unwrap();
        assert!(request.headers().get("authorization").is_none());
        assert_eq!(
            form_of(&request),
            [
                ("token".into(), "t".into()),
                ("client_id".into(), "app:1".into()),
                ("client_secret".into(), "s3cr3t+/:$%".into()),
            ]
        );

        // A secret method without a secret, and `none`: the client ID only.
        for auth in [
            ClientAuth::new(AuthMethod::ClientSecretBasic, &id, None),
            ClientAuth::new(AuthMethod::None, &id, Some(&secret)),
        ] {
            let request = auth.form_post(&url, &form).unwrap();
            assert!(request.headers().get("authorization").is_none());
            assert_eq!(
                form_of(&request),
                [
                    ("token".into(), "t".into()),
                    ("client_id".into(), "app:1".into()),
                ]
            );
            assert!(auth.puts_client_id_in_body());
        }
    }

    fn decode(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn an_assertion_has_the_claims_of_rfc_7523_and_a_valid_signature() {
        use ring::signature::{ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 =
            ring::signature::EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref())
        );
        let key = ClientKey::parse(&pem).unwrap();
        let id = ClientId::new("app-1".into());
        let signer = Signer::Key {
            key: &key,
            alg: "ES256",
        };
        let jwt = assertion(&id, signer, "https://idp.example", 1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = decode(parts[0]);
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["typ"], "JWT");
        assert_eq!(header["kid"], key.kid());
        let claims = decode(parts[1]);
        assert_eq!(claims["iss"], "app-1");
        assert_eq!(claims["sub"], "app-1");
        assert_eq!(claims["aud"], "https://idp.example");
        assert_eq!(claims["iat"], 1_700_000_000);
        assert_eq!(claims["exp"], 1_700_000_060);
        let jti = claims["jti"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(jti).is_ok(), "{jti}");
        assert_eq!(claims.as_object().unwrap().len(), 6, "{claims}");
        // The signature verifies with the public key of the JWK set.
        let jwk = &key.jwks("ES256")["keys"][0];
        let mut point = vec![4u8];
        point.extend(URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap());
        point.extend(URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap());
        ring::signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .verify(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
            )
            .expect("a valid ES256 signature");

        // Each request signs a fresh one (a new jti), sent in the body with client_id.
        let auth = ClientAuth::Jwt {
            id: &id,
            signer,
            audience: "https://idp.example",
        };
        let url = Url::parse("https://idp.example/revoke").unwrap();
        let jtis: Vec<String> = (0..2)
            .map(|_| {
                let request = auth.form_post(&url, &[("token", "t")]).unwrap();
                assert!(request.headers().get("authorization").is_none());
                let form = form_of(&request);
                let names: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
                assert_eq!(
                    names,
                    [
                        "token",
                        "client_id",
                        "client_assertion_type",
                        "client_assertion"
                    ]
                );
                assert_eq!(form[2].1, ASSERTION_TYPE);
                let claims = decode(form[3].1.split('.').nth(1).unwrap());
                claims["jti"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_ne!(jtis[0], jtis[1]);
        assert_eq!(auth.method(), AuthMethod::PrivateKeyJwt);
    }

    #[test]
    fn client_secret_jwt_is_an_hmac_with_the_secret() {
        let id = ClientId::new("app".into());
        let secret = ClientSecret::new("s3cr3t-value".into());
        for (alg, algorithm) in [
            ("HS256", ring::hmac::HMAC_SHA256),
            ("HS512", ring::hmac::HMAC_SHA512),
        ] {
            let signer = Signer::Secret {
                secret: &secret,
                alg,
            };
            let jwt = assertion(&id, signer, "https://idp.example/token", 1).unwrap();
            let (input, signature) = jwt.rsplit_once('.').unwrap();
            assert_eq!(decode(input.split('.').next().unwrap())["alg"], alg);
            assert!(
                decode(input.split('.').next().unwrap())
                    .get("kid")
                    .is_none()
            );
            let key = ring::hmac::Key::new(algorithm, b"s3cr3t-value");
            ring::hmac::verify(
                &key,
                input.as_bytes(),
                &URL_SAFE_NO_PAD.decode(signature).unwrap(),
            )
            .expect("HMAC keyed with the secret");
            assert!(!jwt.contains("s3cr3t"));
        }
        let auth = ClientAuth::Jwt {
            id: &id,
            signer: Signer::Secret {
                secret: &secret,
                alg: "HS256",
            },
            audience: "x",
        };
        assert!(!format!("{auth:?}").contains("s3cr3t"));
        assert_eq!(auth.method(), AuthMethod::ClientSecretJwt);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let id = ClientId::new("app".into());
        let secret = ClientSecret::new("s3cr3t-value".into());
        let auth = ClientAuth::new(AuthMethod::ClientSecretPost, &id, Some(&secret));
        assert!(!format!("{auth:?}").contains("s3cr3t"));
    }
}
