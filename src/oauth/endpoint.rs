//! The provider's endpoints, named once: each one's metadata field (RFC 8414 section 2,
//! RFC 7591, RFC 9126), the setting and flag that give it by hand, and a label for people.

/// One endpoint of an authorization server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Authorization,
    Token,
    Userinfo,
    Introspection,
    Revocation,
    Jwks,
    Registration,
    /// Pushed authorization requests (RFC 9126).
    Par,
    /// The device authorization endpoint (RFC 8628 section 3.1).
    DeviceAuthorization,
}

impl Endpoint {
    /// Every endpoint, in the order pages and reports list them.
    pub const ALL: [Self; 9] = [
        Self::Authorization,
        Self::Token,
        Self::Userinfo,
        Self::Introspection,
        Self::Revocation,
        Self::Jwks,
        Self::Registration,
        Self::Par,
        Self::DeviceAuthorization,
    ];

    /// The endpoints a user can give by hand (those with a setting), in the same order.
    pub const BY_HAND: [Self; 7] = [
        Self::Authorization,
        Self::Token,
        Self::Userinfo,
        Self::Introspection,
        Self::Revocation,
        Self::Jwks,
        Self::DeviceAuthorization,
    ];

    /// Its field in provider metadata (RFC 8414 section 2; `userinfo_endpoint` from OpenID
    /// Connect Discovery 1.0 section 3).
    pub const fn metadata_name(self) -> &'static str {
        match self {
            Self::Authorization => "authorization_endpoint",
            Self::Token => "token_endpoint",
            Self::Userinfo => "userinfo_endpoint",
            Self::Introspection => "introspection_endpoint",
            Self::Revocation => "revocation_endpoint",
            Self::Jwks => "jwks_uri",
            Self::Registration => "registration_endpoint",
            Self::Par => "pushed_authorization_request_endpoint",
            Self::DeviceAuthorization => "device_authorization_endpoint",
        }
    }

    /// The environment variable that gives it by hand; `None`: only metadata names it.
    pub const fn env_var(self) -> Option<&'static str> {
        match self {
            Self::Authorization => Some("OAUTH_AUTHORIZE_URL"),
            Self::Token => Some("OAUTH_TOKEN_URL"),
            Self::Userinfo => Some("OAUTH_USERINFO_URL"),
            Self::Introspection => Some("OAUTH_INTROSPECTION_URL"),
            Self::Revocation => Some("OAUTH_REVOCATION_URL"),
            Self::Jwks => Some("OAUTH_JWKS_URL"),
            Self::DeviceAuthorization => Some("OAUTH_DEVICE_AUTHORIZATION_URL"),
            Self::Registration | Self::Par => None,
        }
    }

    /// The command-line flag that gives it by hand; `None` where there is no setting.
    pub const fn flag(self) -> Option<&'static str> {
        match self {
            Self::Authorization => Some("--authorize-url"),
            Self::Token => Some("--token-url"),
            Self::Userinfo => Some("--userinfo-url"),
            Self::Introspection => Some("--introspection-url"),
            Self::Revocation => Some("--revocation-url"),
            Self::Jwks => Some("--jwks-url"),
            Self::DeviceAuthorization => Some("--device-authorization-url"),
            Self::Registration | Self::Par => None,
        }
    }

    /// What people call it, for pages and messages (`the {label}` reads as a sentence).
    pub const fn label(self) -> &'static str {
        match self {
            Self::Authorization => "authorization endpoint",
            Self::Token => "token endpoint",
            Self::Userinfo => "userinfo endpoint",
            Self::Introspection => "introspection endpoint",
            Self::Revocation => "revocation endpoint",
            Self::Jwks => "signing keys (JWKS)",
            Self::Registration => "registration endpoint",
            Self::Par => "pushed authorization request endpoint",
            Self::DeviceAuthorization => "device authorization endpoint",
        }
    }

    /// The endpoint a metadata field names.
    pub fn from_metadata_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.metadata_name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for e in Endpoint::ALL {
            assert_eq!(Endpoint::from_metadata_name(e.metadata_name()), Some(e));
            assert_eq!(
                e.env_var().is_some(),
                e.flag().is_some(),
                "{e:?}: a setting has both"
            );
            assert_eq!(
                e.env_var().is_some(),
                Endpoint::BY_HAND.contains(&e),
                "{e:?}"
            );
        }
        assert_eq!(Endpoint::from_metadata_name("issuer"), None);
    }
}
