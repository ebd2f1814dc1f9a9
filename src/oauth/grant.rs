//! The grant a run uses to get its tokens (RFC 6749 section 4, RFC 8628).

use super::Step;

/// How the tokens are obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grant {
    /// The authorization-code grant with PKCE (RFC 6749 section 4.1): a browser and a callback.
    #[default]
    Code,
    /// The device authorization grant (RFC 8628): a user code entered on another device, the
    /// token endpoint polled; no callback.
    Device,
    /// The client credentials grant (RFC 6749 section 4.4): the client itself, no user.
    ClientCredentials,
    /// The JWT-bearer grant (RFC 7523 section 2.1) with a JWT the workload already holds
    /// (workload identity federation: a CI job's OIDC token, a platform's service token).
    JwtBearer,
}

impl Grant {
    pub const NAMES: &'static str = "code, device, client_credentials, jwt_bearer";

    pub fn name(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::Device => "device",
            Self::ClientCredentials => "client_credentials",
            Self::JwtBearer => "jwt_bearer",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        [
            Self::Code,
            Self::Device,
            Self::ClientCredentials,
            Self::JwtBearer,
        ]
        .into_iter()
        .find(|g| g.name() == word.trim())
    }

    /// The `grant_type` of the token request that returns the tokens.
    pub fn grant_type(self) -> &'static str {
        match self {
            Self::Code => "authorization_code",
            Self::Device => "urn:ietf:params:oauth:grant-type:device_code",
            Self::ClientCredentials => "client_credentials",
            Self::JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
        }
    }

    /// A workload, not a user, gets the tokens: no `openid` by default, no sign-in.
    pub fn without_user(self) -> bool {
        matches!(self, Self::ClientCredentials | Self::JwtBearer)
    }

    /// Whether the run serves pages and waits for a callback (else it is one command).
    pub fn needs_callback(self) -> bool {
        self == Self::Code
    }

    /// Why a follow-up step cannot follow this grant, if it cannot: client credentials give
    /// no refresh token (RFC 6749 section 4.4.3) and no ID token (no user).
    pub fn refuses(self, step: Step) -> Option<&'static str> {
        use super::TokenKind::Refresh;
        if self == Self::JwtBearer && step == Step::Userinfo {
            return Some("the JWT-bearer grant here is a workload's, with no user, so no userinfo");
        }
        if self != Self::ClientCredentials {
            return None;
        }
        match step {
            Step::Refresh | Step::Tokeninfo(Refresh) | Step::Revoke(Refresh) => Some(
                "the client credentials grant issues no refresh token (RFC 6749 section 4.4.3)",
            ),
            Step::Userinfo => Some("the client credentials grant has no user, so no userinfo"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenKind;

    #[test]
    fn names_round_trip_and_client_credentials_refuses_user_steps() {
        for g in [
            Grant::Code,
            Grant::Device,
            Grant::ClientCredentials,
            Grant::JwtBearer,
        ] {
            assert_eq!(Grant::parse(g.name()), Some(g));
        }
        assert_eq!(Grant::parse("implicit"), None);
        assert_eq!(Grant::default(), Grant::Code);
        let cc = Grant::ClientCredentials;
        assert!(cc.refuses(Step::Refresh).is_some());
        assert!(cc.refuses(Step::Userinfo).is_some());
        assert!(cc.refuses(Step::Tokeninfo(TokenKind::Refresh)).is_some());
        assert!(cc.refuses(Step::Revoke(TokenKind::Refresh)).is_some());
        assert!(cc.refuses(Step::Tokeninfo(TokenKind::Access)).is_none());
        assert!(cc.refuses(Step::Revoke(TokenKind::Access)).is_none());
        assert!(cc.refuses(Step::Api).is_none());
        assert!(Grant::Device.refuses(Step::Refresh).is_none());
        assert!(Grant::Code.needs_callback() && !Grant::Device.needs_callback());
        assert!(Grant::JwtBearer.refuses(Step::Userinfo).is_some());
        assert!(Grant::JwtBearer.refuses(Step::Refresh).is_none());
        assert!(Grant::JwtBearer.without_user() && !Grant::Device.without_user());
    }
}
