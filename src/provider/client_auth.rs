//! Client authentication (RFC 6749 section 2.3.1, OpenID Connect Core section 9): the one
//! place that turns the method, the client ID and the secret into what a request carries.
//! Requests built here (revocation, PAR) get it from `form_post`; the oauth2 crate's (code
//! exchange, refresh, introspection) from `oauth2_client`, set from the same value.

use base64::Engine as _;
use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret};
use url::Url;

use super::http::HttpError;
use crate::oauth::AuthMethod;

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

    /// The fields this method adds to a form body.
    fn body_fields(self) -> Vec<(&'static str, &'a str)> {
        match self {
            Self::None { id } => vec![("client_id", id.as_str())],
            Self::Post { id, secret } => vec![
                ("client_id", id.as_str()),
                ("client_secret", secret.secret().as_str()),
            ],
            Self::Basic { .. } => Vec::new(),
        }
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
        body.extend_pairs(self.body_fields());
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

    #[test]
    fn debug_never_shows_the_secret() {
        let id = ClientId::new("app".into());
        let secret = ClientSecret::new("s3cr3t-value".into());
        let auth = ClientAuth::new(AuthMethod::ClientSecretPost, &id, Some(&secret));
        assert!(!format!("{auth:?}").contains("s3cr3t"));
    }
}
