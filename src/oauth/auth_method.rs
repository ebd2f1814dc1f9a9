//! Client authentication methods (RFC 6749 section 2.3.1, OpenID Connect Core section 9).

/// How the client authenticates at the token, introspection and revocation endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretPost,
    ClientSecretBasic,
    /// A JWT signed with the client secret (HMAC), RFC 7523 section 2.2.
    ClientSecretJwt,
    /// A JWT signed with the client's private key, RFC 7523 section 2.2.
    PrivateKeyJwt,
    None,
}

impl AuthMethod {
    pub fn name(self) -> &'static str {
        match self {
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        [
            Self::ClientSecretPost,
            Self::ClientSecretBasic,
            Self::ClientSecretJwt,
            Self::PrivateKeyJwt,
            Self::None,
        ]
        .into_iter()
        .find(|m| m.name() == word)
    }
}
