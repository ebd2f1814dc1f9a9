//! Client authentication methods (RFC 6749 section 2.3.1, OpenID Connect Core section 9).

/// How the client authenticates at the token, introspection and revocation endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretPost,
    ClientSecretBasic,
    None,
}

impl AuthMethod {
    pub fn name(self) -> &'static str {
        match self {
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::None => "none",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        [Self::ClientSecretPost, Self::ClientSecretBasic, Self::None]
            .into_iter()
            .find(|m| m.name() == word)
    }
}
