//! The follow-up steps after a sign-in, and which token one is about.

/// Which token an introspection or revocation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    /// The `token_type_hint` value (RFC 7009 section 2.1, RFC 7662 section 2.1).
    pub fn hint(self) -> &'static str {
        match self {
            Self::Access => "access_token",
            Self::Refresh => "refresh_token",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// One follow-up step, as named on the command line (`--then`) and in the routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Refresh,
    Userinfo,
    Tokeninfo(TokenKind),
    Revoke(TokenKind),
    Api,
}

impl Step {
    pub const NAMES: &'static str =
        "refresh, userinfo, tokeninfo[:access|:refresh], revoke[:refresh|:access], api";

    /// `refresh`, `userinfo`, `tokeninfo` (the refresh token; `tokeninfo:access` for the
    /// access token), `revoke` (likewise), `api`.
    pub fn parse(word: &str) -> Option<Self> {
        let (name, which) = match word.trim().split_once(':') {
            Some((n, w)) => (n, Some(w)),
            None => (word.trim(), None),
        };
        let kind = match which {
            None | Some("refresh") => TokenKind::Refresh,
            Some("access") => TokenKind::Access,
            Some(_) => return None,
        };
        match (name, which) {
            ("refresh", None) => Some(Self::Refresh),
            ("userinfo", None) => Some(Self::Userinfo),
            ("api", None) => Some(Self::Api),
            ("tokeninfo", _) => Some(Self::Tokeninfo(kind)),
            ("revoke", _) => Some(Self::Revoke(kind)),
            _ => None,
        }
    }

    pub fn name(&self) -> String {
        match self {
            Self::Refresh => "refresh".into(),
            Self::Userinfo => "userinfo".into(),
            Self::Api => "api".into(),
            Self::Tokeninfo(k) => format!("tokeninfo:{}", k.word()),
            Self::Revoke(k) => format!("revoke:{}", k.word()),
        }
    }
}
